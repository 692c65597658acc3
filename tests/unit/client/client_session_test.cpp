// ClientCore: getting logged in (register, login, recover), pinning the server, failures.
#include "client_fake_server.h"

using namespace socp;
using namespace socp::test;

TEST_CASE("login: first frame is a USER_HELLO signed by the user's key", "[client]") {
  FakeClock clock;
  ClientCore c(alice_login_config(clock));
  c.on_connected();
  auto events = c.take_events();
  REQUIRE(find_event(events, "connected"));
  CHECK(str(*find_event(events, "connected"), "server") == "127.0.0.1:8765");

  auto frames = parse_all(c.take_frames());
  REQUIRE(frames.size() == 1);
  const Envelope& hello = frames[0];
  CHECK(hello.type == MessageType::UserHello);
  CHECK(hello.from == kAlice);
  CHECK(hello.to == "*");  // the server id is not known yet; never "" (see below)
  CHECK(hello.ts == clock.ms);
  const PublicKey& alice_pub = fixture_key("alice").public_key();
  CHECK(verify_payload(alice_pub, hello.payload, hello.sig) != SigForm::None);
  CHECK(verify_payload(fixture_key("bob").public_key(), hello.payload, hello.sig) == SigForm::None);
  auto h = msg::UserHello::from_json(hello.payload);
  REQUIRE(h.ok());
  CHECK(h->pubkey == alice_pub.b64url());
  CHECK(h->enc_pubkey == alice_pub.b64url());
  CHECK(h->client.rfind("socp-cli/", 0) == 0);
  CHECK(msg::display_name_of(h->meta, kAlice) == "alice");
  CHECK_FALSE(c.logged_in());
}

TEST_CASE("login: ACK pins the server key, later frames must verify with it", "[client]") {
  FakeClock clock;
  ClientCore c(alice_login_config(clock));
  c.on_connected();
  (void)c.take_frames();
  (void)c.take_events();
  c.on_frame(ack_hello(kAlice, clock.ms));
  REQUIRE(c.logged_in());
  auto events = c.take_events();
  const json::Value* li = find_event(events, "logged_in");
  REQUIRE(li);
  CHECK(str(*li, "user_id") == kAlice);
  CHECK(str(*li, "display_name") == "alice");
  CHECK(str(*li, "server_id") == kServerA);

  // A correctly signed advert is accepted...
  c.on_frame(advertise(kAlice, kBob, "bob", fixture_key("bob"), clock.ms));
  events = c.take_events();
  REQUIRE(find_event(events, "presence"));
  // ... one signed by another server's key is dropped with a warning.
  msg::UserAdvertise ad;
  ad.user_id = kCarol;
  ad.server_id = kServerA;
  ad.pubkey = fixture_key("server_b").public_key().b64url();
  c.on_frame(server_frame(MessageType::UserAdvertise, kAlice, clock.ms, ad.to_json(),
                          &fixture_key("server_b")));
  events = c.take_events();
  CHECK_FALSE(find_event(events, "presence"));
  REQUIRE(find_event(events, "warning"));
  // ... and so is an unsigned one.
  Envelope unsigned_env =
      make_envelope(MessageType::UserAdvertise, kServerA, kAlice, clock.ms, ad.to_json());
  c.on_frame(serialize(unsigned_env));
  events = c.take_events();
  CHECK_FALSE(find_event(events, "presence"));
  CHECK(find_event(events, "warning"));
}

TEST_CASE("login: an ACK not signed by its own server_pub ends the session", "[client]") {
  FakeClock clock;
  ClientCore c(alice_login_config(clock));
  c.on_connected();
  (void)c.take_frames();
  msg::Ack a;
  a.msg_ref = "USER_HELLO";
  a.server_id = kServerA;
  a.server_pub = fixture_key("server_a").public_key().b64url();
  c.on_frame(
      server_frame(MessageType::Ack, kAlice, clock.ms, a.to_json(), &fixture_key("server_b")));
  CHECK_FALSE(c.logged_in());
  CHECK(c.wants_close());
  auto events = c.take_events();
  const json::Value* err = find_event(events, "error");
  REQUIRE(err);
  CHECK(str(*err, "code") == "INVALID_SIG");
  c.on_closed();
  CHECK(c.outcome() == ClientOutcome::AuthFailed);
  CHECK(c.failure_code() == "INVALID_SIG");
}

