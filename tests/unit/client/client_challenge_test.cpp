// Challenge-bound login, client half: USER_CHALLENGE_REQUEST → USER_CHALLENGE {nonce,
// server_id} → a signed USER_HELLO carrying both, used whenever the server is known to speak
// socp/1 (its caps pinned in the trust store, or in this session's USER_REGISTER ACK).
#include "client_fake_server.h"
#include "socp/client_trust.h"

using namespace socp;
using namespace socp::test;

namespace {

const std::string kNonce = b64url_encode(Bytes(32, 0x4e));

std::string challenge(const std::string& nonce = kNonce, const std::string& server_id = kServerA) {
  Envelope env;
  env.type_name = "USER_CHALLENGE";
  env.from = kServerA;
  env.to = kAlice;
  env.ts = 1;
  env.payload = json::Object{{"nonce", nonce}, {"server_id", server_id}};
  return serialize(env);  // unsigned on purpose
}

std::string ack(const std::string& ref, bool caps, std::int64_t ts) {
  json::Object p{{"msg_ref", ref}};
  if (ref != "USER_REGISTER") {
    p["server_id"] = kServerA;
    p["server_pub"] = fixture_key("server_a").public_key().b64url();
  }
  if (caps) p["caps"] = json::Array{json::Value("socp/1")};
  return server_frame(MessageType::Ack, kAlice, ts, json::Value(std::move(p)));
}

std::shared_ptr<TrustStore> pinned(bool socp1, const std::string& server_id = kServerA) {
  auto t = std::make_shared<TrustStore>();
  std::vector<std::string> caps;
  if (socp1) caps.emplace_back("socp/1");
  t->pin_server("127.0.0.1:8765",
                ServerPin{server_id, fixture_key("server_a").public_key().b64url(), caps, 1});
  return t;
}

Envelope only_frame(ClientCore& c) {
  auto frames = parse_all(c.take_frames());
  REQUIRE(frames.size() == 1);
  return frames[0];
}

// The hello is signed by alice over a payload that holds the nonce and server_id: change
// either and the signature no longer verifies.
void check_bound_hello(const Envelope& hello, const std::string& nonce,
                       const std::string& server_id) {
  REQUIRE(hello.type == MessageType::UserHello);
  CHECK(hello.to == server_id);
  CHECK(str(hello.payload, "nonce") == nonce);
  CHECK(str(hello.payload, "server_id") == server_id);
  CHECK(*json::get_int(hello.payload, "ts") == hello.ts);
  const PublicKey& alice = fixture_key("alice").public_key();
  CHECK(verify_payload(alice, hello.payload, hello.sig) != SigForm::None);
  json::Value other = hello.payload;
  other.as_object()["nonce"] = b64url_encode(Bytes(32, 0x00));
  CHECK(verify_payload(alice, other, hello.sig) == SigForm::None);
  other = hello.payload;
  other.as_object()["server_id"] = server_id + "0";
  CHECK(verify_payload(alice, other, hello.sig) == SigForm::None);
}

}  // namespace

TEST_CASE("challenge: first contact sends a plain signed hello and remembers the caps",
          "[client][challenge]") {
  FakeClock clock;
  auto trust = std::make_shared<TrustStore>();
  ClientConfig cfg = alice_login_config(clock);
  cfg.trust = trust;
  ClientCore c(std::move(cfg));
  c.on_connected();
  Envelope hello = only_frame(c);
  CHECK(hello.type == MessageType::UserHello);
  CHECK(hello.to == "*");
  CHECK(hello.payload.find("nonce") == nullptr);
  CHECK(hello.payload.find("server_id") == nullptr);
  c.on_frame(ack("USER_HELLO", true, clock.ms));
  REQUIRE(c.logged_in());
  const auto events = c.take_events();
  const json::Value* li = find_event(events, "logged_in");
  REQUIRE(li);
  CHECK(li->find("challenge")->as_bool() == false);
  REQUIRE(trust->server("127.0.0.1:8765"));
  CHECK(trust->server("127.0.0.1:8765")->caps == std::vector<std::string>{"socp/1"});
}

