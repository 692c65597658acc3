// socp/ws_host.h — the network adapter: one event loop, an optional listener, outgoing
// connections, per-connection write queues, cross-thread wake-ups. The only code in socp that
// knows libwebsockets (libsocp/src/transport/).
//
// libwebsockets provides the event loop, sockets, timers and the listener's TLS (raw-socket
// mode); the WebSocket protocol itself (RFC 6455 framing and the HTTP/1.1 upgrade) is socp's
// own, in transport/ws_session.h, so that every rule of the RFC is enforced (lws 4.1 accepts
// unmasked client frames, non-minimal lengths and invalid UTF-8), and so is outgoing TLS
// (transport/ws_tls_client.h; lws 4.1.6 cannot do TLS on raw client sockets).
//
// Messages are complete text messages. Protocol errors close the connection with the RFC
// 6455 code: 1002 (framing), 1007 (invalid UTF-8), 1003 (binary), 1009 (over the connection's
// message limit, decided from the frame header before anything is buffered). A peer that
// stops reading until its write queue exceeds max_queue_bytes is dropped. Pings are answered
// (only the most recent of a flood); idle connections are pinged and hung up on when silent.
// permessage-deflate is declined (never fails the handshake). Plain HTTP requests on the same
// port go to WsHostOptions::http.
//
// Thread-safety: create/run on one thread (the loop thread). connect/send/close/set_tick/
// set_max_frame/peer_address/stats may only be called on the loop thread (from Handler
// callbacks, posted functions or ticks). post() and stop() may be called from any thread.
// Handler callbacks run on the loop thread, never re-entrantly, and must not throw (they are
// invoked from a C callback; exceptions are caught and logged, and the connection closed).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "socp/result.h"
#include "socp/server_core.h"  // ConnId, kOutgoingBit, LogFn

namespace socp {

/// The answer to a plain HTTP GET on the WebSocket port. A default-constructed response is a
/// 404, so a callback can `return {};` for paths it does not serve.
struct HttpResponse {
  int status = 404;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body = "not found\n";
};

/// Called on the loop thread for each plain HTTP GET (method is "GET"; path without the query
/// string). Must be quick and must not throw (a throw answers 500). One request per
/// connection: the response is sent with "Connection: close".
using HttpHandler = std::function<HttpResponse(std::string_view method, std::string_view path)>;

struct WsHostOptions {
  std::string listen_host = "127.0.0.1";
  /// 0 = no listener (client-only host), unless `listen` is set.
  std::uint16_t listen_port = 0;
  /// Listen even when listen_port is 0: the system picks a free port (see listen_port()).
  bool listen = false;
  /// Message limit of outgoing connections (and the cap for accepted ones before
  /// set_max_frame).
  std::size_t max_frame = 8u << 20;
  /// Accepted connections start at min(this, max_frame) until set_max_frame() raises it:
  /// a stranger cannot make the host buffer more than this per connection.
  std::size_t max_frame_unauthenticated = 64u << 10;
  std::size_t max_queue_bytes = 64u << 20;
  /// Accepted connections at once (further ones are refused at accept time, logged, counted).
  std::size_t max_connections = 1024;
  /// Accepted connections at once from one remote IP address.
  std::size_t max_connections_per_ip = 64;
  int ping_interval_s = 20;      ///< ping after this much silence
  int ping_hangup_s = 60;        ///< ... and hang up when nothing came back by then
  int handshake_timeout_s = 10;  ///< TCP accept/connect to WebSocket open (incl. TLS)

  /// TLS on the listener (wss://): PEM certificate (chain) and private key files. Both or none.
  std::string tls_cert_file;
  std::string tls_key_file;
  /// Outgoing wss://: trust the CAs in this PEM file instead of the system store.
  std::string tls_ca_file;

  /// Plain HTTP GET on the listener. Empty: every plain request gets 400 (WebSocket only).
  /// Other methods get 405.
  HttpHandler http;
  LogFn log;
};

/// How to dial one outgoing connection.
struct ConnectOptions {
  bool tls = false;  ///< wss://
  /// With tls: accept exactly the server certificate whose SHA-256 (of its DER encoding) is
  /// this, hex, colons allowed ("AB:CD:..." as printed by `openssl x509 -fingerprint
  /// -sha256`). Replaces the CA and host name checks (self-signed certificates work).
  std::string pin_sha256;
  std::string path = "/";
};

/// Counters of a host (loop thread).
struct WsHostStats {
  std::size_t connections = 0;  ///< open accepted + outgoing connections
  std::size_t accepted_total = 0;
  std::size_t refused_max_connections = 0;
  std::size_t refused_per_ip = 0;
  std::size_t rx_buffered = 0;       ///< bytes held now for unfinished incoming messages
  std::size_t rx_buffered_peak = 0;  ///< the most ever held at once
};

class WsHost {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    /// Accepted connection (id without kOutgoingBit) or an outgoing one, once its WebSocket
    /// handshake completed. Refused handshakes and plain HTTP requests are never reported.
    virtual void on_open(ConnId conn) = 0;
    virtual void on_frame(ConnId conn, std::string frame) = 0;
    /// Closed for any reason, including a failed outgoing connect. Called once per id.
    virtual void on_close(ConnId conn) = 0;
    /// A ping or pong arrived on an open connection (liveness without data). Optional.
    virtual void on_activity(ConnId conn) { (void)conn; }
  };