TEST_CASE("login: ERROR answers end the session with the right outcome", "[client]") {
  struct Case {
    const char* code;
    ClientOutcome outcome;
  };
  for (Case k :
       {Case{"NAME_IN_USE", ClientOutcome::AuthFailed}, Case{"BAD_KEY", ClientOutcome::AuthFailed},
        Case{"USER_NOT_FOUND", ClientOutcome::AuthFailed},
        Case{"INVALID_SIG", ClientOutcome::AuthFailed}, Case{"BUSY", ClientOutcome::ProtocolError},
        Case{"SOMETHING_NEW", ClientOutcome::ProtocolError}}) {
    CAPTURE(k.code);
    FakeClock clock;
    ClientCore c(alice_login_config(clock));
    c.on_connected();
    (void)c.take_frames();
    (void)c.take_events();
    msg::ErrorMsg e;
    e.code = k.code;
    e.detail = "nope";
    e.msg_ref = "USER_HELLO";
    c.on_frame(server_frame(MessageType::Error, kAlice, clock.ms, e.to_json()));
    auto events = c.take_events();
    const json::Value* err = find_event(events, "error");
    REQUIRE(err);
    CHECK(str(*err, "code") == k.code);  // unknown codes shown as-is
    CHECK(str(*err, "detail") == "nope");
    CHECK(str(*err, "msg_ref") == "USER_HELLO");
    CHECK(c.wants_close());
    c.on_closed();
    CHECK(c.outcome() == k.outcome);
    events = c.take_events();
    REQUIRE(find_event(events, "closed"));
  }
}

TEST_CASE("register: USER_REGISTER signed by the new key, then USER_HELLO on its ACK", "[client]") {
  FakeClock clock;
  ClientConfig cfg = alice_login_config(clock);
  cfg.mode = ClientMode::Register;
  cfg.privkey_store = "{\"v\":1,\"opaque\":\"vault\"}";
  cfg.pake_password = "verifier-b64url";
  ClientCore c(std::move(cfg));
  c.on_connected();
  auto frames = parse_all(c.take_frames());
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].type == MessageType::UserRegister);
  CHECK(frames[0].from == kAlice);
  CHECK(verify_payload(fixture_key("alice").public_key(), frames[0].payload, frames[0].sig) !=
        SigForm::None);
  auto reg = msg::UserRegister::from_json(frames[0].payload);
  REQUIRE(reg.ok());
  CHECK(reg->user_id == kAlice);
  CHECK(reg->pubkey == fixture_key("alice").public_key().b64url());
  CHECK(reg->privkey_store == "{\"v\":1,\"opaque\":\"vault\"}");
  CHECK(reg->pake_password == "verifier-b64url");
  CHECK(msg::display_name_of(reg->meta, "") == "alice");

  msg::Ack a;
  a.msg_ref = "USER_REGISTER";
  c.on_frame(server_frame(MessageType::Ack, kAlice, clock.ms, a.to_json()));
  auto events = c.take_events();
  const json::Value* r = find_event(events, "registered");
  REQUIRE(r);
  CHECK(str(*r, "user_id") == kAlice);
  frames = parse_all(c.take_frames());
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].type == MessageType::UserHello);
  CHECK(frames[0].ts > 0);

  c.on_frame(ack_hello(kAlice, clock.ms));
  CHECK(c.logged_in());
  CHECK(find_event(c.take_events(), "logged_in"));
}

