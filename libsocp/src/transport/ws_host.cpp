// transport/ws_host.cpp — WsHost: context and vhost set-up, and the public API. Event
// plumbing and timers are in ws_loop.cpp, socket I/O in ws_io.cpp, the lws callback in
// ws_callback.cpp.
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
  return transport::close_code_allowed_on_wire(code) ? code : 1000;
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

Status check_readable(const std::string& path, const char* what) {
  if (::access(path.c_str(), R_OK) != 0) {
    return make_error(Errc::InvalidArgument, std::string("cannot read the TLS ") + what + " " +
                                                 path + ": " + std::strerror(errno));
  }
  return {};
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

  const bool listening = s.opt.listen || s.opt.listen_port != 0;
  const bool tls_listener = !s.opt.tls_cert_file.empty() || !s.opt.tls_key_file.empty();
  if (tls_listener) {
    if (s.opt.tls_cert_file.empty() || s.opt.tls_key_file.empty())
      return make_error(Errc::InvalidArgument, "TLS needs both a certificate and a key file");
    if (auto st = check_readable(s.opt.tls_cert_file, "certificate"); !st) return st.error();
    if (auto st = check_readable(s.opt.tls_key_file, "key"); !st) return st.error();
  }
  if (!s.opt.tls_ca_file.empty()) {
    if (auto st = check_readable(s.opt.tls_ca_file, "CA file"); !st) return st.error();
  }
  ListenAddr la;
  if (listening) {
    auto r = resolve_listen_host(s.opt.listen_host, s.opt.listen_port);
    if (!r) return r.error();
    la = std::move(r.value());
  }

  s.protocols[0].name = transport::kProtocolName;
  s.protocols[0].callback = &transport::ws_callback;
  s.protocols[0].per_session_data_size = 0;  // the wsi carries only its ConnId (opaque data)
  s.protocols[0].rx_buffer_size = kRxBufferSize;
  s.protocols[1] = lws_protocols{};  // terminator

  lws_context_creation_info info;
  std::memset(&info, 0, sizeof info);
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = s.protocols;
  info.user = &s;
  info.gid = -1;
  info.uid = -1;
  info.pt_serv_buf_size = kRxBufferSize;  // one read() takes up to this much
  info.connect_timeout_secs = static_cast<unsigned>(s.opt.handshake_timeout_s);
  info.timeout_secs = static_cast<unsigned>(s.opt.handshake_timeout_s);
  s.ctx = lws_create_context(&info);
  if (!s.ctx) return make_error(Errc::Io, "cannot create the libwebsockets context");
  s.tick.self = &s;
  s.sweep.self = &s;
  // From here on the WsHost owns the context (teardown on every error path).
  std::unique_ptr<WsHost> host(new WsHost(std::move(impl)));

  // Outgoing connections: plain TCP from lws (their TLS is TlsClient's).
  lws_context_creation_info dial;
  std::memset(&dial, 0, sizeof dial);
  dial.vhost_name = "socp-dial";
  dial.port = CONTEXT_PORT_NO_LISTEN;
  dial.protocols = s.protocols;
  s.dial_vh = lws_create_vhost(s.ctx, &dial);
  if (!s.dial_vh) return make_error(Errc::Io, "cannot set up outgoing connections");

  if (listening) {
    lws_context_creation_info li;
    std::memset(&li, 0, sizeof li);
    li.vhost_name = "socp-listen";
    li.port = s.opt.listen_port;  // 0 = ephemeral: lws binds port 0 and reports the real one
    li.iface = la.iface.empty() ? nullptr : la.iface.c_str();
    li.protocols = s.protocols;
    li.options = LWS_SERVER_OPTION_ADOPT_APPLY_LISTEN_ACCEPT_CONFIG |
                 LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
    if (la.ipv4) li.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    li.listen_accept_role = "raw-skt";
    li.listen_accept_protocol = transport::kProtocolName;
    li.server_string = "socp";
    li.alpn = "http/1.1";
    if (tls_listener) {
      li.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
      li.ssl_cert_filepath = s.opt.tls_cert_file.c_str();
      li.ssl_private_key_filepath = s.opt.tls_key_file.c_str();
    }
    s.listen_vh = lws_create_vhost(s.ctx, &li);
    if (!s.listen_vh) {
      const std::string where =
          "cannot listen on " + s.opt.listen_host + ":" + std::to_string(s.opt.listen_port) + ": ";
      if (tls_listener)
        return make_error(Errc::Io, where + "bad TLS certificate or key, or " +
                                        bind_failure_reason(la, s.opt.listen_port));
      return make_error(Errc::Io, where + bind_failure_reason(la, s.opt.listen_port));
    }
    const int bound = lws_get_vhost_listen_port(s.listen_vh);
    s.bound_port = static_cast<std::uint16_t>(bound > 0 ? bound : 0);
    if (!tls_listener && !transport::is_loopback_host(s.opt.listen_host)) {
      s.log(LogLevel::Warn, "listening on " + s.opt.listen_host + ":" +
                                std::to_string(s.bound_port) +
                                " without TLS: traffic (including hellos) is readable on the "
                                "network; use a TLS certificate (wss://) or a TLS proxy");
    }
  }
  return host;
}

