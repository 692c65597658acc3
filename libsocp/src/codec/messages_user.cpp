// User <-> server payloads (docs/protocol.md §6): hello, accounts, key look-up, /list, DMs.
#include <algorithm>

#include "codec/message_fields.h"
#include "socp/messages.h"

namespace socp::msg {

using namespace detail;  // NOLINT(google-build-using-namespace): field readers

// --- USER_HELLO ------------------------------------------------------------------------------
// Only pubkey is required: other implementations' clients omit client and enc_pubkey.

Result<UserHello> UserHello::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  UserHello h;
  SOCP_CODEC_ASSIGN(h.client, opt_string(v, "client"));
  // `pubkey_b64u`: another implementation's name for the same field.
  SOCP_CODEC_ASSIGN(
      h.pubkey,
      req_string(v, v.find("pubkey") || !v.find("pubkey_b64u") ? "pubkey" : "pubkey_b64u"));
  SOCP_CODEC_ASSIGN(h.enc_pubkey, opt_string(v, "enc_pubkey"));
  SOCP_CODEC_ASSIGN(h.meta, opt_object(v, "meta"));
  SOCP_CODEC_ASSIGN(h.ts, opt_int(v, "ts"));
  SOCP_CODEC_ASSIGN(h.server_id, opt_string(v, "server_id"));
  SOCP_CODEC_ASSIGN(h.nonce, opt_string(v, "nonce"));
  SOCP_CODEC_ASSIGN(h.caps, opt_string_array(v, "caps"));
  return h;
}

json::Value UserHello::to_json() const {
  json::Object o{{"client", client},
                 {"pubkey", pubkey},
                 {"enc_pubkey", enc_pubkey},
                 {"meta", meta.is_object() ? meta : json::Value(json::Object{})}};
  if (ts) o.emplace("ts", *ts);
  if (!server_id.empty()) o.emplace("server_id", server_id);
  if (!nonce.empty()) o.emplace("nonce", nonce);
  if (!caps.empty()) o.emplace("caps", encode_strings(caps));
  return o;
}

// --- USER_CHALLENGE --------------------------------------------------------------------------

Result<UserChallenge> UserChallenge::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  UserChallenge c;
  SOCP_CODEC_ASSIGN(c.nonce, req_string(v, "nonce"));
  SOCP_CODEC_ASSIGN(c.server_id, req_string(v, "server_id"));
  return c;
}

json::Value UserChallenge::to_json() const {
  return json::Object{{"nonce", nonce}, {"server_id", server_id}};
}

// --- USER_REGISTER ---------------------------------------------------------------------------

Result<UserRegister> UserRegister::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  UserRegister r;
  SOCP_CODEC_ASSIGN(r.user_id, req_string(v, "user_id"));
  SOCP_CODEC_ASSIGN(r.pubkey, req_string(v, "pubkey"));
  SOCP_CODEC_ASSIGN(r.privkey_store, req_string(v, "privkey_store"));
  SOCP_CODEC_ASSIGN(r.pake_password, req_string(v, "pake_password"));
  SOCP_CODEC_ASSIGN(r.meta, opt_object(v, "meta"));
  SOCP_CODEC_ASSIGN(r.ts, opt_int(v, "ts"));
  SOCP_CODEC_ASSIGN(r.invite, opt_string(v, "invite"));
  return r;
}

json::Value UserRegister::to_json() const {
  json::Object o{{"user_id", user_id},
                 {"pubkey", pubkey},
                 {"privkey_store", privkey_store},
                 {"pake_password", pake_password},
                 {"meta", meta.is_object() ? meta : json::Value(json::Object{})}};
  if (ts) o.emplace("ts", *ts);
  if (!invite.empty()) o.emplace("invite", invite);
  return o;
}

// --- KEY_RECOVER / KEY_RECOVER_RESPONSE ------------------------------------------------------

Result<KeyRecover> KeyRecover::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  KeyRecover k;
  SOCP_CODEC_ASSIGN(k.user_id, req_string(v, "user_id"));
  SOCP_CODEC_ASSIGN(k.proof, req_string(v, "proof"));
  return k;
}

