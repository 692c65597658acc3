// Private: strict field readers shared by the message (de)serialisers (messages_*.cpp).
//
// Conventions: a missing required field is BadFrame "missing field 'x'"; a present field of the
// wrong JSON kind is BadFrame "field 'x' must be ...". For OPTIONAL fields JSON null counts as
// absent (peers write null for "no value"); for required fields null is a wrong kind.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "socp/json.h"
#include "socp/result.h"

/// Evaluates a Result-returning expression; returns its error, or moves its value into lhs.
#define SOCP_CODEC_ASSIGN(lhs, expr)                         \
  do {                                                       \
    auto socp_assign_r_ = (expr);                            \
    if (!socp_assign_r_.ok()) return socp_assign_r_.error(); \
    lhs = std::move(socp_assign_r_).value();                 \
  } while (0)

namespace socp::msg::detail {

Error bad(std::string detail);

/// BadFrame "<what> must be an object" unless v is an object.
Status require_object(const json::Value& v, const char* what = "payload");

Result<std::string> req_string(const json::Value& o, const char* key);
Result<std::string> opt_string(const json::Value& o, const char* key, std::string def = {});
Result<std::int64_t> req_int(const json::Value& o, const char* key);
Result<std::optional<std::int64_t>> opt_int(const json::Value& o, const char* key);
/// Integer in [1, 65535].
Result<std::int64_t> req_port(const json::Value& o, const char* key);
/// Integer >= 0.
Result<std::int64_t> req_non_negative(const json::Value& o, const char* key);
Result<bool> opt_bool(const json::Value& o, const char* key, bool def);
/// An object if present (default {}).
Result<json::Value> opt_object(const json::Value& o, const char* key);
/// An array of strings if present (default empty).
Result<std::vector<std::string>> opt_string_array(const json::Value& o, const char* key);
/// The array at o[key] (required). Returns the array itself.
Result<const json::Array*> req_array(const json::Value& o, const char* key);

/// Decodes every element of `arr` with T::from_json; errors are prefixed with "key[i]: ".
template <typename T>
Result<std::vector<T>> decode_array(const json::Array& arr, const char* key) {
  std::vector<T> out;
  out.reserve(arr.size());
  for (std::size_t i = 0; i < arr.size(); ++i) {
    auto r = T::from_json(arr[i]);
    if (!r.ok()) {
      Error e = r.error();
      e.detail = std::string(key) + "[" + std::to_string(i) + "]: " + e.detail;
      return e;
    }
    out.push_back(std::move(r).value());
  }
  return out;
}

/// Encodes every element with to_json().
template <typename T>
json::Value encode_array(const std::vector<T>& items) {
  json::Array a;
  a.reserve(items.size());
  for (const auto& item : items) a.push_back(item.to_json());
  return a;
}

json::Value encode_strings(const std::vector<std::string>& items);

/// socp's `parts` of a message piece: absent/null, or {id (1..64 chars), index >= 0,
/// count 1..4096, index < count} and nothing else. Returns the object (or null).
Result<json::Value> opt_parts(const json::Value& o);

}  // namespace socp::msg::detail
