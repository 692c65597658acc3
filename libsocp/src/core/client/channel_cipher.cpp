#include "core/client/channel_cipher.h"

#include <sodium.h>

#include "codec/sodium_once.h"

namespace socp::client::channel {

static_assert(kKeyBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "key size");
static_assert(kNonceBytes == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce size");
static_assert(kTagBytes == crypto_aead_xchacha20poly1305_ietf_ABYTES, "tag size");

SecretBytes new_key() {
  codec::ensure_sodium();
  SecretBytes k(kKeyBytes);
  randombytes_buf(k.data(), k.size());
  return k;
}

std::string new_key_id() {
  return b64url_encode(random_bytes(16));
}

std::string associated_data(std::string_view sender, std::string_view key_id) {
  std::string ad = "socp-public-v1|";
  ad.append(sender).append("|").append(key_id);
  return ad;
}

Result<Bytes> seal(const SecretBytes& key, std::string_view plaintext, std::string_view ad) {
  if (key.size() != kKeyBytes)
    return make_error(Errc::InvalidArgument, "channel key must be 32 bytes");
  codec::ensure_sodium();
  Bytes out(kNonceBytes + plaintext.size() + kTagBytes);
  randombytes_buf(out.data(), kNonceBytes);
  unsigned long long ct_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      out.data() + kNonceBytes, &ct_len, reinterpret_cast<const unsigned char*>(plaintext.data()),
      plaintext.size(), reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nullptr,
      out.data(), key.data());
  out.resize(kNonceBytes + static_cast<std::size_t>(ct_len));
  return out;
}

Result<std::string> open(const SecretBytes& key, const Bytes& blob, std::string_view ad) {
  if (key.size() != kKeyBytes)
    return make_error(Errc::InvalidArgument, "channel key must be 32 bytes");
  if (blob.size() < kNonceBytes + kTagBytes)
    return make_error(Errc::BadFrame, "ciphertext too short");
  const std::size_t ct_len = blob.size() - kNonceBytes;
  if (ct_len - kTagBytes > kMaxPostBytes) return make_error(Errc::TooLarge, "post over 64 KiB");
  codec::ensure_sodium();
  std::string out(ct_len - kTagBytes, '\0');
  unsigned long long pt_len = 0;
  const int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
      reinterpret_cast<unsigned char*>(out.data()), &pt_len, nullptr, blob.data() + kNonceBytes,
      ct_len, reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), blob.data(),
      key.data());
  if (rc != 0) return make_error(Errc::Crypto, "channel ciphertext does not open");
  out.resize(static_cast<std::size_t>(pt_len));
  return out;
}

}  // namespace socp::client::channel
