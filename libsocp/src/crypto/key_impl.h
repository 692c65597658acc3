// Private: the definitions behind PublicKey::Impl / PrivateKey::Impl and the one place that
// validates an RSA key against docs/protocol.md §3 (RSA, 4096-bit modulus, e = 65537).
#pragma once

#include <memory>
#include <string>

#include "crypto/ossl_util.h"
#include "socp/crypto.h"

namespace socp {

/// Immutable after construction, so it is shared across threads without locking.
struct PublicKey::Impl {
  crypto::PkeyPtr pkey;     // public-only EVP_PKEY
  std::string der_b64url;   // base64url(DER SubjectPublicKeyInfo)
  std::string fingerprint;  // lowercase hex SHA-256 over the DER
};

struct PrivateKey::Impl {
  crypto::PkeyPtr pkey;                        // full private key
  std::shared_ptr<const PublicKey::Impl> pub;  // its public half, built once
};

namespace crypto {

inline constexpr int kModulusBits = 4096;
inline constexpr std::size_t kModulusBytes = kModulusBits / 8;  // 512: signature/ciphertext
/// OAEP-SHA256 limit: k - 2*hLen - 2 = 512 - 64 - 2.
inline constexpr std::size_t kOaepMaxPlaintext = kModulusBytes - 2 * 32 - 2;

/// Ok unless `pkey` is an RSA key with a 4096-bit modulus and e = 65537 (BadKey otherwise).
Status check_rsa4096(const EVP_PKEY* pkey);

/// Validates `pkey` (public or private) and builds the public Impl: re-encodes the public half
/// as DER SPKI and keeps a public-only copy, so the private half never lives in a PublicKey.
Result<std::shared_ptr<const PublicKey::Impl>> make_public_impl(const EVP_PKEY* pkey);

}  // namespace crypto
}  // namespace socp
