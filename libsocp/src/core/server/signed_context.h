// Private: the signed context that binds a server's signature to its frame.
//
// SOCP signs the payload only; the envelope's type, from, to and ts are not covered. So a
// payload signed for one frame could be presented inside another (another type, another
// recipient, a fresh ts). Every payload a socp server signs therefore carries
//   "ctx": {"type": <envelope type>, "from": <envelope from>, "to": <envelope to>,
//           "ts": <envelope ts>}
// inside the signed payload, and a receiver refuses a frame whose ctx differs from its
// envelope (docs/protocol-notes.md, "Signed context"). Servers that announced socp/1 must send
// it on every signed frame; frames of other implementations keep today's rules.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "socp/envelope.h"
#include "socp/json.h"

namespace socp::core {

inline constexpr std::string_view kContextField = "ctx";

/// `payload` (an object) with ctx = {type, from, to, ts} added (replacing any ctx it had).
json::Value with_context(json::Value payload, std::string_view type, const std::string& from,
                         const std::string& to, std::int64_t ts);

enum class ContextCheck {
  Absent,    ///< the payload has no ctx
  Match,     ///< ctx equals the envelope's type, from, to and ts
  Mismatch,  ///< ctx present but malformed or different from the envelope
};

/// Compares the payload's ctx with the envelope it arrived in.
ContextCheck check_context(const Envelope& env);

}  // namespace socp::core
