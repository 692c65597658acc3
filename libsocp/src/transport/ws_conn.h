// transport/ws_conn.h — per-connection state of a WsHost (private).
//
// Owned by the WsHost registry (ConnId -> WsConn); libwebsockets only ever sees the ConnId
// (stored as the wsi's opaque user data), so nothing with a destructor lives in lws memory.
// The protocol state is the sans-I/O WsSession; this adds what the host needs around it:
// the wsi, addresses, timers and flags. Loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "socp/server_core.h"  // ConnId
#include "transport/ws_session.h"
#include "transport/ws_tls_client.h"

struct lws;

namespace socp::transport {

class WsConn {
  ConnId id_;  // first: initialised before `session`
  lws* wsi_;

 public:
  WsConn(ConnId id, lws* wsi, WsSession::Role role, std::size_t max_message, std::int64_t now_ms)
      : id_(id), wsi_(wsi), session(role, max_message), started_ms(now_ms), last_rx_ms(now_ms) {}

  ConnId id() const noexcept { return id_; }
  lws* wsi() const noexcept { return wsi_; }
  void set_wsi(lws* wsi) noexcept { wsi_ = wsi; }
  bool outgoing() const noexcept { return session.role() == WsSession::Role::Client; }

  WsSession session;

  /// on_open was delivered: on_close is owed (outgoing connections always get on_close).
  bool reported_open = false;
  /// "ip:port" of an accepted peer, "host:port" as dialled for an outgoing one.
  std::string peer;
  /// Accepted: the remote IP the per-IP count was taken for (empty: not counted).
  std::string counted_ip;

  // Outgoing connections: how to dial and check the server.
  std::string host_header;  ///< "host:port" for the Host header
  std::string path = "/";
  std::string dial_host;           ///< as dialled (TLS: SNI and the name to check)
  bool want_tls = false;           ///< wss://
  std::string pin_sha256;          ///< lower-case hex without colons; empty = CA checks
  std::unique_ptr<TlsClient> tls;  ///< outgoing wss:// once TCP is up

  // Timers (steady clock, ms).
  std::int64_t started_ms = 0;     ///< accepted / dialled
  std::int64_t last_rx_ms = 0;     ///< last byte from the peer
  std::int64_t ping_sent_ms = 0;   ///< 0 = no liveness ping outstanding
  std::int64_t closing_ms = 0;     ///< the session left Open (0 = still open)
  std::int64_t close_sent_ms = 0;  ///< our close frame was handed to the socket
  std::int64_t linger_until_ms = 0;

  /// Half-closed after the last byte: input is discarded until EOF or linger_until_ms.
  bool lingering = false;
  /// Being dropped (async kill requested); no more I/O.
  bool killed = false;
  /// close() asked for while the dial was still connecting.
  bool close_when_connected = false;
  /// Bytes this connection contributed to the host's rx_buffered total.
  std::size_t rx_accounted = 0;
};

}  // namespace socp::transport
