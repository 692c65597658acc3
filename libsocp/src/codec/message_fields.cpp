#include "codec/message_fields.h"

namespace socp::msg::detail {
namespace {

std::string quoted(const char* key) {
  return std::string("'") + key + "'";
}

Error missing(const char* key) {
  return bad("missing field " + quoted(key));
}

Error mistyped(const char* key, const char* want) {
  return bad("field " + quoted(key) + " must be " + want);
}

// The member, or nullptr when absent. `null_is_absent` applies to optional fields.
const json::Value* member(const json::Value& o, const char* key, bool null_is_absent) {
  const json::Value* v = o.find(key);
  if (v && null_is_absent && v->is_null()) return nullptr;
  return v;
}

}  // namespace

Error bad(std::string detail) {
  return make_error(Errc::BadFrame, std::move(detail));
}

Status require_object(const json::Value& v, const char* what) {
  if (!v.is_object()) return bad(std::string(what) + " must be an object");
  return ok_status();
}

Result<std::string> req_string(const json::Value& o, const char* key) {
  const json::Value* v = member(o, key, false);
  if (!v) return missing(key);
  if (!v->is_string()) return mistyped(key, "a string");
  return v->as_string();
}

Result<std::string> opt_string(const json::Value& o, const char* key, std::string def) {
  const json::Value* v = member(o, key, true);
  if (!v) return def;
  if (!v->is_string()) return mistyped(key, "a string");
  return v->as_string();
}

Result<std::int64_t> req_int(const json::Value& o, const char* key) {
  const json::Value* v = member(o, key, false);
  if (!v) return missing(key);
  if (!v->is_int()) return mistyped(key, "an integer");
  return v->as_int();
}

Result<std::optional<std::int64_t>> opt_int(const json::Value& o, const char* key) {
  const json::Value* v = member(o, key, true);
  if (!v) return std::optional<std::int64_t>{};
  if (!v->is_int()) return mistyped(key, "an integer");
  return std::optional<std::int64_t>{v->as_int()};
}

Result<std::int64_t> req_port(const json::Value& o, const char* key) {
  std::int64_t port = 0;
  SOCP_CODEC_ASSIGN(port, req_int(o, key));
  if (port < 1 || port > 65535) return mistyped(key, "a port number (1..65535)");
  return port;
}

Result<std::int64_t> req_non_negative(const json::Value& o, const char* key) {
  std::int64_t n = 0;
  SOCP_CODEC_ASSIGN(n, req_int(o, key));
  if (n < 0) return mistyped(key, "a non-negative integer");
  return n;
}

Result<bool> opt_bool(const json::Value& o, const char* key, bool def) {
  const json::Value* v = member(o, key, true);
  if (!v) return def;
  if (!v->is_bool()) return mistyped(key, "a bool");
  return v->as_bool();
}

Result<json::Value> opt_object(const json::Value& o, const char* key) {
  const json::Value* v = member(o, key, true);
  if (!v) return json::Value(json::Object{});
  if (!v->is_object()) return mistyped(key, "an object");
  return *v;
}

Result<std::vector<std::string>> opt_string_array(const json::Value& o, const char* key) {
  const json::Value* v = member(o, key, true);
  std::vector<std::string> out;
  if (!v) return out;
  if (!v->is_array()) return mistyped(key, "an array of strings");
  out.reserve(v->as_array().size());
  for (const json::Value& item : v->as_array()) {
    if (!item.is_string()) return mistyped(key, "an array of strings");
    out.push_back(item.as_string());
  }
  return out;
}

Result<const json::Array*> req_array(const json::Value& o, const char* key) {
  const json::Value* v = member(o, key, false);
  if (!v) return missing(key);
  if (!v->is_array()) return mistyped(key, "an array");
  return &v->as_array();
}

json::Value encode_strings(const std::vector<std::string>& items) {
  json::Array a;
  a.reserve(items.size());
  for (const auto& s : items) a.emplace_back(s);
  return a;
}

Result<json::Value> opt_parts(const json::Value& o) {
  const json::Value* p = o.find("parts");
  if (p == nullptr || p->is_null()) return json::Value();
  if (!p->is_object()) return bad("field 'parts' must be an object");
  std::string id;
  std::int64_t index = 0, count = 0;
  SOCP_CODEC_ASSIGN(id, req_string(*p, "id"));
  SOCP_CODEC_ASSIGN(index, req_int(*p, "index"));
  SOCP_CODEC_ASSIGN(count, req_int(*p, "count"));
  if (id.empty() || id.size() > 64 || count < 1 || count > 4096 || index < 0 || index >= count ||
      p->as_object().size() != 3) {
    return bad("field 'parts' must be {id, index, count} with 0 <= index < count <= 4096");
  }
  return *p;
}

}  // namespace socp::msg::detail
