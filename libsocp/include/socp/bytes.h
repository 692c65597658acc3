// socp/bytes.h — byte buffers, secret buffers that wipe themselves, and base64url.
//
// base64url (docs/protocol.md §3): encode emits URL-safe alphabet WITHOUT padding. decode accepts
// URL-safe or standard alphabet, padded or not; anything else (bad characters, bad length,
// padding in the middle, whitespace) is BadFrame.
// Thread-safety: pure functions; SecretBytes is a value type (not shared).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "socp/result.h"

namespace socp {

using Bytes = std::vector<std::uint8_t>;

/// A byte buffer for secrets (private keys, passwords, derived keys). Its storage is wiped
/// with sodium_memzero on destruction and on reassignment. Move-only.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t n);
  SecretBytes(const std::uint8_t* data, std::size_t n);
  explicit SecretBytes(std::string_view s);
  ~SecretBytes();
  SecretBytes(SecretBytes&& o) noexcept;
  SecretBytes& operator=(SecretBytes&& o) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  std::uint8_t* data() noexcept { return buf_.data(); }
  const std::uint8_t* data() const noexcept { return buf_.data(); }
  std::size_t size() const noexcept { return buf_.size(); }
  bool empty() const noexcept { return buf_.empty(); }
  std::string_view view() const noexcept {
    return {reinterpret_cast<const char*>(buf_.data()), buf_.size()};
  }
  void wipe() noexcept;

 private:
  std::vector<std::uint8_t> buf_;
};

/// base64url without padding.
std::string b64url_encode(const std::uint8_t* data, std::size_t n);
inline std::string b64url_encode(const Bytes& b) {
  return b64url_encode(b.data(), b.size());
}
inline std::string b64url_encode(std::string_view s) {
  return b64url_encode(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}
/// Decodes url-safe or standard base64, padded or not. BadFrame on anything else.
Result<Bytes> b64_decode(std::string_view text);

/// Lowercase hex.
std::string hex_encode(const std::uint8_t* data, std::size_t n);
inline std::string hex_encode(const Bytes& b) {
  return hex_encode(b.data(), b.size());
}
Result<Bytes> hex_decode(std::string_view text);

/// Constant-time equality (sodium_memcmp). False if sizes differ.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

/// Random bytes (libsodium randombytes_buf).
Bytes random_bytes(std::size_t n);
/// A fresh random RFC 4122 version-4 UUID, lowercase.
std::string new_uuid_v4();
/// True if `s` is an RFC 4122 UUID string (8-4-4-4-12 hex, either case).
bool is_uuid(std::string_view s) noexcept;

}  // namespace socp
