// Signed context: build and check (signed_context.h).
#include "core/server/signed_context.h"

#include <utility>

namespace socp::core {

json::Value with_context(json::Value payload, std::string_view type, const std::string& from,
                         const std::string& to, std::int64_t ts) {
  if (!payload.is_object()) payload = json::Object{};
  payload.as_object()[std::string(kContextField)] =
      json::Object{{"type", std::string(type)}, {"from", from}, {"to", to}, {"ts", ts}};
  return payload;
}

ContextCheck check_context(const Envelope& env) {
  const json::Value* ctx = env.payload.find(std::string(kContextField));
  if (ctx == nullptr) return ContextCheck::Absent;
  if (!ctx->is_object() || ctx->as_object().size() != 4) return ContextCheck::Mismatch;
  const std::string* type = json::get_string(*ctx, "type");
  const std::string* from = json::get_string(*ctx, "from");
  const std::string* to = json::get_string(*ctx, "to");
  const std::int64_t* ts = json::get_int(*ctx, "ts");
  if (!type || !from || !to || !ts) return ContextCheck::Mismatch;
  if (*type != env.type_name || *from != env.from || *to != env.to || *ts != env.ts) {
    return ContextCheck::Mismatch;
  }
  return ContextCheck::Match;
}

}  // namespace socp::core
