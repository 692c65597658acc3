// base64url encode (libsodium) and a strict, alphabet-tolerant decoder (docs/protocol.md §3).
#include <sodium.h>

#include <array>

#include "socp/bytes.h"

namespace socp {

std::string b64url_encode(const std::uint8_t* data, std::size_t n) {
  const int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_ENCODED_LEN(n, variant), '\0');  // includes the NUL
  sodium_bin2base64(out.data(), out.size(), data, n, variant);
  out.resize(out.size() - 1);
  return out;
}

namespace {

// 0..63 for both alphabets ('+' and '-' are 62, '/' and '_' are 63); -1 for anything else.
constexpr std::array<std::int8_t, 256> make_table() {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 26; ++i) {
    t[static_cast<std::size_t>('A' + i)] = static_cast<std::int8_t>(i);
    t[static_cast<std::size_t>('a' + i)] = static_cast<std::int8_t>(26 + i);
  }
  for (int i = 0; i < 10; ++i)
    t[static_cast<std::size_t>('0' + i)] = static_cast<std::int8_t>(52 + i);
  t['+'] = t['-'] = 62;
  t['/'] = t['_'] = 63;
  return t;
}
constexpr std::array<std::int8_t, 256> kDecode = make_table();

Error bad(const char* why) {
  return make_error(Errc::BadFrame, std::string("base64: ") + why);
}

}  // namespace

// Accepts: either alphabet (mixing them is tolerated), with or without '=' padding. When
// padding is present it must complete the last quantum exactly. Rejects: any other character
// (whitespace included), '=' anywhere but the end, a dangling single character, and non-zero
// unused bits in the last character (RFC 4648 §3.5 — keeps the encoding one-to-one per
// alphabet/padding choice; every real encoder writes zero bits).
Result<Bytes> b64_decode(std::string_view text) {
  const std::size_t n = text.size();
  std::size_t pad = 0;
  while (pad < n && text[n - 1 - pad] == '=') ++pad;
  if (pad > 2) return bad("too much padding");
  if (pad > 0 && n % 4 != 0) return bad("padding does not complete a quantum");
  const std::size_t len = n - pad;
  if (len % 4 == 1) return bad("truncated input");

  Bytes out;
  out.reserve(len / 4 * 3 + 2);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < len; ++i) {
    const std::int8_t v = kDecode[static_cast<unsigned char>(text[i])];
    if (v < 0) return bad("invalid character");
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>((acc >> bits) & 0xFF));
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return bad("non-zero trailing bits");
  return out;
}

}  // namespace socp
