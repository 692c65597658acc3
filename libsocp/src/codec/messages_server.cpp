// Server <-> server payloads (docs/protocol.md §5).
#include <array>

#include "codec/message_fields.h"
#include "socp/messages.h"

namespace socp::msg {

using namespace detail;  // NOLINT(google-build-using-namespace): field readers

// --- ServerEntry -----------------------------------------------------------------------------

Result<ServerEntry> ServerEntry::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v, "server entry"));
  ServerEntry e;
  SOCP_CODEC_ASSIGN(e.server_id, req_string(v, "server_id"));
  SOCP_CODEC_ASSIGN(e.host, req_string(v, "host"));
  SOCP_CODEC_ASSIGN(e.port, req_port(v, "port"));
  SOCP_CODEC_ASSIGN(e.pubkey, req_string(v, "pubkey"));
  SOCP_CODEC_ASSIGN(e.caps, opt_string_array(v, "caps"));
  return e;
}

json::Value ServerEntry::to_json() const {
  json::Object o{{"server_id", server_id}, {"host", host}, {"port", port}, {"pubkey", pubkey}};
  if (!caps.empty()) o.emplace("caps", encode_strings(caps));
  return o;
}

// --- DirectoryEntry --------------------------------------------------------------------------

Result<DirectoryEntry> DirectoryEntry::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v, "directory entry"));
  DirectoryEntry e;
  SOCP_CODEC_ASSIGN(e.user_id, req_string(v, "user_id"));
  SOCP_CODEC_ASSIGN(e.server_id, req_string(v, "server_id"));
  SOCP_CODEC_ASSIGN(e.pubkey, req_string(v, "pubkey"));
  SOCP_CODEC_ASSIGN(e.meta, opt_object(v, "meta"));
  SOCP_CODEC_ASSIGN(e.online, opt_bool(v, "online", false));
  SOCP_CODEC_ASSIGN(e.since, opt_int(v, "since"));
  if (const json::Value* p = v.find("proof"); p && !p->is_null()) e.proof = *p;
  return e;
}

json::Value DirectoryEntry::to_json() const {
  json::Object o{{"user_id", user_id},
                 {"server_id", server_id},
                 {"pubkey", pubkey},
                 {"meta", meta.is_object() ? meta : json::Value(json::Object{})},
                 {"online", online}};
  if (since) o.emplace("since", *since);
  if (!proof.is_null()) o.emplace("proof", proof);
  return o;
}

// --- ServerHello (JOIN / LINK / ANNOUNCE) ----------------------------------------------------

Result<ServerHello> ServerHello::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  ServerHello h;
  SOCP_CODEC_ASSIGN(h.host, req_string(v, "host"));
  SOCP_CODEC_ASSIGN(h.port, req_port(v, "port"));
  SOCP_CODEC_ASSIGN(h.pubkey, req_string(v, "pubkey"));
  SOCP_CODEC_ASSIGN(h.caps, opt_string_array(v, "caps"));
  SOCP_CODEC_ASSIGN(h.nonce, opt_string(v, "nonce"));
  SOCP_CODEC_ASSIGN(h.peer_nonce, opt_string(v, "peer_nonce"));
  return h;
}

json::Value ServerHello::to_json() const {
  json::Object o{{"host", host}, {"port", port}, {"pubkey", pubkey}};
  if (!caps.empty()) o.emplace("caps", encode_strings(caps));
  if (!nonce.empty()) o.emplace("nonce", nonce);
  if (!peer_nonce.empty()) o.emplace("peer_nonce", peer_nonce);
  return o;
}

// --- ServerIntroduce -------------------------------------------------------------------------

Result<ServerIntroduce> ServerIntroduce::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  ServerIntroduce i;
  SOCP_CODEC_ASSIGN(i.server_id, req_string(v, "server_id"));
  SOCP_CODEC_ASSIGN(i.host, req_string(v, "host"));
  SOCP_CODEC_ASSIGN(i.port, req_port(v, "port"));
  SOCP_CODEC_ASSIGN(i.pubkey, req_string(v, "pubkey"));
  SOCP_CODEC_ASSIGN(i.caps, opt_string_array(v, "caps"));
  return i;
}

