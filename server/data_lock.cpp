// server/data_lock.cpp — flock(2) on <data-dir>/socp-server.lock.
#include "data_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace socp_server {

namespace {

std::string lock_path(const std::string& dir) {
  return dir + "/" + kLockFileName;
}

std::optional<pid_t> read_pid(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return std::nullopt;
  long v = 0;
  for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i) v = v * 10 + (buf[i] - '0');
  if (v <= 0) return std::nullopt;
  return static_cast<pid_t>(v);
}

socp::Error io_error(const std::string& what, const std::string& path) {
  return socp::Error{socp::Errc::Io, what + " " + path + ": " + std::strerror(errno)};
}

}  // namespace

socp::Status make_dirs(const std::string& dir) {
  if (dir.empty()) return socp::make_error(socp::Errc::InvalidArgument, "empty directory name");
  std::string path;
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    path = dir.substr(0, pos);
    if (path.empty()) continue;
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
      return io_error("cannot create directory", path);
    }
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return io_error("cannot use directory", dir);
  if (!S_ISDIR(st.st_mode)) {
    return socp::make_error(socp::Errc::Io, dir + " exists and is not a directory");
  }
  return socp::ok_status();
}

socp::Result<DataLock> DataLock::acquire(const std::string& dir, bool write_pid) {
  if (auto st = make_dirs(dir); !st) return st.error();
  const std::string path = lock_path(dir);
  int fd = ::open(path.c_str(), (write_pid ? O_RDWR : O_RDONLY) | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 && errno == EACCES && write_pid) {
    // Created by another user (an admin tool run as root): lock it without recording a pid.
    write_pid = false;
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0) return io_error("cannot open lock file", path);
  DataLock lock(fd);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return io_error("cannot lock", path);
    const std::optional<pid_t> pid = read_pid(fd);
    return socp::make_error(socp::Errc::Busy,
                            "data directory " + dir + " is in use by another socp-server" +
                                (pid ? " (pid " + std::to_string(*pid) + ")" : std::string()) +
                                "; stop it first, or use another --data-dir");
  }
  if (write_pid) {
    const std::string text = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) < 0) {
      return io_error("cannot write", path);
    }
  }
  return lock;
}

std::optional<pid_t> DataLock::holder(const std::string& dir) {
  const int fd = ::open(lock_path(dir).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<pid_t> result;
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
    result = read_pid(fd).value_or(0);
  } else {
    ::flock(fd, LOCK_UN);
  }
  ::close(fd);
  return result;
}

DataLock::DataLock(DataLock&& other) noexcept : fd_(other.fd_) {
  other.fd_ = -1;
}

DataLock& DataLock::operator=(DataLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

DataLock::~DataLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace socp_server