// ---- loop-thread API --------------------------------------------------------------------

void WsHost::connect(ConnId id, const std::string& host, std::uint16_t port,
                     const ConnectOptions& co) {
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
  std::string pin;
  if (co.tls && !co.pin_sha256.empty()) {
    pin = transport::normalize_pin(co.pin_sha256);
    if (pin.empty()) {
      s.log(LogLevel::Error, "ws: connect to " + host +
                                 ": the certificate pin is not a "
                                 "SHA-256 in hex (ignored dial)");
      s.emit(Impl::Event{Impl::Event::Kind::Close, id, {}});
      return;
    }
  }
  const std::size_t limit = s.opt.max_frame;
  WsConn& c = s.conns
                  .emplace(id, WsConn(id, nullptr, transport::WsSession::Role::Client, limit,
                                      Impl::now_ms()))
                  .first->second;
  const bool v6 = host.find(':') != std::string::npos;
  c.peer = (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  c.host_header = c.peer;  // RFC 7230 §5.4
  c.path = co.path.empty() || co.path.front() != '/' ? "/" : co.path;
  c.dial_host = host;
  c.want_tls = co.tls;
  c.pin_sha256 = pin;

  lws_client_connect_info ci;
  std::memset(&ci, 0, sizeof ci);
  ci.context = s.ctx;
  ci.vhost = s.dial_vh;
  ci.address = host.c_str();
  ci.port = port;
  ci.path = "/";
  ci.host = host.c_str();
  ci.method = "RAW";
  ci.protocol = transport::kProtocolName;
  ci.local_protocol_name = transport::kProtocolName;
  ci.opaque_user_data = reinterpret_cast<void*>(static_cast<std::uintptr_t>(id));
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
  if (!c || c->killed) return;
  if (!c->session.send_text(text)) return;  // not open, or closing
  if (c->session.queued_bytes() > s.opt.max_queue_bytes) {
    s.log(LogLevel::Warn, "ws: closing connection " + std::to_string(id) + " (" + c->peer +
                              "): peer is not reading (write queue over " +
                              std::to_string(s.opt.max_queue_bytes) + " bytes)");
    s.kill(*c, "slow reader");
    return;
  }
  if (c->wsi()) lws_callback_on_writable(c->wsi());
}

void WsHost::close(ConnId id, int code, const std::string& reason) {
  Impl& s = *impl_;
  WsConn* c = s.find(id);
  if (!c || c->killed) return;
  if (!c->wsi()) {
    // Still resolving/connecting: abandon the dial once lws reports it.
    c->close_when_connected = true;
    return;
  }
  if (!c->session.opened()) {
    // Outgoing connection not established yet (TCP, TLS or the handshake): abandon it.
    s.kill(*c, "closed while connecting");
    return;
  }
  c->session.close(sanitize_close_code(code), clip_reason(reason));
  if (c->closing_ms == 0) c->closing_ms = Impl::now_ms();
  lws_callback_on_writable(c->wsi());
}

void WsHost::set_max_frame(ConnId id, std::size_t limit) {
  if (WsConn* c = impl_->find(id)) c->session.set_max_message(limit);
}

std::string WsHost::peer_address(ConnId id) const {
  const WsConn* c = impl_->find(id);
  return c ? c->peer : std::string();
}

std::uint16_t WsHost::listen_port() const noexcept {
  return impl_->bound_port;
}

WsHostStats WsHost::stats() const {
  WsHostStats st = impl_->st;
  st.connections = impl_->conns.size();
  return st;
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
  s.arm_sweep();
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

}  // namespace socp