json::Value ServerIntroduce::to_json() const {
  json::Object o{{"server_id", server_id}, {"host", host}, {"port", port}, {"pubkey", pubkey}};
  if (!caps.empty()) o.emplace("caps", encode_strings(caps));
  return o;
}

// --- ServerWelcome ---------------------------------------------------------------------------

Result<ServerWelcome> ServerWelcome::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  ServerWelcome w;
  // Leniency for other implementations: `assigned_id` may be null or absent (keep your id),
  // the list may be absent (empty), and entries without the fields socp needs are skipped.
  SOCP_CODEC_ASSIGN(w.assigned_id, opt_string(v, "assigned_id"));
  // Peers send the server list as `servers` or as `clients`; prefer `servers` when both are.
  const char* list_key = v.find("servers") ? "servers" : v.find("clients") ? "clients" : nullptr;
  const json::Array* list = nullptr;
  if (list_key) {
    SOCP_CODEC_ASSIGN(list, req_array(v, list_key));
    for (const json::Value& e : *list) {
      if (auto entry = ServerEntry::from_json(e)) w.servers.push_back(std::move(entry).value());
    }
  }
  if (const json::Value* users = v.find("users"); users && !users->is_null()) {
    SOCP_CODEC_ASSIGN(list, req_array(v, "users"));
    SOCP_CODEC_ASSIGN(w.users, decode_array<DirectoryEntry>(*list, "users"));
  }
  SOCP_CODEC_ASSIGN(w.caps, opt_string_array(v, "caps"));
  SOCP_CODEC_ASSIGN(w.server_id, opt_string(v, "server_id"));
  SOCP_CODEC_ASSIGN(w.server_pub, opt_string(v, "server_pub"));
  SOCP_CODEC_ASSIGN(w.nonce, opt_string(v, "nonce"));
  SOCP_CODEC_ASSIGN(w.peer_nonce, opt_string(v, "peer_nonce"));
  return w;
}

json::Value ServerWelcome::to_json() const {
  json::Value list = encode_array(servers);
  json::Object o{{"assigned_id", assigned_id},
                 {"servers", list},
                 {"clients", list},
                 {"users", encode_array(users)}};
  if (!caps.empty()) o.emplace("caps", encode_strings(caps));
  if (!server_id.empty()) o.emplace("server_id", server_id);
  if (!server_pub.empty()) o.emplace("server_pub", server_pub);
  if (!nonce.empty()) o.emplace("nonce", nonce);
  if (!peer_nonce.empty()) o.emplace("peer_nonce", peer_nonce);
  return o;
}

// --- UserAdvertise ---------------------------------------------------------------------------

Result<UserAdvertise> UserAdvertise::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  UserAdvertise a;
  SOCP_CODEC_ASSIGN(a.user_id, req_string(v, "user_id"));
  SOCP_CODEC_ASSIGN(a.server_id, req_string(v, "server_id"));
  SOCP_CODEC_ASSIGN(a.meta, opt_object(v, "meta"));
  // The key travels top-level (socp, spec text) and/or as meta.pubkey (what peers read).
  // The top-level one wins when both are present.
  if (v.find("pubkey")) {
    SOCP_CODEC_ASSIGN(a.pubkey, req_string(v, "pubkey"));
  } else if (a.meta.find("pubkey")) {
    auto r = req_string(a.meta, "pubkey");
    if (!r.ok()) return bad("field 'meta.pubkey' must be a string");
    a.pubkey = std::move(r).value();
  }  // else: a location-only advert (empty pubkey); the receiver asks the home server
  SOCP_CODEC_ASSIGN(a.since, opt_int(v, "since"));
  if (const json::Value* p = v.find("proof"); p && !p->is_null()) a.proof = *p;
  return a;
}

