#include "directory/directory_rules.h"

#include <tuple>

namespace socp::directory_rules {

bool login_loses(std::int64_t since_a, const std::string& server_a, std::int64_t since_b,
                 const std::string& server_b) {
  if (since_a > 0 && since_b > 0) {
    return std::tie(since_a, server_a) > std::tie(since_b, server_b);
  }
  return server_a > server_b;
}

json::Value clean_meta(const json::Value& meta) {
  if (!meta.is_object()) return json::Object{};
  json::Value out = meta;
  out.as_object().erase("pubkey");
  return out;
}

}  // namespace socp::directory_rules
