// transport/ws_callback.cpp — the one libwebsockets protocol callback, translating lws
// events into WsConn state changes and queued Handler events.
//
// This is a C callback: nothing may throw out of it (everything is wrapped), and the Handler
// is never called from here directly — events go through Impl::emit so that a handler which
// calls back into the host (connect, send, close) never sees a nested callback.
#include <cstring>
#include <string>

#include "transport/ws_host_impl.h"

namespace socp::transport {

namespace {

using Impl = WsHost::Impl;

int close_with(lws* wsi, lws_close_status code, const char* reason) {
  lws_close_reason(wsi, code, reinterpret_cast<unsigned char*>(const_cast<char*>(reason)),
                   std::char_traits<char>::length(reason));
  return -1;
}

int on_receive(Impl& s, lws* wsi, const void* in, std::size_t len) {
  WsConn* c = s.find(Impl::id_of(wsi));
  if (!c) return -1;  // a wsi we no longer track: drop it
  if (lws_frame_is_binary(wsi)) {
    s.log(LogLevel::Info, "ws: connection " + std::to_string(c->id()) + ": binary frame");
    return close_with(wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, "text frames only");
  }
  if (!c->append_fragment(static_cast<const char*>(in), len, s.opt.max_frame)) {
    s.log(LogLevel::Info, "ws: connection " + std::to_string(c->id()) + ": frame over " +
                              std::to_string(s.opt.max_frame) + " bytes");
    return close_with(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too big");
  }
  if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) != 0) return 0;
  std::string msg = c->take_message();
  // Frames arriving after we decided to close are of no interest to the handler.
  if (c->closing()) return 0;
  s.emit(Impl::Event{Impl::Event::Kind::Frame, c->id(), std::move(msg)});
  return 0;
}

int on_writeable(Impl& s, lws* wsi) {
  WsConn* c = s.find(Impl::id_of(wsi));
  if (!c) return 0;
  if (c->has_frames()) {
    OutFrame& f = c->front();
    const std::size_t n = f.buf.size() - LWS_PRE;
    auto* p = reinterpret_cast<unsigned char*>(&f.buf[LWS_PRE]);
    // lws buffers whatever the socket does not take now; <0 is a dead connection.
    if (lws_write(wsi, p, n, LWS_WRITE_TEXT) < 0) return -1;
    c->pop();
    if (c->has_frames() || c->closing()) lws_callback_on_writable(wsi);
    return 0;
  }
  if (c->closing()) {
    const std::string& r = c->close_reason();
    lws_close_reason(wsi, static_cast<lws_close_status>(c->close_code()),
                     reinterpret_cast<unsigned char*>(const_cast<char*>(r.data())), r.size());
    return -1;
  }
  return 0;
}

int on_established(Impl& s, lws* wsi, bool outgoing) {
  if (s.tearing_down || s.stop_flag.load()) return -1;
  WsConn* c = nullptr;
  if (outgoing) {
    c = s.find(Impl::id_of(wsi));
    if (!c) return -1;  // dialled, then forgotten (should not happen): hang up
    c->set_wsi(wsi);
  } else {
    ConnId id = s.next_accepted++;
    Impl::set_id(wsi, id);
    c = &s.conns.emplace(id, WsConn(id, wsi)).first->second;
  }
  c->opened = true;
  if (c->has_frames() || c->closing()) lws_callback_on_writable(wsi);
  // A dial the handler already closed again is not reported as opened (it gets on_close).
  if (c->closing()) return 0;
  s.emit(Impl::Event{Impl::Event::Kind::Open, c->id(), {}});
  return 0;
}

bool is_token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

// lws 4.1 rejects an upgrade whose Sec-WebSocket-Protocol names no protocol it knows. Peers
// of other implementations may ask for any name, and we serve them all the same way: before
// lws matches the list, the alias protocol slot (same callback) takes the first requested
// name, so lws selects it and answers with a name the client offered. This relies on lws
// using our protocols array in place (true without plugins/explicit vhosts); the wire tests
// pin it down. Loop thread only, and lws matches right after this callback returns.
void adopt_requested_subprotocol(Impl& s, lws* wsi) {
  char list[256];
  int n = lws_hdr_copy(wsi, list, sizeof list, WSI_TOKEN_PROTOCOL);
  if (n <= 0) return;  // none asked (default protocol) or too long (lws rejects)
  std::string first;
  const char* p = list;
  while (*p) {
    while (*p == ' ' || *p == '\t' || *p == ',') ++p;
    const char* start = p;
    while (*p && *p != ',') ++p;
    const char* end = p;
    while (end > start && (end[-1] == ' ' || end[-1] == '\t')) --end;
    std::string tok(start, end);
    if (tok == kProtocolName) return;  // lws picks "socp" itself
    bool ok = !tok.empty() && tok.size() < sizeof s.alias_name;
    for (char c : tok) ok = ok && is_token_char(c);
    if (ok && first.empty()) first = tok;
  }
  if (first.empty()) return;
  std::memcpy(s.alias_name, first.c_str(), first.size() + 1);
}

int dispatch(Impl& s, lws* wsi, lws_callback_reasons reason, void* in, std::size_t len) {
  switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
      // Refuse new peers once stopping.
      return s.stop_flag.load() ? -1 : 0;

    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
      if (in && std::strcmp(static_cast<const char*>(in), "websocket") == 0) {
        adopt_requested_subprotocol(s, wsi);
      }
      return 0;

    case LWS_CALLBACK_HTTP:
      // Plain HTTP on the WebSocket port: answer briefly and hang up.
      lws_return_http_status(wsi, HTTP_STATUS_BAD_REQUEST, "socp: WebSocket only");
      return -1;

    case LWS_CALLBACK_ESTABLISHED:
      return on_established(s, wsi, false);
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
      return on_established(s, wsi, true);

    case LWS_CALLBACK_RECEIVE:
    case LWS_CALLBACK_CLIENT_RECEIVE:
      return on_receive(s, wsi, in, len);

    case LWS_CALLBACK_SERVER_WRITEABLE:
    case LWS_CALLBACK_CLIENT_WRITEABLE:
      return on_writeable(s, wsi);

    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
      ConnId id = Impl::id_of(wsi);
      if (WsConn* c = s.find(id)) {
        const char* msg = static_cast<const char*>(in);
        std::string why = msg ? std::string(msg, ::strnlen(msg, 256)) : "unknown error";
        s.log(LogLevel::Info, "ws: connect to " + c->peer + " failed: " + why);
        s.forget(id, wsi);
      }
      return 0;
    }

    case LWS_CALLBACK_CLOSED:
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY: {
      // WSI_DESTROY catches every path that skipped CLOSED (e.g. a dial torn down early).
      ConnId id = Impl::id_of(wsi);
      if (id != 0) s.forget(id, wsi);
      return 0;
    }

    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
      s.run_posted();
      return 0;

    default:
      return 0;
  }
}

}  // namespace

int ws_callback(lws* wsi, lws_callback_reasons reason, void* /*user*/, void* in,
                std::size_t len) noexcept {
  lws_context* ctx = wsi ? lws_get_context(wsi) : nullptr;
  auto* s = ctx ? static_cast<Impl*>(lws_context_user(ctx)) : nullptr;
  if (!s) return 0;
  try {
    return dispatch(*s, wsi, reason, in, len);
  } catch (...) {
    s->log_nothrow(LogLevel::Error, "ws: libwebsockets callback failed (exception)");
  }
  // Only connection-level reasons may close by returning -1.
  return reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED ? 0 : -1;
}

}  // namespace socp::transport
