// Codec harness: everything that turns untrusted bytes into values, with round trips that
// must hold for any input the parsers accept.
#include "fuzz_harness.h"
#include "fuzz_world.h"
#include "socp/bytes.h"
#include "socp/client_core.h"
#include "socp/messages.h"

namespace socp::fuzz {
namespace {

// A payload that decodes as T must encode to something that decodes again, to the same
// encoding (to_json is a fixed point after one round).
template <class T>
void payload_round_trip(const json::Value& payload, const char* name) {
  auto a = T::from_json(payload);
  if (!a) return;
  const json::Value once = a->to_json();
  auto b = T::from_json(once);
  if (!b) finding(std::string(name) + ": to_json output does not decode", json::canonical(once));
  if (!(b->to_json() == once)) finding(std::string(name) + ": to_json is not stable");
}

void all_payloads(const json::Value& p) {
  payload_round_trip<msg::ServerEntry>(p, "ServerEntry");
  payload_round_trip<msg::DirectoryEntry>(p, "DirectoryEntry");
  payload_round_trip<msg::ServerHello>(p, "ServerHello");
  payload_round_trip<msg::ServerWelcome>(p, "ServerWelcome");
  payload_round_trip<msg::UserAdvertise>(p, "UserAdvertise");
  payload_round_trip<msg::UserRemove>(p, "UserRemove");
  payload_round_trip<msg::DirectorySnapshot>(p, "DirectorySnapshot");
  payload_round_trip<msg::ServerDeliver>(p, "ServerDeliver");
  payload_round_trip<msg::UserHello>(p, "UserHello");
  payload_round_trip<msg::UserRegister>(p, "UserRegister");
  payload_round_trip<msg::KeyRecover>(p, "KeyRecover");
  payload_round_trip<msg::KeyRecoverResponse>(p, "KeyRecoverResponse");
  payload_round_trip<msg::PubkeyRequest>(p, "PubkeyRequest");
  payload_round_trip<msg::PubkeyResponse>(p, "PubkeyResponse");
  payload_round_trip<msg::ListEntry>(p, "ListEntry");
  payload_round_trip<msg::ListResponse>(p, "ListResponse");
  payload_round_trip<msg::MsgDirect>(p, "MsgDirect");
  payload_round_trip<msg::UserDeliver>(p, "UserDeliver");
  payload_round_trip<msg::FileStart>(p, "FileStart");
  payload_round_trip<msg::FileChunk>(p, "FileChunk");
  payload_round_trip<msg::FileEnd>(p, "FileEnd");
  payload_round_trip<msg::Ack>(p, "Ack");
  payload_round_trip<msg::ErrorMsg>(p, "ErrorMsg");
  payload_round_trip<msg::MsgPublicChannel>(p, "MsgPublicChannel");
  payload_round_trip<msg::ChannelShare>(p, "ChannelShare");
  payload_round_trip<msg::PublicChannelKeyShare>(p, "PublicChannelKeyShare");
  payload_round_trip<msg::StoredChannelShare>(p, "StoredChannelShare");
  payload_round_trip<msg::PublicChannelStoredShares>(p, "PublicChannelStoredShares");
  payload_round_trip<msg::PublicChannelUpdated>(p, "PublicChannelUpdated");
  payload_round_trip<msg::PublicChannelAdd>(p, "PublicChannelAdd");
  (void)msg::PublicChannelStoredShares::is_stored_form(p);
  if (const json::Value* meta = p.find("meta")) (void)msg::display_name_of(*meta, "x");
}

void json_round_trip(std::string_view input) {
  auto v = json::parse(input);
  if (!v) return;
  const std::string c = json::canonical(v.value());
  for (const std::string& form :
       {c, json::canonical_utf8(v.value()), json::canonical_spaced(v.value())}) {
    json::ParseLimits roomy;
    roomy.max_bytes = 64u << 20;
    roomy.max_string = 64u << 20;
    auto again = json::parse(form, roomy);
    if (!again) finding("a canonical form does not parse: " + again.error().detail, form);
    if (!(again.value() == v.value())) finding("a canonical form parses to another value", form);
  }
  auto back = json::parse(c);
  if (back && json::canonical(back.value()) != c) finding("canonical is not a fixed point", c);
}

void envelope_round_trip(std::string_view input) {
  auto env = parse_envelope(input);
  if (!env) return;
  if (env->type && message_type_from_string(to_string(*env->type)) != env->type) {
    finding("type name does not round-trip: " + env->type_name);
  }
  const std::string s = serialize(env.value());
  json::ParseLimits roomy;
  roomy.max_bytes = 64u << 20;
  roomy.max_string = 64u << 20;
  auto again = parse_envelope(s, roomy);
  if (!again) finding("a serialized envelope does not parse: " + again.error().detail, s);
  if (serialize(again.value()) != s) finding("serialize is not a fixed point", s);
  all_payloads(env->payload);

  // Signatures over fuzzed payloads: verification must simply say no.
  const PublicKey& sa = key("server_a").public_key();
  (void)verify_payload(sa, env->payload, env->sig);
  const std::string* ct = json::get_string(env->payload, "ciphertext");
  const std::string* csig = json::get_string(env->payload, "content_sig");
  if (ct && csig) (void)verify_content(sa, *ct, env->from, env->to, env->ts, *csig);
  for (const char* field : {"pubkey", "sender_pub", "server_pub", "creator_pub"}) {
    if (const std::string* k = json::get_string(env->payload, field)) (void)PublicKey::parse(*k);
  }
}

void small_limits(std::string_view input) {
  json::ParseLimits tight;
  tight.max_bytes = 4096;
  tight.max_depth = 4;
  tight.max_string = 32;
  (void)parse_envelope(input, tight);
}

void text_helpers(std::string_view input) {
  if (auto b = b64_decode(input)) {
    const std::string enc = b64url_encode(b.value());
    auto again = b64_decode(enc);
    if (!again || again.value() != b.value()) finding("base64 does not round-trip", input);
  }
  std::string joined;
  for (const std::string& piece : split_utf8(input, kOaepMaxPlaintext)) {
    if (piece.empty() || piece.size() > kOaepMaxPlaintext) finding("split_utf8 piece size");
    joined += piece;
  }
  if (joined != input) finding("split_utf8 lost bytes");
  (void)format_fingerprint(input.substr(0, 256));
  (void)is_uuid(input);
}

}  // namespace

void codec(std::string_view input) {
  envelope_round_trip(input);
  json_round_trip(input);
  small_limits(input);
  text_helpers(input);
  if (input.size() < 8192) (void)PublicKey::parse(input);
}

}  // namespace socp::fuzz
