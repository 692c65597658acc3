// transport/ws_host.cpp — WsHost: context set-up, the public API and the event plumbing.
// The lws callback itself lives in ws_callback.cpp.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <utility>

#include "transport/ws_host_impl.h"

namespace socp {

using transport::WsConn;

namespace {

static_assert(sizeof(void*) >= sizeof(ConnId), "ConnId must fit in lws opaque user data");

constexpr std::size_t kRxBufferSize = 64 * 1024;
constexpr int kCloseDrainTimeoutS = 30;  // a close() whose queue never drains is dropped

// lws logs through a process-global emitter; socp keeps it silent unless SOCP_LWS_LOG names a
// level bitmask (e.g. SOCP_LWS_LOG=15 for ERR|WARN|NOTICE|INFO) — for debugging lws itself.
void configure_lws_logging() {
  static std::once_flag once;
  std::call_once(once, [] {
    int level = 0;
    if (const char* env = std::getenv("SOCP_LWS_LOG")) level = std::atoi(env);
    lws_set_log_level(level, nullptr);
  });
}

struct ListenAddr {
  std::string iface;  // numeric address, or empty = all interfaces
  bool ipv4 = true;
};

// lws binds `iface` as an interface name or a numeric address: resolve host names first.
Result<ListenAddr> resolve_listen_host(const std::string& host, std::uint16_t port) {
  ListenAddr out;
  if (host.empty() || host == "*" || host == "0.0.0.0") return out;
  if (host == "::") {
    out.ipv4 = false;
    return out;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0 || !res) {
    return make_error(Errc::Io, "cannot listen on " + host + ":" + std::to_string(port) +
                                    ": cannot resolve host (" + ::gai_strerror(rc) + ")");
  }
  char buf[INET6_ADDRSTRLEN] = {};
  const void* addr = nullptr;
  if (res->ai_family == AF_INET) {
    addr = &reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr;
  } else {
    addr = &reinterpret_cast<sockaddr_in6*>(res->ai_addr)->sin6_addr;
    out.ipv4 = false;
  }
  ::inet_ntop(res->ai_family, addr, buf, sizeof buf);
  ::freeaddrinfo(res);
  out.iface = buf;
  return out;
}

// lws does not say why a listener failed: bind a probe socket to get the errno text.
std::string bind_failure_reason(const ListenAddr& la, std::uint16_t port) {
  int family = la.ipv4 ? AF_INET : AF_INET6;
  int fd = ::socket(family, SOCK_STREAM, 0);
  if (fd < 0) return std::strerror(errno);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int rc;
  if (la.ipv4) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
    if (!la.iface.empty()) ::inet_pton(AF_INET, la.iface.c_str(), &sa.sin_addr);
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  } else {
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(port);
    sa.sin6_addr = in6addr_any;
    if (!la.iface.empty()) ::inet_pton(AF_INET6, la.iface.c_str(), &sa.sin6_addr);
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  }
  std::string why = rc == 0 ? "libwebsockets could not create the listener" : std::strerror(errno);
  ::close(fd);
  return why;
}

// A close code we may put on the wire (RFC 6455 §7.4): others become 1000.
int sanitize_close_code(int code) {
  if (code < 1000 || code > 4999) return 1000;
  if (code == 1004 || code == 1005 || code == 1006 || code == 1015) return 1000;
  if (code >= 1016 && code < 3000) return 1000;
  return code;
}

// A close reason fits in 123 bytes of a control frame and must stay valid UTF-8: cut at a
// character boundary.
std::string clip_reason(const std::string& r) {
  constexpr std::size_t kMax = 120;
  if (r.size() <= kMax) return r;
  std::size_t n = kMax;
  while (n > 0 && (static_cast<unsigned char>(r[n]) & 0xC0) == 0x80) --n;
  return r.substr(0, n);
}

}  // namespace

// ---- create / destroy -------------------------------------------------------------------

