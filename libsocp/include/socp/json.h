// socp/json.h — a small JSON value type, a bounded parser and the canonical writer.
//
// Why our own value type: payloads are signed over their canonical bytes (docs/protocol.md §4), so
// we need keys sorted by code point (std::map over UTF-8 byte strings gives exactly that),
// integers only, and lowercase `\u` escapes — none of which RapidJSON's DOM/Writer give us.
// RapidJSON is still the parser (iterative SAX, so deep nesting cannot crash us), used only
// inside json.cpp.
//
// Thread-safety: Value is a plain value type. Functions are pure and thread-safe.
// Errors: parse() returns BadFrame (syntax, non-UTF-8, duplicate key, float, integer out of
// int64 range), TooDeep (nesting > limit) or TooLarge (input or a string over the limit).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "socp/result.h"

namespace socp::json {

class Value;
using Array = std::vector<Value>;
using Object = std::map<std::string, Value, std::less<>>;

/// A JSON value: null, bool, 64-bit integer, UTF-8 string, array or object.
/// (Floats are not part of SOCP payloads and are rejected by the parser.)
class Value {
 public:
  enum class Kind { Null, Bool, Int, String, Array, Object };

  Value() = default;
  Value(std::nullptr_t) {}                                      // NOLINT implicit
  Value(bool b) : v_(b) {}                                      // NOLINT implicit
  Value(int i) : v_(static_cast<std::int64_t>(i)) {}            // NOLINT implicit
  Value(std::int64_t i) : v_(i) {}                              // NOLINT implicit
  Value(std::uint32_t i) : v_(static_cast<std::int64_t>(i)) {}  // NOLINT implicit
  Value(const char* s) : v_(std::string(s)) {}                  // NOLINT implicit
  Value(std::string s) : v_(std::move(s)) {}                    // NOLINT implicit
  Value(std::string_view s) : v_(std::string(s)) {}             // NOLINT implicit
  Value(Array a) : v_(std::move(a)) {}                          // NOLINT implicit
  Value(Object o) : v_(std::move(o)) {}                         // NOLINT implicit

  Kind kind() const noexcept { return static_cast<Kind>(v_.index()); }
  bool is_null() const noexcept { return kind() == Kind::Null; }
  bool is_bool() const noexcept { return kind() == Kind::Bool; }
  bool is_int() const noexcept { return kind() == Kind::Int; }
  bool is_string() const noexcept { return kind() == Kind::String; }
  bool is_array() const noexcept { return kind() == Kind::Array; }
  bool is_object() const noexcept { return kind() == Kind::Object; }

  // Unchecked accessors: precondition is the matching kind (std::bad_variant_access otherwise).
  bool as_bool() const { return std::get<bool>(v_); }
  const std::int64_t& as_int() const { return std::get<std::int64_t>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const Array& as_array() const { return std::get<Array>(v_); }
  Array& as_array() { return std::get<Array>(v_); }
  const Object& as_object() const { return std::get<Object>(v_); }
  Object& as_object() { return std::get<Object>(v_); }

  /// Object member lookup; nullptr if not an object or no such key.
  const Value* find(std::string_view key) const;

  friend bool operator==(const Value& a, const Value& b) { return a.v_ == b.v_; }
  friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }

 private:
  std::variant<std::nullptr_t, bool, std::int64_t, std::string, Array, Object> v_;
};

struct ParseLimits {
  std::size_t max_bytes = 8u << 20;
  std::size_t max_depth = 32;
  std::size_t max_string = 1u << 20;
};

/// Parses UTF-8 JSON text (iteratively; never recurses on input depth).
Result<Value> parse(std::string_view text, const ParseLimits& limits = {});

/// Canonical bytes (docs/protocol.md §4): keys sorted by code point, no whitespace, non-ASCII as
/// lowercase `\uXXXX` (surrogate pairs above U+FFFF). What socp signs and emits.
std::string canonical(const Value& v);
/// Same but non-ASCII kept as raw UTF-8 (a verification fallback form).
std::string canonical_utf8(const Value& v);
/// Python's default `json.dumps(sort_keys=True)`: `", "` and `": "` separators, ASCII escapes
/// (a verification fallback form).
std::string canonical_spaced(const Value& v);

/// Helpers for building/reading objects in codec code.
const std::string* get_string(const Value& obj, std::string_view key);
const std::int64_t* get_int(const Value& obj, std::string_view key);

}  // namespace socp::json