TEST_CASE("challenge: a server pinned with socp/1 gets a challenge-bound hello",
          "[client][challenge]") {
  FakeClock clock;
  ClientConfig cfg = alice_login_config(clock);
  cfg.trust = pinned(true);
  ClientCore c(std::move(cfg));
  c.on_connected();
  Envelope req = only_frame(c);
  CHECK(req.type == MessageType::UserChallengeRequest);
  CHECK(req.type_name == "USER_CHALLENGE_REQUEST");
  CHECK(req.from == kAlice);
  CHECK(req.to == kServerA);  // the pinned server id
  CHECK(req.payload == json::Value(json::Object{}));
  CHECK(req.sig.empty());

  clock.ms += 5;
  c.on_frame(challenge());
  check_bound_hello(only_frame(c), kNonce, kServerA);
  CHECK_FALSE(c.logged_in());

  SECTION("ACK{msg_ref:USER_HELLO}") {
    c.on_frame(ack("USER_HELLO", true, clock.ms));
  }
  SECTION("ACK{msg_ref:USER_HELLO_OK} (another implementation)") {
    c.on_frame(ack("USER_HELLO_OK", true, clock.ms));
  }
  REQUIRE(c.logged_in());
  const auto events = c.take_events();
  const json::Value* li = find_event(events, "logged_in");
  REQUIRE(li);
  CHECK(li->find("challenge")->as_bool() == true);
}

TEST_CASE("challenge: the challenger's server_id goes in, whatever was pinned",
          "[client][challenge]") {
  FakeClock clock;
  ClientConfig cfg = alice_login_config(clock);
  cfg.trust = pinned(true, "");  // pinned without an id: the request goes to "*"
  ClientCore c(std::move(cfg));
  c.on_connected();
  CHECK(only_frame(c).to == "*");
  c.on_frame(challenge(kNonce, kServerB));
  check_bound_hello(only_frame(c), kNonce, kServerB);
}

TEST_CASE("challenge: a server pinned without socp/1 gets a plain hello", "[client][challenge]") {
  FakeClock clock;
  ClientConfig cfg = alice_login_config(clock);
  cfg.trust = pinned(false);
  ClientCore c(std::move(cfg));
  c.on_connected();
  Envelope hello = only_frame(c);
  CHECK(hello.type == MessageType::UserHello);
  CHECK(hello.payload.find("nonce") == nullptr);
  // A challenge nobody asked for changes nothing.
  c.on_frame(challenge());
  CHECK(c.take_frames().empty());
  c.on_frame(ack_hello(kAlice, clock.ms));
  CHECK(c.logged_in());
}

TEST_CASE(
    "challenge: register, then a challenge on the same connection when the ACK says "
    "socp/1",
    "[client][challenge]") {
  for (bool caps : {true, false}) {
    CAPTURE(caps);
    FakeClock clock;
    ClientConfig cfg = alice_login_config(clock);
    cfg.mode = ClientMode::Register;
    cfg.privkey_store = "vault";
    cfg.pake_password = "verifier";
    cfg.trust = std::make_shared<TrustStore>();
    ClientCore c(std::move(cfg));
    c.on_connected();
    Envelope reg = only_frame(c);
    CHECK(reg.type == MessageType::UserRegister);
    CHECK(reg.to == "*");
    c.on_frame(ack("USER_REGISTER", caps, clock.ms));
    REQUIRE(find_event(c.take_events(), "registered"));
    Envelope next = only_frame(c);
    if (caps) {
      CHECK(next.type_name == "USER_CHALLENGE_REQUEST");
      CHECK(next.to == "*");
      c.on_frame(challenge());
      check_bound_hello(only_frame(c), kNonce, kServerA);
    } else {
      CHECK(next.type == MessageType::UserHello);
      CHECK(next.payload.find("nonce") == nullptr);
    }
    c.on_frame(ack("USER_HELLO", caps, clock.ms));
    CHECK(c.logged_in());
  }
}

