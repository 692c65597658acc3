// socp/crypto.h — the whole RSA surface of socp (OpenSSL 3 EVP underneath).
//
// Algorithms are fixed (docs/protocol.md §3): RSA-4096, e = 65537; RSA-OAEP(SHA-256, MGF1-SHA-256,
// empty label), plaintext <= 446 bytes; RSASSA-PSS(SHA-256, MGF1-SHA-256), sign with salt =
// maximum (478 bytes) by default or 32 on request, verify with salt auto-detect.
//
// Ownership: PublicKey/PrivateKey own their EVP_PKEY through a shared, immutable handle; copies
// are cheap and refer to the same key. Thread-safety: all const member functions may be called
// concurrently from any thread (each operation creates its own EVP_PKEY_CTX).
// Errors: bad input never throws; parse failures are BadKey, signature failures make verify
// return false, decryption failures are Crypto, oversize plaintext is TooLarge.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "socp/bytes.h"
#include "socp/json.h"
#include "socp/result.h"

namespace socp {

enum class PssSalt { Max, Digest32 };

class PublicKey {
 public:
  /// Accepts base64url(DER SPKI) (emitted form), standard base64 DER, base64url(PEM text) and
  /// raw PEM text. BadKey unless RSA with a 4096-bit modulus and e = 65537.
  static Result<PublicKey> parse(std::string_view any_form);
  static Result<PublicKey> from_der(const Bytes& der);
  /// True iff `text` is exactly the form b64url() emits for some key parse() accepts: base64url
  /// (no padding) of the DER SubjectPublicKeyInfo of an RSA key with a 4096-bit modulus and
  /// e = 65537. Checked byte by byte without OpenSSL (microseconds, against a parse's
  /// hundreds): for bulk input such as a directory snapshot of 100,000 keys, where a key in
  /// this form needs no normalising and is parsed only when it is used.
  static bool is_canonical_text(std::string_view text) noexcept;

  /// base64url(DER SubjectPublicKeyInfo) — the form socp emits. Computed once.
  const std::string& b64url() const noexcept;
  /// SHA-256 over the DER bytes, lowercase hex (what users compare out of band).
  const std::string& fingerprint_hex() const noexcept;

  /// RSA-OAEP-SHA256. TooLarge if plaintext > 446 bytes.
  Result<Bytes> encrypt(const std::uint8_t* data, std::size_t n) const;
  Result<Bytes> encrypt(std::string_view plaintext) const {
    return encrypt(reinterpret_cast<const std::uint8_t*>(plaintext.data()), plaintext.size());
  }
  /// RSASSA-PSS-SHA256 verify with salt auto-detect. Never throws.
  bool verify(const std::uint8_t* msg, std::size_t n, const Bytes& sig) const noexcept;
  bool verify(std::string_view msg, const Bytes& sig) const noexcept {
    return verify(reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size(), sig);
  }

  bool operator==(const PublicKey& o) const noexcept { return b64url() == o.b64url(); }
  bool operator!=(const PublicKey& o) const noexcept { return !(*this == o); }

  struct Impl;  // OpenSSL handle + cached encodings (crypto/rsa_keys.cpp)

 private:
  explicit PublicKey(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
  friend class PrivateKey;
};

class PrivateKey {
 public:
  /// Generates an RSA-4096 key (e = 65537) with 2 primes, or 4 primes (multi-prime, RFC 8017:
  /// ~2.5x faster signing, ordinary public key). Slow (hundreds of ms to seconds).
  static Result<PrivateKey> generate(int primes = 2);
  /// Loads an unencrypted PKCS#8 (or traditional RSA) PEM private key. BadKey on anything else.
  static Result<PrivateKey> from_pem(std::string_view pem);

  /// PKCS#8 PEM, in a buffer that wipes itself.
  SecretBytes to_pem() const;
  const PublicKey& public_key() const noexcept;

  /// RSASSA-PSS-SHA256 signature (512 bytes). ~3 ms: never call on an event-loop thread.
  Result<Bytes> sign(const std::uint8_t* msg, std::size_t n, PssSalt salt = PssSalt::Max) const;
  Result<Bytes> sign(std::string_view msg, PssSalt salt = PssSalt::Max) const {
    return sign(reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size(), salt);
  }
  /// RSA-OAEP-SHA256 decrypt. Crypto error on wrong key / tampered ciphertext. ~3 ms.
  Result<SecretBytes> decrypt(const Bytes& ciphertext) const;

  struct Impl;

