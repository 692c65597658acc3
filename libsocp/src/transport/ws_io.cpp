// transport/ws_io.cpp — socket events of one connection: bytes in → WsSession → Handler
// events; WsSession output → lws_write in chunks; and when to close. Called only from the lws
// callback for that connection's own wsi, so closing is done by returning -1 (see
// ws_host_impl.h); nothing here frees a wsi.
#include <sys/socket.h>

#include <algorithm>
#include <utility>

#include "transport/ws_host_impl.h"

namespace socp {

using transport::SessionEvent;
using transport::WsConn;
using transport::WsSession;

namespace {

constexpr std::int64_t kLingerMs = 2000;  // after a half-close, wait this long for the EOF

std::string describe(const WsConn& c) {
  return "connection " + std::to_string(c.id()) + " (" + (c.peer.empty() ? "?" : c.peer) + ")";
}

}  // namespace

int WsHost::Impl::on_adopted(lws* wsi) {
  if (stop_flag.load() || tearing_down) return -1;
  const ConnId id = next_accepted++;
  std::string ip;
  std::string peer = transport::peer_of_fd(static_cast<int>(lws_get_socket_fd(wsi)), &ip);
  const std::size_t limit = std::min(opt.max_frame_unauthenticated, opt.max_frame);
  WsConn& c =
      conns.emplace(id, WsConn(id, wsi, WsSession::Role::Server, limit, now_ms())).first->second;
  c.peer = std::move(peer);
  c.counted_ip = ip.empty() ? std::string("?") : ip;
  ++per_ip[c.counted_ip];
  ++accepted_open;
  ++st.accepted_total;
  set_id(wsi, id);
  return 0;
}

int WsHost::Impl::on_dial_connected(lws* wsi) {
  WsConn* c = find(id_of(wsi));
  if (!c || c->killed) return -1;  // dialled, then forgotten or abandoned: hang up
  c->set_wsi(wsi);
  if (c->close_when_connected || stop_flag.load() || tearing_down) return -1;
  c->last_rx_ms = now_ms();
  if (c->want_tls) {
    if (!client_tls) {
      std::string why;
      client_tls = transport::make_client_tls_context(opt.tls_ca_file, &why);
      if (!client_tls) {
        log(LogLevel::Error, "ws: connect to " + c->peer + " failed: " + why);
        return -1;
      }
    }
    c->tls = std::make_unique<transport::TlsClient>(client_tls, c->dial_host, c->pin_sha256);
    if (!c->tls->start()) {
      log(LogLevel::Info, "ws: connect to " + c->peer + " failed: TLS: " + c->tls->error());
      return -1;
    }
  }
  // The upgrade request waits in the session until TLS (if any) is ready.
  c->session.start_client(c->host_header, c->path);
  lws_callback_on_writable(wsi);
  return 0;
}

void WsHost::Impl::account_rx(WsConn& c) {
  const std::size_t now = c.session.buffered_rx();
  st.rx_buffered = st.rx_buffered - c.rx_accounted + now;
  c.rx_accounted = now;
  if (st.rx_buffered > st.rx_buffered_peak) st.rx_buffered_peak = st.rx_buffered;
}

void WsHost::Impl::note_session_end(WsConn& c) {
  if (c.closing_ms != 0) return;
  c.closing_ms = now_ms();
  const WsSession& s = c.session;
  if (!s.opened()) {
    // Refused handshakes of strangers (scanners, browsers, wrong versions) are debug level:
    // they are cheap to cause. Our own dials failing matter. Plain HTTP is not a failure.
    if (s.close_reason() != "plain HTTP request" && !s.close_reason().empty())
      log(c.outgoing() ? LogLevel::Info : LogLevel::Debug,
          "ws: " + describe(c) + ": handshake failed: " + s.close_reason());
    return;
  }
  if (s.peer_closed()) {
    log(LogLevel::Debug,
        "ws: " + describe(c) + ": peer closed (" + std::to_string(s.close_code()) + ")");
  } else if (s.close_code() != 0 && s.state() == WsSession::State::Closed) {
    log(LogLevel::Info, "ws: " + describe(c) + ": closing " + std::to_string(s.close_code()) +
                            ": " + s.close_reason());
  }
}

void WsHost::Impl::deliver(WsConn& c, std::vector<SessionEvent>& evs) {
  const ConnId id = c.id();
  for (SessionEvent& ev : evs) {
    switch (ev.kind) {
      case SessionEvent::Kind::Open:
        c.reported_open = true;
        emit(Event{Event::Kind::Open, id, {}});
        break;
      case SessionEvent::Kind::Message:
        emit(Event{Event::Kind::Frame, id, std::move(ev.data)});
        break;
      case SessionEvent::Kind::Activity:
        emit(Event{Event::Kind::Activity, id, {}});
        break;
      case SessionEvent::Kind::Http: {
        if (!opt.http) {
          c.session.respond_http(400, "text/plain; charset=utf-8", "socp: WebSocket only\n");
          break;
        }
        if (ev.method != "GET") {
          c.session.respond_http(405, "text/plain; charset=utf-8", "method not allowed\n",
                                 "Allow: GET\r\n");
          break;
        }
        HttpResponse r;
        try {
          r = opt.http(ev.method, ev.data);
        } catch (...) {
          log_nothrow(LogLevel::Error, "ws: HTTP handler threw for " + ev.data);
          r = HttpResponse{500, "text/plain; charset=utf-8", "internal error\n"};
        }
        c.session.respond_http(r.status, r.content_type, r.body);
        break;
      }
    }
    // A handler may have closed or killed this connection; the entry itself stays until lws
    // reports the wsi closed, so `c` remains valid.
  }
}

int WsHost::Impl::on_rx(lws* wsi, const char* data, std::size_t len) {
  const ConnId id = id_of(wsi);
  WsConn* c = find(id);
  if (!c) return -1;  // a wsi we no longer track: drop it
  if (c->killed) return -1;
  c->last_rx_ms = now_ms();
  c->ping_sent_ms = 0;
  if (c->lingering) return 0;  // half-closed: waiting for the peer's EOF, input is discarded
  std::string plain;
  if (c->tls) {
    if (!c->tls->on_input(data, len, plain)) {
      log(LogLevel::Info, "ws: " + describe(*c) + ": TLS: " + c->tls->error());
      return -1;
    }
    data = plain.data();
    len = plain.size();
  }
  std::vector<SessionEvent> evs;
  c->session.on_bytes(data, len, evs);
  account_rx(*c);
  if (c->session.state() != WsSession::State::Open) note_session_end(*c);
  deliver(*c, evs);
  c = find(id);  // still there (see deliver), but never trust a pointer across user code
  if (!c) return -1;
  if (c->killed) return -1;
  return settle(*c, wsi);
}

int WsHost::Impl::on_writeable(lws* wsi) {
  WsConn* c = find(id_of(wsi));
  if (!c || c->killed) return -1;
  if (lws_partial_buffered(wsi)) {  // lws still owns bytes of the last chunk
    lws_callback_on_writable(wsi);
    return 0;
  }
  transport::TlsClient* tls = c->tls.get();
  if (tls && tls->out().empty() && tls->ready()) {
    // Encrypt the next chunk of WebSocket output (or say goodbye once it is all out).
    std::string_view plain = c->session.pending();
    if (!plain.empty()) {
      const std::size_t n = std::min(plain.size(), transport::kWriteChunk);
      if (!tls->encrypt(plain.substr(0, n))) {
        log(LogLevel::Info, "ws: " + describe(*c) + ": TLS: " + tls->error());
        return -1;
      }
      const bool was_sent = c->session.close_sent();
      c->session.consumed(n);
      if (!was_sent && c->session.close_sent()) c->close_sent_ms = now_ms();
    } else if (c->session.finished()) {
      tls->shutdown();
    }
  }
  std::string_view out = tls ? tls->out() : c->session.pending();
  if (!out.empty()) {
    const std::size_t n = std::min(out.size(), transport::kWriteChunk);
    // lws_write never touches bytes before `p` in raw mode; whatever the socket does not take
    // now it keeps and sends before our next WRITEABLE. <0: the connection is dead.
    auto* p = reinterpret_cast<unsigned char*>(const_cast<char*>(out.data()));
    if (lws_write(wsi, p, n, LWS_WRITE_RAW) < 0) return -1;
    if (tls) {
      tls->consumed(n);
    } else {
      const bool was_sent = c->session.close_sent();
      c->session.consumed(n);
      if (!was_sent && c->session.close_sent()) c->close_sent_ms = now_ms();
    }
  }
  return settle(*c, wsi);
}

bool WsHost::Impl::has_output(WsConn& c) {
  transport::TlsClient* tls = c.tls.get();
  if (!tls) return !c.session.pending().empty();
  if (!tls->out().empty()) return true;
  if (!tls->ready()) return false;  // handshake: waiting for the server
  return !c.session.pending().empty() || (c.session.finished() && !tls->shut_down());
}

int WsHost::Impl::settle(WsConn& c, lws* wsi) {
  if (c.session.state() != WsSession::State::Open) note_session_end(c);
  if (has_output(c) || lws_partial_buffered(wsi)) {
    lws_callback_on_writable(wsi);
    return 0;
  }
  if (!c.session.finished() || c.lingering) return 0;
  // Everything is written. If the peer has not said goodbye, closing now could reset the
  // connection under our last bytes (unread input makes the kernel send RST): half-close and
  // let the peer close first, within kLingerMs. The listener's TLS (lws') just closes.
  const bool peer_done = c.session.peer_closed();
  const bool wrote_something = c.session.opened() || c.session.role() == WsSession::Role::Server;
  if (!peer_done && wrote_something && !lws_is_ssl(wsi)) {
    const int fd = static_cast<int>(lws_get_socket_fd(wsi));
    if (fd >= 0 && ::shutdown(fd, SHUT_WR) == 0) {
      c.lingering = true;
      c.linger_until_ms = now_ms() + kLingerMs;
      return 0;
    }
  }
  return -1;
}

}  // namespace socp
