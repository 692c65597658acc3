// Private: the canonical JSON writer behind json::canonical*(), shared with envelope.cpp so a
// frame can be serialized without copying its payload into a temporary Value.
#pragma once

#include <string>
#include <string_view>

#include "socp/json.h"

namespace socp::json::detail {

/// The three byte forms of docs/protocol.md §4.
enum class Style {
  Ascii,   ///< `,` `:` separators, non-ASCII as lowercase \uXXXX (what socp signs and emits)
  Utf8,    ///< `,` `:` separators, non-ASCII as raw UTF-8
  Spaced,  ///< `, ` `: ` separators, non-ASCII as lowercase \uXXXX (Python's default dumps)
};

/// Appends `s` as a JSON string literal. Ill-formed UTF-8 (only possible in values built in
/// code; parse() never produces it) is written as U+FFFD per ill-formed byte.
void append_string(std::string& out, std::string_view s, Style style);
/// Appends `v` with keys in code-point order. Iterative: any depth is safe to write.
void append_value(std::string& out, const Value& v, Style style);
/// Separators of a style.
inline std::string_view comma(Style s) {
  return s == Style::Spaced ? ", " : ",";
}
inline std::string_view colon(Style s) {
  return s == Style::Spaced ? ": " : ":";
}

}  // namespace socp::json::detail
