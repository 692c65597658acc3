// Private: the public channel's symmetric layer (docs/protocol-notes.md "Public channel").
//
// Each member encrypts its posts with its own channel key K (32 random bytes, one per client
// session) using libsodium's XChaCha20-Poly1305-IETF:
//   ciphertext = base64url(nonce(24) || AEAD ciphertext incl. 16-byte tag)
//   associated data = "socp-public-v1|" + sender_user_id + "|" + key_id
// so a post cannot be replayed under another sender or key id. Random 24-byte nonces: no
// nonce bookkeeping, and collisions are negligible for any realistic number of posts.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "socp/bytes.h"
#include "socp/result.h"

namespace socp::client::channel {

inline constexpr std::size_t kKeyBytes = 32;
inline constexpr std::size_t kNonceBytes = 24;
inline constexpr std::size_t kTagBytes = 16;
/// Largest post plaintext a client sends (and opens): 64 KiB of UTF-8.
inline constexpr std::size_t kMaxPostBytes = 64 * 1024;

/// A fresh random channel key.
SecretBytes new_key();
/// A fresh key id: base64url of 16 random bytes (22 characters).
std::string new_key_id();
/// "socp-public-v1|" + sender + "|" + key_id.
std::string associated_data(std::string_view sender, std::string_view key_id);
/// nonce || ciphertext. InvalidArgument if the key is not 32 bytes.
Result<Bytes> seal(const SecretBytes& key, std::string_view plaintext, std::string_view ad);
/// Opens nonce || ciphertext. Crypto if the tag does not verify (wrong key, sender, key id, or
/// tampering), BadFrame if the blob is too short, TooLarge if over kMaxPostBytes of plaintext.
Result<std::string> open(const SecretBytes& key, const Bytes& blob, std::string_view ad);

}  // namespace socp::client::channel
