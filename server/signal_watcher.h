// server/signal_watcher.h — SIGINT/SIGTERM → ServerRuntime::stop(), SIGHUP → reload.
//
// block_signals() must run in main before any thread exists, so every thread inherits the
// mask; a SignalWatcher thread then sigwaits. ServerRuntime::stop() is thread-safe but not
// async-signal-safe, hence a thread instead of a signal handler. A second stop signal stops at
// once (ServerRuntime::stop called twice). SIGHUP runs the reload hook on the watcher thread
// (never kills the server, also before a hook is set: then it is only logged). SIGPIPE is
// ignored.
#pragma once

#include <functional>
#include <mutex>
#include <thread>

#include "socp/ws_host.h"

namespace socp_server {

class SignalWatcher {
 public:
  /// Blocks SIGINT/SIGTERM/SIGHUP/SIGUSR1 in the calling thread (and its future children) and
  /// ignores SIGPIPE. Call first thing in main.
  static void block_signals();

  SignalWatcher();   ///< starts the waiting thread
  ~SignalWatcher();  ///< wakes it (SIGUSR1) and joins
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

  /// The runtime to stop on a signal (nullptr: none yet / any more).
  void attach(socp::ServerRuntime* rt);
  /// Called on the watcher thread for each SIGHUP (empty: ignore SIGHUP). Replacing the hook
  /// waits for a reload in progress, so what the old hook uses may be destroyed afterwards.
  void on_reload(std::function<void()> fn);
  /// Called on the watcher thread when the first SIGINT/SIGTERM arrives, before stop().
  void on_stopping(std::function<void()> fn);
  /// True once SIGINT/SIGTERM arrived (also before a runtime was attached).
  bool stop_requested();

 private:
  void loop();
  std::mutex mu_;
  socp::ServerRuntime* rt_ = nullptr;  // guarded by mu_
  std::mutex reload_mu_;               // held while the reload hook runs
  std::function<void()> reload_;       // guarded by reload_mu_
  std::function<void()> stopping_;     // guarded by mu_
  bool stop_requested_ = false;        // guarded by mu_
  bool done_ = false;                  // guarded by mu_
  std::thread thread_;
};

}  // namespace socp_server
