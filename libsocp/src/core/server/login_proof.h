// Private: login proofs — a user's signed USER_HELLO travelling with the adverts of its login.
//
// A server cannot prove on its own that a user logged in there; the user can. A socp server
// keeps the signed hello of each local login and sends it with the user's adverts and
// snapshot entries as {"hello": <the signed hello payload>, "sig": <the user's signature>}.
// Another server verifies it with the user's pinned key: the hello names the user's key (one
// key belongs to one user), carries the signed login time, and — when the login answered a
// USER_CHALLENGE — the id of the server it was made at, which must be the advertising server.
// Only a verified proof of a newer login may move a user who is online elsewhere (rule R5).
#pragma once

#include <string>

#include "socp/crypto.h"
#include "socp/directory.h"
#include "socp/json.h"
#include "socp/result.h"

namespace socp::core {

/// {"hello": payload, "sig": sig}.
json::Value make_login_proof(const json::Value& hello_payload, const std::string& sig);

/// Identifies one login: hex SHA-256 of the canonical signed hello payload.
std::string login_digest(const json::Value& hello_payload);

/// Checks `proof` for the user whose pinned key is `user_pubkey` (base64url DER), advertised
/// by `origin`. InvalidSig (or BadFrame for a malformed proof) when it does not hold.
Result<LoginStamp> verify_login_proof(PublicKeyCache& keys, const json::Value& proof,
                                      const std::string& user_pubkey, const std::string& origin);

}  // namespace socp::core
