// transport/ws_host_impl.h — WsHost internals shared by ws_host.cpp (public API, context
// set-up, events), ws_io.cpp (socket events → sessions → Handler), ws_callback.cpp (the lws
// callback), ws_accept.cpp (connection caps, addresses) and ws_tls.cpp (certificate pins).
// Private to the transport layer.
//
// libwebsockets runs in raw-socket mode: it accepts, connects, reads, writes, does the
// listener's TLS and keeps timers; the WebSocket protocol is WsSession's, and outgoing TLS is
// TlsClient's (lws 4.1.6 cannot do TLS on raw client sockets). Two vhosts: "socp-listen" (the
// listener, every accepted socket adopted as raw) and "socp-dial" (outgoing connections).
//
// Ownership: the Impl owns the lws_context and the registry of WsConn (ConnId -> state). A
// wsi carries only its ConnId, stored as lws "opaque user data" (a POD pointer-sized value),
// so no C++ object lives in lws memory and lws never has to run a destructor.
// Closing: inside a wsi's own callback by returning -1 (lws then closes it and calls
// RAW_CLOSE); from anywhere else only asynchronously (lws_set_timeout(LWS_TO_KILL_ASYNC): the
// wsi is closed from lws' timer list, never while one of its callbacks runs). The registry
// entry is removed only in RAW_CLOSE / CONNECTION_ERROR / WSI_DESTROY, when lws is done with
// the wsi.
// Threads: everything except `post_*` and `stop_flag` is touched only on the loop thread.
#pragma once

#include <libwebsockets.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "socp/ws_host.h"
#include "transport/ws_conn.h"
#include "transport/ws_tls_client.h"

namespace socp {
namespace transport {

/// A repeating lws timer. `sul` must stay the first member: the lws timer callback gets a
/// pointer to it and casts back to the enclosing (standard-layout) struct.
struct LoopTimer {
  lws_sorted_usec_list_t sul;
  WsHost::Impl* self;
};

/// The lws protocol callback (ws_callback.cpp). Never lets an exception escape.
int ws_callback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                std::size_t len) noexcept;

/// The single lws protocol: raw bytes, WebSocket done by WsSession.
inline constexpr const char* kProtocolName = "socp-raw";
/// Bytes handed to lws_write at once (lws sends what the socket takes and buffers the rest
/// of one chunk; the next chunk waits for the next WRITEABLE).
inline constexpr std::size_t kWriteChunk = 64 * 1024;

// ws_accept.cpp
/// "ip" of a socket address (IPv4-mapped IPv6 shown as IPv4); empty if not IP.
std::string ip_of(const sockaddr* sa);
/// "ip:port" ("[v6]:port") of a socket address.
std::string ip_port_of(const sockaddr* sa);
/// The peer address of a connected socket, "" on failure; `ip` receives the IP part.
std::string peer_of_fd(int fd, std::string* ip);
/// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);

// ws_tls.cpp
/// Lower-case hex of a SHA-256 pin as given by a user ("AB:CD:..." or "abcd..."); empty if it
/// is not 32 bytes of hex.
std::string normalize_pin(const std::string& pin);

}  // namespace transport

struct WsHost::Impl {
  Impl(WsHostOptions o, Handler& h) : opt(std::move(o)), handler(h) {}

  WsHostOptions opt;
  Handler& handler;

  lws_context* ctx = nullptr;
  lws_vhost* listen_vh = nullptr;
  lws_vhost* dial_vh = nullptr;
  lws_protocols protocols[2]{};
  std::uint16_t bound_port = 0;
  /// OpenSSL client context for outgoing wss://, made on the first TLS dial.
  std::shared_ptr<SSL_CTX> client_tls;

  // ---- connections (loop thread) ----------------------------------------------------------
  std::unordered_map<ConnId, transport::WsConn> conns;
  ConnId next_accepted = 1;
  std::unordered_map<std::string, std::size_t> per_ip;  ///< accepted connections per IP
  std::size_t accepted_open = 0;
  WsHostStats st;
  std::int64_t refused_logged_ms = 0;  ///< refusals are logged at most once a second
  std::size_t refused_unlogged = 0;

