#include "core/client/private_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace socp::client {
namespace {

Error io_error(const std::string& what, const std::string& path) {
  return make_error(Errc::Io, what + " " + path + ": " + std::strerror(errno));
}

Status write_all(int fd, const std::string& data, const std::string& path) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return io_error("cannot write", path);
    off += static_cast<std::size_t>(n);
  }
  return ok_status();
}

}  // namespace

std::string join_path(std::string_view a, std::string_view b) {
  std::string out(a);
  if (!out.empty() && out.back() != '/') out.push_back('/');
  out.append(b);
  return out;
}

Status make_private_dirs(const std::string& path) {
  std::size_t i = 0;
  while (i <= path.size()) {
    std::size_t slash = path.find('/', i);
    if (slash == std::string::npos) slash = path.size();
    const std::string cur = path.substr(0, slash);
    i = slash + 1;
    if (cur.empty()) continue;  // leading '/'
    if (::mkdir(cur.c_str(), 0700) != 0 && errno != EEXIST) return io_error("cannot create", cur);
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return make_error(Errc::Io, "not a directory: " + path);
  }
  return ok_status();
}

Result<std::string> read_private_file(const std::string& path, std::size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return make_error(Errc::NotFound, "no file at " + path);
    return io_error("cannot open", path);
  }
  std::string data;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Error e = io_error("cannot read", path);
      ::close(fd);
      return e;
    }
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
    if (data.size() > max_bytes) {
      ::close(fd);
      return make_error(Errc::Corrupt, "file too large: " + path);
    }
  }
  ::close(fd);
  return data;
}

Status write_private_file(const std::string& path, const std::string& data) {
  const std::size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  if (slash != std::string::npos && !dir.empty()) SOCP_TRY(make_private_dirs(dir));
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("cannot create", tmp);
  Status st = ::fchmod(fd, 0600) == 0 ? write_all(fd, data, tmp) : Status(io_error("chmod", tmp));
  if (st && ::fsync(fd) != 0) st = io_error("cannot fsync", tmp);
  if (::close(fd) != 0 && st) st = io_error("cannot close", tmp);
  if (st && ::rename(tmp.c_str(), path.c_str()) != 0) st = io_error("cannot rename to", path);
  if (!st) {
    ::unlink(tmp.c_str());
    return st;
  }
  const int dfd = ::open(dir.empty() ? "/" : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);  // make the rename durable; best effort
    ::close(dfd);
  }
  return ok_status();
}

}  // namespace socp::client
