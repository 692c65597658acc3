// Peer dialects (dialect.h): names, detection from hellos, and outgoing encodings.
#include "core/server/dialect.h"

#include <algorithm>
#include <cctype>

#include "socp/bytes.h"
#include "socp/messages.h"

namespace socp::core {

namespace {

json::Value* mut(json::Value& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.as_object().find(key);
  return it == obj.as_object().end() ? nullptr : &it->second;
}

constexpr std::string_view kPemB64urlPrefix = "LS0tLS1CRUdJTi";  // base64url("-----BEGIN")

/// Rewrites a key field (any accepted form) into the PEM text form, base64url.
bool to_pem(json::Value& obj, const char* field, PublicKeyCache& keys) {
  json::Value* v = mut(obj, field);
  if (!v || !v->is_string()) return false;
  auto k = keys.get(v->as_string());
  if (!k) return false;
  std::string pem = pem_b64url(*k);
  if (pem == v->as_string()) return false;
  *v = std::move(pem);
  return true;
}

bool each_entry(json::Value& obj, const char* list, const char* field, PublicKeyCache& keys) {
  json::Value* a = mut(obj, list);
  if (!a || !a->is_array()) return false;
  bool changed = false;
  for (json::Value& e : a->as_array()) changed = to_pem(e, field, keys) || changed;
  return changed;
}

}  // namespace

std::string_view dialect_name(Dialect d) noexcept {
  switch (d) {
    case Dialect::Socp:
      return "socp";
    case Dialect::Plain:
      return "plain";
    case Dialect::G43:
      return "g43";
    case Dialect::G56:
      return "g56";
    case Dialect::G17:
      return "g17";
  }
  return "plain";
}

std::optional<Dialect> dialect_from_name(std::string_view name) noexcept {
  std::string n(name);
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  for (Dialect d : {Dialect::Socp, Dialect::Plain, Dialect::G43, Dialect::G56, Dialect::G17}) {
    if (n == dialect_name(d)) return d;
  }
  return std::nullopt;
}

std::optional<Dialect> dialect_of_key(const std::string& key) {
  if (key.rfind(kPemB64urlPrefix, 0) == 0) return Dialect::G56;
  return std::nullopt;
}

std::optional<Dialect> dialect_of_hello(const json::Value& payload, bool has_socp_cap) {
  if (has_socp_cap) return Dialect::Socp;
  const std::string* key = json::get_string(payload, "pubkey");
  if (key) {
    if (auto d = dialect_of_key(*key)) return d;
  }
  // G17 announces itself with its id in the payload, and joins with its ws_uri.
  if (json::get_string(payload, "server_id") != nullptr) return Dialect::G17;
  if (json::get_string(payload, "ws_uri") != nullptr) return Dialect::G17;
  return std::nullopt;
}

std::string key_as_presented(Dialect d, const PublicKey& key) {
  return d == Dialect::G56 ? pem_b64url(key) : key.b64url();
}

std::string pem_b64url(const PublicKey& key) {
  std::string b64 = key.b64url();  // to the standard alphabet, padded, as PEM wants
  for (char& c : b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (b64.size() % 4 != 0) b64.push_back('=');
  std::string pem = "-----BEGIN PUBLIC KEY-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  pem += "-----END PUBLIC KEY-----\n";
  return b64url_encode(pem);
}

bool encode_for(Dialect d, MessageType type, json::Value& p, const std::string& self_id,
                PublicKeyCache& keys) {
  if (d == Dialect::Socp || !p.is_object()) return false;
  bool changed = false;
  auto& o = p.as_object();
  switch (type) {
    case MessageType::ServerHelloJoin:
    case MessageType::ServerHelloLink:
    case MessageType::ServerAnnounce:
      // G17 learns a peer's key only from SERVER_ANNOUNCE{server_id, pubkey}: harmless for
      // the others, so every plain peer gets the id.
      if (o.find("server_id") == o.end()) {
        o["server_id"] = self_id;
        changed = true;
      }
      if (d == Dialect::G56) changed = to_pem(p, "pubkey", keys) || changed;
      break;
    case MessageType::ServerWelcome:
      if (d == Dialect::G56) {
        changed = to_pem(p, "server_pub", keys) || changed;
        changed = each_entry(p, "servers", "pubkey", keys) || changed;
        changed = each_entry(p, "clients", "pubkey", keys) || changed;
        changed = each_entry(p, "users", "pubkey", keys) || changed;
      }
      break;
    case MessageType::UserAdvertise: {
      json::Value* meta = mut(p, "meta");
      if (d == Dialect::G43 && meta && meta->is_object() && !meta->find("username")) {
        const std::string* name = json::get_string(*meta, "display_name");
        const std::string* uid = json::get_string(p, "user_id");
        meta->as_object()["username"] = name ? *name : (uid ? *uid : std::string());
        changed = true;
      }
      if (d == Dialect::G56) {
        changed = to_pem(p, "pubkey", keys) || changed;
        if (meta) changed = to_pem(*meta, "pubkey", keys) || changed;
      }
      break;
    }
    case MessageType::ServerDeliver:
      if (d == Dialect::G43) {
        // G43 reads these two without checking: without them its handler crashes.
        if (o.find("inner_type") == o.end()) o["inner_type"] = std::string("MSG_DIRECT");
        if (o.find("public") == o.end()) o["public"] = false;
        changed = true;
      }
      if (d == Dialect::G56) changed = to_pem(p, "sender_pub", keys) || changed;
      break;
    case MessageType::PubkeyResponse:
      if (d == Dialect::G56) changed = to_pem(p, "pubkey", keys) || changed;
      break;
    default:
      break;
  }
  return changed;
}

std::optional<std::int64_t> envelope_ts_for(Dialect d, MessageType type,
                                            const json::Value& payload) {
  if (d == Dialect::Socp || type != MessageType::ServerDeliver) return std::nullopt;
  const json::Value* ts = payload.find("orig_ts");
  if (!ts || !ts->is_int()) return std::nullopt;
  return ts->as_int();
}

}  // namespace socp::core