  transport::WsConn* find(ConnId id) {
    auto it = conns.find(id);
    return it == conns.end() ? nullptr : &it->second;
  }
  const transport::WsConn* find(ConnId id) const {
    auto it = conns.find(id);
    return it == conns.end() ? nullptr : &it->second;
  }
  static ConnId id_of(lws* wsi) noexcept {
    return static_cast<ConnId>(reinterpret_cast<std::uintptr_t>(lws_get_opaque_user_data(wsi)));
  }
  static void set_id(lws* wsi, ConnId id) noexcept {
    lws_set_opaque_user_data(wsi, reinterpret_cast<void*>(static_cast<std::uintptr_t>(id)));
  }
  static std::int64_t now_ms() noexcept;

  /// Removes `id` from the registry (lws is done with its wsi) and queues its on_close if
  /// one is owed. `wsi` (if known) stops carrying the id, so later callbacks ignore it.
  void forget(ConnId id, lws* wsi = nullptr);
  /// Drops a connection hard (slow reader, timeout): no further I/O; closed asynchronously.
  void kill(transport::WsConn& c, std::string_view why);

  // ---- I/O (ws_io.cpp), called from the lws callback for this connection's wsi -----------
  /// An accepted socket was adopted. -1 refuses it.
  int on_adopted(lws* wsi);
  /// An outgoing TCP (+TLS) connection is up: start the WebSocket handshake.
  int on_dial_connected(lws* wsi);
  int on_rx(lws* wsi, const char* data, std::size_t len);
  int on_writeable(lws* wsi);
  /// After input or output: ask for WRITEABLE, start lingering, or return -1 to close now.
  int settle(transport::WsConn& c, lws* wsi);
  /// Bytes waiting for the socket (WebSocket output, or TLS records).
  bool has_output(transport::WsConn& c);
  /// Delivers session events (Open/Message to the Handler, Http to opt.http).
  void deliver(transport::WsConn& c, std::vector<transport::SessionEvent>& evs);
  void account_rx(transport::WsConn& c);
  /// The session left Open for a reason the owner should hear about (log line).
  void note_session_end(transport::WsConn& c);

  // ---- accept caps (ws_accept.cpp) --------------------------------------------------------
  /// LWS_CALLBACK_FILTER_NETWORK_CONNECTION: 0 admits, -1 refuses.
  int filter_connection(const sockaddr* addr);

  // ---- handler events: queued, then delivered one at a time (never re-entrantly) -----------
  struct Event {
    enum class Kind { Open, Frame, Close, Activity } kind;
    ConnId id;
    std::string data;
  };
  std::deque<Event> events;
  bool dispatching = false;
  bool tearing_down = false;  ///< context being destroyed: the Handler is no longer called

  void emit(Event ev);
  /// Runs fn as "user code" (posted functions, ticks): exceptions are caught and logged, and
  /// events it causes are delivered after it returns.
  void run_user(const std::function<void()>& fn, const char* what);
  void drain_events();

  // ---- cross-thread -----------------------------------------------------------------------
  std::mutex post_mu;
  std::vector<std::function<void()>> posted;  ///< guarded by post_mu
  bool accepting_posts = true;                ///< guarded by post_mu; false once torn down
  std::atomic<bool> stop_flag{false};
  bool running = false;

  void run_posted();

  // ---- timers -----------------------------------------------------------------------------
  transport::LoopTimer tick{};
  std::int64_t tick_ms = 0;
  std::function<void()> tick_fn;
  void arm_tick();
  static void on_tick_timer(lws_sorted_usec_list_t* sul);

  /// Once a second: handshake deadlines, liveness pings, close and linger timeouts.
  transport::LoopTimer sweep{};
  void arm_sweep();
  static void on_sweep_timer(lws_sorted_usec_list_t* sul);
  void sweep_connections();

  void log(LogLevel lvl, std::string_view msg) const {
    if (opt.log) opt.log(lvl, msg);
  }
  void log_nothrow(LogLevel lvl, std::string_view msg) const noexcept {
    try {
      log(lvl, msg);
    } catch (...) {
    }
  }
  void teardown();
};

}  // namespace socp
