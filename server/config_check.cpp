// server/config_check.cpp — the checks of `socp-server check`.
#include "config_check.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "data_lock.h"
#include "identity.h"
#include "socp/store.h"

namespace socp_server {

namespace {

struct Report {
  std::vector<std::string> problems;
  std::vector<std::pair<std::string, std::string>> lines;  // label, text
  void ok(const std::string& label, const std::string& text) { lines.emplace_back(label, text); }
  void problem(const std::string& text) { problems.push_back(text); }
};

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string parent_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

/// The nearest existing ancestor of `path` (itself if it exists).
std::string existing_ancestor(std::string path) {
  while (!exists(path) && path != "/" && path != ".") path = parent_of(path);
  return path;
}

/// Empty if a file at `path` could be created or appended to, else why not.
std::string writable_file(const std::string& path) {
  if (exists(path)) {
    if (is_dir(path)) return path + " is a directory";
    return ::access(path.c_str(), W_OK) == 0 ? "" : path + ": " + std::strerror(errno);
  }
  const std::string dir = parent_of(path);
  if (!is_dir(dir)) return "directory " + dir + " does not exist";
  return ::access(dir.c_str(), W_OK | X_OK) == 0 ? "" : "cannot create files in " + dir;
}

void check_data_dir(const Options& o, Report& r, bool& fresh) {
  const std::string& dir = o.data_dir;
  fresh = true;
  if (exists(dir)) {
    if (!is_dir(dir)) return r.problem("data dir " + dir + " exists and is not a directory");
    if (::access(dir.c_str(), R_OK | W_OK | X_OK) != 0) {
      return r.problem("data dir " + dir + " is not writable by this user (uid " +
                       std::to_string(::getuid()) + ")");
    }
    fresh = !exists(dir + "/data.mdb");
    r.ok("data dir", dir + (fresh ? " (exists, empty: a new database will be created)"
                                  : " (exists, writable)"));
    return;
  }
  const std::string anc = existing_ancestor(dir);
  if (!is_dir(anc) || ::access(anc.c_str(), W_OK | X_OK) != 0) {
    return r.problem("data dir " + dir + " does not exist and cannot be created (" + anc +
                     " is not writable)");
  }
  r.ok("data dir", dir + " (will be created)");
}

void check_identity(const Options& o, bool fresh, Report& r) {
  if (fresh) {
    r.ok("identity", std::string("none yet: a new RSA-4096 key is generated on first start") +
                         (o.multi_prime ? " (4 primes)" : ""));
    return;
  }
  socp::LmdbOptions lo;
  lo.read_only = true;
  lo.map_size = o.db_map_size_mib << 20;
  auto store = socp::LmdbStore::open(o.data_dir, lo);
  if (!store) {
    return r.problem("cannot open the database in " + o.data_dir + ": " + store.error().detail);
  }
  auto id = load_identity(*store.value(), o.data_dir);
  if (!id && id.code() == socp::Errc::NotFound) {
    r.ok("identity", "none yet: a new RSA-4096 key is generated on first start");
  } else if (!id) {
    r.problem(id.error().detail);
  } else {
    r.ok("identity", id.value().server_id + " " + fingerprint(id.value().key.public_key()));
  }
}

/// Empty if host:port can be bound now, else why not.
std::string try_bind(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0) {
    return "cannot resolve --host " + host + ": " + ::gai_strerror(rc);
  }
  std::string why = "no address for " + host;
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const int rc = ::bind(fd, a->ai_addr, a->ai_addrlen);
    const int err = errno;
    ::close(fd);
    if (rc == 0) {
      why.clear();
      break;
    }
    why = std::strerror(err);
  }
  ::freeaddrinfo(res);
  return why;
}

std::string shown_address(const Options& o) {
  const bool v6 = o.host.find(':') != std::string::npos;
  return (v6 ? "[" + o.host + "]" : o.host) + ":" + std::to_string(o.port);
}

}  // namespace

int run_check(const Options& o, const std::string& config_file) {
  Report r;
  auto cfg = to_server_config(o, {});
  if (!cfg) {
    r.problem("config: " + cfg.error().detail);
  } else {
    r.ok("config", config_file.empty() ? "OK (command line only)" : "OK (" + config_file + ")");
  }

  bool fresh = true;
  check_data_dir(o, r, fresh);
  const std::optional<pid_t> holder = DataLock::holder(o.data_dir);
  if (holder) {
    r.ok("server", "running on this data dir (pid " + std::to_string(*holder) +
                       "): a second one would refuse to start; reload it with SIGHUP");
  } else {
    r.ok("server", "not running");
  }
  check_identity(o, fresh, r);

  if (holder) {
    r.ok("listen", shown_address(o) + " (not tried: the running server may hold it)");
  } else if (std::string why = try_bind(o.host, o.port); !why.empty()) {
    r.problem("cannot listen on " + shown_address(o) + ": " + why);
  } else {
    r.ok("listen", shown_address(o) + " (free)");
  }

  for (const auto* f : {&o.log_file, &o.pid_file}) {
    if (f->empty()) continue;
    if (std::string why = writable_file(*f); !why.empty()) {
      r.problem((f == &o.log_file ? "--log-file: " : "--pid-file: ") + why);
    }
  }
  if (!o.log_file.empty()) r.ok("log file", o.log_file);

  if (!r.problems.empty()) {
    for (const std::string& p : r.problems)
      std::fprintf(stderr, "socp-server check: %s\n", p.c_str());
    return 1;
  }
  for (const auto& [label, text] : r.lines) std::printf("%-9s %s\n", label.c_str(), text.c_str());
  std::printf("OK\n");
  return 0;
}

}  // namespace socp_server
