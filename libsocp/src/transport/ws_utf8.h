// transport/ws_utf8.h — an incremental UTF-8 validator for WebSocket text messages (private).
//
// RFC 6455 §8.1: a text message must be valid UTF-8 as a whole, and an endpoint should fail
// as soon as the bytes seen so far cannot start a valid message ("fail fast"), even when the
// message arrives in many fragments and a code point is split between them. Strict RFC 3629:
// no overlong forms, no surrogates (U+D800..U+DFFF), nothing above U+10FFFF.
// No allocation, O(1) state; safe to copy. Not thread-safe (one per connection).
#pragma once

#include <cstddef>
#include <cstdint>

namespace socp::transport {

class Utf8Validator {
 public:
  /// Feeds more bytes of the same message. False at the first byte that makes the message
  /// invalid (the validator then stays failed until reset()).
  bool feed(const unsigned char* p, std::size_t n) noexcept;
  /// True if the bytes fed so far end at a code point boundary (the message may end here).
  bool complete() const noexcept { return need_ == 0 && !failed_; }
  bool failed() const noexcept { return failed_; }
  void reset() noexcept { *this = Utf8Validator{}; }

 private:
  std::uint8_t need_ = 0;   // continuation bytes still expected
  std::uint8_t lo_ = 0x80;  // allowed range of the next continuation byte
  std::uint8_t hi_ = 0xBF;
  bool failed_ = false;
};

/// Whole-buffer convenience (close reasons).
bool valid_utf8(const char* p, std::size_t n) noexcept;

}  // namespace socp::transport
