// transport/ws_host_impl.h — WsHost internals shared by ws_host.cpp (public API, context
// set-up) and ws_callback.cpp (the libwebsockets callback). Private to the transport layer.
//
// Ownership: the Impl owns the lws_context and the registry of WsConn (ConnId -> state). A
// wsi carries only its ConnId, stored as lws "opaque user data" (a POD pointer-sized value),
// so no C++ object lives in lws memory and lws never has to run a destructor.
// Threads: everything except `post_*` and `stop_flag` is touched only on the loop thread.
#pragma once

#include <libwebsockets.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "socp/ws_host.h"
#include "transport/ws_conn.h"

namespace socp {
namespace transport {

/// The repeating tick timer. `sul` must stay the first member: the lws timer callback gets a
/// pointer to it and casts back to the enclosing (standard-layout) struct.
struct TickTimer {
  lws_sorted_usec_list_t sul;
  WsHost::Impl* self;
};

/// The lws protocol callback (ws_callback.cpp). Never lets an exception escape.
int ws_callback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                std::size_t len) noexcept;

/// Name of the single WebSocket subprotocol (also protocols[0], the default for clients that
/// send no Sec-WebSocket-Protocol header).
inline constexpr const char* kProtocolName = "socp";

}  // namespace transport

struct WsHost::Impl {
  Impl(WsHostOptions o, Handler& h) : opt(std::move(o)), handler(h) {}

  WsHostOptions opt;
  Handler& handler;

  lws_context* ctx = nullptr;
  /// [0] "socp" (also the default when no subprotocol is asked for), [1] the alias slot whose
  /// name is set just before lws matches an unknown requested subprotocol (see
  /// ws_callback.cpp, HTTP_CONFIRM_UPGRADE), [2] terminator.
  lws_protocols protocols[3]{};
  char alias_name[64] = "socp-alias";
  lws_retry_bo_t retry{};
  std::uint32_t retry_table[1] = {1000};

  // ---- connections (loop thread) ----------------------------------------------------------
  std::unordered_map<ConnId, transport::WsConn> conns;
  ConnId next_accepted = 1;

  transport::WsConn* find(ConnId id) {
    auto it = conns.find(id);
    return it == conns.end() ? nullptr : &it->second;
  }
  static ConnId id_of(lws* wsi) noexcept {
    return static_cast<ConnId>(reinterpret_cast<std::uintptr_t>(lws_get_opaque_user_data(wsi)));
  }
  static void set_id(lws* wsi, ConnId id) noexcept {
    lws_set_opaque_user_data(wsi, reinterpret_cast<void*>(static_cast<std::uintptr_t>(id)));
  }

  /// Removes `id` from the registry and queues its one on_close. `wsi` (if known) stops
  /// carrying the id, so later callbacks for it are ignored.
  void forget(ConnId id, lws* wsi = nullptr);
  /// Drops a connection hard (slow reader, handler failure): no further writes.
  void kill(transport::WsConn& c, int code, std::string_view reason);

  // ---- handler events: queued, then delivered one at a time (never re-entrantly) -----------
  struct Event {
    enum class Kind { Open, Frame, Close } kind;
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

  // ---- tick -------------------------------------------------------------------------------
  transport::TickTimer tick{};
  std::int64_t tick_ms = 0;
  std::function<void()> tick_fn;
  void arm_tick();
  static void on_tick_timer(lws_sorted_usec_list_t* sul);

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