TEST_CASE("register: NAME_IN_USE is an authentication failure", "[client]") {
  FakeClock clock;
  ClientConfig cfg = alice_login_config(clock);
  cfg.mode = ClientMode::Register;
  cfg.privkey_store = "vault";
  cfg.pake_password = "verifier";
  ClientCore c(std::move(cfg));
  c.on_connected();
  (void)c.take_frames();
  msg::ErrorMsg e;
  e.code = "NAME_IN_USE";
  e.detail = "id taken";
  e.msg_ref = "USER_REGISTER";
  c.on_frame(server_frame(MessageType::Error, kAlice, clock.ms, e.to_json()));
  CHECK(c.take_frames().empty());  // no hello after a refused registration
  CHECK(c.wants_close());
  c.on_closed();
  CHECK(c.outcome() == ClientOutcome::AuthFailed);
}

TEST_CASE("recover: KEY_RECOVER, then the vault opens with the password", "[client]") {
  const std::string vault = KeyVault::seal(fixture_key("alice"), "correct horse").value();
  for (bool right_password : {true, false}) {
    CAPTURE(right_password);
    FakeClock clock;
    ClientConfig cfg;
    cfg.mode = ClientMode::Recover;
    cfg.recover_name = "alice";
    cfg.display_name = "alice";
    cfg.recover_proof = "proof-b64url";
    cfg.password = SecretBytes(right_password ? "correct horse" : "wrong horse");
    cfg.clock = clock.fn();
    ClientCore c(std::move(cfg));
    c.on_connected();
    auto frames = parse_all(c.take_frames());
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].type == MessageType::KeyRecover);
    CHECK(frames[0].sig.empty());
    auto kr = msg::KeyRecover::from_json(frames[0].payload);
    REQUIRE(kr.ok());
    CHECK(kr->user_id == "alice");
    CHECK(kr->proof == "proof-b64url");

    msg::KeyRecoverResponse resp;
    resp.user_id = kAlice;
    resp.privkey_store = vault;
    c.on_frame(server_frame(MessageType::KeyRecoverResponse, kAlice, clock.ms, resp.to_json()));
    auto events = c.take_events();
    if (right_password) {
      REQUIRE(find_event(events, "recovered"));
      CHECK(c.user_id() == kAlice);
      CHECK(c.recovered_vault() == vault);
      frames = parse_all(c.take_frames());
      REQUIRE(frames.size() == 1);
      CHECK(frames[0].type == MessageType::UserHello);
      CHECK(frames[0].from == kAlice);
      CHECK(verify_payload(fixture_key("alice").public_key(), frames[0].payload, frames[0].sig) !=
            SigForm::None);
      c.on_frame(ack_hello(kAlice, clock.ms));
      CHECK(c.logged_in());
    } else {
      CHECK_FALSE(find_event(events, "recovered"));
      CHECK(c.take_frames().empty());
      CHECK(c.wants_close());
      c.on_closed();
      CHECK(c.outcome() == ClientOutcome::AuthFailed);
      CHECK(c.failure_code() == "BAD_PASSWORD");
    }
  }
}

TEST_CASE("session outcomes: connect failed, connection lost, quit", "[client]") {
  FakeClock clock;
  {
    ClientCore c(alice_login_config(clock));
    c.on_closed();
    CHECK(c.outcome() == ClientOutcome::ConnectFailed);
    auto closed = take_event(c, "closed");
    REQUIRE(closed);
  }
  {
    ClientCore c(alice_login_config(clock));
    log_in(c, clock);
    c.on_closed();
    CHECK(c.outcome() == ClientOutcome::ConnectionLost);
    CHECK_FALSE(c.logged_in());
  }
  {
    ClientCore c(alice_login_config(clock));
    log_in(c, clock);
    c.command("/quit");
    CHECK(c.wants_close());
    c.on_closed();
    CHECK(c.outcome() == ClientOutcome::Done);
  }
}

