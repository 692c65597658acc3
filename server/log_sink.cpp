// server/log_sink.cpp — timestamped log lines to stderr and an optional, reopenable file.
#include "log_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace socp_server {

namespace {

void write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to report a failing log
    off += static_cast<std::size_t>(n);
  }
}

socp::Result<int> open_append(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    return socp::make_error(socp::Errc::Io,
                            "cannot open log file " + path + ": " + std::strerror(errno));
  }
  return fd;
}

long long now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

LogSink::~LogSink() {
  if (fd_ >= 0) ::close(fd_);
}

socp::Status LogSink::open_file(const std::string& path) {
  auto fd = open_append(path);
  if (!fd) return fd.error();
  std::lock_guard<std::mutex> lk(mu_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = *fd;
  path_ = path;
  return socp::ok_status();
}

socp::Status LogSink::reopen() {
  std::string path;
  {
    std::lock_guard<std::mutex> lk(mu_);
    path = path_;
  }
  if (path.empty()) return socp::ok_status();
  return open_file(path);
}

void LogSink::set_level(socp::LogLevel min_level) noexcept {
  level_.store(static_cast<int>(min_level));
}

socp::LogLevel LogSink::level() const noexcept {
  return static_cast<socp::LogLevel>(level_.load());
}

std::string LogSink::format(socp::LogLevel lvl, std::string_view msg, long long unix_ms) {
  static const char* const kNames[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};
  const std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[64];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  std::string line;
  line.reserve(msg.size() + 32);
  line.append(stamp).append(" ").append(kNames[static_cast<int>(lvl)]).append(" ");
  // One event, one line: a newline inside a message would let its text forge a log line.
  for (char c : msg) line.push_back(c == '\n' || c == '\r' ? ' ' : c);
  line.push_back('\n');
  return line;
}

void LogSink::write(socp::LogLevel lvl, std::string_view msg) {
  if (static_cast<int>(lvl) < level_.load(std::memory_order_relaxed)) return;
  const std::string line = format(lvl, msg, now_ms());
  write_all(STDERR_FILENO, line);
  std::lock_guard<std::mutex> lk(mu_);
  if (fd_ >= 0) write_all(fd_, line);
}

socp::LogFn LogSink::fn() {
  return [this](socp::LogLevel lvl, std::string_view msg) { write(lvl, msg); };
}

}  // namespace socp_server
