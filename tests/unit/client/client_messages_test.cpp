// ClientCore: direct messages out (/tell) and in (USER_DELIVER), with every rejection.
// (/all is the public channel: client_public_test.cpp.)
#include "client_fake_server.h"

using namespace socp;
using namespace socp::test;

namespace {

// Alice logged in, bob advertised (online, key pinned).
struct AliceWithBob {
  FakeClock clock;
  ClientCore c{alice_login_config(clock)};
  AliceWithBob() {
    log_in(c, clock);
    c.on_frame(advertise(kAlice, kBob, "bob", fixture_key("bob"), clock.ms));
    (void)c.take_events();
  }
};

std::string decrypt_with(const std::string& who, const std::string& ct_b64) {
  auto ct = b64_decode(ct_b64);
  REQUIRE(ct.ok());
  auto pt = fixture_key(who).decrypt(ct.value());
  REQUIRE(pt.ok());
  return std::string(pt.value().view());
}

json::Value list_response(std::vector<msg::ListEntry> entries) {
  msg::ListResponse lr;
  lr.users = std::move(entries);
  for (const auto& e : lr.users) {
    if (e.online) lr.online_users.push_back(e.user_id);
  }
  return lr.to_json();
}

msg::ListEntry entry(const std::string& id, const std::string& name, const PrivateKey* key,
                     bool online = true) {
  msg::ListEntry e;
  e.user_id = id;
  e.display_name = name;
  e.server_id = kServerA;
  e.online = online;
  if (key) e.pubkey = key->public_key().b64url();
  return e;
}

}  // namespace

TEST_CASE("deliver: a message from bob is verified, decrypted and shown", "[client]") {
  AliceWithBob t;
  const std::int64_t ts = t.clock.ms - 1234;  // the original send time, kept by servers
  auto dm = make_dm(fixture_key("bob"), kBob, fixture_key("alice").public_key(), kAlice, ts,
                    "hello alice ✓");
  t.c.on_frame(deliver_frame(kAlice, kBob, dm, ts));
  auto events = t.c.take_events();
  const json::Value* m = find_event(events, "message");
  REQUIRE(m);
  CHECK(str(*m, "from") == kBob);
  CHECK(str(*m, "from_name") == "bob");
  CHECK(str(*m, "to") == kAlice);
  CHECK(str(*m, "text") == "hello alice ✓");
  CHECK(*json::get_int(*m, "ts") == ts);
  CHECK(m->find("verified")->as_bool());
  CHECK_FALSE(m->find("first_contact")->as_bool());
  CHECK_FALSE(find_event(events, "rejected"));
}

TEST_CASE("deliver: every failed check is a rejected event, never a message", "[client]") {
  AliceWithBob t;
  const std::int64_t ts = t.clock.ms;
  const PublicKey& alice_pub = fixture_key("alice").public_key();
  auto good = make_dm(fixture_key("bob"), kBob, alice_pub, kAlice, ts, "secret");

  auto expect_rejected = [&](const std::string& frame, const std::string& reason) {
    t.c.on_frame(frame);
    auto events = t.c.take_events();
    CHECK_FALSE(find_event(events, "message"));
    const json::Value* r = find_event(events, "rejected");
    REQUIRE(r);
    CHECK(str(*r, "reason") == reason);
  };

  SECTION("tampered ciphertext") {
    auto bad = good;
    bad.ciphertext[10] = bad.ciphertext[10] == 'A' ? 'B' : 'A';
    expect_rejected(deliver_frame(kAlice, kBob, bad, ts), "bad content signature");
  }
  SECTION("content_sig by someone else") {
    auto bad = good;
    Bytes ct = b64_decode(good.ciphertext).value();
    bad.content_sig = sign_content(fixture_key("server_b"), ct, kBob, kAlice, ts).value();
    expect_rejected(deliver_frame(kAlice, kBob, bad, ts), "bad content signature");
  }
  SECTION("content_sig for another ts (replayed with a new envelope ts)") {
    expect_rejected(deliver_frame(kAlice, kBob, good, ts + 1), "bad content signature");
  }
  SECTION("server signature does not verify") {
    expect_rejected(deliver_frame(kAlice, kBob, good, ts, &fixture_key("server_b")),
                    "bad server signature");
  }
  SECTION("sender_pub differs from bob's pinned key") {
    // Carol-the-impostor signs with her own key and claims to be bob.
    auto bad = make_dm(fixture_key("server_b"), kBob, alice_pub, kAlice, ts, "i am bob");
    expect_rejected(deliver_frame(kAlice, kBob, bad, ts), "sender key mismatch");
  }
  SECTION("sender_pub not a key") {
    auto bad = good;
    bad.sender_pub = "not-a-key";
    expect_rejected(deliver_frame(kAlice, kBob, bad, ts), "bad sender key");
  }
  SECTION("encrypted to someone else") {
    auto bad =
        make_dm(fixture_key("bob"), kBob, fixture_key("bob").public_key(), kAlice, ts, "oops");
    expect_rejected(deliver_frame(kAlice, kBob, bad, ts), "cannot decrypt");
  }
}

