// server/reload.h — what SIGHUP does: reopen the log file, re-read the config file with the
// original command line, apply what can change without a restart (log level, then
// ServerCore::reload on the loop thread), and say which changes need a restart. A config that
// no longer parses is reported and the running configuration kept. systemd hears RELOADING=1
// then READY=1.
// Thread-safety: operator() runs on the signal watcher thread, one at a time.
#pragma once

#include <string>
#include <vector>

#include "core_poster.h"
#include "log_sink.h"
#include "options.h"

namespace socp_server {

class Reloader {
 public:
  /// `argv` must stay valid (main's). `running` is what the server started with.
  Reloader(int argc, char** argv, Options running, LogSink& sink, CorePoster post_to_core);
  void operator()();

  /// Names of the options whose change only takes effect after a restart ("--port", ...).
  static std::vector<std::string> restart_needed(const Options& before, const Options& after);

 private:
  int argc_;
  char** argv_;
  Options running_;
  LogSink& sink_;
  CorePoster post_;
};

}  // namespace socp_server