 private:
  explicit PrivateKey(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
  PublicKey pub_;
};

/// SHA-256.
Bytes sha256(const std::uint8_t* data, std::size_t n);
inline Bytes sha256(std::string_view s) {
  return sha256(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

/// Parses each distinct key encoding once (PEM parse ~236 us, DER ~82 us vs verify ~54 us).
/// Bounded LRU keyed by the exact text received. Not thread-safe: one per owning thread.
class PublicKeyCache {
 public:
  explicit PublicKeyCache(std::size_t capacity = 4096);
  ~PublicKeyCache();
  PublicKeyCache(const PublicKeyCache&) = delete;
  PublicKeyCache& operator=(const PublicKeyCache&) = delete;
  Result<PublicKey> get(std::string_view any_form);
  std::size_t size() const noexcept;

 private:
  struct State;
  std::unique_ptr<State> st_;
};

// ---- transport signatures (docs/protocol.md §4) -------------------------------------------------

/// Which canonical form a transport signature matched.
enum class SigForm { None, Canonical, Utf8, Spaced };

/// base64url PSS signature over json::canonical(payload).
Result<std::string> sign_payload(const PrivateKey& key, const json::Value& payload,
                                 PssSalt salt = PssSalt::Max);
/// Same, over canonical bytes the caller already computed (lets a signing pool sign bytes).
Result<std::string> sign_canonical(const PrivateKey& key, std::string_view canonical_bytes,
                                   PssSalt salt = PssSalt::Max);
/// Tries canonical, then raw-UTF-8, then Python's spaced separators. None if nothing matched,
/// the signature is empty or not base64.
SigForm verify_payload(const PublicKey& key, const json::Value& payload, std::string_view sig_b64);

// ---- content signatures (end to end, docs/protocol.md §6) ---------------------------------------

/// The message socp signs: raw ciphertext bytes || from || to || decimal ts (DM), or
/// ciphertext || from || decimal ts when `to` is empty (public channel).
Bytes content_message(const Bytes& ciphertext, std::string_view from, std::string_view to,
                      std::int64_t ts);
/// The form of content_sig to emit. Raw (variant B, socp's): PSS over the concatenation.
/// Sha256 (variant C, what G43 clients verify, the spec's literal "SHA256(ciphertext‖from‖
/// to‖ts)"): PSS over the 32-byte SHA-256 of the concatenation.
/// B64Text (variant A, what G56 clients verify): PSS over the base64url ciphertext text
/// followed by from, to and ts.
enum class ContentSigForm { Raw, Sha256, B64Text };
/// base64url content_sig (variant B_raw unless `form` says otherwise).
Result<std::string> sign_content(const PrivateKey& key, const Bytes& ciphertext,
                                 std::string_view from, std::string_view to, std::int64_t ts,
                                 ContentSigForm form = ContentSigForm::Raw);
/// Accepts every variant peers emit: B_raw, A_b64text (base64url text concatenation),
/// C/D (SHA-256 of either concatenation, signed again), E_json (sorted compact JSON of
/// {ciphertext, from, to, ts}; `to` omitted for the public channel). `to` empty = public.
bool verify_content(const PublicKey& key, std::string_view ciphertext_b64, std::string_view from,
                    std::string_view to, std::int64_t ts, std::string_view content_sig_b64);

// ---- key vault (private key at rest) -------------------------------------------------------

/// Seals a private key under a password: Argon2id (libsodium MODERATE-free INTERACTIVE limits,
/// random 16-byte salt) -> 32-byte key -> XChaCha20-Poly1305-IETF. Output is a self-describing
/// text blob (see docs/protocol-notes.md "privkey_store"):
///   {"v":1,"kdf":"argon2id13","ops":N,"mem":N,"salt":b64u,"nonce":b64u,"ct":b64u}
/// Thread-safe; ~50 ms and 64 MiB per call.
struct KeyVault {
  static Result<std::string> seal(const PrivateKey& key, std::string_view password);
  /// BadPassword for a wrong password, Corrupt for an unreadable blob.
  static Result<PrivateKey> open(std::string_view blob, std::string_view password);
};

/// Password verifier the client sends as `pake_password`/`proof` (never the password itself):
/// base64url(Argon2id(password, salt = first 16 bytes of SHA-256("socp-pake-v1" || user_id))).
Result<std::string> derive_password_verifier(std::string_view password, std::string_view user_id);
/// Server side: Argon2id string hash of a verifier (crypto_pwhash_str) and its check.
Result<std::string> hash_verifier(std::string_view verifier);
bool check_verifier(std::string_view stored_hash, std::string_view verifier) noexcept;

}  // namespace socp
