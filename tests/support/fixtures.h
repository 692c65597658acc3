// Test fixtures: the RSA-4096 identities and vectors of tests/vectors (copied verbatim from
// the shared test vectors). Key generation is slow, so tests never generate keys.
#pragma once

#include <cstdint>
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
/// The i-th of many distinct, well-formed RSA-4096 public keys (base64url DER) that have no
/// private key: a fixture modulus with a few middle bytes replaced by i. For directory-scale
/// tests and benchmarks, where users are listed and gossiped but never log in.
std::string synthetic_pubkey(std::uint64_t i);

}  // namespace socp::test
