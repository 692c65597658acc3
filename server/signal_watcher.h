// server/signal_watcher.h — turns SIGINT/SIGTERM into ServerRuntime::stop().
//
// block_signals() must run in main before any thread exists, so every thread inherits the
// mask; a SignalWatcher thread then sigwaits. ServerRuntime::stop() is thread-safe but not
// async-signal-safe, hence a thread instead of a signal handler. A second signal stops at once
// (ServerRuntime::stop called twice). SIGPIPE is ignored.
#pragma once

#include <mutex>
#include <thread>

#include "socp/ws_host.h"

namespace socp_server {

class SignalWatcher {
 public:
  /// Blocks SIGINT/SIGTERM/SIGUSR1 in the calling thread (and its future children) and
  /// ignores SIGPIPE. Call first thing in main.
  static void block_signals();

  SignalWatcher();   ///< starts the waiting thread
  ~SignalWatcher();  ///< wakes it (SIGUSR1) and joins
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

  /// The runtime to stop on a signal (nullptr: none yet / any more).
  void attach(socp::ServerRuntime* rt);
  /// True once SIGINT/SIGTERM arrived (also before a runtime was attached).
  bool stop_requested();

 private:
  void loop();
  std::mutex mu_;
  socp::ServerRuntime* rt_ = nullptr;  // guarded by mu_
  bool stop_requested_ = false;        // guarded by mu_
  bool done_ = false;                  // guarded by mu_
  std::thread thread_;
};

}  // namespace socp_server
