// Private: the pure pieces of the directory reconciliation rules (socp/directory.h), kept
// apart so they can be tested on their own.
#pragma once

#include <cstdint>
#include <string>

#include "socp/json.h"

namespace socp::directory_rules {

/// Rule R5 between two logins of one user: a proven candidate login (ts_a at server_a) against
/// the current one (ts_b at server_b). True if the candidate is newer: the larger (ts,
/// server_id) pair wins, so every server that sees both picks the same login. A replayed proof
/// of an old login never wins; only the user can make a newer proof.
bool login_newer(std::int64_t ts_a, const std::string& server_a, std::int64_t ts_b,
                 const std::string& server_b);

/// The meta object the directory stores: an object with the redundant `pubkey` member
/// removed (the pinned key lives in the record; a meta.pubkey could only disagree with it).
/// Anything that is not an object gives an empty object.
json::Value clean_meta(const json::Value& meta);

}  // namespace socp::directory_rules
