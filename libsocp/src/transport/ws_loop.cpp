// transport/ws_loop.cpp — WsHost event plumbing: the registry (forget/kill), Handler events
// (queued, never re-entrant), posted functions, the tick, and the once-a-second sweep of
// connection deadlines (handshake, liveness ping/hang-up, close handshake, linger).
#include <chrono>
#include <utility>

#include "transport/ws_host_impl.h"

namespace socp {

using transport::WsConn;
using transport::WsSession;

namespace {

constexpr std::int64_t kSweepMs = 1000;
constexpr std::int64_t kCloseDrainMs = 30000;  // a close whose queue never drains is dropped
constexpr std::int64_t kCloseAckMs = 5000;     // our close frame is out: wait for the answer

}  // namespace

std::int64_t WsHost::Impl::now_ms() noexcept {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// ---- registry -------------------------------------------------------------------------------

void WsHost::Impl::forget(ConnId id, lws* wsi) {
  if (wsi) set_id(wsi, 0);
  auto it = conns.find(id);
  if (it == conns.end()) return;
  WsConn& c = it->second;
  if (lws* known = c.wsi()) set_id(known, 0);
  st.rx_buffered -= c.rx_accounted;
  if (!c.counted_ip.empty()) {
    auto ip = per_ip.find(c.counted_ip);
    if (ip != per_ip.end() && --ip->second == 0) per_ip.erase(ip);
    --accepted_open;
  }
  // Accepted connections the Handler never saw (refused handshakes, plain HTTP) end quietly.
  const bool owed = c.reported_open || c.outgoing();
  conns.erase(it);
  if (owed) emit(Event{Event::Kind::Close, id, {}});
}

void WsHost::Impl::kill(WsConn& c, std::string_view why) {
  if (c.killed) return;
  c.killed = true;
  if (c.closing_ms == 0) c.closing_ms = now_ms();
  log(LogLevel::Debug, "ws: dropping connection " + std::to_string(c.id()) + " (" + c.peer +
                           "): " + std::string(why));
  // Asynchronous: lws closes the wsi from its timer list, never inside one of its callbacks;
  // RAW_CLOSE (or CONNECTION_ERROR for a dial) then forgets it.
  if (lws* wsi = c.wsi())
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
  else
    c.close_when_connected = true;
}

// ---- events ---------------------------------------------------------------------------------

void WsHost::Impl::emit(Event ev) {
  if (tearing_down) return;
  events.push_back(std::move(ev));
  drain_events();
}

void WsHost::Impl::drain_events() {
  if (dispatching) return;
  dispatching = true;
  while (!events.empty()) {
    Event ev = std::move(events.front());
    events.pop_front();
    const char* what = "on_open";
    bool failed = false;
    try {
      switch (ev.kind) {
        case Event::Kind::Open:
          handler.on_open(ev.id);
          break;
        case Event::Kind::Frame:
          what = "on_frame";
          handler.on_frame(ev.id, std::move(ev.data));
          break;
        case Event::Kind::Close:
          what = "on_close";
          handler.on_close(ev.id);
          break;
        case Event::Kind::Activity:
          what = "on_activity";
          handler.on_activity(ev.id);
          break;
      }
    } catch (const std::exception& e) {
      log_nothrow(LogLevel::Error, std::string("ws: handler ") + what + " threw: " + e.what());
      failed = true;
    } catch (...) {
      log_nothrow(LogLevel::Error, std::string("ws: handler ") + what + " threw");
      failed = true;
    }
    if (failed) {
      if (WsConn* c = find(ev.id); c && !c->killed && c->wsi()) {
        c->session.fail(1011, "internal error");
        if (c->closing_ms == 0) c->closing_ms = now_ms();
        lws_callback_on_writable(c->wsi());
      }
    }
  }
  dispatching = false;
}

void WsHost::Impl::run_user(const std::function<void()>& fn, const char* what) {
  if (tearing_down || !fn) return;
  const bool was = dispatching;
  dispatching = true;
  try {
    fn();
  } catch (const std::exception& e) {
    log_nothrow(LogLevel::Error, std::string("ws: ") + what + " threw: " + e.what());
  } catch (...) {
    log_nothrow(LogLevel::Error, std::string("ws: ") + what + " threw");
  }
  dispatching = was;
  drain_events();
}

void WsHost::Impl::run_posted() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> lk(post_mu);
    batch.swap(posted);
  }
  for (auto& fn : batch) run_user(fn, "posted function");
}

