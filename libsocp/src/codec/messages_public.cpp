// Public channel payloads (docs/protocol.md §6, docs/protocol-notes.md "Public channel"):
// MSG_PUBLIC_CHANNEL, PUBLIC_CHANNEL_KEY_SHARE (live and stored forms), PUBLIC_CHANNEL_UPDATED,
// PUBLIC_CHANNEL_ADD, and the exact bytes the share signatures cover.
#include "codec/message_fields.h"
#include "socp/messages.h"

namespace socp::msg {

using namespace detail;  // NOLINT(google-build-using-namespace): field readers

// --- MSG_PUBLIC_CHANNEL ----------------------------------------------------------------------

Result<MsgPublicChannel> MsgPublicChannel::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  MsgPublicChannel m;
  SOCP_CODEC_ASSIGN(m.sender, opt_string(v, "sender"));
  SOCP_CODEC_ASSIGN(m.ciphertext, req_string(v, "ciphertext"));
  SOCP_CODEC_ASSIGN(m.key_id, req_string(v, "key_id"));
  SOCP_CODEC_ASSIGN(m.sender_pub, req_string(v, "sender_pub"));
  SOCP_CODEC_ASSIGN(m.content_sig, req_string(v, "content_sig"));
  return m;
}

json::Value MsgPublicChannel::to_json() const {
  json::Object o{{"ciphertext", ciphertext},
                 {"key_id", key_id},
                 {"sender_pub", sender_pub},
                 {"content_sig", content_sig}};
  if (!sender.empty()) o["sender"] = sender;
  return o;
}

// --- PUBLIC_CHANNEL_KEY_SHARE (live form) ------------------------------------------------------

Result<ChannelShare> ChannelShare::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v, "share"));
  ChannelShare s;
  SOCP_CODEC_ASSIGN(s.member, req_string(v, "member"));
  SOCP_CODEC_ASSIGN(s.wrapped, req_string(v, "wrapped"));
  SOCP_CODEC_ASSIGN(s.sig, req_string(v, "sig"));
  return s;
}

json::Value ChannelShare::to_json() const {
  return json::Object{{"member", member}, {"wrapped", wrapped}, {"sig", sig}};
}

Result<PublicChannelKeyShare> PublicChannelKeyShare::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  PublicChannelKeyShare k;
  SOCP_CODEC_ASSIGN(k.sender, opt_string(v, "sender"));
  SOCP_CODEC_ASSIGN(k.key_id, req_string(v, "key_id"));
  SOCP_CODEC_ASSIGN(k.creator_pub, req_string(v, "creator_pub"));
  SOCP_CODEC_ASSIGN(k.content_sig, req_string(v, "content_sig"));
  const json::Array* shares = nullptr;
  SOCP_CODEC_ASSIGN(shares, req_array(v, "shares"));
  SOCP_CODEC_ASSIGN(k.shares, decode_array<ChannelShare>(*shares, "shares"));
  return k;
}

json::Value PublicChannelKeyShare::to_json() const {
  json::Object o{{"key_id", key_id},
                 {"shares", encode_array(shares)},
                 {"creator_pub", creator_pub},
                 {"content_sig", content_sig}};
  if (!sender.empty()) o["sender"] = sender;
  return o;
}

// --- PUBLIC_CHANNEL_KEY_SHARE (stored form) ----------------------------------------------------

Result<StoredChannelShare> StoredChannelShare::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v, "share"));
  StoredChannelShare s;
  SOCP_CODEC_ASSIGN(s.sender, req_string(v, "sender"));
  SOCP_CODEC_ASSIGN(s.key_id, req_string(v, "key_id"));
  SOCP_CODEC_ASSIGN(s.wrapped, req_string(v, "wrapped"));
  SOCP_CODEC_ASSIGN(s.sig, req_string(v, "sig"));
  SOCP_CODEC_ASSIGN(s.creator_pub, req_string(v, "creator_pub"));
  return s;
}

json::Value StoredChannelShare::to_json() const {
  return json::Object{{"sender", sender},
                      {"key_id", key_id},
                      {"wrapped", wrapped},
                      {"sig", sig},
                      {"creator_pub", creator_pub}};
}

Result<PublicChannelStoredShares> PublicChannelStoredShares::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  PublicChannelStoredShares p;
  const json::Array* shares = nullptr;
  SOCP_CODEC_ASSIGN(shares, req_array(v, "shares"));
  SOCP_CODEC_ASSIGN(p.shares, decode_array<StoredChannelShare>(*shares, "shares"));
  return p;
}

json::Value PublicChannelStoredShares::to_json() const {
  return json::Object{{"shares", encode_array(shares)}};
}

bool PublicChannelStoredShares::is_stored_form(const json::Value& payload) {
  return payload.is_object() && payload.find("key_id") == nullptr;
}

// --- PUBLIC_CHANNEL_UPDATED / PUBLIC_CHANNEL_ADD -----------------------------------------------

Result<PublicChannelUpdated> PublicChannelUpdated::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  PublicChannelUpdated u;
  SOCP_CODEC_ASSIGN(u.version, req_non_negative(v, "version"));
  SOCP_CODEC_ASSIGN(u.members, opt_string_array(v, "members"));
  return u;
}

json::Value PublicChannelUpdated::to_json() const {
  return json::Object{
      {"version", version}, {"members", encode_strings(members)}, {"wraps", json::Array{}}};
}

Result<PublicChannelAdd> PublicChannelAdd::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  PublicChannelAdd a;
  SOCP_CODEC_ASSIGN(a.user_id, req_string(v, "user_id"));
  SOCP_CODEC_ASSIGN(a.version, req_non_negative(v, "version"));
  return a;
}

json::Value PublicChannelAdd::to_json() const {
  return json::Object{{"user_id", user_id}, {"version", version}};
}

// --- signed bytes ------------------------------------------------------------------------------

std::string share_sig_message(const std::string& sender, const std::string& member,
                              const std::string& key_id, const std::string& wrapped) {
  std::string m;
  m.reserve(16 + sender.size() + member.size() + key_id.size() + wrapped.size());
  m.append("socp-share-v1|").append(sender).append("|").append(member).append("|");
  m.append(key_id).append("|").append(wrapped);
  return m;
}

std::string key_share_content(const std::string& sender, const std::string& key_id,
                              const std::vector<ChannelShare>& shares) {
  return json::canonical(
      json::Object{{"key_id", key_id}, {"sender", sender}, {"shares", encode_array(shares)}});
}

}  // namespace socp::msg
