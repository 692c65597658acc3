// transport/ws_utf8.cpp — incremental strict UTF-8 validation (see ws_utf8.h).
#include "transport/ws_utf8.h"

#include <cstring>

namespace socp::transport {

bool Utf8Validator::feed(const unsigned char* p, std::size_t n) noexcept {
  if (failed_) return false;
  std::size_t i = 0;
  while (i < n) {
    if (need_ == 0) {
      // ASCII fast path: eight bytes at a time while no high bit is set.
      while (i + 8 <= n) {
        std::uint64_t w;
        std::memcpy(&w, p + i, 8);
        if (w & 0x8080808080808080ull) break;
        i += 8;
      }
      if (i >= n) break;
      const unsigned char b = p[i++];
      if (b < 0x80) continue;
      lo_ = 0x80;
      hi_ = 0xBF;
      if (b >= 0xC2 && b <= 0xDF) {
        need_ = 1;
      } else if (b >= 0xE0 && b <= 0xEF) {
        need_ = 2;
        if (b == 0xE0) lo_ = 0xA0;  // overlong
        if (b == 0xED) hi_ = 0x9F;  // surrogates
      } else if (b >= 0xF0 && b <= 0xF4) {
        need_ = 3;
        if (b == 0xF0) lo_ = 0x90;  // overlong
        if (b == 0xF4) hi_ = 0x8F;  // above U+10FFFF
      } else {
        failed_ = true;  // 0x80..0xC1 (continuation / overlong lead), 0xF5..0xFF
        return false;
      }
    } else {
      const unsigned char b = p[i++];
      if (b < lo_ || b > hi_) {
        failed_ = true;
        return false;
      }
      lo_ = 0x80;
      hi_ = 0xBF;
      --need_;
    }
  }
  return true;
}

bool valid_utf8(const char* p, std::size_t n) noexcept {
  Utf8Validator v;
  return v.feed(reinterpret_cast<const unsigned char*>(p), n) && v.complete();
}

}  // namespace socp::transport
