// A scripted fake server for ClientCore tests: builds the frames a socp server would send
// (signed with fixture_key("server_a")) and decodes what the client sends.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fixtures.h"
#include "socp/client_core.h"
#include "socp/crypto.h"
#include "socp/envelope.h"
#include "socp/messages.h"

namespace socp::test {

inline const std::string kAlice = "a11ce000-0000-4000-8000-000000000001";
inline const std::string kBob = "b0b00000-0000-4000-8000-000000000002";
inline const std::string kCarol = "ca201000-0000-4000-8000-000000000003";
inline const std::string kServerA = "5e4e4000-0000-4000-8000-00000000000a";
inline const std::string kServerB = "5e4e4000-0000-4000-8000-00000000000b";

struct FakeClock {
  std::int64_t ms = 1'760'000'000'000;
  std::function<std::int64_t()> fn() {
    return [this] { return ms; };
  }
};

/// Builds a signed server frame (signed by `signer`, default server_a).
inline std::string server_frame(MessageType type, const std::string& to, std::int64_t ts,
                                json::Value payload, const PrivateKey* signer = nullptr,
                                const std::string& from = kServerA) {
  Envelope env = make_envelope(type, from, to, ts, std::move(payload));
  const PrivateKey& k = signer ? *signer : fixture_key("server_a");
  env.sig = sign_payload(k, env.payload).value();
  return serialize(env);
}

inline std::string ack_hello(const std::string& to, std::int64_t ts) {
  msg::Ack a;
  a.msg_ref = "USER_HELLO";
  a.server_id = kServerA;
  a.server_pub = fixture_key("server_a").public_key().b64url();
  return server_frame(MessageType::Ack, to, ts, a.to_json());
}

inline std::string advertise(const std::string& to, const std::string& user_id,
                             const std::string& name, const PrivateKey& key, std::int64_t ts,
                             const std::string& server_id = kServerA) {
  msg::UserAdvertise ad;
  ad.user_id = user_id;
  ad.server_id = server_id;
  ad.pubkey = key.public_key().b64url();
  ad.meta = json::Object{{"display_name", name}};
  return server_frame(MessageType::UserAdvertise, to, ts, ad.to_json());
}

/// A USER_DELIVER of `text` from `sender` (encrypted to `recipient_pub`, content-signed by
/// `sender_key`), as the recipient's server relays it.
struct DeliverParts {
  std::string ciphertext, sender_pub, content_sig;
};
inline DeliverParts make_dm(const PrivateKey& sender_key, const std::string& sender,
                            const PublicKey& recipient_pub, const std::string& recipient,
                            std::int64_t ts, const std::string& text) {
  Bytes ct = recipient_pub.encrypt(text).value();
  DeliverParts p;
  p.ciphertext = b64url_encode(ct);
  p.sender_pub = sender_key.public_key().b64url();
  p.content_sig = sign_content(sender_key, ct, sender, recipient, ts).value();
  return p;
}

inline std::string deliver_frame(const std::string& to, const std::string& sender,
                                 const DeliverParts& p, std::int64_t ts,
                                 const PrivateKey* signer = nullptr) {
  msg::UserDeliver d;
  d.ciphertext = p.ciphertext;
  d.sender = sender;
  d.sender_pub = p.sender_pub;
  d.content_sig = p.content_sig;
  return server_frame(MessageType::UserDeliver, to, ts, d.to_json(), signer);
}

inline std::vector<Envelope> parse_all(const std::vector<std::string>& frames) {
  std::vector<Envelope> out;
  for (const std::string& f : frames) {
    auto e = parse_envelope(f);
    REQUIRE(e.ok());
    out.push_back(std::move(e).value());
  }
  return out;
}

inline const json::Value* find_event(const std::vector<json::Value>& events,
                                     const std::string& name) {
  for (const json::Value& e : events) {
    const std::string* n = json::get_string(e, "event");
    if (n && *n == name) return &e;
  }
  return nullptr;
}

/// The first event named `name` among those the client has pending (all are consumed).
inline std::optional<json::Value> take_event(ClientCore& c, const std::string& name) {
  auto events = c.take_events();
  const json::Value* e = find_event(events, name);
  if (!e) return std::nullopt;
  return *e;
}

inline std::size_t count_events(const std::vector<json::Value>& events, const std::string& name) {
  std::size_t n = 0;
  for (const json::Value& e : events) {
    const std::string* s = json::get_string(e, "event");
    if (s && *s == name) ++n;
  }
  return n;
}

inline std::string str(const json::Value& e, const std::string& key) {
  const std::string* s = json::get_string(e, key);
  return s ? *s : std::string("<missing>");
}

/// Alice's client in Login mode.
inline ClientConfig alice_login_config(FakeClock& clock) {
  ClientConfig cfg;
  cfg.mode = ClientMode::Login;
  cfg.user_id = kAlice;
  cfg.display_name = "alice";
  cfg.key = fixture_key("alice");
  cfg.server_label = "127.0.0.1:8765";
  cfg.clock = clock.fn();
  return cfg;
}

/// Connects and logs alice in (ACK from server_a); drains frames and events.
inline void log_in(ClientCore& c, FakeClock& clock) {
  c.on_connected();
  REQUIRE(c.take_frames().size() == 1);
  c.on_frame(ack_hello(kAlice, clock.ms));
  REQUIRE(c.logged_in());
  (void)c.take_events();
  (void)c.take_frames();
}

}  // namespace socp::test
