// server/identity.h — the server's RSA-4096 identity in its store: load, create, describe.
#pragma once

#include <string>

#include "socp/crypto.h"
#include "socp/result.h"
#include "socp/store.h"

namespace socp_server {

struct LoadedIdentity {
  std::string server_id;
  socp::PrivateKey key;
  bool created = false;  ///< generated just now
};

/// The identity stored in `store`. NotFound on a fresh store; Corrupt (detail names `where`)
/// if the stored key does not parse. The PEM copy is wiped.
socp::Result<LoadedIdentity> load_identity(socp::Store& store, const std::string& where);

/// load_identity(), or on a fresh store a new identity stored first: RSA-4096 with 2 or 4
/// primes, or (tests) the PKCS#8 PEM key in `seed_pem_file` when that is not empty.
socp::Result<LoadedIdentity> load_or_create_identity(socp::Store& store, const std::string& where,
                                                     bool multi_prime,
                                                     const std::string& seed_pem_file = {});

/// "SHA256:ab:cd:..." of a public key.
std::string fingerprint(const socp::PublicKey& pub);

/// The three lines of --print-identity ("server_id   ...\npublic_key  ...\nfingerprint ...\n").
std::string describe_identity(const std::string& server_id, const socp::PublicKey& pub);

}  // namespace socp_server
