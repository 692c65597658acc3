// transport/ws_callback.cpp — the one libwebsockets protocol callback, translating lws raw
// socket events into WsHost::Impl calls.
//
// This is a C callback: nothing may throw out of it (everything is wrapped), and the Handler
// is never called re-entrantly — events go through Impl::emit so that a handler which calls
// back into the host (connect, send, close) never sees a nested callback.
#include <cstring>
#include <string>

#include "transport/ws_host_impl.h"

namespace socp::transport {

namespace {

using Impl = WsHost::Impl;

int dispatch(Impl& s, lws* wsi, lws_callback_reasons reason, void* user, void* in,
             std::size_t len) {
  switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION: {
      // `user` is the accept() result (lws_filter_network_conn_args), before any byte is read.
      auto* args = static_cast<lws_filter_network_conn_args*>(user);
      return s.filter_connection(args ? reinterpret_cast<const sockaddr*>(&args->cli_addr)
                                      : nullptr);
    }

    case LWS_CALLBACK_RAW_ADOPT:  // accepted sockets (before the listener's TLS, if any)
      return s.on_adopted(wsi);
    case LWS_CALLBACK_RAW_CONNECTED:  // outgoing plain TCP connection established
      return s.on_dial_connected(wsi);

    case LWS_CALLBACK_RAW_RX:
      return s.on_rx(wsi, static_cast<const char*>(in), len);
    case LWS_CALLBACK_RAW_WRITEABLE:
      return s.on_writeable(wsi);

    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
      ConnId id = Impl::id_of(wsi);
      if (WsConn* c = s.find(id)) {
        const char* msg = static_cast<const char*>(in);
        std::string why = msg ? std::string(msg, ::strnlen(msg, 256)) : "unknown error";
        while (!why.empty() && (why.back() == '\n' || why.back() == '\r')) why.pop_back();
        if (!c->killed) s.log(LogLevel::Info, "ws: connect to " + c->peer + " failed: " + why);
        s.forget(id, wsi);
      }
      return 0;
    }

    case LWS_CALLBACK_RAW_CLOSE:
    case LWS_CALLBACK_WSI_DESTROY: {
      // WSI_DESTROY catches every path that skipped RAW_CLOSE (e.g. a dial torn down early).
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

int ws_callback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                std::size_t len) noexcept {
  lws_context* ctx = wsi ? lws_get_context(wsi) : nullptr;
  auto* s = ctx ? static_cast<Impl*>(lws_context_user(ctx)) : nullptr;
  if (!s) return 0;
  try {
    return dispatch(*s, wsi, reason, user, in, len);
  } catch (...) {
    s->log_nothrow(LogLevel::Error, "ws: libwebsockets callback failed (exception)");
  }
  // Only connection-level reasons may close by returning -1.
  switch (reason) {
    case LWS_CALLBACK_RAW_ADOPT:
    case LWS_CALLBACK_RAW_CONNECTED:
    case LWS_CALLBACK_RAW_RX:
    case LWS_CALLBACK_RAW_WRITEABLE:
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
      return -1;
    default:
      return 0;
  }
}

}  // namespace socp::transport