  /// Binds the listener (if any). Io error if the port is taken, InvalidArgument on bad TLS
  /// options (unreadable certificate/key, only one of them).
  static Result<std::unique_ptr<WsHost>> create(WsHostOptions opt, Handler& handler);
  ~WsHost();
  WsHost(const WsHost&) = delete;
  WsHost& operator=(const WsHost&) = delete;

  /// Dials ws://host:port/ (wss:// with co.tls) with the caller's id (must have kOutgoingBit
  /// set). Failures (DNS, TCP, TLS, handshake) end in on_close without on_open.
  void connect(ConnId id, const std::string& host, std::uint16_t port,
               const ConnectOptions& co = {});
  /// Queues a text frame. Unknown/closed ids are ignored.
  void send(ConnId id, std::string text);
  /// Closes after the queued frames are written.
  void close(ConnId id, int code = 1000, const std::string& reason = {});
  /// From the next frame on, messages on `id` may be at most `limit` bytes (closed with 1009
  /// beyond it). Not capped by WsHostOptions::max_frame. Unknown ids are ignored.
  void set_max_frame(ConnId id, std::size_t limit);
  /// "ip:port" of the peer of an accepted connection, "host:port" as dialled for an outgoing
  /// one; empty for unknown ids. For log lines.
  std::string peer_address(ConnId id) const;
  /// The bound listening port (the real one when listening on port 0); 0 without listener.
  /// Any thread (fixed after create()).
  std::uint16_t listen_port() const noexcept;
  WsHostStats stats() const;
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
  /// as file-chunk signatures never delays interactive frames). Within a priority, owners
  /// (e.g. the connection a signature is for) take turns, FIFO per owner.
  void submit(std::function<void()> fn, bool low_priority = false, std::uint64_t owner = 0);
  /// Tasks waiting (not running). Any thread.
  std::size_t queued() const;
  std::size_t threads() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct ServerRuntimeOptions {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = kDefaultPort;  ///< 0 = an ephemeral port (see listen_port())
  std::size_t sign_threads = 0;              ///< 0 = one per core
  std::size_t password_threads = 2;          ///< Argon2id: 64 MiB each, so few
  std::size_t max_frame = 8u << 20;
  /// Accepted connections' message limit until the core raises it (Action::SetFrameLimit).
  std::size_t max_frame_unauthenticated = 64u << 10;
  std::size_t max_connections = 1024;
  std::size_t max_connections_per_ip = 64;
  std::string tls_cert_file;  ///< both set: the listener speaks wss:// only
  std::string tls_key_file;
  std::string tls_ca_file;    ///< CAs for outgoing wss:// (default: the system store)
  bool outgoing_tls = false;  ///< dial other servers with wss://
  HttpHandler http;           ///< plain HTTP GET on the listener (see WsHostOptions::http)
  LogFn log;
};

/// Glue: a ServerCore driven by a WsHost, its jobs run on worker pools, results handed back
/// to the loop with post(). Owns the server's private key for signing.
class ServerRuntime {
 public:
  static Result<std::unique_ptr<ServerRuntime>> create(ServerCore& core, PrivateKey key,
                                                       ServerRuntimeOptions opt);
  /// Binds the listener first, then asks for the core with the port actually bound (for
  /// listen_port 0, so the core can advertise the real port). `core_for_port` is called once,
  /// during create; the core it returns must outlive the runtime.
  static Result<std::unique_ptr<ServerRuntime>> create(
      const std::function<ServerCore&(std::uint16_t bound_port)>& core_for_port, PrivateKey key,
      ServerRuntimeOptions opt);
  ~ServerRuntime();
  /// Starts the core (joins the mesh) and runs the loop until stop(). 0 on clean stop.
  int run();
  /// Thread-safe: shuts the core down politely and stops the loop.
  void stop();
  /// The bound port (the real one with listen_port 0). Any thread.
  std::uint16_t listen_port() const noexcept;
  /// "ip:port" of a connection ("" if unknown). Loop thread only (e.g. from the core's log
  /// callbacks: ServerConfig::peer_address).
  std::string peer_address(ConnId conn) const;
  /// Thread-safe: runs fn(core) on the loop thread soon, then performs the actions it caused
  /// (a SIGHUP reload, an admin command). Dropped once the loop has stopped.
  void post(std::function<void(ServerCore&)> fn);

  /// What only the runtime measures. Any thread.
  struct Samples {
    std::uint64_t signatures = 0;     ///< signing jobs done
    double sign_seconds = 0;          ///< their total time from submit to result (queue + RSA)
    std::uint64_t sign_waiting = 0;   ///< signing jobs submitted and not done yet
  };
  Samples samples() const;

  struct Impl;

 private:
  explicit ServerRuntime(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace socp