TEST_CASE("deliver: first contact pins the sender's key (TOFU)", "[client]") {
  FakeClock clock;
  ClientCore c(alice_login_config(clock));
  log_in(c, clock);
  const PublicKey& alice_pub = fixture_key("alice").public_key();
  auto dm = make_dm(fixture_key("bob"), kBob, alice_pub, kAlice, clock.ms, "first");
  c.on_frame(deliver_frame(kAlice, kBob, dm, clock.ms));
  auto m = take_event(c, "message");
  REQUIRE(m);
  CHECK(m->find("first_contact")->as_bool());

  // A later message under bob's id with another key is refused.
  auto other = make_dm(fixture_key("server_b"), kBob, alice_pub, kAlice, clock.ms, "second");
  c.on_frame(deliver_frame(kAlice, kBob, other, clock.ms));
  auto events = c.take_events();
  CHECK_FALSE(find_event(events, "message"));
  REQUIRE(find_event(events, "rejected"));
  CHECK(str(*find_event(events, "rejected"), "reason") == "sender key mismatch");
}

TEST_CASE("tell: by name and by id, decryptable by bob, content_sig verifies", "[client]") {
  for (std::string target : {std::string("bob"), kBob}) {
    CAPTURE(target);
    AliceWithBob t;
    t.c.command("/tell " + target + " hi bob,  two spaces");
    auto frames = parse_all(t.c.take_frames());
    REQUIRE(frames.size() == 1);
    const Envelope& e = frames[0];
    CHECK(e.type == MessageType::MsgDirect);
    CHECK(e.from == kAlice);
    CHECK(e.to == kBob);
    const PublicKey& alice_pub = fixture_key("alice").public_key();
    CHECK(verify_payload(alice_pub, e.payload, e.sig) != SigForm::None);
    auto m = msg::MsgDirect::from_json(e.payload);
    REQUIRE(m.ok());
    CHECK(m->sender_pub == alice_pub.b64url());
    CHECK(decrypt_with("bob", m->ciphertext) == "hi bob,  two spaces");
    CHECK(verify_content(alice_pub, m->ciphertext, kAlice, kBob, e.ts, m->content_sig));
    CHECK_FALSE(verify_content(alice_pub, m->ciphertext, kAlice, kCarol, e.ts, m->content_sig));
    auto s = take_event(t.c, "sent");
    REQUIRE(s);
    CHECK(str(*s, "to") == kBob);
    CHECK(str(*s, "to_name") == "bob");
    CHECK(*json::get_int(*s, "bytes") == 19);
  }
}

