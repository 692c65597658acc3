// The daemon pieces of socp-server: log sink, data lock, pid file, sd_notify, config errors,
// what a reload cannot change.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "config_errors.h"
#include "data_lock.h"
#include "log_sink.h"
#include "options.h"
#include "pid_file.h"
#include "reload.h"
#include "sd_notify.h"

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/socp-server-unit-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

}  // namespace

TEST_CASE("log lines: UTC time, level, message, newlines cannot forge lines") {
  const std::string line =
      socp_server::LogSink::format(socp::LogLevel::Warn, "a\nb", 1'700'000'000'123);
  CHECK(line == "2023-11-14T22:13:20.123Z WARN  a b\n");
  CHECK(socp_server::LogSink::format(socp::LogLevel::Debug, "x", 0) ==
        "1970-01-01T00:00:00.000Z DEBUG x\n");
}

TEST_CASE("log file: level filter, appended lines, reopen after logrotate moved it") {
  TempDir d;
  const std::string path = d.path + "/socp.log";
  socp_server::LogSink sink(socp::LogLevel::Info);
  REQUIRE(sink.open_file(path));
  sink.write(socp::LogLevel::Debug, "hidden");
  sink.write(socp::LogLevel::Info, "first");
  REQUIRE(std::rename(path.c_str(), (path + ".1").c_str()) == 0);
  sink.write(socp::LogLevel::Info, "second");  // still into the moved file
  REQUIRE(sink.reopen());
  sink.set_level(socp::LogLevel::Debug);
  sink.write(socp::LogLevel::Debug, "third");
  const std::string old_file = slurp(path + ".1");
  const std::string new_file = slurp(path);
  CHECK(old_file.find("hidden") == std::string::npos);
  CHECK(old_file.find("INFO  first") != std::string::npos);
  CHECK(old_file.find("INFO  second") != std::string::npos);
  CHECK(new_file.find("DEBUG third") != std::string::npos);
  CHECK(new_file.find("second") == std::string::npos);
}

TEST_CASE("log file that cannot be opened: an error naming it") {
  socp_server::LogSink sink(socp::LogLevel::Info);
  auto st = sink.open_file("/nonexistent-dir/socp.log");
  REQUIRE_FALSE(st);
  CHECK(st.error().detail.find("/nonexistent-dir/socp.log") != std::string::npos);
}

TEST_CASE("data lock: a second holder is refused with the first one's pid") {
  TempDir d;
  const std::string dir = d.path + "/data";
  CHECK_FALSE(socp_server::DataLock::holder(dir));
  {
    auto first = socp_server::DataLock::acquire(dir);  // creates the directory
    REQUIRE(first);
    auto holder = socp_server::DataLock::holder(dir);
    REQUIRE(holder);
    CHECK(*holder == ::getpid());
    auto second = socp_server::DataLock::acquire(dir);
    REQUIRE_FALSE(second);
    CHECK(second.code() == socp::Errc::Busy);
    CHECK(second.error().detail.find("(pid " + std::to_string(::getpid()) + ")") !=
          std::string::npos);
    auto admin = socp_server::DataLock::acquire(dir, /*write_pid=*/false);
    CHECK_FALSE(admin);
  }
  CHECK_FALSE(socp_server::DataLock::holder(dir));  // released with the object
  CHECK(socp_server::DataLock::acquire(dir));
}

TEST_CASE("data lock: a path that is a file is an error, not a crash") {
  TempDir d;
  spit(d.path + "/file", "x");
  auto lock = socp_server::DataLock::acquire(d.path + "/file");
  REQUIRE_FALSE(lock);
  CHECK(lock.error().detail.find(d.path + "/file") != std::string::npos);
}

TEST_CASE("pid file: written at start, removed at the end") {
  TempDir d;
  const std::string path = d.path + "/socp.pid";
  {
    auto pf = socp_server::PidFile::write(path);
    REQUIRE(pf);
    CHECK(slurp(path) == std::to_string(::getpid()) + "\n");
  }
  CHECK(::access(path.c_str(), F_OK) != 0);
  CHECK_FALSE(socp_server::PidFile::write("/nonexistent-dir/x.pid"));
}

