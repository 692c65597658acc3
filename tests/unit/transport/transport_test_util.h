// Helpers for the real-socket transport tests: free ports, a recording Handler, a host running
// on its own thread, and a minimal blocking WebSocket client for wire-level checks.
// Every wait is bounded (condition variable with a deadline or a socket receive timeout).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "socp/ws_host.h"

namespace socp::test {

/// A port that was free a moment ago (bind 127.0.0.1:0, read it, close).
std::uint16_t free_port();

/// Creates a listening host on a free port, retrying a few times if the port got taken.
Result<std::unique_ptr<WsHost>> create_listener(WsHostOptions opt, WsHost::Handler& h,
                                                std::uint16_t* port_out);

/// Records every Handler event; optionally echoes frames back or runs a hook.
class Recorder : public WsHost::Handler {
 public:
  WsHost* host = nullptr;  ///< set after create; used by echo
  bool echo = false;
  std::function<void(ConnId, const std::string&)> on_frame_hook;  ///< loop thread
  std::function<void(ConnId)> on_open_hook;                       ///< loop thread

  void on_open(ConnId c) override;
  void on_frame(ConnId c, std::string f) override;
  void on_close(ConnId c) override;

  /// Waits (bounded) until pred() holds, evaluated under the recorder's lock (so pred reads
  /// the fields directly and must not call the locking accessors below).
  bool wait(const std::function<bool()>& pred,
            std::chrono::milliseconds limit = std::chrono::milliseconds(3000));
  /// Thread-safe snapshots.
  std::vector<ConnId> opened();
  std::vector<ConnId> closed_list();
  std::vector<std::string> frames_of(ConnId c);
  int close_count(ConnId c);

  // Guarded by mu (readable inside wait predicates).
  std::mutex mu;
  std::condition_variable cv;
  std::vector<ConnId> opens;
  std::vector<ConnId> closes;
  std::map<ConnId, std::vector<std::string>> frames;
  std::set<std::thread::id> callback_threads;
};

/// Runs host->run() on its own thread; stop_and_join() stops it (bounded by the test).
class LoopThread {
 public:
  explicit LoopThread(WsHost& host);
  ~LoopThread();
  void stop_and_join();
  int rc() const { return rc_; }
  std::thread::id id() const { return thread_.get_id(); }

 private:
  WsHost& host_;
  int rc_ = -1;
  std::thread thread_;
};

/// A tiny blocking WebSocket client speaking raw bytes (3 s receive timeout).
class RawWs {
 public:
  ~RawWs();
  /// TCP connect + handshake with extra request headers ("Name: value\r\n" lines).
  /// Returns the HTTP response head ("" on socket failure).
  std::string open(std::uint16_t port, const std::string& extra_headers = {});
  /// Sends one masked frame.
  bool send_frame(int opcode, const std::string& payload, bool fin = true);
  /// Reads one frame; false on timeout/EOF.
  bool read_frame(int& opcode, std::string& payload);
  /// Reads frames until a close frame, acknowledges it and returns its status code (-1 if
  /// none arrived).
  int read_close_code();

 private:
  bool read_exact(char* p, std::size_t n);
  int fd_ = -1;
};

}  // namespace socp::test
