#include "style.h"

#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdlib>

namespace socp::cli {
namespace {

// Decodes one UTF-8 code point at s[i] (advancing i); an ill-formed byte counts as one
// code point of its own value so widths never get stuck.
std::uint32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  std::size_t len = c < 0x80           ? 1
                    : (c >> 5) == 0x6  ? 2
                    : (c >> 4) == 0xe  ? 3
                    : (c >> 3) == 0x1e ? 4
                                       : 0;
  if (len <= 1 || i + len > s.size()) {
    ++i;
    return c;
  }
  std::uint32_t cp = c & (0xff >> (len + 1));
  for (std::size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) {
      ++i;
      return c;
    }
    cp = (cp << 6) | (b(i + k) & 0x3f);
  }
  i += len;
  return cp;
}

bool in(std::uint32_t cp, std::uint32_t lo, std::uint32_t hi) {
  return cp >= lo && cp <= hi;
}

std::size_t cp_width(std::uint32_t cp) {
  if (in(cp, 0x0300, 0x036f) || in(cp, 0x200b, 0x200f) || in(cp, 0x20d0, 0x20ff) ||
      in(cp, 0xfe00, 0xfe0f) || cp == 0x200d) {
    return 0;  // combining marks, zero-width characters, variation selectors
  }
  if (in(cp, 0x1100, 0x115f) || in(cp, 0x2e80, 0x303e) || in(cp, 0x3041, 0x33ff) ||
      in(cp, 0x3400, 0x4dbf) || in(cp, 0x4e00, 0x9fff) || in(cp, 0xa000, 0xa4cf) ||
      in(cp, 0xac00, 0xd7a3) || in(cp, 0xf900, 0xfaff) || in(cp, 0xfe30, 0xfe4f) ||
      in(cp, 0xff00, 0xff60) || in(cp, 0xffe0, 0xffe6) || in(cp, 0x1f300, 0x1f64f) ||
      in(cp, 0x1f900, 0x1f9ff) || in(cp, 0x20000, 0x3fffd)) {
    return 2;
  }
  return 1;
}

// Length of an ANSI escape sequence starting at s[i] (s[i] == ESC), 1 if malformed.
std::size_t escape_length(std::string_view s, std::size_t i) {
  if (i + 1 >= s.size() || s[i + 1] != '[') return 1;
  std::size_t k = i + 2;
  while (k < s.size() && !(s[k] >= 0x40 && s[k] <= 0x7e)) ++k;
  return k < s.size() ? k - i + 1 : s.size() - i;
}

}  // namespace

std::string paint(bool on, std::string_view code, std::string_view text) {
  if (!on || code.empty()) return std::string(text);
  std::string out;
  out.reserve(text.size() + code.size() + 8);
  out.append("\033[").append(code).append("m").append(text).append("\033[0m");
  return out;
}

std::string_view user_color(std::string_view user_id) {
  // Green, blue, magenta, cyan and their bright variants: red and yellow mean trouble here.
  static constexpr std::array<std::string_view, 8> kPalette = {"32", "34", "35", "36",
                                                               "92", "94", "95", "96"};
  std::uint32_t h = 2166136261u;  // FNV-1a: stable across runs and platforms
  for (const char c : user_id) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return kPalette[h % kPalette.size()];
}

bool color_wanted(int fd, bool no_color_flag) {
  if (no_color_flag) return false;
  if (const char* nc = std::getenv("NO_COLOR"); nc && *nc) return false;
  return ::isatty(fd) != 0;
}

std::size_t visible_width(std::string_view text) {
  std::size_t w = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '\033') {
      i += escape_length(text, i);
      continue;
    }
    w += cp_width(next_code_point(text, i));
  }
  return w;
}

std::string truncate_visible(std::string_view text, std::size_t width) {
  if (visible_width(text) <= width) return std::string(text);
  if (width == 0) return std::string();
  const std::size_t budget = width - 1;  // room for the ellipsis
  std::string out;
  std::size_t w = 0;
  bool styled = false;
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '\033') {
      const std::size_t n = escape_length(text, i);
      out.append(text.substr(i, n));
      styled = true;
      i += n;
      continue;
    }
    const std::size_t start = i;
    const std::size_t cw = cp_width(next_code_point(text, i));
    if (w + cw > budget) break;
    w += cw;
    out.append(text.substr(start, i - start));
  }
  out.append("\xe2\x80\xa6");  // …
  if (styled) out.append("\033[0m");
  return out;
}

}  // namespace socp::cli
