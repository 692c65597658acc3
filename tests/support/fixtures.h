// Test fixtures: the RSA-4096 identities and vectors of tests/vectors (copied verbatim from
// ../shared/vectors). Key generation is slow, so tests never generate keys.
#pragma once

#include <string>

#include "socp/crypto.h"
#include "socp/json.h"

namespace socp::test {

/// Reads tests/vectors/<name> as text (aborts the test on failure).
std::string read_vector_file(const std::string& name);
/// Parses tests/vectors/<name> with generous limits.
json::Value load_vector_json(const std::string& name);
/// Fixture keys by name: "alice", "bob", "server_a", "server_b". Parsed once, cached.
const PrivateKey& fixture_key(const std::string& name);
/// Field of keys.json for a key, e.g. ("alice", "public_pem").
std::string fixture_key_field(const std::string& name, const std::string& field);

}  // namespace socp::test