// ---- timers ---------------------------------------------------------------------------------

void WsHost::Impl::arm_tick() {
  if (!ctx) return;
  if (tick_ms <= 0 || !tick_fn) {
    lws_sul_cancel(&tick.sul);
    return;
  }
  lws_sul_schedule(ctx, 0, &tick.sul, &Impl::on_tick_timer, tick_ms * LWS_US_PER_MS);
}

void WsHost::Impl::on_tick_timer(lws_sorted_usec_list_t* sul) {
  auto* t = reinterpret_cast<transport::LoopTimer*>(sul);
  Impl& s = *t->self;
  if (s.tearing_down) return;
  s.arm_tick();  // re-arm first: the tick function may replace itself via set_tick
  std::function<void()> fn = s.tick_fn;  // copy: set_tick inside fn must not destroy it
  s.run_user(fn, "tick");
}

void WsHost::Impl::arm_sweep() {
  if (!ctx) return;
  lws_sul_schedule(ctx, 0, &sweep.sul, &Impl::on_sweep_timer, kSweepMs * LWS_US_PER_MS);
}

void WsHost::Impl::on_sweep_timer(lws_sorted_usec_list_t* sul) {
  auto* t = reinterpret_cast<transport::LoopTimer*>(sul);
  Impl& s = *t->self;
  if (s.tearing_down) return;
  s.arm_sweep();
  try {
    s.sweep_connections();
  } catch (...) {
    s.log_nothrow(LogLevel::Error, "ws: connection sweep failed");
  }
  s.drain_events();
}

void WsHost::Impl::sweep_connections() {
  const std::int64_t now = now_ms();
  const std::int64_t handshake_ms = std::int64_t{opt.handshake_timeout_s} * 1000;
  const std::int64_t ping_ms = std::int64_t{opt.ping_interval_s} * 1000;
  const std::int64_t hangup_ms = std::int64_t{opt.ping_hangup_s} * 1000;
  // kill() only schedules; nothing is erased while iterating.
  for (auto& entry : conns) {
    WsConn& c = entry.second;
    if (c.killed || !c.wsi()) continue;
    const WsSession& s = c.session;
    if (c.lingering) {
      if (now >= c.linger_until_ms) kill(c, "no EOF after our close");
      continue;
    }
    switch (s.state()) {
      case WsSession::State::Handshake:
        if (now - c.started_ms >= handshake_ms) {
          log(c.outgoing() ? LogLevel::Info : LogLevel::Debug,
              "ws: connection " + std::to_string(c.id()) + " (" + c.peer +
                  "): no WebSocket handshake within " + std::to_string(opt.handshake_timeout_s) +
                  " s");
          kill(c, "handshake timeout");
        }
        break;
      case WsSession::State::Open:
        if (ping_ms <= 0) break;
        // Never hang up on a peer that was not pinged first (the sweep is coarse: the ping may
        // be due at the same sweep as the hang-up).
        if (c.ping_sent_ms != 0 && now - c.last_rx_ms >= hangup_ms) {
          log(LogLevel::Info, "ws: connection " + std::to_string(c.id()) + " (" + c.peer +
                                  "): silent for " + std::to_string(opt.ping_hangup_s) +
                                  " s, hanging up");
          kill(c, "silent peer");
        } else if (now - c.last_rx_ms >= ping_ms && c.ping_sent_ms == 0) {
          c.session.send_ping({});
          c.ping_sent_ms = now;
          lws_callback_on_writable(c.wsi());
        }
        break;
      case WsSession::State::Closing:
      case WsSession::State::Closed:
        if (c.close_sent_ms != 0) {
          if (now - c.close_sent_ms >= kCloseAckMs) kill(c, "no answer to our close");
        } else if (c.closing_ms != 0 && now - c.closing_ms >= kCloseDrainMs) {
          kill(c, "close did not drain");
        }
        break;
    }
  }
}

void WsHost::Impl::teardown() {
  if (!ctx) return;
  {
    std::lock_guard<std::mutex> lk(post_mu);
    accepting_posts = false;
    posted.clear();
  }
  tearing_down = true;
  events.clear();
  lws_sul_cancel(&tick.sul);
  lws_sul_cancel(&sweep.sul);
  lws_context_destroy(ctx);
  ctx = nullptr;
  conns.clear();
}

}  // namespace socp