TEST_CASE("tell: an ambiguous display name is refused with the candidates", "[client]") {
  AliceWithBob t;
  t.c.on_frame(advertise(kAlice, kCarol, "bob", fixture_key("server_b"), t.clock.ms));
  (void)t.c.take_events();
  t.c.command("/tell bob hi");
  CHECK(t.c.take_frames().empty());
  auto err = take_event(t.c, "error");
  REQUIRE(err);
  CHECK(str(*err, "code") == "AMBIGUOUS");
  const json::Value* cands = err->find("candidates");
  REQUIRE(cands);
  REQUIRE(cands->as_array().size() == 2);
  CHECK(cands->as_array()[0].as_string() == kBob);
  CHECK(cands->as_array()[1].as_string() == kCarol);
  // The id still works.
  t.c.command("/tell " + kCarol + " hi");
  CHECK(t.c.take_frames().size() == 1);
}

TEST_CASE("tell: unknown user refreshes the directory once, then USER_NOT_FOUND", "[client]") {
  AliceWithBob t;
  t.c.command("/tell dave hello");
  t.c.command("/whoami");  // queued behind the refresh, runs after it
  auto frames = parse_all(t.c.take_frames());
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].type == MessageType::ListRequest);
  CHECK_FALSE(find_event(t.c.take_events(), "whoami"));

  SECTION("dave is not in the mesh") {
    t.c.on_frame(server_frame(MessageType::ListResponse, kAlice, t.clock.ms,
                              list_response({entry(kBob, "bob", &fixture_key("bob"))})));
    auto events = t.c.take_events();
    CHECK_FALSE(find_event(events, "list"));  // a silent refresh
    const json::Value* err = find_event(events, "error");
    REQUIRE(err);
    CHECK(str(*err, "code") == "USER_NOT_FOUND");
    CHECK(find_event(events, "whoami"));
    CHECK(t.c.take_frames().empty());
    // Known to be complete now: no second refresh.
    t.c.command("/tell dave again");
    CHECK(t.c.take_frames().empty());
    CHECK(str(*find_event(t.c.take_events(), "error"), "code") == "USER_NOT_FOUND");
  }
  SECTION("dave is in the mesh") {
    const std::string kDave = "da4e0000-0000-4000-8000-000000000004";
    t.c.on_frame(server_frame(MessageType::ListResponse, kAlice, t.clock.ms,
                              list_response({entry(kDave, "dave", &fixture_key("server_b"))})));
    frames = parse_all(t.c.take_frames());
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].type == MessageType::MsgDirect);
    CHECK(frames[0].to == kDave);
    CHECK(find_event(t.c.take_events(), "sent"));
  }
}

TEST_CASE("tell: a known user without a key is looked up with PUBKEY_REQUEST", "[client]") {
  AliceWithBob t;
  t.c.command("/list");
  (void)t.c.take_frames();
  t.c.on_frame(server_frame(MessageType::ListResponse, kAlice, t.clock.ms,
                            list_response({entry(kCarol, "carol", nullptr)})));
  (void)t.c.take_events();
  t.c.command("/tell carol hi carol");
  t.c.input_closed();
  auto frames = parse_all(t.c.take_frames());
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].type == MessageType::PubkeyRequest);
  CHECK(str(frames[0].payload, "user_id") == kCarol);
  CHECK_FALSE(t.c.wants_close());  // the message is still waiting

  const std::string carol_pub = fixture_key("server_b").public_key().b64url();
  msg::PubkeyResponse pr;
  pr.user_id = kCarol;
  pr.pubkey = carol_pub;
  pr.server_id = kServerA;
  SECTION("dir_sig verifies: the message goes out") {
    pr.dir_sig = b64url_encode(fixture_key("server_a").sign(kCarol + carol_pub).value());
    t.c.on_frame(server_frame(MessageType::PubkeyResponse, kAlice, t.clock.ms, pr.to_json()));
    frames = parse_all(t.c.take_frames());
    REQUIRE(frames.size() == 1);
    auto m = msg::MsgDirect::from_json(frames[0].payload);
    REQUIRE(m.ok());
    CHECK(decrypt_with("server_b", m->ciphertext) == "hi carol");
    CHECK(t.c.wants_close());
  }
  SECTION("dir_sig by another key: ignored, then the request times out") {
    pr.dir_sig = b64url_encode(fixture_key("server_b").sign(kCarol + carol_pub).value());
    t.c.on_frame(server_frame(MessageType::PubkeyResponse, kAlice, t.clock.ms, pr.to_json()));
    CHECK(t.c.take_frames().empty());
    CHECK(find_event(t.c.take_events(), "warning"));
    t.clock.ms += 11'000;
    t.c.on_tick();
    CHECK(str(*find_event(t.c.take_events(), "error"), "code") == "TIMEOUT");
    CHECK(t.c.wants_close());
  }
}

