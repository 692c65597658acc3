// Password verifiers (docs/protocol-notes.md): what a client sends instead of its password,
// and the server's Argon2id string hash of it.
#include <sodium.h>

#include <cstring>

#include "codec/sodium_once.h"
#include "socp/crypto.h"

namespace socp {
namespace {

constexpr char kPakeDomain[] = "socp-pake-v1";
constexpr std::size_t kVerifierLen = 32;

}  // namespace

// Deterministic per (password, user_id) so any device can recompute it; the per-user salt
// keeps equal passwords of different users apart. INTERACTIVE limits: ~50 ms on a client.
Result<std::string> derive_password_verifier(std::string_view password, std::string_view user_id) {
  codec::ensure_sodium();
  std::string salt_input(kPakeDomain);
  salt_input.append(user_id);
  const Bytes digest = sha256(salt_input);
  static_assert(crypto_pwhash_SALTBYTES == 16, "salt is the first 16 digest bytes");

  SecretBytes out(kVerifierLen);
  if (crypto_pwhash(out.data(), out.size(), password.data(), password.size(), digest.data(),
                    crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return make_error(Errc::Internal, "Argon2id failed (out of memory?)");
  }
  return b64url_encode(out.data(), out.size());
}

Result<std::string> hash_verifier(std::string_view verifier) {
  codec::ensure_sodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, verifier.data(), verifier.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return make_error(Errc::Internal, "Argon2id failed (out of memory?)");
  }
  return std::string(out);
}

bool check_verifier(std::string_view stored_hash, std::string_view verifier) noexcept {
  // libsodium wants a NUL-terminated string shorter than crypto_pwhash_STRBYTES.
  char buf[crypto_pwhash_STRBYTES];
  if (stored_hash.empty() || stored_hash.size() >= sizeof buf) return false;
  if (stored_hash.find('\0') != std::string_view::npos) return false;
  std::memcpy(buf, stored_hash.data(), stored_hash.size());
  buf[stored_hash.size()] = '\0';
  try {
    codec::ensure_sodium();
  } catch (...) {
    return false;
  }
  return crypto_pwhash_str_verify(buf, verifier.data(), verifier.size()) == 0;
}

}  // namespace socp
