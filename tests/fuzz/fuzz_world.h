// Private to the fuzz harnesses: the fixed world they all share (ids, fixture keys, the clock)
// and the invariant checks that turn a silent misbehaviour into a finding (abort).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "socp/crypto.h"
#include "socp/envelope.h"
#include "socp/json.h"

namespace socp::fuzz {

inline const std::string kAlice = "a11ce000-0000-4000-8000-000000000001";
inline const std::string kBob = "b0b00000-0000-4000-8000-000000000002";
inline const std::string kCarol = "ca201000-0000-4000-8000-000000000003";
inline const std::string kServerA = "5e4e4000-0000-4000-8000-00000000000a";
inline const std::string kServerB = "5e4e4000-0000-4000-8000-00000000000b";
/// The id of the file bob sends alice in the client_files world.
inline const std::string kIncomingFile = "f11e0000-0000-4000-8000-0000000000f1";
/// The clock of every world (Unix ms); seeds are recorded at this time too.
inline constexpr std::int64_t kT0 = 1'760'000'000'000;

/// Fixture keys: "alice", "bob", "server_a", "server_b" (tests/vectors/keys.json).
const PrivateKey& key(const std::string& name);

/// A frame signed with `signer`.
std::string signed_frame(MessageType type, const std::string& from, const std::string& to,
                         std::int64_t ts, json::Value payload, const PrivateKey& signer);
/// `payload` (an object) with the signed context socp servers put in what they sign:
/// ctx = {type, from, to, ts} of the envelope it travels in (docs/protocol-notes.md).
json::Value with_ctx(MessageType type, const std::string& from, const std::string& to,
                     std::int64_t ts, json::Value payload);
/// `frame` with its payload signed again by `signer` (and `from` replaced when non-empty), so
/// a fuzzed payload gets past a signature check; with `context`, an object payload first gets
/// the ctx of its envelope (as a socp/1 server's frames must carry). Unparseable frames come
/// back unchanged.
std::string resign(std::string_view frame, const PrivateKey& signer, const std::string& from = {},
                   bool context = false);

/// Reports a finding on stderr and aborts.
[[noreturn]] void finding(const std::string& what, std::string_view context = {});

/// Every frame a core emits must parse; a client frame must also name a recipient (`to` not
/// empty: other implementations close the socket on `to:""`).
void check_emitted(const std::vector<std::string>& frames, bool from_client);
/// Every event has a name; socp-cli renders it without a control character reaching the
/// terminal (colour off), and Tab completion over the known users works. `known_users` are
/// (id, display name) pairs.
void check_events(const std::vector<json::Value>& events,
                  const std::vector<std::pair<std::string, std::string>>& known_users,
                  const std::string& self_id);

}  // namespace socp::fuzz
