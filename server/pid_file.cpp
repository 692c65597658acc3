// server/pid_file.cpp — write the pid at start, remove the file at exit.
#include "pid_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace socp_server {

socp::Result<PidFile> PidFile::write(const std::string& path) {
  // Written next to the target and renamed: readers never see an empty file.
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const std::string text = std::to_string(::getpid()) + "\n";
  bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const int err = errno;
  if (fd >= 0) ok = (::close(fd) == 0) && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(ok ? errno : err);
    ::unlink(tmp.c_str());
    return socp::make_error(socp::Errc::Io, "cannot write pid file " + path + ": " + why);
  }
  PidFile f;
  f.path_ = path;
  return f;
}

PidFile::PidFile(PidFile&& other) noexcept : path_(std::move(other.path_)) {
  other.path_.clear();
}

PidFile& PidFile::operator=(PidFile&& other) noexcept {
  if (this != &other) {
    if (!path_.empty()) ::unlink(path_.c_str());
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

PidFile::~PidFile() {
  if (!path_.empty()) ::unlink(path_.c_str());
}

}  // namespace socp_server
