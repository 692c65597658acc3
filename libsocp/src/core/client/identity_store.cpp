// The on-disk identity folder (socp/identity.h). POSIX file calls, because the modes (0700
// folder, 0600 file) and the atomic replace are the point.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "codec/utf8.h"
#include "socp/identity.h"
#include "socp/json.h"

namespace socp::identity {
namespace {

constexpr std::size_t kMaxIdentityFile = 1u << 20;

Error io_error(const std::string& what, const std::string& path) {
  return make_error(Errc::Io, what + " " + path + ": " + std::strerror(errno));
}

std::string join(std::string_view a, std::string_view b) {
  std::string out(a);
  if (!out.empty() && out.back() != '/') out.push_back('/');
  out.append(b);
  return out;
}

// mkdir -p with mode 0700 for every folder we create.
Status make_dirs(const std::string& path) {
  std::string cur;
  std::size_t i = 0;
  while (i <= path.size()) {
    std::size_t slash = path.find('/', i);
    if (slash == std::string::npos) slash = path.size();
    cur = path.substr(0, slash);
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

Result<std::string> read_small_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return make_error(Errc::NotFound, "no identity at " + path);
    return io_error("cannot open", path);
  }
  std::string data;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Error e = io_error("cannot read", path);
      ::close(fd);
      return e;
    }
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
    if (data.size() > kMaxIdentityFile) {
      ::close(fd);
      return make_error(Errc::Corrupt, "identity file too large: " + path);
    }
  }
  ::close(fd);
  return data;
}

}  // namespace

Result<std::string> resolve_home(std::string_view explicit_home) {
  if (!explicit_home.empty()) return std::string(explicit_home);
  const char* socp_home = std::getenv("SOCP_HOME");
  if (socp_home && *socp_home) return std::string(socp_home);
  const char* home = std::getenv("HOME");
  if (home && *home) return join(home, ".socp");
  return make_error(Errc::InvalidArgument, "no identity home: use --home or set SOCP_HOME");
}

Status validate_display_name(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return make_error(Errc::InvalidArgument, "display name must be 1..64 bytes");
  }
  if (name == "." || name == ".." || name.front() == '-') {
    return make_error(Errc::InvalidArgument, "display name cannot be '.', '..' or start with '-'");
  }
  if (!codec::valid_utf8(name)) {
    return make_error(Errc::InvalidArgument, "display name is not valid UTF-8");
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f || c == '/' || c == '\\') {
      return make_error(Errc::InvalidArgument,
                        "display name cannot contain '/', '\\' or control characters");
    }
  }
  return ok_status();
}

std::string identity_path(std::string_view home, std::string_view display_name) {
  return join(join(home, display_name), "identity.json");
}

bool exists(std::string_view home, std::string_view display_name) {
  struct stat st {};
  return ::stat(identity_path(home, display_name).c_str(), &st) == 0;
}

Result<Identity> load(std::string_view home, std::string_view display_name) {
  SOCP_TRY(validate_display_name(display_name));
  const std::string path = identity_path(home, display_name);
  auto text = read_small_file(path);
  if (!text) return text.error();
  auto v = json::parse(text.value());
  if (!v || !v->is_object()) return make_error(Errc::Corrupt, "unreadable identity file " + path);
  const std::int64_t* ver = json::get_int(v.value(), "v");
  const std::string* uid = json::get_string(v.value(), "user_id");
  const std::string* name = json::get_string(v.value(), "display_name");
  const std::string* server = json::get_string(v.value(), "server");
  const std::string* vault = json::get_string(v.value(), "vault");
  if (!ver || *ver != 1 || !uid || !is_uuid(*uid) || !name || !server || !vault || vault->empty()) {
    return make_error(Errc::Corrupt, "identity file " + path + " lacks v/user_id/vault");
  }
  if (*name != display_name) {
    return make_error(Errc::Corrupt, "identity file " + path + " is for another display name");
  }
  return Identity{*uid, *name, *server, *vault};
}

Status save(std::string_view home, const Identity& id) {
  SOCP_TRY(validate_display_name(id.display_name));
  if (!is_uuid(id.user_id) || id.vault.empty()) {
    return make_error(Errc::InvalidArgument, "identity needs a user id and a vault");
  }
  const std::string dir = join(home, id.display_name);
  SOCP_TRY(make_dirs(dir));
  if (::chmod(dir.c_str(), 0700) != 0) return io_error("cannot chmod", dir);

  json::Object obj{{"v", 1},
                   {"user_id", id.user_id},
                   {"display_name", id.display_name},
                   {"server", id.server},
                   {"vault", id.vault}};
  const std::string data = json::canonical(json::Value(std::move(obj))) + "\n";

  const std::string path = join(dir, "identity.json");
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("cannot create", tmp);
  Status st = ::fchmod(fd, 0600) == 0 ? write_all(fd, data, tmp) : Status(io_error("chmod", tmp));
  if (st && ::fsync(fd) != 0) st = io_error("cannot fsync", tmp);
  if (::close(fd) != 0 && st) st = io_error("cannot close", tmp);
  if (st && ::rename(tmp.c_str(), path.c_str()) != 0) st = io_error("cannot rename to", path);
  if (!st) {
    ::unlink(tmp.c_str());
    return st;
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);  // make the rename durable; best effort
    ::close(dfd);
  }
  return ok_status();
}

Result<PrivateKey> unlock(const Identity& id, std::string_view password) {
  return KeyVault::open(id.vault, password);
}

}  // namespace socp::identity