TEST_CASE("sd_notify: one datagram per state to $NOTIFY_SOCKET, nothing without it") {
  TempDir d;
  const std::string path = d.path + "/notify";
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  ::unsetenv("NOTIFY_SOCKET");
  CHECK_FALSE(socp_server::notify_stopping());
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  CHECK(socp_server::notify_ready("listening"));
  CHECK(socp_server::notify_reloading());
  CHECK(socp_server::notify_stopping());
  ::unsetenv("NOTIFY_SOCKET");
  char buf[256];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  CHECK(std::string(buf, n > 0 ? n : 0) == "READY=1\nSTATUS=listening");
  n = ::recv(fd, buf, sizeof buf, 0);
  CHECK(std::string(buf, n > 0 ? n : 0).rfind("RELOADING=1\nMONOTONIC_USEC=", 0) == 0);
  n = ::recv(fd, buf, sizeof buf, 0);
  CHECK(std::string(buf, n > 0 ? n : 0) == "STOPPING=1");
  ::close(fd);
}

TEST_CASE("config errors: the unknown key is named, with the option it probably meant") {
  TempDir d;
  const std::string cfg = d.path + "/socp.conf";
  spit(cfg, "port = 9000\ndata_dir = \"/srv/socp\"\n");
  std::string arg0 = "socp-server", arg1 = "--config", arg2 = cfg;
  char* argv[] = {arg0.data(), arg1.data(), arg2.data()};
  socp_server::Options o;
  auto st = socp_server::reparse_options(3, argv, o);
  REQUIRE_FALSE(st);
  CHECK(st.error().detail ==
        "config file " + cfg + ": unknown key 'data_dir' (did you mean 'data-dir'?)");

  spit(cfg, "port = 9000\nbanana = 1\n");
  st = socp_server::reparse_options(3, argv, o);
  REQUIRE_FALSE(st);
  CHECK(st.error().detail.find("unknown key 'banana'") != std::string::npos);

  spit(cfg, "port = \"nine\"\n");
  st = socp_server::reparse_options(3, argv, o);
  REQUIRE_FALSE(st);
  CHECK(st.error().detail.find("--port") != std::string::npos);

  spit(cfg, "[server]\nport = 9000\n");
  st = socp_server::reparse_options(3, argv, o);
  REQUIRE_FALSE(st);
  CHECK(st.error().detail.find("section [server]") != std::string::npos);

  spit(cfg,
       "port = 9000\ndata-dir = \"/srv/socp\"\nlog-level = \"debug\"\n"
       "introducer = [\"10.0.0.1:8765\", \"10.0.0.2:8765\"]\ntest-heartbeat-ms = 700\n");
  socp_server::Options ok;
  REQUIRE(socp_server::reparse_options(3, argv, ok));
  CHECK(ok.port == 9000);
  CHECK(ok.data_dir == "/srv/socp");
  CHECK(ok.introducers.size() == 2);
  CHECK(ok.config_file == cfg);
  auto sc = socp_server::to_server_config(ok, {});
  REQUIRE(sc);
  CHECK(sc->log_level == socp::LogLevel::Debug);
  CHECK(sc->heartbeat_ms == 700);
  CHECK(sc->link_dead_ms == socp::ServerConfig{}.link_dead_ms);
}

TEST_CASE("reload: which changed options need a restart") {
  socp_server::Options a, b;
  CHECK(socp_server::Reloader::restart_needed(a, b).empty());
  b.port = 9999;
  b.log_level = "debug";           // applied by a reload
  b.allow_servers = {"some-key"};  // applied by a reload
  b.introducers = {"10.0.0.1:8765"};
  auto names = socp_server::Reloader::restart_needed(a, b);
  CHECK(names == std::vector<std::string>{"--port", "--introducer"});
}
