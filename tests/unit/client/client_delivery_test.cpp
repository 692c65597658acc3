// ClientCore, nothing lost: caps in the hello, msg_ids, receipts as events with command ids,
// USER_DELIVER_BATCH and DELIVERY_ACK, duplicates, long texts in pieces, resend after a
// reconnect, /wait.
#include <set>

#include "client_fake_server.h"

using namespace socp;
using namespace socp::test;

namespace {

std::string ack_hello_socp(const std::string& to, std::int64_t ts) {
  msg::Ack a;
  a.msg_ref = "USER_HELLO";
  a.server_id = kServerA;
  a.server_pub = fixture_key("server_a").public_key().b64url();
  json::Value p = a.to_json();
  p.as_object()["caps"] = json::Array{json::Value("socp/1")};
  return server_frame(MessageType::Ack, to, ts, std::move(p));
}

// Alice logged in at a socp/1 server, bob advertised.
struct Socp {
  FakeClock clock;
  ClientCore c{alice_login_config(clock)};
  std::vector<Envelope> hello;
  Socp() {
    c.on_connected();
    hello = parse_all(c.take_frames());
    c.on_frame(ack_hello_socp(kAlice, clock.ms));
    REQUIRE(c.logged_in());
    // A socp/1 server sends no adverts at login: the client asks for the LIST (answered
    // empty here), then bob comes online.
    c.on_frame(
        server_frame(MessageType::ListResponse, kAlice, clock.ms, msg::ListResponse{}.to_json()));
    c.on_frame(advertise(kAlice, kBob, "bob", fixture_key("bob"), clock.ms));
    (void)c.take_events();
    (void)c.take_frames();
  }
  std::vector<Envelope> frames_of(MessageType t) {
    std::vector<Envelope> out;
    for (Envelope& e : parse_all(c.take_frames())) {
      if (e.type == t) out.push_back(std::move(e));
    }
    return out;
  }
  void receipts(std::vector<std::string> queued, std::vector<std::string> delivered,
                std::vector<msg::FailedReceipt> failed = {}) {
    msg::Receipts r;
    r.queued = std::move(queued);
    r.delivered = std::move(delivered);
    r.failed = std::move(failed);
    c.on_frame(server_frame(MessageType::Receipts, kAlice, ++clock.ms, r.to_json()));
  }
};

std::string msg_id_of(const Envelope& e) {
  const std::string* id = json::get_string(e.payload, "msg_id");
  return id ? *id : std::string();
}

msg::DeliveredMessage stored(const std::string& id, std::int64_t ts, const std::string& text,
                             json::Value parts = {}) {
  auto dm = make_dm(fixture_key("bob"), kBob, fixture_key("alice").public_key(), kAlice, ts, text);
  return {id, kBob, dm.sender_pub, dm.ciphertext, dm.content_sig, ts, std::move(parts)};
}

std::string batch(const std::vector<msg::DeliveredMessage>& msgs, std::int64_t ts) {
  msg::UserDeliverBatch b;
  b.messages = msgs;
  return server_frame(MessageType::UserDeliverBatch, kAlice, ts, b.to_json());
}

std::vector<std::string> acked_ids(const std::vector<Envelope>& frames) {
  std::vector<std::string> ids;
  for (const Envelope& e : frames) {
    if (e.type != MessageType::DeliveryAck) continue;
    CHECK(e.sig.empty());  // unsigned
    auto a = msg::DeliveryAck::from_json(e.payload);
    REQUIRE(a.ok());
    ids.insert(ids.end(), a->ids.begin(), a->ids.end());
  }
  return ids;
}

}  // namespace

TEST_CASE("delivery: the hello announces socp/1", "[client][delivery]") {
  Socp t;
  REQUIRE(t.hello.size() == 1);
  auto h = msg::UserHello::from_json(t.hello[0].payload);
  REQUIRE(h.ok());
  CHECK(h->caps == std::vector<std::string>{"socp/1"});
}