json::Value UserAdvertise::to_json() const {
  json::Value m = meta.is_object() ? meta : json::Value(json::Object{});
  m.as_object()["pubkey"] = pubkey;
  json::Object o{
      {"user_id", user_id}, {"server_id", server_id}, {"pubkey", pubkey}, {"meta", std::move(m)}};
  if (since) o.emplace("since", *since);
  if (!proof.is_null()) o.emplace("proof", proof);
  return o;
}

// --- UserRemove ------------------------------------------------------------------------------

Result<UserRemove> UserRemove::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  UserRemove r;
  SOCP_CODEC_ASSIGN(r.user_id, req_string(v, "user_id"));
  SOCP_CODEC_ASSIGN(r.server_id, req_string(v, "server_id"));
  return r;
}

json::Value UserRemove::to_json() const {
  return json::Object{{"user_id", user_id}, {"server_id", server_id}};
}

// --- DirectorySnapshot -----------------------------------------------------------------------

Result<DirectorySnapshot> DirectorySnapshot::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  DirectorySnapshot s;
  SOCP_CODEC_ASSIGN(s.server_id, req_string(v, "server_id"));
  const json::Array* users = nullptr;
  SOCP_CODEC_ASSIGN(users, req_array(v, "users"));
  SOCP_CODEC_ASSIGN(s.users, decode_array<DirectoryEntry>(*users, "users"));
  return s;
}

json::Value DirectorySnapshot::to_json() const {
  return json::Object{{"server_id", server_id}, {"users", encode_array(users)}};
}

// --- ServerDeliver ---------------------------------------------------------------------------

namespace {
constexpr std::array<std::string_view, 9> kDeliverFields{"user_id",    "sender",      "ciphertext",
                                                         "sender_pub", "content_sig", "orig_ts",
                                                         "inner_type", "msg_id",      "parts"};
bool is_deliver_field(std::string_view k) {
  for (auto f : kDeliverFields) {
    if (f == k) return true;
  }
  return false;
}
}  // namespace

Result<ServerDeliver> ServerDeliver::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  ServerDeliver d;
  SOCP_CODEC_ASSIGN(d.user_id, req_string(v, "user_id"));
  SOCP_CODEC_ASSIGN(d.sender, req_string(v, "sender"));
  SOCP_CODEC_ASSIGN(d.ciphertext, opt_string(v, "ciphertext"));
  SOCP_CODEC_ASSIGN(d.sender_pub, opt_string(v, "sender_pub"));
  SOCP_CODEC_ASSIGN(d.content_sig, opt_string(v, "content_sig"));
  SOCP_CODEC_ASSIGN(d.orig_ts, opt_int(v, "orig_ts"));
  SOCP_CODEC_ASSIGN(d.inner_type, opt_string(v, "inner_type"));
  SOCP_CODEC_ASSIGN(d.msg_id, opt_string(v, "msg_id"));
  SOCP_CODEC_ASSIGN(d.parts, opt_parts(v));
  SOCP_CODEC_ASSIGN(d.is_public, opt_bool(v, "public", false));
  for (const auto& [k, val] : v.as_object()) {
    if (!is_deliver_field(k)) d.extra.emplace(k, val);
  }
  return d;
}

json::Value ServerDeliver::to_json() const {
  json::Object o = extra;
  o["user_id"] = user_id;
  o["sender"] = sender;
  o["ciphertext"] = ciphertext;
  o["sender_pub"] = sender_pub;
  o["content_sig"] = content_sig;
  if (orig_ts) {
    o["orig_ts"] = *orig_ts;
  } else {
    o.erase("orig_ts");
  }
  if (!inner_type.empty()) {
    o["inner_type"] = inner_type;
  } else {
    o.erase("inner_type");
  }
  if (!msg_id.empty()) o["msg_id"] = msg_id;
  if (!parts.is_null()) o["parts"] = parts;
  if (is_public) o["public"] = true;
  return o;
}

}  // namespace socp::msg