TEST_CASE("tell: long text is split into <= 446-byte pieces on UTF-8 boundaries", "[client]") {
  AliceWithBob t;
  std::string text;
  while (text.size() < 1500) text += "abc é 😀 ";
  t.c.command("/tell bob " + text);
  auto frames = parse_all(t.c.take_frames());
  REQUIRE(frames.size() >= 4);
  std::string joined;
  std::int64_t last_ts = 0;
  for (const Envelope& e : frames) {
    auto m = msg::MsgDirect::from_json(e.payload);
    REQUIRE(m.ok());
    std::string piece = decrypt_with("bob", m->ciphertext);
    CHECK(piece.size() <= 446);
    CHECK(e.ts > last_ts);  // strictly increasing: order kept, no two pieces share a ts
    last_ts = e.ts;
    CHECK(verify_content(fixture_key("alice").public_key(), m->ciphertext, kAlice, kBob, e.ts,
                         m->content_sig));
    joined += piece;
  }
  CHECK(joined == text);
  auto s = take_event(t.c, "sent");
  REQUIRE(s);
  CHECK(*json::get_int(*s, "pieces") == static_cast<std::int64_t>(frames.size()));
}

TEST_CASE("split_utf8 never cuts a code point", "[client]") {
  CHECK(split_utf8("", 446).empty());
  CHECK(split_utf8("abc", 446) == std::vector<std::string>{"abc"});
  CHECK(split_utf8("abcdef", 4) == std::vector<std::string>{"abcd", "ef"});
  // "é" is 2 bytes, "😀" 4: with 5-byte pieces "aé😀" becomes "aé" + "😀".
  CHECK(split_utf8("a\xc3\xa9\xf0\x9f\x98\x80", 5) ==
        std::vector<std::string>{"a\xc3\xa9", "\xf0\x9f\x98\x80"});
  std::string s(446, 'x');
  CHECK(split_utf8(s, 446).size() == 1);
  CHECK(split_utf8(s + "\xc3\xa9", 446).size() == 2);
  CHECK(split_utf8(std::string(444, 'x') + "\xc3\xa9", 446).size() == 1);
  CHECK(split_utf8(std::string(445, 'x') + "\xc3\xa9", 446).size() == 2);
  CHECK(split_utf8(std::string(445, 'x') + "\xf0\x9f\x98\x80", 446) ==
        std::vector<std::string>{std::string(445, 'x'), "\xf0\x9f\x98\x80"});
}

TEST_CASE("key_changed: a different key for a known user is reported, the old one kept",
          "[client]") {
  AliceWithBob t;
  t.c.on_frame(advertise(kAlice, kBob, "bob", fixture_key("server_b"), t.clock.ms));
  auto events = t.c.take_events();
  const json::Value* kc = find_event(events, "key_changed");
  REQUIRE(kc);
  CHECK(str(*kc, "user_id") == kBob);
  CHECK(str(*kc, "pinned_fingerprint") == fixture_key("bob").public_key().fingerprint_hex());
  CHECK(str(*kc, "offered_fingerprint") == fixture_key("server_b").public_key().fingerprint_hex());
  // Still encrypting to the pinned key.
  t.c.command("/tell bob still you?");
  auto frames = parse_all(t.c.take_frames());
  REQUIRE(frames.size() == 1);
  CHECK(decrypt_with("bob", msg::MsgDirect::from_json(frames[0].payload)->ciphertext) ==
        "still you?");
  t.c.command("/verify bob");
  auto fp = take_event(t.c, "fingerprint");
  REQUIRE(fp);
  CHECK(str(*fp, "fingerprint") == fixture_key("bob").public_key().fingerprint_hex());
  // The same via LIST_RESPONSE.
  t.c.command("/list");
  (void)t.c.take_frames();
  t.c.on_frame(server_frame(MessageType::ListResponse, kAlice, t.clock.ms,
                            list_response({entry(kBob, "bob", &fixture_key("server_b"))})));
  CHECK(find_event(t.c.take_events(), "key_changed"));
}

