// json::Value lookups and small helpers used by the codec.
#include "socp/json.h"

namespace socp::json {

const Value* Value::find(std::string_view key) const {
  if (!is_object()) return nullptr;
  const Object& o = as_object();
  auto it = o.find(key);
  return it == o.end() ? nullptr : &it->second;
}

const std::string* get_string(const Value& obj, std::string_view key) {
  const Value* v = obj.find(key);
  return v && v->is_string() ? &v->as_string() : nullptr;
}

const std::int64_t* get_int(const Value& obj, std::string_view key) {
  const Value* v = obj.find(key);
  return v && v->is_int() ? &v->as_int() : nullptr;
}

}  // namespace socp::json
