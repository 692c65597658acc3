// Private: what an ERROR frame may say, depending on who it goes to.
//
// Before a connection has logged in (or proved it is a server), an ERROR is one of a few fixed
// payloads {code, detail} chosen by the code alone (+ a msg_ref from a fixed set): nothing the
// stranger sent is echoed, so every such error is signed once per process and then served
// from the signature cache. A stranger cannot make the server sign bytes of its choosing.
// After login, the detail names the problem (clipped to kMaxDetailBytes, valid UTF-8).
#pragma once

#include <string>
#include <string_view>

#include "socp/json.h"
#include "socp/result.h"

namespace socp::core {

inline constexpr std::size_t kMaxDetailBytes = 240;

/// The fixed payload for `code` (msg_ref kept only if it is one of the fixed first-frame types).
json::Value fixed_error_payload(Errc code, std::string_view msg_ref);

/// `detail` clipped to kMaxDetailBytes at a UTF-8 character boundary.
std::string clip_detail(std::string_view detail);

}  // namespace socp::core