TEST_CASE("list: sorted by display name then id, presence events", "[client]") {
  AliceWithBob t;
  t.c.command("/list");
  auto frames = parse_all(t.c.take_frames());
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].type == MessageType::ListRequest);
  t.c.on_frame(server_frame(MessageType::ListResponse, kAlice, t.clock.ms,
                            list_response({entry(kCarol, "bob", &fixture_key("server_b"), false),
                                           entry(kAlice, "alice", &fixture_key("alice")),
                                           entry(kBob, "bob", &fixture_key("bob"))})));
  auto l = take_event(t.c, "list");
  REQUIRE(l);
  const json::Array& users = l->find("users")->as_array();
  REQUIRE(users.size() == 3);
  CHECK(str(users[0], "user_id") == kAlice);
  CHECK(str(users[1], "user_id") == kBob);
  CHECK(str(users[2], "user_id") == kCarol);
  CHECK(users[1].find("online")->as_bool());
  CHECK_FALSE(users[2].find("online")->as_bool());
  CHECK(str(users[0], "server_id") == kServerA);

  t.c.on_frame(server_frame(MessageType::UserRemove, kAlice, t.clock.ms,
                            msg::UserRemove{kBob, kServerA}.to_json()));
  auto p = take_event(t.c, "presence");
  REQUIRE(p);
  CHECK(str(*p, "user_id") == kBob);
  CHECK_FALSE(p->find("online")->as_bool());
}

TEST_CASE("commands: help, whoami, verify, unknown, usage", "[client]") {
  AliceWithBob t;
  t.c.command("/help");
  CHECK(str(*find_event(t.c.take_events(), "help"), "text").find("/tell") != std::string::npos);
  t.c.command("/verify " + kBob);
  auto fp = take_event(t.c, "fingerprint");
  REQUIRE(fp);
  CHECK(str(*fp, "display_name") == "bob");
  t.c.command("/frobnicate");
  CHECK(str(*find_event(t.c.take_events(), "error"), "code") == "UNKNOWN_COMMAND");
  t.c.command("just text");
  CHECK(str(*find_event(t.c.take_events(), "error"), "code") == "UNKNOWN_COMMAND");
  t.c.command("/tell bob");
  CHECK(str(*find_event(t.c.take_events(), "error"), "code") == "USAGE");
  t.c.command("/tell bob \xff\xfe");
  CHECK(str(*find_event(t.c.take_events(), "error"), "code") == "USAGE");
  CHECK(t.c.take_frames().empty());
  CHECK(format_fingerprint("0123456789abcdef01") == "0123 4567 89ab cdef 01");
}

TEST_CASE("server errors after login are shown, the session goes on", "[client]") {
  AliceWithBob t;
  msg::ErrorMsg e;
  e.code = "USER_NOT_FOUND";
  e.detail = kBob + " is offline";
  e.msg_ref = "MSG_DIRECT";
  t.c.on_frame(server_frame(MessageType::Error, kAlice, t.clock.ms, e.to_json()));
  auto err = take_event(t.c, "error");
  REQUIRE(err);
  CHECK(str(*err, "msg_ref") == "MSG_DIRECT");
  CHECK_FALSE(t.c.wants_close());
  CHECK(t.c.logged_in());
}
