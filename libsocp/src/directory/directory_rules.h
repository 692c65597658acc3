// Private: the pure pieces of the directory reconciliation rules (socp/directory.h), kept
// apart so they can be tested on their own.
#pragma once

#include <cstdint>
#include <string>

#include "socp/json.h"

namespace socp::directory_rules {

/// Rule R5 tie-break between two simultaneous logins of one user: login A (since_a at
/// server_a) against login B (since_b at server_b), server_a != server_b. True if A loses.
///
/// `since` 0 means "unknown" (adverts from peers that do not send `since`, snapshot entries).
/// When both login times are known the larger (since, server_id) pair loses. When either is
/// unknown only the server ids are compared (the larger id loses): the two servers involved
/// then decide on the same facts. Comparing a known time against an "unknown = 0" would not be
/// symmetric: each side knows its own time but not the other's, so both would evict their own
/// session (each seeing the other's login as older).
bool login_loses(std::int64_t since_a, const std::string& server_a, std::int64_t since_b,
                 const std::string& server_b);

/// The meta object the directory stores: an object with the redundant `pubkey` member
/// removed (the pinned key lives in the record; a meta.pubkey could only disagree with it).
/// Anything that is not an object gives an empty object.
json::Value clean_meta(const json::Value& meta);

}  // namespace socp::directory_rules