json::Value KeyRecover::to_json() const {
  return json::Object{{"user_id", user_id}, {"proof", proof}};
}

Result<KeyRecoverResponse> KeyRecoverResponse::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  KeyRecoverResponse k;
  SOCP_CODEC_ASSIGN(k.user_id, req_string(v, "user_id"));
  SOCP_CODEC_ASSIGN(k.privkey_store, req_string(v, "privkey_store"));
  return k;
}

json::Value KeyRecoverResponse::to_json() const {
  return json::Object{{"user_id", user_id}, {"privkey_store", privkey_store}};
}

// --- PUBKEY_REQUEST / PUBKEY_RESPONSE --------------------------------------------------------

Result<PubkeyRequest> PubkeyRequest::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  PubkeyRequest p;
  SOCP_CODEC_ASSIGN(p.user_id, req_string(v, "user_id"));
  return p;
}

json::Value PubkeyRequest::to_json() const {
  return json::Object{{"user_id", user_id}};
}

Result<PubkeyResponse> PubkeyResponse::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  PubkeyResponse p;
  SOCP_CODEC_ASSIGN(p.user_id, req_string(v, "user_id"));
  SOCP_CODEC_ASSIGN(p.pubkey, req_string(v, "pubkey"));
  // Another implementation answers servers with {user_id, pubkey} only.
  SOCP_CODEC_ASSIGN(p.server_id, opt_string(v, "server_id"));
  SOCP_CODEC_ASSIGN(p.dir_sig, opt_string(v, "dir_sig"));
  return p;
}

json::Value PubkeyResponse::to_json() const {
  return json::Object{
      {"user_id", user_id}, {"pubkey", pubkey}, {"server_id", server_id}, {"dir_sig", dir_sig}};
}

// --- LIST_RESPONSE ---------------------------------------------------------------------------
// Only user_id is required per entry: the rest is display information with safe defaults.

Result<ListEntry> ListEntry::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v, "list entry"));
  ListEntry e;
  SOCP_CODEC_ASSIGN(e.user_id, req_string(v, "user_id"));
  SOCP_CODEC_ASSIGN(e.display_name, opt_string(v, "display_name"));
  SOCP_CODEC_ASSIGN(e.server_id, opt_string(v, "server_id"));
  SOCP_CODEC_ASSIGN(e.online, opt_bool(v, "online", false));
  SOCP_CODEC_ASSIGN(e.pubkey, opt_string(v, "pubkey"));
  SOCP_CODEC_ASSIGN(e.server_dialect, opt_string(v, "server_dialect"));
  // Leniently: another implementation's `caps` of another shape is not a reason to drop the
  // entry; only short strings count, at most 16 of them.
  if (const json::Value* caps = v.find("caps"); caps && caps->is_array()) {
    for (const json::Value& c : caps->as_array()) {
      if (e.caps.size() >= 16) break;
      if (c.is_string() && c.as_string().size() <= 64) e.caps.push_back(c.as_string());
    }
  }
  return e;
}

json::Value ListEntry::to_json() const {
  json::Object o{{"user_id", user_id},
                 {"display_name", display_name},
                 {"server_id", server_id},
                 {"online", online},
                 {"pubkey", pubkey}};
  if (!server_dialect.empty()) o.emplace("server_dialect", server_dialect);
  if (!caps.empty()) o.emplace("caps", encode_strings(caps));
  return o;
}

Result<ListRequest> ListRequest::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  ListRequest r;
  SOCP_CODEC_ASSIGN(r.after, opt_string(v, "after"));
  std::optional<std::int64_t> limit;
  SOCP_CODEC_ASSIGN(limit, opt_int(v, "limit"));
  if (limit && *limit < 0) return bad("field 'limit' must not be negative");
  r.limit = limit.value_or(0);
  return r;
}

json::Value ListRequest::to_json() const {
  json::Object o;
  if (!after.empty()) o["after"] = after;
  if (limit > 0) o["limit"] = limit;
  return o;
}