TEST_CASE("login: no answer within the timeout ends the session", "[client]") {
  FakeClock clock;
  ClientCore c(alice_login_config(clock));
  c.on_connected();
  (void)c.take_frames();
  clock.ms += 10'000;
  c.on_tick();
  CHECK_FALSE(c.wants_close());
  clock.ms += 25'000;
  c.on_tick();
  CHECK(c.wants_close());
  CHECK(str(*find_event(c.take_events(), "error"), "code") == "TIMEOUT");
  c.on_closed();
  CHECK(c.outcome() == ClientOutcome::ProtocolError);
}

TEST_CASE("commands typed before login run after it, in order", "[client]") {
  FakeClock clock;
  ClientCore c(alice_login_config(clock));
  c.on_connected();
  (void)c.take_frames();
  c.command("/whoami");
  c.command("/list");
  c.input_closed();
  CHECK(c.take_frames().empty());
  CHECK_FALSE(find_event(c.take_events(), "whoami"));
  CHECK_FALSE(c.wants_close());

  c.on_frame(ack_hello(kAlice, clock.ms));
  auto events = c.take_events();
  const json::Value* w = find_event(events, "whoami");
  REQUIRE(w);
  CHECK(str(*w, "user_id") == kAlice);
  CHECK(str(*w, "server_id") == kServerA);
  CHECK(str(*w, "fingerprint") == fixture_key("alice").public_key().fingerprint_hex());
  auto frames = parse_all(c.take_frames());
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].type == MessageType::ListRequest);
  CHECK(frames[0].to == kServerA);
  // Input is over, but the /list answer is still due.
  CHECK_FALSE(c.wants_close());
  msg::ListResponse lr;
  c.on_frame(server_frame(MessageType::ListResponse, kAlice, clock.ms, lr.to_json()));
  CHECK(find_event(c.take_events(), "list"));
  CHECK(c.wants_close());
}

// Found by the fuzz harness's invariant: other implementations close the socket on `to:""`,
// so frames sent before the server id is known are addressed to "*".
TEST_CASE("no frame is ever sent with an empty `to`", "[client][regression]") {
  auto check_to = [](const std::vector<Envelope>& frames, const std::string& want) {
    for (const Envelope& e : frames) {
      CAPTURE(e.type_name);
      CHECK(e.to == want);
    }
  };
  const std::string vault = KeyVault::seal(fixture_key("alice"), "pw").value();
  FakeClock clock;
  SECTION("register, then hello") {
    ClientConfig cfg = alice_login_config(clock);
    cfg.mode = ClientMode::Register;
    cfg.privkey_store = "vault";
    cfg.pake_password = "verifier";
    ClientCore c(std::move(cfg));
    c.on_connected();
    check_to(parse_all(c.take_frames()), "*");
    msg::Ack a;
    a.msg_ref = "USER_REGISTER";
    c.on_frame(server_frame(MessageType::Ack, kAlice, clock.ms, a.to_json()));
    check_to(parse_all(c.take_frames()), "*");
  }
  SECTION("recover, then hello") {
    ClientConfig cfg;
    cfg.mode = ClientMode::Recover;
    cfg.user_id = kAlice;
    cfg.display_name = "alice";
    cfg.recover_proof = "proof";
    cfg.password = SecretBytes("pw");
    cfg.clock = clock.fn();
    ClientCore c(std::move(cfg));
    c.on_connected();
    check_to(parse_all(c.take_frames()), "*");
    msg::KeyRecoverResponse resp;
    resp.user_id = kAlice;
    resp.privkey_store = vault;
    c.on_frame(server_frame(MessageType::KeyRecoverResponse, kAlice, clock.ms, resp.to_json()));
    check_to(parse_all(c.take_frames()), "*");
  }
  SECTION("after login: the server's id") {
    ClientCore c(alice_login_config(clock));
    log_in(c, clock);
    c.command("/list");
    check_to(parse_all(c.take_frames()), kServerA);
  }
}
