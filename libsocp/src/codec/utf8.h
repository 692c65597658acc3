// Private UTF-8 helpers of the codec layer (strict RFC 3629 decoding).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace socp::codec {

/// Decodes the code point starting at s[i] and advances i past it. Well-formed UTF-8 only:
/// no overlong forms, no surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated
/// sequences. On an ill-formed sequence returns -1 and advances i by one byte.
/// Precondition: i < s.size().
std::int32_t decode_utf8(std::string_view s, std::size_t& i) noexcept;

/// True if every byte of s belongs to a well-formed UTF-8 sequence.
bool valid_utf8(std::string_view s) noexcept;

}  // namespace socp::codec