Result<ListResponse> ListResponse::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  ListResponse l;
  const json::Array* users = nullptr;
  SOCP_CODEC_ASSIGN(users, req_array(v, "users"));
  SOCP_CODEC_ASSIGN(l.users, decode_array<ListEntry>(*users, "users"));
  SOCP_CODEC_ASSIGN(l.online_users, opt_string_array(v, "online_users"));
  SOCP_CODEC_ASSIGN(l.next, opt_string(v, "next"));
  return l;
}

json::Value ListResponse::to_json() const {
  std::vector<const ListEntry*> sorted;
  sorted.reserve(users.size());
  for (const auto& u : users) sorted.push_back(&u);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const ListEntry* a, const ListEntry* b) { return a->user_id < b->user_id; });
  json::Array list;
  list.reserve(sorted.size());
  for (const ListEntry* u : sorted) list.push_back(u->to_json());
  std::vector<std::string> online = online_users;
  std::sort(online.begin(), online.end());
  json::Object o{{"users", std::move(list)}, {"online_users", encode_strings(online)}};
  if (!next.empty()) o["next"] = next;
  return o;
}

// --- MSG_DIRECT / USER_DELIVER ---------------------------------------------------------------

Result<MsgDirect> MsgDirect::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  MsgDirect m;
  SOCP_CODEC_ASSIGN(m.ciphertext, req_string(v, "ciphertext"));
  SOCP_CODEC_ASSIGN(m.sender_pub, req_string(v, "sender_pub"));
  SOCP_CODEC_ASSIGN(m.content_sig, req_string(v, "content_sig"));
  SOCP_CODEC_ASSIGN(m.msg_id, opt_string(v, "msg_id"));
  SOCP_CODEC_ASSIGN(m.parts, opt_parts(v));
  SOCP_CODEC_ASSIGN(m.is_public, opt_bool(v, "public", false));
  return m;
}

json::Value MsgDirect::to_json() const {
  json::Object o{
      {"ciphertext", ciphertext}, {"sender_pub", sender_pub}, {"content_sig", content_sig}};
  if (!msg_id.empty()) o.emplace("msg_id", msg_id);
  if (!parts.is_null()) o.emplace("parts", parts);
  if (is_public) o.emplace("public", true);
  return o;
}

Result<UserDeliver> UserDeliver::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  UserDeliver d;
  SOCP_CODEC_ASSIGN(d.ciphertext, req_string(v, "ciphertext"));
  SOCP_CODEC_ASSIGN(d.sender, req_string(v, "sender"));
  SOCP_CODEC_ASSIGN(d.sender_pub, req_string(v, "sender_pub"));
  SOCP_CODEC_ASSIGN(d.content_sig, req_string(v, "content_sig"));
  SOCP_CODEC_ASSIGN(d.msg_id, opt_string(v, "msg_id"));
  SOCP_CODEC_ASSIGN(d.parts, opt_parts(v));
  SOCP_CODEC_ASSIGN(d.is_public, opt_bool(v, "public", false));
  return d;
}

json::Value UserDeliver::to_json() const {
  json::Object o{{"ciphertext", ciphertext},
                 {"sender", sender},
                 {"sender_pub", sender_pub},
                 {"content_sig", content_sig}};
  if (!msg_id.empty()) o.emplace("msg_id", msg_id);
  if (!parts.is_null()) o.emplace("parts", parts);
  if (is_public) o.emplace("public", true);
  return o;
}

// --- display ---------------------------------------------------------------------------------

Status require_only_fields(const json::Value& payload,
                           std::initializer_list<std::string_view> allowed, const char* what) {
  SOCP_TRY(require_object(payload, what));
  for (const auto& [k, v] : payload.as_object()) {
    bool ok = false;
    for (std::string_view a : allowed) ok = ok || k == a;
    if (!ok) return bad(std::string(what) + ": unexpected field '" + k.substr(0, 64) + "'");
  }
  return ok_status();
}

std::string display_name_of(const json::Value& meta, const std::string& id) {
  const std::string* name = json::get_string(meta, "display_name");
  if (name && !name->empty()) return *name;
  const std::string* username = json::get_string(meta, "username");
  return username && !username->empty() ? *username : id;
}

}  // namespace socp::msg
