// socp/ws_host.h — the libwebsockets adapter: one event loop, an optional listener, outgoing
// connections, per-connection write queues, cross-thread wake-ups. The only code in socp that
// knows libwebsockets (libsocp/src/transport/).
//
// Frames are complete text messages (fragments reassembled up to max_frame; larger → close
// 1009 and on_close). Binary messages → close 1003. lws_write runs only on WRITEABLE from a
// per-connection queue; a peer that stops reading until its queue exceeds max_queue_bytes is
// closed. Accepted connections get WebSocket ping/pong liveness (lws retry/idle policy).
// permessage-deflate is declined (never fails the handshake).
//
// Thread-safety: create/run on one thread (the loop thread). connect/send/close/set_tick may
// only be called on the loop thread (from Handler callbacks, posted functions or ticks).
// post() and stop() may be called from any thread.
// Handler callbacks run on the loop thread, never re-entrantly, and must not throw (they are
// invoked from a C callback; exceptions are caught and logged, and the connection closed).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "socp/result.h"
#include "socp/server_core.h"  // ConnId, kOutgoingBit, LogFn

namespace socp {

struct WsHostOptions {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 0;  ///< 0 = no listener (client-only host)
  std::size_t max_frame = 8u << 20;
  std::size_t max_queue_bytes = 64u << 20;
  int ping_interval_s = 20;  ///< accepted connections: ping after this much silence
  int ping_hangup_s = 60;    ///< ... and hang up when nothing came back by then
  LogFn log;
};

class WsHost {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    /// Accepted connection (id without kOutgoingBit) or an outgoing one now connected.
    virtual void on_open(ConnId conn) = 0;
    virtual void on_frame(ConnId conn, std::string frame) = 0;
    /// Closed for any reason, including a failed outgoing connect. Called once per id.
    virtual void on_close(ConnId conn) = 0;
  };

  /// Binds the listener (if any). Io error if the port is taken.
  static Result<std::unique_ptr<WsHost>> create(WsHostOptions opt, Handler& handler);
  ~WsHost();
  WsHost(const WsHost&) = delete;
  WsHost& operator=(const WsHost&) = delete;

  /// Dials ws://host:port/ with the caller's id (must have kOutgoingBit set).
  void connect(ConnId id, const std::string& host, std::uint16_t port);
  /// Queues a text frame. Unknown/closed ids are ignored.
  void send(ConnId id, std::string text);
  /// Closes after the queued frames are written.
  void close(ConnId id, int code = 1000, const std::string& reason = {});
  /// Calls fn every `interval_ms` on the loop thread (one tick function per host).
  void set_tick(std::int64_t interval_ms, std::function<void()> fn);
  /// Runs fn on the loop thread soon (thread-safe; wakes the loop with lws_cancel_service).
  void post(std::function<void()> fn);
  /// Runs the loop until stop(). Returns 0 on a clean stop.
  int run();
  /// Thread-safe (not async-signal-safe: call it from a signal-waiting thread).
  void stop();

  struct Impl;

 private:
  explicit WsHost(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// A fixed pool of worker threads running submitted functions in FIFO order per priority.
/// Thread-safety: submit() from any thread. The destructor drains nothing: it stops accepting,
/// finishes the running tasks and joins.
class WorkerPool {
 public:
  explicit WorkerPool(std::size_t threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  /// Queues fn. Low-priority tasks run only when no normal task is waiting (bulk work such
  /// as file-chunk signatures never delays interactive frames).
  void submit(std::function<void()> fn, bool low_priority = false);
  std::size_t threads() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct ServerRuntimeOptions {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = kDefaultPort;
  std::size_t sign_threads = 0;      ///< 0 = one per core
  std::size_t password_threads = 2;  ///< Argon2id: 64 MiB each, so few
  std::size_t max_frame = 8u << 20;
  LogFn log;
};

/// Glue: a ServerCore driven by a WsHost, its jobs run on worker pools, results handed back
/// to the loop with post(). Owns the server's private key for signing.
class ServerRuntime {
 public:
  static Result<std::unique_ptr<ServerRuntime>> create(ServerCore& core, PrivateKey key,
                                                       ServerRuntimeOptions opt);
  ~ServerRuntime();
  /// Starts the core (joins the mesh) and runs the loop until stop(). 0 on clean stop.
  int run();
  /// Thread-safe: shuts the core down politely and stops the loop.
  void stop();

  struct Impl;

 private:
  explicit ServerRuntime(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace socp
