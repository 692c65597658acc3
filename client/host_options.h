// The WebSocket settings socp-cli uses for its one connection to the server. Kept apart from
// session.cpp so a test can run the very same settings against a loopback server.
#pragma once

#include <cstddef>

#include "socp/ws_host.h"

namespace socp::cli {

/// Largest frame socp-cli accepts from its server by default (--max-frame-size). A
/// LIST_RESPONSE carries every user's RSA-4096 key (~0.9 KB per user): a 10,000-user mesh
/// answers /list with ~9 MB, more than the 8 MiB socp-cli used to accept. The same limit
/// goes to the transport and to ClientCore (ClientConfig::max_frame_bytes).
inline constexpr std::size_t kDefaultMaxFrame = 64u << 20;

/// Client-only host (no listener) accepting frames up to `max_frame` bytes; transport
/// details logged on stderr when `verbose`.
WsHostOptions host_options(std::size_t max_frame, bool verbose);

}  // namespace socp::cli
