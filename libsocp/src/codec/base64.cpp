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

  // Four characters make three bytes; a tail of 2 or 3 characters makes 1 or 2 bytes whose
  // unused low bits must be zero (a canonical encoding).
  const std::size_t rem = len % 4;
  Bytes out(len / 4 * 3 + (rem == 0 ? 0 : rem - 1));
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  std::uint8_t* o = out.data();
  std::size_t i = 0;
  for (; i + 4 <= len; i += 4) {
    const int a = kDecode[in[i]], b = kDecode[in[i + 1]], c = kDecode[in[i + 2]],
              d = kDecode[in[i + 3]];
    if ((a | b | c | d) < 0) return bad("invalid character");
    const auto v = static_cast<std::uint32_t>(a << 18 | b << 12 | c << 6 | d);
    *o++ = static_cast<std::uint8_t>(v >> 16);
    *o++ = static_cast<std::uint8_t>(v >> 8);
    *o++ = static_cast<std::uint8_t>(v);
  }
  if (rem >= 2) {
    const int a = kDecode[in[i]], b = kDecode[in[i + 1]];
    const int c = rem == 3 ? kDecode[in[i + 2]] : 0;
    if ((a | b | c) < 0) return bad("invalid character");
    const auto v = static_cast<std::uint32_t>(a << 18 | b << 12 | c << 6);
    *o++ = static_cast<std::uint8_t>(v >> 16);
    if (rem == 3) *o++ = static_cast<std::uint8_t>(v >> 8);
    if ((rem == 2 ? (b & 0x0F) : (c & 0x03)) != 0) return bad("non-zero trailing bits");
  }
  return out;
}

}  // namespace socp
