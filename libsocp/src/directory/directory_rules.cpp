#include "directory/directory_rules.h"

#include <tuple>

namespace socp::directory_rules {

bool login_newer(std::int64_t ts_a, const std::string& server_a, std::int64_t ts_b,
                 const std::string& server_b) {
  return std::tie(ts_a, server_a) > std::tie(ts_b, server_b);
}

json::Value clean_meta(const json::Value& meta) {
  if (!meta.is_object()) return json::Object{};
  json::Value out = meta;
  out.as_object().erase("pubkey");
  return out;
}

}  // namespace socp::directory_rules
