// SecretBytes, hex, constant-time comparison and randomness (socp/bytes.h).
#include <sodium.h>

#include <cstring>

#include "codec/sodium_once.h"
#include "socp/bytes.h"

namespace socp {

// --- SecretBytes -----------------------------------------------------------------------------
// The buffer never grows after construction, so no stale copy is ever left behind by a
// reallocation; moves steal the heap block without copying it.

SecretBytes::SecretBytes(std::size_t n) : buf_(n, 0) {}

SecretBytes::SecretBytes(const std::uint8_t* data, std::size_t n) : buf_(data, data + n) {}

SecretBytes::SecretBytes(std::string_view s)
    : buf_(reinterpret_cast<const std::uint8_t*>(s.data()),
           reinterpret_cast<const std::uint8_t*>(s.data()) + s.size()) {}

SecretBytes::~SecretBytes() {
  wipe();
}

SecretBytes::SecretBytes(SecretBytes&& o) noexcept : buf_(std::move(o.buf_)) {
  o.buf_.clear();
}

SecretBytes& SecretBytes::operator=(SecretBytes&& o) noexcept {
  if (this != &o) {
    wipe();
    buf_ = std::move(o.buf_);
    o.buf_.clear();
  }
  return *this;
}

void SecretBytes::wipe() noexcept {
  if (!buf_.empty()) sodium_memzero(buf_.data(), buf_.size());
  buf_.clear();
}

// --- hex -----------------------------------------------------------------------------------

std::string hex_encode(const std::uint8_t* data, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.resize(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 0xF];
  }
  return out;
}

namespace {
int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

Result<Bytes> hex_decode(std::string_view text) {
  if (text.size() % 2 != 0) return make_error(Errc::BadFrame, "hex: odd length");
  Bytes out(text.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_digit(text[2 * i]);
    const int lo = hex_digit(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return make_error(Errc::BadFrame, "hex: invalid character");
    out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  return out;
}

// --- comparison and randomness -------------------------------------------------------------

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  // The length is not secret (it is visible on the wire); only the contents are compared
  // in constant time.
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

Bytes random_bytes(std::size_t n) {
  codec::ensure_sodium();
  Bytes out(n);
  if (n > 0) randombytes_buf(out.data(), n);
  return out;
}

}  // namespace socp
