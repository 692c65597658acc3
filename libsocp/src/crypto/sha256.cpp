// SHA-256 (one-shot EVP digest).
#include <openssl/evp.h>

#include <stdexcept>

#include "crypto/ossl_util.h"
#include "socp/crypto.h"

namespace socp {

Bytes sha256(const std::uint8_t* data, std::size_t n) {
  Bytes out(32);
  unsigned int len = 0;
  static const std::uint8_t kEmpty = 0;
  if (EVP_Digest(n ? data : &kEmpty, n, out.data(), &len, EVP_sha256(), nullptr) != 1 ||
      len != out.size()) {
    // Only possible if the default provider is unusable: a broken installation, not input.
    throw std::runtime_error(crypto::ossl_error_text("SHA-256"));
  }
  return out;
}

}  // namespace socp