TEST_CASE("delivery: each DM has a fresh msg_id, receipts become events with the command id",
          "[client][delivery]") {
  Socp t;
  t.c.command("/tell bob one", 7);
  t.c.command("/tell bob two", 8);
  auto sent = t.frames_of(MessageType::MsgDirect);
  REQUIRE(sent.size() == 2);
  const std::string id1 = msg_id_of(sent[0]), id2 = msg_id_of(sent[1]);
  CHECK(!id1.empty());
  CHECK(id1 != id2);
  auto events = t.c.take_events();
  const json::Value* s = find_event(events, "sent");
  REQUIRE(s);
  CHECK(*json::get_int(*s, "cmd") == 7);
  CHECK(str(*s, "msg_id") == id1);
  CHECK(t.c.unacknowledged() == 2);

  t.receipts({id1, id2}, {});
  events = t.c.take_events();
  REQUIRE(count_events(events, "queued") == 2);
  CHECK(*json::get_int(events[0], "cmd") == 7);
  CHECK(*json::get_int(events[1], "cmd") == 8);
  CHECK(t.c.unacknowledged() == 0);

  t.receipts({}, {id1}, {{id2, "", "TIMEOUT", "not delivered in time"}});
  events = t.c.take_events();
  const json::Value* d = find_event(events, "delivered");
  REQUIRE(d);
  CHECK(str(*d, "msg_id") == id1);
  const json::Value* f = find_event(events, "failed");
  REQUIRE(f);
  CHECK(str(*f, "code") == "TIMEOUT");
  CHECK(str(*f, "reason") == "not delivered in time");
  CHECK(*json::get_int(*f, "cmd") == 8);
  // Receipts only move forward, and unknown ids are ignored.
  t.receipts({id1, "nope"}, {id2});
  CHECK(t.c.take_events().empty());
}

TEST_CASE("delivery: stored messages arrive in a batch, are shown once and acknowledged",
          "[client][delivery]") {
  Socp t;
  const std::int64_t ts = t.clock.ms - 60'000;
  auto bad = stored("m3", ts + 2, "forged");
  bad.content_sig = stored("x", ts + 9, "other").content_sig;
  t.c.on_frame(
      batch({stored("m1", ts, "first"), stored("m2", ts + 1, "second"), bad}, ++t.clock.ms));
  auto events = t.c.take_events();
  REQUIRE(count_events(events, "message") == 2);
  CHECK(str(events[0], "text") == "first");
  CHECK(str(events[0], "msg_id") == "m1");
  CHECK(*json::get_int(events[0], "ts") == ts);
  CHECK(count_events(events, "rejected") == 1);
  // Acknowledged in one unsigned frame: the shown ones and the rejected one.
  auto frames = parse_all(t.c.take_frames());
  REQUIRE(frames.size() == 1);
  CHECK(acked_ids(frames) == std::vector<std::string>{"m1", "m2", "m3"});

  // Redelivered (our ack was lost): acknowledged again, not shown again.
  t.c.on_frame(batch({stored("m1", ts, "first")}, ++t.clock.ms));
  CHECK(count_events(t.c.take_events(), "message") == 0);
  CHECK(acked_ids(parse_all(t.c.take_frames())) == std::vector<std::string>{"m1"});

  // A live USER_DELIVER with a msg_id is acknowledged too.
  auto dm = make_dm(fixture_key("bob"), kBob, fixture_key("alice").public_key(), kAlice, t.clock.ms,
                    "live");
  msg::UserDeliver d{dm.ciphertext, kBob, dm.sender_pub, dm.content_sig, "m4", {}, false};
  t.c.on_frame(server_frame(MessageType::UserDeliver, kAlice, t.clock.ms, d.to_json()));
  CHECK(count_events(t.c.take_events(), "message") == 1);
  CHECK(acked_ids(parse_all(t.c.take_frames())) == std::vector<std::string>{"m4"});
}

