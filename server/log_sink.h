// server/log_sink.h — where socp-server's log lines go: stderr, and optionally a file.
//
// Each line is "<UTC time> <LEVEL> <message>" (e.g. "2025-01-31T12:00:00.123Z INFO  stopped"),
// written with one write() per destination so lines from several threads never interleave.
// reopen() (SIGHUP) opens the file again by name, for logrotate; set_level() changes the
// threshold at run time.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <string_view>

#include "socp/result.h"
#include "socp/server_core.h"  // LogLevel, LogFn

namespace socp_server {

class LogSink {
 public:
  explicit LogSink(socp::LogLevel min_level) : level_(static_cast<int>(min_level)) {}
  ~LogSink();
  LogSink(const LogSink&) = delete;
  LogSink& operator=(const LogSink&) = delete;

  /// Appends to `path` from now on (created 0640 if missing). Io error naming the path.
  socp::Status open_file(const std::string& path);
  /// Reopens the file by name (logrotate moved it). Keeps the old one if that fails.
  socp::Status reopen();
  void set_level(socp::LogLevel min_level) noexcept;
  socp::LogLevel level() const noexcept;

  void write(socp::LogLevel lvl, std::string_view msg);
  /// A LogFn that writes here (the sink must outlive it).
  socp::LogFn fn();

  /// "<UTC time> <LEVEL> <message>\n" at `unix_ms`.
  static std::string format(socp::LogLevel lvl, std::string_view msg, long long unix_ms);

 private:
  std::atomic<int> level_;
  std::mutex mu_;
  std::string path_;  // guarded by mu_
  int fd_ = -1;       // guarded by mu_
};

}  // namespace socp_server
