// socp/envelope.h — the SOCP envelope {"type","from","to","ts","payload","sig"} (docs/protocol.md
// §2).
//
// parse_envelope() is the single entry point for untrusted frames: size and depth limits,
// strict field validation, type aliases. It never throws and never crashes on bad input.
// Unknown extra envelope fields are kept in `extra` and re-emitted by serialize().
// Thread-safety: value types and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "socp/json.h"
#include "socp/protocol.h"
#include "socp/result.h"

namespace socp {

struct Envelope {
  std::optional<MessageType> type;       ///< nullopt when the type name is not one socp knows
  std::string type_name;                 ///< the name as received (or to_string(*type) when built)
  std::string from;                      ///< UUID of the sender
  std::string to;                        ///< UUID, "*", "public" or "host:port" (bootstrap)
  std::int64_t ts = 0;                   ///< Unix milliseconds
  json::Value payload = json::Object{};  ///< always an object
  std::string sig;                       ///< base64url; empty when absent or ""
  json::Object extra;                    ///< unknown envelope fields, preserved when forwarding
};

/// Validates and decodes one frame.
/// Errors (all with a detail naming the field):
///   TooLarge  frame bigger than limits.max_bytes, or a string over limits.max_string
///   TooDeep   nesting deeper than limits.max_depth
///   BadFrame  not JSON / not UTF-8 / not an object / missing or mistyped type, from, to, ts,
///             payload or sig / `from` not a UUID / ts not an integer / float anywhere
/// An unknown `type` is NOT an error here: `type` is nullopt and the caller answers UNKNOWN_TYPE.
/// `any_from`: accept a `from` that is not a UUID (1..128 printable ASCII characters) — for
/// the one frame other implementations' introducers send from a fixed name
/// ("introducer-0000-0000", "auto").
Result<Envelope> parse_envelope(std::string_view frame, const json::ParseLimits& limits = {},
                                bool any_from = false);

/// Serializes with sorted keys and no whitespace (the canonical writer). `sig` is emitted
/// whenever non-empty.
std::string serialize(const Envelope& env);

/// Convenience constructor for frames socp originates.
Envelope make_envelope(MessageType type, std::string from, std::string to, std::int64_t ts,
                       json::Value payload);

}  // namespace socp
