// Envelope parsing and serialization (docs/protocol.md §2).
#include <algorithm>
#include <utility>
#include <vector>

#include "codec/json_writer.h"
#include "socp/bytes.h"
#include "socp/envelope.h"

namespace socp {
namespace {

constexpr std::size_t kMaxTypeLen = 64;
constexpr std::size_t kMaxToLen = 256;

Error bad(std::string detail) {
  return make_error(Errc::BadFrame, std::move(detail));
}

const char* kind_name(const json::Value& v) {
  switch (v.kind()) {
    case json::Value::Kind::Null:
      return "null";
    case json::Value::Kind::Bool:
      return "a bool";
    case json::Value::Kind::Int:
      return "an integer";
    case json::Value::Kind::String:
      return "a string";
    case json::Value::Kind::Array:
      return "an array";
    case json::Value::Kind::Object:
      return "an object";
  }
  return "?";
}

Error mistyped(const char* field, const char* want, const json::Value& got) {
  return bad(std::string("envelope field '") + field + "' must be " + want + ", got " +
             kind_name(got));
}

bool is_standard_field(std::string_view k) {
  return k == "type" || k == "from" || k == "to" || k == "ts" || k == "payload" || k == "sig";
}

}  // namespace

Result<Envelope> parse_envelope(std::string_view frame, const json::ParseLimits& limits,
                                bool any_from) {
  auto parsed = json::parse(frame, limits);
  if (!parsed) return parsed.error();
  json::Value& root = parsed.value();
  if (!root.is_object())
    return bad(std::string("frame must be a JSON object, got ") + kind_name(root));
  json::Object& obj = root.as_object();

  Envelope env;
  auto field = [&](const char* name) -> json::Value* {
    auto it = obj.find(std::string_view(name));
    return it == obj.end() ? nullptr : &it->second;
  };

  json::Value* type = field("type");
  if (!type) return bad("missing envelope field 'type'");
  if (!type->is_string()) return mistyped("type", "a string", *type);
  if (type->as_string().empty()) return bad("envelope field 'type' is empty");
  if (type->as_string().size() > kMaxTypeLen) return bad("envelope field 'type' is too long");
  env.type_name = type->as_string();
  env.type = message_type_from_string(env.type_name);

  json::Value* from = field("from");
  if (!from) return bad("missing envelope field 'from'");
  if (!from->is_string()) return mistyped("from", "a string", *from);
  if (!is_uuid(from->as_string())) {
    const std::string& f = from->as_string();
    bool printable = !f.empty() && f.size() <= 128;
    for (char ch : f) printable = printable && ch > ' ' && ch < 0x7f;
    if (!any_from || !printable) return bad("envelope field 'from' is not a UUID");
  }
  env.from = from->as_string();

  json::Value* to = field("to");
  if (!to) return bad("missing envelope field 'to'");
  if (!to->is_string()) return mistyped("to", "a string", *to);
  if (to->as_string().size() > kMaxToLen) return bad("envelope field 'to' is too long");
  env.to = to->as_string();

  json::Value* ts = field("ts");
  if (!ts) return bad("missing envelope field 'ts'");
  if (!ts->is_int()) return mistyped("ts", "an integer", *ts);
  env.ts = ts->as_int();

  json::Value* payload = field("payload");
  if (!payload) return bad("missing envelope field 'payload'");
  if (!payload->is_object()) return mistyped("payload", "an object", *payload);
  env.payload = std::move(*payload);

  if (json::Value* sig = field("sig"); sig && !sig->is_null()) {
    if (!sig->is_string()) return mistyped("sig", "a string", *sig);
    if (!sig->as_string().empty()) {
      if (!b64_decode(sig->as_string()).ok()) return bad("envelope field 'sig' is not base64");
      env.sig = sig->as_string();
    }
  }

  for (auto it = obj.begin(); it != obj.end();) {
    if (is_standard_field(it->first)) {
      ++it;
      continue;
    }
    auto node = obj.extract(it++);
    env.extra.insert(std::move(node));
  }
  return env;
}

std::string serialize(const Envelope& env) {
  // The emitted type name: the received one when it still names env.type (keeps aliases and
  // unknown names intact when forwarding), else the canonical name.
  std::string_view type_name = env.type_name;
  if (env.type && message_type_from_string(env.type_name) != env.type)
    type_name = to_string(*env.type);

  const json::Value type_v(type_name), from_v(env.from), to_v(env.to), ts_v(env.ts), sig_v(env.sig);
  std::vector<std::pair<std::string_view, const json::Value*>> members{{"type", &type_v},
                                                                       {"from", &from_v},
                                                                       {"to", &to_v},
                                                                       {"ts", &ts_v},
                                                                       {"payload", &env.payload}};
  if (!env.sig.empty()) members.emplace_back("sig", &sig_v);
  for (const auto& [k, v] : env.extra) {
    if (!is_standard_field(k)) members.emplace_back(k, &v);
  }
  std::sort(members.begin(), members.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });

  using json::detail::Style;
  std::string out;
  out += '{';
  bool first = true;
  for (const auto& [k, v] : members) {
    if (!first) out += ',';
    first = false;
    json::detail::append_string(out, k, Style::Ascii);
    out += ':';
    json::detail::append_value(out, *v, Style::Ascii);
  }
  out += '}';
  return out;
}

Envelope make_envelope(MessageType type, std::string from, std::string to, std::int64_t ts,
                       json::Value payload) {
  Envelope env;
  env.type = type;
  env.type_name = std::string(to_string(type));
  env.from = std::move(from);
  env.to = std::move(to);
  env.ts = ts;
  env.payload = std::move(payload);
  return env;
}

}  // namespace socp