TEST_CASE("delivery: a long text goes in pieces and is shown as one message",
          "[client][delivery]") {
  Socp t;
  std::string text;
  for (int i = 0; i < 300; ++i) text += "ab✓";  // 1500 bytes: 4 pieces
  t.c.command("/tell bob " + text, 3);
  auto pieces = t.frames_of(MessageType::MsgDirect);
  REQUIRE(pieces.size() == 4);
  std::set<std::string> ids;
  std::string parts_id;
  std::vector<msg::DeliveredMessage> as_stored;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    auto m = msg::MsgDirect::from_json(pieces[i].payload);
    REQUIRE(m.ok());
    ids.insert(m->msg_id);
    REQUIRE(m->parts.is_object());
    if (parts_id.empty()) parts_id = *json::get_string(m->parts, "id");
    CHECK(*json::get_string(m->parts, "id") == parts_id);
    CHECK(*json::get_int(m->parts, "index") == static_cast<std::int64_t>(i));
    CHECK(*json::get_int(m->parts, "count") == 4);
    // Each piece decrypts on its own and is content-signed on its own.
    auto ct = b64_decode(m->ciphertext).value();
    CHECK(fixture_key("bob").decrypt(ct).ok());
    CHECK(verify_content(fixture_key("alice").public_key(), m->ciphertext, kAlice, kBob,
                         pieces[i].ts, m->content_sig));
  }
  CHECK(ids.size() == 4);
  auto events = t.c.take_events();
  const json::Value* s = find_event(events, "sent");
  REQUIRE(s);
  CHECK(str(*s, "msg_id") == parts_id);
  // Queued once every piece is.
  std::vector<std::string> v(ids.begin(), ids.end());
  t.receipts({v[0], v[1], v[2]}, {});
  CHECK(count_events(t.c.take_events(), "queued") == 0);
  t.receipts({v[3]}, {});
  CHECK(count_events(t.c.take_events(), "queued") == 1);

  // Receiving: pieces out of order, one duplicated; shown once, complete.
  std::vector<std::string> texts;
  for (std::size_t i = 0; i < text.size(); i += 446) texts.push_back(text.substr(i, 446));
  REQUIRE(texts.size() == 4);  // (all ASCII boundaries? "ab✓" is 5 bytes; cut anywhere here)
  auto part = [&](std::size_t i) {
    return stored("p" + std::to_string(i), t.clock.ms + static_cast<std::int64_t>(i), texts[i],
                  json::Object{{"id", "long1"},
                               {"index", static_cast<std::int64_t>(i)},
                               {"count", static_cast<std::int64_t>(4)}});
  };
  t.c.on_frame(batch({part(2), part(0), part(2)}, ++t.clock.ms));
  CHECK(count_events(t.c.take_events(), "message") == 0);
  CHECK(acked_ids(parse_all(t.c.take_frames())).empty());  // not before it is shown
  t.c.on_frame(batch({part(3), part(1)}, ++t.clock.ms));
  events = t.c.take_events();
  REQUIRE(count_events(events, "message") == 1);
  const json::Value* m = find_event(events, "message");
  CHECK(str(*m, "text") == text);
  CHECK(str(*m, "msg_id") == "long1");
  CHECK(*json::get_int(*m, "pieces") == 4);
  CHECK(acked_ids(parse_all(t.c.take_frames())).size() == 4);
}

TEST_CASE("delivery: pieces that never complete expire unacknowledged, bad parts are refused",
          "[client][delivery]") {
  Socp t;
  auto part = [&](const std::string& id, std::int64_t index, std::int64_t count) {
    return stored(id + std::to_string(index), t.clock.ms, "x",
                  json::Object{{"id", id}, {"index", index}, {"count", count}});
  };
  t.c.on_frame(batch({part("half", 0, 2)}, ++t.clock.ms));
  t.c.on_frame(batch({part("huge", 0, 200)}, ++t.clock.ms));
  auto events = t.c.take_events();
  const json::Value* r = find_event(events, "rejected");
  REQUIRE(r);
  CHECK(str(*r, "reason") == "bad long message parts");
  CHECK(acked_ids(parse_all(t.c.take_frames())) == std::vector<std::string>{"huge0"});
  t.clock.ms += 61'000;
  t.c.on_tick();
  events = t.c.take_events();
  r = find_event(events, "rejected");
  REQUIRE(r);
  CHECK(str(*r, "reason").find("incomplete long message: 1 of 2") == 0);
  CHECK(acked_ids(parse_all(t.c.take_frames())).empty());
}

