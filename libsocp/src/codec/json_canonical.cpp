// Canonical JSON writer (docs/protocol.md §4). Byte-for-byte equal to Python's
//   json.dumps(v, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
// (Ascii), the same with ensure_ascii=False (Utf8), and with the default separators (Spaced).
// RapidJSON's Writer is not used: it escapes with uppercase hex and does not sort keys.
#include <cstdint>
#include <vector>

#include "codec/json_writer.h"
#include "codec/utf8.h"

namespace socp::json {
namespace detail {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void append_u_escape(std::string& out, std::uint32_t unit) {
  out += "\\u";
  out += kHex[(unit >> 12) & 0xF];
  out += kHex[(unit >> 8) & 0xF];
  out += kHex[(unit >> 4) & 0xF];
  out += kHex[unit & 0xF];
}

}  // namespace

void append_string(std::string& out, std::string_view s, Style style) {
  // Room for the string, its quotes and, after a large one, the rest of its document (the
  // envelope's remaining fields): no reallocation copies a large string again.
  out.reserve(out.size() + s.size() + (s.size() > 4096 ? 4096 : 2));
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    // A run of bytes that every style writes as they are (printable ASCII but '"' and '\\'),
    // appended at once: base64 text of a large file chunk is one such run.
    std::size_t run = i;
    while (run < s.size()) {
      const auto c = static_cast<unsigned char>(s[run]);
      if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') break;
      ++run;
    }
    if (run > i) {
      out.append(s.data() + i, run - i);
      i = run;
      continue;
    }
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
      switch (b) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          // Python's ensure_ascii escapes everything outside ' '..'~', so DEL (0x7f) is
          // \u007f in the ASCII forms but raw with ensure_ascii=False. '/' is never escaped.
          if (b < 0x20 || (b == 0x7f && style != Style::Utf8)) {
            append_u_escape(out, b);
          } else {
            out += static_cast<char>(b);
          }
      }
      continue;
    }
    const std::size_t start = i;
    std::int32_t cp = codec::decode_utf8(s, i);
    const bool well_formed = cp >= 0;
    if (!well_formed) cp = 0xFFFD;
    if (style == Style::Utf8) {
      if (well_formed) {
        out.append(s.data() + start, i - start);
      } else {
        out += "\xEF\xBF\xBD";  // U+FFFD
      }
    } else if (cp > 0xFFFF) {
      const std::uint32_t v = static_cast<std::uint32_t>(cp) - 0x10000;
      append_u_escape(out, 0xD800 + (v >> 10));
      append_u_escape(out, 0xDC00 + (v & 0x3FF));
    } else {
      append_u_escape(out, static_cast<std::uint32_t>(cp));
    }
  }
  out += '"';
}

void append_value(std::string& out, const Value& root, Style style) {
  // Explicit stack instead of recursion: values built in code are not depth-limited.
  struct Frame {
    const Value* v;
    std::size_t index;              // arrays
    Object::const_iterator member;  // objects
  };
  std::vector<Frame> stack;
  const std::string_view sep = comma(style);
  const std::string_view kv = colon(style);

  // Writes a scalar, or opens a container and pushes it.
  auto emit = [&](const Value& v) {
    switch (v.kind()) {
      case Value::Kind::Null:
        out += "null";
        break;
      case Value::Kind::Bool:
        out += v.as_bool() ? "true" : "false";
        break;
      case Value::Kind::Int:
        out += std::to_string(v.as_int());
        break;
      case Value::Kind::String:
        append_string(out, v.as_string(), style);
        break;
      case Value::Kind::Array:
        out += '[';
        stack.push_back(Frame{&v, 0, {}});
        break;
      case Value::Kind::Object:
        out += '{';
        stack.push_back(Frame{&v, 0, v.as_object().begin()});
        break;
    }
  };

  emit(root);
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.v->is_array()) {
      const Array& a = f.v->as_array();
      if (f.index == a.size()) {
        out += ']';
        stack.pop_back();
        continue;
      }
      if (f.index > 0) out += sep;
      const Value& child = a[f.index++];
      emit(child);  // may push: `f` is not used afterwards
    } else {
      const Object& o = f.v->as_object();
      if (f.member == o.end()) {
        out += '}';
        stack.pop_back();
        continue;
      }
      if (f.member != o.begin()) out += sep;
      append_string(out, f.member->first, style);
      out += kv;
      const Value& child = f.member->second;
      ++f.member;
      emit(child);
    }
  }
}

}  // namespace detail

std::string canonical(const Value& v) {
  std::string out;
  detail::append_value(out, v, detail::Style::Ascii);
  return out;
}

std::string canonical_utf8(const Value& v) {
  std::string out;
  detail::append_value(out, v, detail::Style::Utf8);
  return out;
}

std::string canonical_spaced(const Value& v) {
  std::string out;
  detail::append_value(out, v, detail::Style::Spaced);
  return out;
}

}  // namespace socp::json