WsHost::WsHost(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WsHost::~WsHost() {
  if (impl_) impl_->teardown();
}

Result<std::unique_ptr<WsHost>> WsHost::create(WsHostOptions opt, Handler& handler) {
  configure_lws_logging();
  auto impl = std::make_unique<Impl>(std::move(opt), handler);
  Impl& s = *impl;

  ListenAddr la;
  const bool listening = s.opt.listen_port != 0;
  if (listening) {
    auto r = resolve_listen_host(s.opt.listen_host, s.opt.listen_port);
    if (!r) return r.error();
    la = std::move(r.value());
  }

  s.protocols[0].name = transport::kProtocolName;
  s.protocols[0].callback = &transport::ws_callback;
  s.protocols[0].per_session_data_size = 0;  // the wsi carries only its ConnId (opaque data)
  s.protocols[0].rx_buffer_size = kRxBufferSize;
  s.protocols[1] = s.protocols[0];
  s.protocols[1].name = s.alias_name;
  s.protocols[2] = lws_protocols{};  // terminator

  // Liveness: lws pings after ping_interval_s of silence and hangs up after ping_hangup_s.
  s.retry.retry_ms_table = s.retry_table;
  s.retry.retry_ms_table_count = 1;
  s.retry.conceal_count = 0;
  s.retry.secs_since_valid_ping = static_cast<std::uint16_t>(s.opt.ping_interval_s);
  s.retry.secs_since_valid_hangup = static_cast<std::uint16_t>(s.opt.ping_hangup_s);
  s.retry.jitter_percent = 0;

  lws_context_creation_info info;
  std::memset(&info, 0, sizeof info);
  info.port = listening ? s.opt.listen_port : CONTEXT_PORT_NO_LISTEN;
  info.iface = (listening && !la.iface.empty()) ? la.iface.c_str() : nullptr;
  info.protocols = s.protocols;
  // No info.extensions: permessage-deflate offers are simply not accepted.
  info.user = &s;
  info.gid = -1;
  info.uid = -1;
  info.vhost_name = "socp";
  info.server_string = "socp";
  info.retry_and_idle_policy = &s.retry;
  info.connect_timeout_secs = 10;
  info.options = LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
  if (listening && la.ipv4) info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;

  s.ctx = lws_create_context(&info);
  if (!s.ctx) {
    if (listening) {
      return make_error(Errc::Io, "cannot listen on " + s.opt.listen_host + ":" +
                                      std::to_string(s.opt.listen_port) + ": " +
                                      bind_failure_reason(la, s.opt.listen_port));
    }
    return make_error(Errc::Io, "cannot create the libwebsockets context");
  }
  s.tick.self = &s;
  return std::unique_ptr<WsHost>(new WsHost(std::move(impl)));
}

// ---- loop-thread API --------------------------------------------------------------------

void WsHost::connect(ConnId id, const std::string& host, std::uint16_t port) {
  Impl& s = *impl_;
  if (!s.ctx || s.tearing_down) return;
  if (!(id & kOutgoingBit) || id == 0) {
    s.log(LogLevel::Error, "ws: connect with an id without kOutgoingBit (ignored)");
    return;
  }
  if (s.conns.count(id)) {
    s.log(LogLevel::Error, "ws: connect with an id already in use (ignored)");
    return;
  }
  WsConn& c = s.conns.emplace(id, WsConn(id, nullptr)).first->second;
  c.peer = host + ":" + std::to_string(port);

  lws_client_connect_info ci;
  std::memset(&ci, 0, sizeof ci);
  ci.context = s.ctx;
  ci.address = host.c_str();
  ci.port = port;
  ci.path = "/";
  const bool v6 = host.find(':') != std::string::npos;
  const std::string host_header =
      (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);  // RFC 7230 §5.4
  ci.host = host_header.c_str();
  ci.origin = nullptr;    // not a browser
  ci.protocol = nullptr;  // ask for no subprotocol: peers that know none still accept us
  ci.local_protocol_name = transport::kProtocolName;
  ci.opaque_user_data = reinterpret_cast<void*>(static_cast<std::uintptr_t>(id));
  ci.retry_and_idle_policy = &s.retry;
  lws* wsi = nullptr;
  ci.pwsi = &wsi;

  // lws may report a connection error synchronously from inside this call; the resulting
  // on_close is queued (emit) and delivered after the current handler returns.
  lws* got = lws_client_connect_via_info(&ci);
  WsConn* still = s.find(id);
  if (!still) return;  // already failed and forgotten
  if (!got) {
    s.log(LogLevel::Info, "ws: connect to " + still->peer + " failed immediately");
    s.forget(id);
    return;
  }
  still->set_wsi(got);
}

void WsHost::send(ConnId id, std::string text) {
  Impl& s = *impl_;
  WsConn* c = s.find(id);
  if (!c || c->closing()) return;
  std::size_t queued = c->push(text, LWS_PRE);
  if (queued > s.opt.max_queue_bytes) {
    s.log(LogLevel::Warn, "ws: closing connection " + std::to_string(id) +
                              ": peer is not reading (write queue over " +
                              std::to_string(s.opt.max_queue_bytes) + " bytes)");
    s.kill(*c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "slow reader");
    return;
  }
  if (c->opened && c->wsi()) lws_callback_on_writable(c->wsi());
}

void WsHost::close(ConnId id, int code, const std::string& reason) {
  Impl& s = *impl_;
  WsConn* c = s.find(id);
  if (!c || c->closing()) return;
  c->mark_closing(sanitize_close_code(code), clip_reason(reason));
  if (!c->wsi()) return;  // still resolving: closed once lws reports the connection
  if (!c->opened) {
    // Outgoing connection not established yet: abandon the attempt.
    lws_set_timeout(c->wsi(), PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    return;
  }
  lws_set_timeout(c->wsi(), PENDING_TIMEOUT_USER_OK, kCloseDrainTimeoutS);
  lws_callback_on_writable(c->wsi());
}

void WsHost::set_tick(std::int64_t interval_ms, std::function<void()> fn) {
  Impl& s = *impl_;
  s.tick_ms = interval_ms;
  s.tick_fn = std::move(fn);
  s.arm_tick();
}

// ---- any-thread API ---------------------------------------------------------------------

void WsHost::post(std::function<void()> fn) {
  Impl& s = *impl_;
  std::lock_guard<std::mutex> lk(s.post_mu);
  if (!s.accepting_posts || !s.ctx) return;
  s.posted.push_back(std::move(fn));
  lws_cancel_service(s.ctx);
}

void WsHost::stop() {
  Impl& s = *impl_;
  s.stop_flag.store(true);
  std::lock_guard<std::mutex> lk(s.post_mu);
  if (s.accepting_posts && s.ctx) lws_cancel_service(s.ctx);
}

int WsHost::run() {
  Impl& s = *impl_;
  if (!s.ctx || s.running) return 1;
  s.running = true;
  int rc = 0;
  s.arm_tick();
  // Posts made before run() are waiting: pick them up without needing a wake-up.
  s.run_posted();
  while (!s.stop_flag.load()) {
    if (lws_service(s.ctx, 0) < 0) {
      s.log(LogLevel::Error, "ws: event loop failed");
      rc = 1;
      break;
    }
  }
  s.teardown();
  return rc;
}

// ---- Impl -------------------------------------------------------------------------------

void WsHost::Impl::forget(ConnId id, lws* wsi) {
  if (wsi) set_id(wsi, 0);
  auto it = conns.find(id);
  if (it == conns.end()) return;
  if (lws* known = it->second.wsi()) set_id(known, 0);
  conns.erase(it);
  emit(Event{Event::Kind::Close, id, {}});
}

void WsHost::Impl::kill(WsConn& c, int code, std::string_view reason) {
  c.clear_queue();
  c.mark_closing(code, std::string(reason));
  lws* wsi = c.wsi();
  if (!wsi) return;
  if (c.opened) {
    lws_close_reason(wsi, static_cast<lws_close_status>(code),
                     reinterpret_cast<unsigned char*>(const_cast<char*>(reason.data())),
                     reason.size());
  }
  lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

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
      }
    } catch (const std::exception& e) {
      log_nothrow(LogLevel::Error, std::string("ws: handler ") + what + " threw: " + e.what());
      if (WsConn* c = find(ev.id))
        kill(*c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "internal error");
    } catch (...) {
      log_nothrow(LogLevel::Error, std::string("ws: handler ") + what + " threw");
      if (WsConn* c = find(ev.id))
        kill(*c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "internal error");
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

void WsHost::Impl::arm_tick() {
  if (!ctx) return;
  if (tick_ms <= 0 || !tick_fn) {
    lws_sul_cancel(&tick.sul);
    return;
  }
  lws_sul_schedule(ctx, 0, &tick.sul, &Impl::on_tick_timer, tick_ms * LWS_US_PER_MS);
}

void WsHost::Impl::on_tick_timer(lws_sorted_usec_list_t* sul) {
  auto* t = reinterpret_cast<transport::TickTimer*>(sul);
  Impl& s = *t->self;
  if (s.tearing_down) return;
  s.arm_tick();  // re-arm first: the tick function may replace itself via set_tick
  std::function<void()> fn = s.tick_fn;  // copy: set_tick inside fn must not destroy it
  s.run_user(fn, "tick");
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
  lws_context_destroy(ctx);
  ctx = nullptr;
  conns.clear();
}

}  // namespace socp