TEST_CASE("delivery: a malformed batch entry is rejected and acknowledged, the rest shown",
          "[client][delivery]") {
  Socp t;
  msg::UserDeliverBatch b;
  b.messages = {stored("ok1", t.clock.ms, "fine")};
  json::Value p = b.to_json();
  p.as_object()["messages"].as_array().push_back(
      json::Object{{"msg_id", "junk"}, {"sender", kBob}, {"ts", t.clock.ms}});
  t.c.on_frame(server_frame(MessageType::UserDeliverBatch, kAlice, ++t.clock.ms, std::move(p)));
  auto events = t.c.take_events();
  CHECK(count_events(events, "message") == 1);
  CHECK(count_events(events, "rejected") == 1);
  CHECK(acked_ids(parse_all(t.c.take_frames())) == std::vector<std::string>{"ok1", "junk"});
}

TEST_CASE("delivery: after a reconnect, DMs without receipt go again with the same msg_id",
          "[client][delivery]") {
  Socp t;
  t.c.command("/tell bob kept", 1);
  t.c.command("/tell bob done", 2);
  auto first = t.frames_of(MessageType::MsgDirect);
  REQUIRE(first.size() == 2);
  t.receipts({msg_id_of(first[1])}, {});
  (void)t.c.take_events();
  REQUIRE(t.c.can_reconnect());
  t.c.on_disconnected();
  t.c.command("/tell bob later", 3);  // typed while away: runs after the login
  CHECK(t.c.take_frames().empty());
  t.clock.ms += 5'000;
  t.c.on_connected();
  auto hello = parse_all(t.c.take_frames());
  REQUIRE(hello.size() == 1);
  CHECK(hello[0].type == MessageType::UserHello);  // no password, no recovery: a login
  t.c.on_frame(ack_hello_socp(kAlice, t.clock.ms));
  // The line typed while away runs once the login's LIST has come.
  t.c.on_frame(
      server_frame(MessageType::ListResponse, kAlice, t.clock.ms, msg::ListResponse{}.to_json()));
  auto again = t.frames_of(MessageType::MsgDirect);
  REQUIRE(again.size() == 2);
  CHECK(msg_id_of(again[0]) == msg_id_of(first[0]));
  CHECK(again[0].ts > first[1].ts);  // a fresh ts, content_sig over it
  auto m = msg::MsgDirect::from_json(again[0].payload).value();
  CHECK(verify_content(fixture_key("alice").public_key(), m.ciphertext, kAlice, kBob, again[0].ts,
                       m.content_sig));
  auto events = t.c.take_events();
  const json::Value* rc = find_event(events, "reconnected");
  REQUIRE(rc);
  CHECK(*json::get_int(*rc, "resent") == 1);
  const json::Value* s = find_event(events, "sent");
  REQUIRE(s);
  CHECK(*json::get_int(*s, "cmd") == 3);
}

TEST_CASE("delivery: /wait until delivered, or a timeout that says so", "[client][delivery]") {
  Socp t;
  t.c.command("/tell bob x", 1);
  auto sent = t.frames_of(MessageType::MsgDirect);
  t.c.command("/wait delivered timeout 5", 2);
  t.c.command("/whoami", 3);
  auto events = t.c.take_events();
  CHECK_FALSE(find_event(events, "whoami"));  // held behind the wait
  t.receipts({}, {msg_id_of(sent[0])});
  events = t.c.take_events();
  const json::Value* w = find_event(events, "waited");
  REQUIRE(w);
  CHECK(w->find("ok")->as_bool());
  CHECK(*json::get_int(*w, "cmd") == 2);
  CHECK(find_event(events, "whoami"));

  t.c.command("/wait messages 1 timeout 2", 4);
  t.clock.ms += 2'500;
  t.c.on_tick();
  events = t.c.take_events();
  w = find_event(events, "waited");
  REQUIRE(w);
  CHECK_FALSE(w->find("ok")->as_bool());
  const json::Value* e = find_event(events, "error");
  REQUIRE(e);
  CHECK(str(*e, "code") == "TIMEOUT");
  CHECK(*json::get_int(*e, "cmd") == 4);
  t.c.command("/wait bogus", 5);
  events = t.c.take_events();
  e = find_event(events, "error");
  REQUIRE(e);
  CHECK(str(*e, "code") == "USAGE");
}
