// KeyVault: a private key sealed under a password (Argon2id13 -> XChaCha20-Poly1305-IETF).
//
// Blob (compact canonical JSON):
//   {"ct":b64u,"kdf":"argon2id13","mem":N,"nonce":b64u,"ops":N,"salt":b64u,"v":1}
// ct = AEAD(PKCS#8 PEM) with associated data "socp-vault-v1", so a blob can't be replayed as
// some other kind of sealed object. ops/mem are stored so future versions may raise them; on
// open they are capped, so a hostile blob cannot make us burn unbounded memory or time.
#include <sodium.h>

#include "codec/sodium_once.h"
#include "crypto/key_impl.h"

namespace socp {
namespace {

constexpr char kAad[] = "socp-vault-v1";
constexpr std::size_t kAadLen = sizeof kAad - 1;
constexpr char kKdf[] = "argon2id13";
constexpr std::size_t kKeyLen = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
static_assert(kKeyLen == 32, "XChaCha20-Poly1305 key is 32 bytes");
static_assert(crypto_pwhash_SALTBYTES == 16, "Argon2 salt is 16 bytes");

constexpr std::int64_t kMaxOps = 16;
constexpr std::int64_t kMaxMem = std::int64_t{1} << 30;  // 1 GiB
constexpr std::size_t kMaxBlob = 64 * 1024;
constexpr std::size_t kMaxCt = 32 * 1024;

Error corrupt(const char* why) {
  return make_error(Errc::Corrupt, std::string("key vault: ") + why);
}

Result<SecretBytes> derive_key(std::string_view password, const Bytes& salt, unsigned long long ops,
                               std::size_t mem) {
  codec::ensure_sodium();
  SecretBytes key(kKeyLen);
  if (crypto_pwhash(key.data(), key.size(), password.data(), password.size(), salt.data(), ops, mem,
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return make_error(Errc::Internal, "key vault: Argon2id failed (out of memory?)");
  }
  return key;
}

// Decodes a base64 member of the blob, requiring an exact or bounded size.
Result<Bytes> b64_member(const json::Value& blob, std::string_view name, std::size_t min,
                         std::size_t max) {
  const std::string* s = json::get_string(blob, name);
  if (s == nullptr) return corrupt("missing field");
  auto bytes = b64_decode(*s);
  if (!bytes || bytes->size() < min || bytes->size() > max) return corrupt("bad field encoding");
  return bytes;
}

}  // namespace

Result<std::string> KeyVault::seal(const PrivateKey& key, std::string_view password) {
  const SecretBytes pem = key.to_pem();
  if (pem.empty()) return make_error(Errc::Crypto, "key vault: cannot encode private key");
  const Bytes salt = random_bytes(crypto_pwhash_SALTBYTES);
  const Bytes nonce = random_bytes(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  const unsigned long long ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
  const std::size_t mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
  auto k = derive_key(password, salt, ops, mem);
  if (!k) return k.error();

  Bytes ct(pem.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
  unsigned long long ct_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(ct.data(), &ct_len, pem.data(), pem.size(),
                                             reinterpret_cast<const unsigned char*>(kAad), kAadLen,
                                             nullptr, nonce.data(), k->data());
  ct.resize(static_cast<std::size_t>(ct_len));

  json::Object blob;
  blob.emplace("v", json::Value(1));
  blob.emplace("kdf", json::Value(kKdf));
  blob.emplace("ops", json::Value(static_cast<std::int64_t>(ops)));
  blob.emplace("mem", json::Value(static_cast<std::int64_t>(mem)));
  blob.emplace("salt", json::Value(b64url_encode(salt)));
  blob.emplace("nonce", json::Value(b64url_encode(nonce)));
  blob.emplace("ct", json::Value(b64url_encode(ct)));
  return json::canonical(json::Value(std::move(blob)));
}

Result<PrivateKey> KeyVault::open(std::string_view blob_text, std::string_view password) {
  if (blob_text.size() > kMaxBlob) return corrupt("blob too large");
  auto parsed = json::parse(blob_text);
  if (!parsed || !parsed->is_object()) return corrupt("not a JSON object");
  const json::Value& blob = *parsed;

  const std::int64_t* v = json::get_int(blob, "v");
  if (v == nullptr || *v != 1) return corrupt("unknown version");
  const std::string* kdf = json::get_string(blob, "kdf");
  if (kdf == nullptr || *kdf != kKdf) return corrupt("unknown kdf");
  const std::int64_t* ops = json::get_int(blob, "ops");
  const std::int64_t* mem = json::get_int(blob, "mem");
  if (ops == nullptr || mem == nullptr) return corrupt("missing kdf limits");
  // Checked before any allocation: the limits come from the (untrusted) blob.
  if (*ops < static_cast<std::int64_t>(crypto_pwhash_OPSLIMIT_MIN) || *ops > kMaxOps ||
      *mem < static_cast<std::int64_t>(crypto_pwhash_MEMLIMIT_MIN) || *mem > kMaxMem) {
    return corrupt("kdf limits out of range");
  }
  auto salt = b64_member(blob, "salt", crypto_pwhash_SALTBYTES, crypto_pwhash_SALTBYTES);
  if (!salt) return salt.error();
  auto nonce = b64_member(blob, "nonce", crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                          crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  if (!nonce) return nonce.error();
  auto ct = b64_member(blob, "ct", crypto_aead_xchacha20poly1305_ietf_ABYTES + 1, kMaxCt);
  if (!ct) return ct.error();

  auto k = derive_key(password, *salt, static_cast<unsigned long long>(*ops),
                      static_cast<std::size_t>(*mem));
  if (!k) return k.error();
  SecretBytes pem(ct->size() - crypto_aead_xchacha20poly1305_ietf_ABYTES);
  unsigned long long pem_len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          pem.data(), &pem_len, nullptr, ct->data(), ct->size(),
          reinterpret_cast<const unsigned char*>(kAad), kAadLen, nonce->data(), k->data()) != 0) {
    // The tag does not tell a wrong password from a tampered blob; the password is by far
    // the likelier cause.
    return make_error(Errc::BadPassword, "key vault: wrong password");
  }
  auto key = PrivateKey::from_pem(pem.view().substr(0, static_cast<std::size_t>(pem_len)));
  if (!key) return corrupt("sealed data is not a valid private key");
  return key;
}

}  // namespace socp
