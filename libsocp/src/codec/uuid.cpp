// Random v4 UUIDs and UUID syntax checks (socp/bytes.h).
#include "socp/bytes.h"

namespace socp {
namespace {
constexpr bool is_dash_pos(std::size_t i) {
  return i == 8 || i == 13 || i == 18 || i == 23;
}
bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
}  // namespace

std::string new_uuid_v4() {
  Bytes b = random_bytes(16);
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant (10xx)
  const std::string hex = hex_encode(b);
  std::string out;
  out.reserve(36);
  std::size_t h = 0;
  for (std::size_t i = 0; i < 36; ++i) out += is_dash_pos(i) ? '-' : hex[h++];
  return out;
}

bool is_uuid(std::string_view s) noexcept {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (is_dash_pos(i) ? s[i] != '-' : !is_hex(s[i])) return false;
  }
  return true;
}

}  // namespace socp
