// Getting logged in: USER_REGISTER / KEY_RECOVER / USER_HELLO, their ACKs and ERRORs.
#include <algorithm>
#include <array>

#include "core/client/client_events.h"
#include "core/client/client_impl.h"
#include "socp/messages.h"

namespace socp {
namespace {

using Phase = ClientCore::Impl::Phase;

// Errors that mean "these credentials were refused" (socp-cli exit code 3).
bool is_auth_code(std::string_view code) {
  static constexpr std::array<std::string_view, 5> kAuth = {
      "USER_NOT_FOUND", "INVALID_SIG", "BAD_KEY", "NAME_IN_USE", "BAD_PASSWORD"};
  return std::find(kAuth.begin(), kAuth.end(), code) != kAuth.end();
}

json::Value meta_of(const ClientConfig& cfg) {
  json::Object meta{{"display_name", cfg.display_name}};
  // Client capabilities, carried to other users with our directory record.
  if (cfg.file_bulk) meta["caps"] = json::Array{json::Value(std::string(kFileBulkCapability))};
  return json::Value(std::move(meta));
}

constexpr std::string_view kUserChallengeRequest = "USER_CHALLENGE_REQUEST";
constexpr std::string_view kUserChallenge = "USER_CHALLENGE";

bool has_socp_capability(const std::vector<std::string>& caps) {
  return std::find(caps.begin(), caps.end(), kSocpCapability) != caps.end();
}

// The capabilities an ACK announces ("caps":["socp/1"]); bounded, strings only.
std::vector<std::string> caps_of(const json::Value& payload) {
  std::vector<std::string> out;
  const json::Value* caps = payload.find("caps");
  if (!caps || !caps->is_array()) return out;
  for (const json::Value& c : caps->as_array()) {
    if (out.size() >= 16) break;
    if (c.is_string() && !c.as_string().empty() && c.as_string().size() <= 64) {
      out.push_back(c.as_string());
    }
  }
  return out;
}

}  // namespace

void ClientCore::Impl::start_session() {
  if (!cfg.server_key.empty() && !expected_server_key) {
    fail(ClientOutcome::ProtocolError, "BAD_KEY",
         "the expected server key (--server-key) is not a usable RSA-4096 public key", "");
    return;
  }
  const bool have_key = cfg.key.has_value();
  switch (cfg.mode) {
    case ClientMode::Register: {
      if (!have_key || !is_uuid(cfg.user_id) || cfg.privkey_store.empty() ||
          cfg.pake_password.empty()) {
        fail(ClientOutcome::ProtocolError, "INTERNAL",
             "register needs a key, a user id, a sealed key and a password verifier", "");
        return;
      }
      set_phase(Phase::Registering);
      msg::UserRegister reg;
      reg.user_id = cfg.user_id;
      reg.pubkey = cfg.key->public_key().b64url();
      reg.privkey_store = cfg.privkey_store;
      reg.pake_password = cfg.pake_password;
      reg.meta = meta_of(cfg);
      // Signed by the key being registered: proof of possession; ts inside the signed payload.
      reg.ts = next_ts();
      send(MessageType::UserRegister, server_to(), *reg.ts, reg.to_json(), true);
      return;
    }
    case ClientMode::Login:
      if (!have_key || !is_uuid(cfg.user_id)) {
        fail(ClientOutcome::ProtocolError, "INTERNAL", "login needs a key and a user id", "");
        return;
      }
      begin_login();
      return;
    case ClientMode::Recover: {
      const std::string& who = cfg.user_id.empty() ? cfg.recover_name : cfg.user_id;
      if (who.empty() || cfg.recover_proof.empty() || cfg.password.empty()) {
        fail(ClientOutcome::ProtocolError, "INTERNAL",
             "recover needs a user id or name, a proof and the password", "");
        return;
      }
      set_phase(Phase::Recovering);
      msg::KeyRecover kr;
      kr.user_id = who;
      kr.proof = cfg.recover_proof;
      // Unsigned: this device has no key yet.
      send(MessageType::KeyRecover, server_to(), next_ts(), kr.to_json(), false);
      return;
    }
  }
}

void ClientCore::Impl::begin_login() {
  const ServerPin* pin = server_pin();
  const bool socp1 = (pin && has_socp_capability(pin->caps)) || has_socp_capability(session_caps);
  if (!socp1) {
    send_hello();
    return;
  }
  // Challenge-bound login: the server hands out a nonce for this connection, which goes
  // inside the signed hello, so a captured hello is worthless on any other connection.
  set_phase(Phase::Challenging);
  const std::string to = pin && !pin->server_id.empty() ? pin->server_id : server_to();
  Envelope env;
  env.type_name = std::string(kUserChallengeRequest);
  env.from = me();
  env.to = to;
  env.ts = next_ts();
  env.payload = json::Object{};
  frames.push_back(serialize(env));
}

void ClientCore::Impl::send_hello(const std::string& nonce, const std::string& challenge_server) {
  set_phase(Phase::LoggingIn);
  hello_challenged = !nonce.empty();
  msg::UserHello hello;
  hello.client = cfg.client_name;
  hello.pubkey = cfg.key->public_key().b64url();
  hello.enc_pubkey = hello.pubkey;  // one RSA key for both jobs (docs/protocol.md §3)
  hello.meta = meta_of(cfg);
  // Receipts, stored messages in batches, and we acknowledge what we got (DELIVERY_ACK).
  hello.caps = {std::string(kSocpCapability)};
  // ts is repeated inside the signed payload so the hello cannot be replayed later.
  hello.ts = next_ts();
  json::Value payload = hello.to_json();
  if (hello_challenged) {
    payload.as_object()["nonce"] = nonce;
    payload.as_object()["server_id"] = challenge_server;
  }
  // `to` is ignored on a hello: the challenger's id, else "*" while the id is not known.
  send(MessageType::UserHello, hello_challenged ? challenge_server : server_to(), *hello.ts,
       std::move(payload), true);
}

void ClientCore::Impl::on_challenge(const Envelope& env) {
  if (phase != Phase::Challenging) return;  // unasked for: nothing to answer
  const std::string* nonce = json::get_string(env.payload, "nonce");
  const std::string* sid = json::get_string(env.payload, "server_id");
  std::string why;
  if (!nonce || nonce->empty()) {
    why = "no nonce";
  } else if (nonce->size() > 128) {
    why = "nonce too long";
  } else if (auto raw = b64_decode(*nonce); !raw || raw->size() < 16) {
    why = "nonce is not base64url of at least 16 bytes";
  } else if (!sid || sid->empty() || sid->size() > 128) {
    why = "no usable server_id";
  }
  if (!why.empty()) {
    fail(ClientOutcome::ProtocolError, "BAD_FRAME", "malformed USER_CHALLENGE: " + why,
         std::string(kUserChallengeRequest));
    return;
  }
  send_hello(*nonce, *sid);
}

void ClientCore::Impl::on_prelogin_frame(const Envelope& env) {
  if (env.type_name == kUserChallenge) return on_challenge(env);
  if (!env.type) return;  // a type this client does not know
  switch (*env.type) {
    case MessageType::Ack: {
      const std::string* ref = json::get_string(env.payload, "msg_ref");
      if (!ref) return;
      if (*ref == "USER_REGISTER" && phase == Phase::Registering) {
        session_caps = caps_of(env.payload);
        emit(client::ev::registered(cfg.user_id, cfg.display_name));
        begin_login();
      } else if ((*ref == "USER_HELLO" || *ref == "USER_HELLO_OK") && phase == Phase::LoggingIn) {
        on_ack_hello(env);  // USER_HELLO_OK: what another implementation sends
      }
      return;
    }
    case MessageType::Error:
      on_error_frame(env, true);
      return;
    case MessageType::KeyRecoverResponse:
      if (phase == Phase::Recovering) on_recover_response(env);
      return;
    default:
      return;  // nothing else is meaningful before login
  }
}

void ClientCore::Impl::on_ack_hello(const Envelope& env) {
  auto ack = msg::Ack::from_json(env.payload);
  if (!ack) {
    fail(ClientOutcome::ProtocolError, "BAD_FRAME", "ACK of USER_HELLO: " + ack.error().detail,
         "USER_HELLO");
    return;
  }
  auto pub = PublicKey::parse(ack->server_pub);
  if (!pub) {
    fail(ClientOutcome::ProtocolError, "BAD_KEY",
         "server_pub in the ACK is not a usable key: " + pub.error().detail, "USER_HELLO");
    return;
  }
  // The ACK must itself be signed by the key it carries, or nothing later can be trusted.
  if (verify_payload(pub.value(), env.payload, env.sig) == SigForm::None) {
    fail(ClientOutcome::AuthFailed, "INVALID_SIG",
         "the server's ACK is not signed by its server_pub", "USER_HELLO");
    return;
  }
  const std::string id = ack->server_id.empty() ? env.from : ack->server_id;
  if (!accept_server_key(id, pub.value(), caps_of(env.payload))) return;
  server_id = id;
  server_pub = std::move(pub).value();
  set_phase(Phase::Ready);

  client::KnownUser& self = dir.upsert(cfg.user_id);
  self.display_name = cfg.display_name.empty() ? cfg.user_id : cfg.display_name;
  self.server_id = server_id;
  self.online = true;
  (void)dir.offer_key(cfg.user_id, cfg.key->public_key());

  server_socp = has_socp_capability(caps_of(env.payload));
  emit(client::ev::logged_in(cfg.user_id, cfg.display_name, server_id, hello_challenged));
  // A socp/1 server sends no advert per online user at login: the directory comes as the
  // paged LIST (commands wait for it, so a /tell right after login knows its recipient).
  if (server_socp) request_list(false);
  if (was_logged_in) resend_unacknowledged();  // emits "reconnected"
  was_logged_in = true;
}

void ClientCore::Impl::on_recover_response(const Envelope& env) {
  auto r = msg::KeyRecoverResponse::from_json(env.payload);
  if (!r || !is_uuid(r->user_id)) {
    fail(ClientOutcome::ProtocolError, "BAD_FRAME",
         r ? "KEY_RECOVER_RESPONSE: user_id is not a UUID"
           : "KEY_RECOVER_RESPONSE: " + r.error().detail,
         "KEY_RECOVER");
    return;
  }
  if (!cfg.user_id.empty() && r->user_id != cfg.user_id) {
    fail(ClientOutcome::ProtocolError, "BAD_FRAME", "KEY_RECOVER_RESPONSE is for another user id",
         "KEY_RECOVER");
    return;
  }
  auto key = KeyVault::open(r->privkey_store, cfg.password.view());
  cfg.password.wipe();
  if (!key) {
    if (key.code() == Errc::BadPassword) {
      fail(ClientOutcome::AuthFailed, "BAD_PASSWORD",
           "the recovered key does not open with this password", "KEY_RECOVER");
    } else {
      fail(ClientOutcome::ProtocolError, "BAD_FRAME",
           "the recovered key vault is unreadable: " + key.error().detail, "KEY_RECOVER");
    }
    return;
  }
  cfg.key = std::move(key).value();
  cfg.user_id = r->user_id;
  recovered_vault = r->privkey_store;
  emit(client::ev::recovered(cfg.user_id, cfg.display_name));
  begin_login();
}

void ClientCore::Impl::on_error_frame(const Envelope& env, bool prelogin) {
  // Read leniently: an ERROR is shown even when a peer omits a field.
  const std::string* code_p = json::get_string(env.payload, "code");
  const std::string* detail_p = json::get_string(env.payload, "detail");
  const std::string* ref_p = json::get_string(env.payload, "msg_ref");
  const std::string code = code_p ? *code_p : "UNKNOWN";
  const std::string detail = detail_p ? *detail_p : "";
  const std::string ref = ref_p ? *ref_p : "";

  if (prelogin && phase == Phase::Challenging && !is_auth_code(code)) {
    // The server announced socp/1 before (pinned caps) but refuses the challenge request.
    // Falling back to an unbound hello on our own would let anyone in the middle downgrade
    // us, so the session ends and says how to reset what we remembered.
    const std::string addr = cfg.server_label.empty() ? "the server" : cfg.server_label;
    fail(ClientOutcome::ProtocolError, code,
         "the server at " + addr + " refused " + std::string(kUserChallengeRequest) +
             " although it announced socp/1 before" + (detail.empty() ? "" : " (" + detail + ")") +
             "; if it no longer supports challenge login, forget what was pinned for it: "
             "socp-cli forget-server " +
             addr,
         ref.empty() ? std::string(kUserChallengeRequest) : ref);
    return;
  }
  if (prelogin) {
    fail(is_auth_code(code) ? ClientOutcome::AuthFailed : ClientOutcome::ProtocolError, code,
         detail, ref);
    return;
  }
  // The error answers the commands waiting for it: each of them hears it with its id.
  std::vector<std::uint64_t> cmds;
  if (ref == "PUBKEY_REQUEST") {
    for (auto it = await_key.begin(); it != await_key.end();) {
      if (detail.find(it->first) != std::string::npos) {
        for (const auto& t : it->second.texts) cmds.push_back(t.second);
        it = await_key.erase(it);
      } else {
        ++it;
      }
    }
  } else if (!lists_in_flight.empty() && message_type_from_string(ref) ==
                                             std::optional<MessageType>(MessageType::ListRequest)) {
    cmds.push_back(lists_in_flight.front().cmd);
    lists_in_flight.pop_front();
    if (list_blocking) {
      list_blocking = false;
      list_received = true;  // go on with what we know
    }
  }
  std::sort(cmds.begin(), cmds.end());
  cmds.erase(std::unique(cmds.begin(), cmds.end()), cmds.end());
  if (cmds.empty()) cmds.push_back(0);
  for (std::uint64_t c : cmds) {
    cur_cmd = c;
    emit(client::ev::error(code, detail, ref));
  }
  cur_cmd = 0;
}

}  // namespace socp