TEST_CASE("challenge: recover, then a challenge for a server pinned with socp/1",
          "[client][challenge]") {
  const std::string vault = KeyVault::seal(fixture_key("alice"), "pw").value();
  FakeClock clock;
  ClientConfig cfg;
  cfg.mode = ClientMode::Recover;
  cfg.user_id = kAlice;
  cfg.display_name = "alice";
  cfg.recover_proof = "proof";
  cfg.password = SecretBytes("pw");
  cfg.clock = clock.fn();
  cfg.server_label = "127.0.0.1:8765";
  cfg.trust = pinned(true);
  ClientCore c(std::move(cfg));
  c.on_connected();
  CHECK(only_frame(c).type == MessageType::KeyRecover);
  msg::KeyRecoverResponse resp;
  resp.user_id = kAlice;
  resp.privkey_store = vault;
  c.on_frame(server_frame(MessageType::KeyRecoverResponse, kAlice, clock.ms, resp.to_json()));
  CHECK(only_frame(c).type_name == "USER_CHALLENGE_REQUEST");
  c.on_frame(challenge());
  check_bound_hello(only_frame(c), kNonce, kServerA);
}

TEST_CASE("challenge: a malformed challenge ends the session, no hello is signed",
          "[client][challenge]") {
  struct Case {
    const char* what;
    std::string frame;
  };
  const std::vector<Case> cases = {
      {"no nonce", challenge("")},
      {"not base64", challenge("not base64!")},
      {"too short", challenge(b64url_encode(Bytes(8, 1)))},
      {"too long", challenge(std::string(200, 'A'))},
      {"no server id", challenge(kNonce, "")},
  };
  for (const Case& k : cases) {
    CAPTURE(k.what);
    FakeClock clock;
    ClientConfig cfg = alice_login_config(clock);
    cfg.trust = pinned(true);
    ClientCore c(std::move(cfg));
    c.on_connected();
    (void)c.take_frames();
    c.on_frame(k.frame);
    CHECK(c.take_frames().empty());
    CHECK(c.wants_close());
    c.on_closed();
    CHECK(c.outcome() == ClientOutcome::ProtocolError);
    CHECK(c.failure_code() == "BAD_FRAME");
  }
}

TEST_CASE("challenge: a socp/1 server refusing the challenge is not silently downgraded",
          "[client][challenge]") {
  FakeClock clock;
  ClientConfig cfg = alice_login_config(clock);
  cfg.trust = pinned(true);
  ClientCore c(std::move(cfg));
  c.on_connected();
  (void)c.take_frames();
  msg::ErrorMsg e;
  e.code = "UNKNOWN_TYPE";
  e.msg_ref = "USER_CHALLENGE_REQUEST";
  c.on_frame(server_frame(MessageType::Error, kAlice, clock.ms, e.to_json()));
  CHECK(c.take_frames().empty());  // no unbound hello
  const auto events = c.take_events();
  const json::Value* err = find_event(events, "error");
  REQUIRE(err);
  CHECK(str(*err, "code") == "UNKNOWN_TYPE");
  CHECK(str(*err, "detail").find("socp-cli forget-server 127.0.0.1:8765") != std::string::npos);
  c.on_closed();
  CHECK(c.outcome() == ClientOutcome::ProtocolError);
}

TEST_CASE("challenge: no answer within the login timeout ends the session", "[client][challenge]") {
  FakeClock clock;
  ClientConfig cfg = alice_login_config(clock);
  cfg.trust = pinned(true);
  ClientCore c(std::move(cfg));
  c.on_connected();
  (void)c.take_frames();
  clock.ms += 31'000;
  c.on_tick();
  CHECK(c.wants_close());
  c.on_closed();
  CHECK(c.failure_code() == "TIMEOUT");
}

TEST_CASE("challenge: a refused bound hello is an authentication failure", "[client][challenge]") {
  FakeClock clock;
  ClientConfig cfg = alice_login_config(clock);
  cfg.trust = pinned(true);
  ClientCore c(std::move(cfg));
  c.on_connected();
  (void)c.take_frames();
  c.on_frame(challenge());
  (void)c.take_frames();
  msg::ErrorMsg e;
  e.code = "INVALID_SIG";
  e.msg_ref = "USER_HELLO";
  c.on_frame(server_frame(MessageType::Error, kAlice, clock.ms, e.to_json()));
  c.on_closed();
  CHECK(c.outcome() == ClientOutcome::AuthFailed);
}
