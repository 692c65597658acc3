// ClientCore and the public channel: /all (key shares + encrypted post), incoming key shares
// (live and stored forms), posts held until their key arrives, and every rejection.
#include "core/client/client_public.h"
#include "client_fake_server.h"
#include "core/client/channel_cipher.h"

using namespace socp;
using namespace socp::test;
namespace channel = socp::client::channel;

namespace {

const std::string kDave = "da7e0000-0000-4000-8000-000000000004";

// Alice logged in; bob advertised (online, key pinned).
struct Alice {
  FakeClock clock;
  ClientCore c{alice_login_config(clock)};
  Alice() {
    log_in(c, clock);
    c.on_frame(advertise(kAlice, kBob, "bob", fixture_key("bob"), clock.ms));
    (void)c.take_events();
  }
  std::vector<json::Value> feed(const std::string& frame) {
    c.on_frame(frame);
    return c.take_events();
  }
};

std::string updated_frame(std::int64_t version, std::vector<std::string> members, std::int64_t ts) {
  msg::PublicChannelUpdated u;
  u.version = version;
  u.members = std::move(members);
  return server_frame(MessageType::PublicChannelUpdated, kAlice, ts, u.to_json());
}

json::Value list_of(std::vector<std::tuple<std::string, std::string, const PrivateKey*>> users) {
  msg::ListResponse lr;
  for (auto& [id, name, key] : users) {
    msg::ListEntry e;
    e.user_id = id;
    e.display_name = name;
    e.server_id = kServerA;
    e.online = true;
    e.pubkey = key->public_key().b64url();
    lr.users.push_back(e);
    lr.online_users.push_back(id);
  }
  return lr.to_json();
}

/// A channel key as another member's client makes it.
struct SenderKey {
  SecretBytes k = channel::new_key();
  std::string id = channel::new_key_id();
};

msg::ChannelShare make_share(const PrivateKey& sender_key, const std::string& sender,
                             const std::string& member, const PublicKey& member_pub,
                             const SenderKey& sk) {
  msg::ChannelShare sh;
  sh.member = member;
  sh.wrapped = b64url_encode(member_pub.encrypt(sk.k.data(), sk.k.size()).value());
  sh.sig = b64url_encode(
      sender_key.sign(msg::share_sig_message(sender, member, sk.id, sh.wrapped)).value());
  return sh;
}

/// PUBLIC_CHANNEL_KEY_SHARE (live form) from `sender` carrying a share for alice.
msg::PublicChannelKeyShare live_share(const PrivateKey& sender_key, const std::string& sender,
                                      const SenderKey& sk) {
  msg::PublicChannelKeyShare ks;
  ks.sender = sender;
  ks.key_id = sk.id;
  ks.shares.push_back(
      make_share(sender_key, sender, kCarol, fixture_key("server_b").public_key(), sk));
  ks.shares.push_back(
      make_share(sender_key, sender, kAlice, fixture_key("alice").public_key(), sk));
  ks.creator_pub = sender_key.public_key().b64url();
  ks.content_sig =
      b64url_encode(sender_key.sign(msg::key_share_content(sender, ks.key_id, ks.shares)).value());
  return ks;
}

std::string share_frame(const msg::PublicChannelKeyShare& ks, std::int64_t ts) {
  return server_frame(MessageType::PublicChannelKeyShare, kAlice, ts, ks.to_json());
}

/// MSG_PUBLIC_CHANNEL as a server relays it.
msg::MsgPublicChannel post(const PrivateKey& signer, const std::string& sender, const SenderKey& sk,
                           const std::string& text, std::int64_t ts) {
  Bytes blob = channel::seal(sk.k, text, channel::associated_data(sender, sk.id)).value();
  msg::MsgPublicChannel p;
  p.sender = sender;
  p.ciphertext = b64url_encode(blob);
  p.key_id = sk.id;
  p.sender_pub = signer.public_key().b64url();
  p.content_sig = sign_content(signer, blob, sender, "", ts).value();
  return p;
}

std::string post_frame(const msg::MsgPublicChannel& p, std::int64_t ts,
                       const PrivateKey* server = nullptr) {
  return server_frame(MessageType::MsgPublicChannel, kAlice, ts, p.to_json(), server);
}

std::vector<json::Value> named(const std::vector<json::Value>& events, const std::string& name) {
  std::vector<json::Value> out;
  for (const auto& e : events) {
    if (str(e, "event") == name) out.push_back(e);
  }
  return out;
}

}  // namespace

TEST_CASE("public /all: shares the key with every member, then one encrypted post",
          "[client][public]") {
  Alice t;
  t.c.on_frame(updated_frame(3, {kAlice, kBob, kCarol}, t.clock.ms));
  REQUIRE(t.c.take_frames().empty());  // no key yet: nothing to share
  t.c.command("/all hello everyone");
  auto frames = parse_all(t.c.take_frames());
  REQUIRE(frames.size() == 1);  // the directory first: the key goes to every member
  CHECK(frames[0].type == MessageType::ListRequest);
  t.c.on_frame(server_frame(MessageType::ListResponse, kAlice, t.clock.ms,
                            list_of({{kAlice, "alice", &fixture_key("alice")},
                                     {kBob, "bob", &fixture_key("bob")},
                                     {kCarol, "carol", &fixture_key("server_b")}})));
  frames = parse_all(t.c.take_frames());
  REQUIRE(frames.size() == 2);
  REQUIRE(frames[0].type == MessageType::PublicChannelKeyShare);
  REQUIRE(frames[1].type == MessageType::MsgPublicChannel);
  CHECK(frames[0].to == "public");
  CHECK(frames[1].to == "public");

  // The share: signed by alice as a whole and per member; bob and carol can unwrap K.
  auto ks = msg::PublicChannelKeyShare::from_json(frames[0].payload);
  REQUIRE(ks.ok());
  CHECK(ks->sender.empty());  // the envelope's `from`
  CHECK(ks->creator_pub == fixture_key("alice").public_key().b64url());
  REQUIRE(ks->shares.size() == 2);
  const PublicKey& apub = fixture_key("alice").public_key();
  CHECK(apub.verify(msg::key_share_content(kAlice, ks->key_id, ks->shares),
                    b64_decode(ks->content_sig).value()));
  std::map<std::string, std::string> who{{kBob, "bob"}, {kCarol, "server_b"}};
  std::optional<Bytes> k;
  for (const auto& sh : ks->shares) {
    REQUIRE(who.count(sh.member) == 1);
    CHECK(apub.verify(msg::share_sig_message(kAlice, sh.member, ks->key_id, sh.wrapped),
                      b64_decode(sh.sig).value()));
    auto kk = fixture_key(who[sh.member]).decrypt(b64_decode(sh.wrapped).value());
    REQUIRE(kk.ok());
    REQUIRE(kk->size() == 32);
    Bytes kb(kk->data(), kk->data() + kk->size());
    if (k) CHECK(*k == kb);
    k = kb;
  }
  // The post: content_sig in the public form, opens with K and alice's AD.
  auto m = msg::MsgPublicChannel::from_json(frames[1].payload);
  REQUIRE(m.ok());
  CHECK(m->key_id == ks->key_id);
  CHECK(m->sender_pub == apub.b64url());
  CHECK(verify_content(apub, m->ciphertext, kAlice, "", frames[1].ts, m->content_sig));
  SecretBytes key(k->data(), k->size());
  auto text = channel::open(key, b64_decode(m->ciphertext).value(),
                            channel::associated_data(kAlice, m->key_id));
  REQUIRE(text.ok());
  CHECK(*text == "hello everyone");
  CHECK_FALSE(channel::open(key, b64_decode(m->ciphertext).value(),
                            channel::associated_data(kBob, m->key_id))
                  .ok());  // bound to the sender
  auto sa = take_event(t.c, "sent_all");
  REQUIRE(sa);
  CHECK(*json::get_int(*sa, "recipients") == 2);
  CHECK(*json::get_int(*sa, "skipped") == 0);
  CHECK(str(*sa, "channel") == "public");

  // Next post: same key, no new shares.
  t.c.command("/all again");
  frames = parse_all(t.c.take_frames());
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].type == MessageType::MsgPublicChannel);
  CHECK(msg::MsgPublicChannel::from_json(frames[0].payload)->key_id == ks->key_id);

  // A new member (advertised with a key) gets the current key, alone.
  t.c.on_frame(advertise(kAlice, kDave, "dave", fixture_key("server_a"), t.clock.ms));
  frames = parse_all(t.c.take_frames());
  REQUIRE(frames.size() == 1);
  auto ks2 = msg::PublicChannelKeyShare::from_json(frames[0].payload);
  REQUIRE(ks2.ok());
  REQUIRE(ks2->shares.size() == 1);
  CHECK(ks2->shares[0].member == kDave);
  CHECK(ks2->key_id == ks->key_id);
  // Listing it again changes nothing.
  t.c.on_frame(updated_frame(4, {kAlice, kBob, kCarol, kDave}, t.clock.ms));
  CHECK(t.c.take_frames().empty());
}

TEST_CASE("public /all: limits and members without a key", "[client][public]") {
  Alice t;
  t.c.command("/all " + std::string(channel::kMaxPostBytes + 1, 'x'));
  auto err = take_event(t.c, "error");
  REQUIRE(err);
  CHECK(str(*err, "code") == "TOO_LARGE");
  CHECK(t.c.take_frames().empty());

  t.c.command("/all x");
  (void)t.c.take_frames();  // LIST_REQUEST
  t.c.on_frame(server_frame(
      MessageType::ListResponse, kAlice, t.clock.ms,
      list_of({{kAlice, "alice", &fixture_key("alice")}, {kBob, "bob", &fixture_key("bob")}})));
  (void)t.c.take_frames();
  (void)t.c.take_events();
  // The server reports a member nobody told us the key of: one silent refresh per version.
  t.c.on_frame(updated_frame(3, {kAlice, kBob, kCarol}, t.clock.ms));
  auto frames = parse_all(t.c.take_frames());
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].type == MessageType::ListRequest);
  t.c.on_frame(server_frame(
      MessageType::ListResponse, kAlice, t.clock.ms,
      list_of({{kAlice, "alice", &fixture_key("alice")}, {kBob, "bob", &fixture_key("bob")}})));
  CHECK(t.c.take_frames().empty());               // still no key for carol: no second request
  CHECK(!find_event(t.c.take_events(), "list"));  // silent
  t.c.command("/all y");
  (void)t.c.take_frames();
  auto sa = take_event(t.c, "sent_all");
  REQUIRE(sa);
  CHECK(*json::get_int(*sa, "recipients") == 1);
  CHECK(*json::get_int(*sa, "skipped") == 1);
  CHECK(*json::get_int(*sa, "members") == 2);
}

TEST_CASE("public posts: a live key share, then posts are verified and shown", "[client][public]") {
  Alice t;
  SenderKey sk;
  auto ev = t.feed(share_frame(live_share(fixture_key("bob"), kBob, sk), t.clock.ms));
  CHECK(named(ev, "warning").empty());
  ev = t.feed(post_frame(post(fixture_key("bob"), kBob, sk, "hi all", t.clock.ms), t.clock.ms));
  auto m = named(ev, "message");
  REQUIRE(m.size() == 1);
  CHECK(str(m[0], "from") == kBob);
  CHECK(str(m[0], "from_name") == "bob");
  CHECK(str(m[0], "text") == "hi all");
  CHECK(str(m[0], "channel") == "public");
  CHECK(str(m[0], "to") == "public");
  CHECK(*json::get_int(m[0], "ts") == t.clock.ms);
  CHECK(m[0].find("verified")->as_bool());
  CHECK_FALSE(m[0].find("first_contact")->as_bool());
  // Our own post coming back is ignored.
  SenderKey mine;
  ev = t.feed(post_frame(post(fixture_key("alice"), kAlice, mine, "echo", t.clock.ms), t.clock.ms));
  CHECK(ev.empty());
}

TEST_CASE("public posts: held until the share arrives, in order", "[client][public]") {
  Alice t;
  SenderKey sk;
  CHECK(t.feed(post_frame(post(fixture_key("bob"), kBob, sk, "one", t.clock.ms), t.clock.ms))
            .empty());
  t.clock.ms += 5;
  CHECK(t.feed(post_frame(post(fixture_key("bob"), kBob, sk, "two", t.clock.ms), t.clock.ms))
            .empty());
  auto ev = t.feed(share_frame(live_share(fixture_key("bob"), kBob, sk), t.clock.ms));
  auto m = named(ev, "message");
  REQUIRE(m.size() == 2);
  CHECK(str(m[0], "text") == "one");
  CHECK(str(m[1], "text") == "two");
  // Nothing left to time out.
  t.clock.ms += 60'000;
  t.c.on_tick();
  CHECK(named(t.c.take_events(), "rejected").empty());
}

TEST_CASE("public posts: no key within 30 s, or too many held, is rejected", "[client][public]") {
  Alice t;
  SenderKey sk;
  (void)t.feed(post_frame(post(fixture_key("bob"), kBob, sk, "lost", t.clock.ms), t.clock.ms));
  t.clock.ms += 29'000;
  t.c.on_tick();
  CHECK(named(t.c.take_events(), "rejected").empty());
  t.clock.ms += 2'000;
  t.c.on_tick();
  auto r = named(t.c.take_events(), "rejected");
  REQUIRE(r.size() == 1);
  CHECK(str(r[0], "reason") == "no channel key");
  CHECK(str(r[0], "from") == kBob);
  CHECK(str(r[0], "channel") == "public");
  // A share arriving now finds nothing to open.
  CHECK(named(t.feed(share_frame(live_share(fixture_key("bob"), kBob, sk), t.clock.ms)), "message")
            .empty());

  // Bounded: the 257th held post pushes the oldest out as rejected.
  SenderKey other;
  const auto p = post(fixture_key("bob"), kBob, other, "x", t.clock.ms);
  std::size_t rejected = 0;
  for (std::size_t i = 0; i < socp::client::kMaxHeldPosts + 1; ++i) {
    rejected += named(t.feed(post_frame(p, t.clock.ms)), "rejected").size();
  }
  CHECK(rejected == 1);
}

TEST_CASE("public posts: the stored share form (sent at login) opens later posts",
          "[client][public]") {
  Alice t;
  SenderKey sk;
  auto ks = live_share(fixture_key("bob"), kBob, sk);
  msg::PublicChannelStoredShares stored;
  msg::StoredChannelShare sh;
  sh.sender = kBob;
  sh.key_id = sk.id;
  sh.wrapped = ks.shares[1].wrapped;  // alice's
  sh.sig = ks.shares[1].sig;
  sh.creator_pub = ks.creator_pub;
  stored.shares.push_back(sh);
  // A second entry whose signature is not bob's (as a lying server would send) is ignored.
  SenderKey forged;
  msg::StoredChannelShare bad = sh;
  bad.key_id = forged.id;
  bad.wrapped = b64url_encode(
      fixture_key("alice").public_key().encrypt(forged.k.data(), forged.k.size()).value());
  stored.shares.push_back(bad);
  auto ev = t.feed(
      server_frame(MessageType::PublicChannelKeyShare, kAlice, t.clock.ms, stored.to_json()));
  CHECK(named(ev, "warning").size() == 1);
  ev = t.feed(post_frame(post(fixture_key("bob"), kBob, sk, "stored ok", t.clock.ms), t.clock.ms));
  REQUIRE(named(ev, "message").size() == 1);
  CHECK(t.feed(post_frame(post(fixture_key("bob"), kBob, forged, "forged", t.clock.ms),
                          t.clock.ms))
            .empty());  // held: the forged key was never accepted
}

TEST_CASE("public posts: a share from an unknown sender pins its key (first contact)",
          "[client][public]") {
  Alice t;
  SenderKey sk;
  auto ev = t.feed(share_frame(live_share(fixture_key("server_b"), kCarol, sk), t.clock.ms));
  CHECK(named(ev, "warning").empty());
  ev = t.feed(post_frame(post(fixture_key("server_b"), kCarol, sk, "hello from carol", t.clock.ms),
                         t.clock.ms));
  auto m = named(ev, "message");
  REQUIRE(m.size() == 1);
  CHECK(str(m[0], "text") == "hello from carol");
  // The key is pinned now: carol's key changing is a mismatch.
  SenderKey sk2;
  ev = t.feed(
      post_frame(post(fixture_key("server_a"), kCarol, sk2, "impostor", t.clock.ms), t.clock.ms));
  auto r = named(ev, "rejected");
  REQUIRE(r.size() == 1);
  CHECK(str(r[0], "reason") == "sender key mismatch");
}

TEST_CASE("public posts: every failed check is a rejected event or a warning, never a message",
          "[client][public]") {
  Alice t;
  SenderKey sk;
  (void)t.feed(share_frame(live_share(fixture_key("bob"), kBob, sk), t.clock.ms));
  auto reason_of = [&](const std::string& frame) {
    auto ev = t.feed(frame);
    CHECK(named(ev, "message").empty());
    auto r = named(ev, "rejected");
    return r.size() == 1 ? str(r[0], "reason") : std::string("<none>");
  };
  const std::int64_t ts = t.clock.ms;
  // content_sig by another key.
  auto p = post(fixture_key("bob"), kBob, sk, "x", ts);
  p.content_sig =
      sign_content(fixture_key("server_a"), b64_decode(p.ciphertext).value(), kBob, "", ts).value();
  CHECK(reason_of(post_frame(p, ts)) == "bad content signature");
  // content_sig made for another ts (a replay with a new envelope ts).
  p = post(fixture_key("bob"), kBob, sk, "x", ts);
  CHECK(reason_of(post_frame(p, ts + 1)) == "bad content signature");
  // sender_pub not bob's pinned key (content_sig consistent with it).
  p = post(fixture_key("server_a"), kBob, sk, "x", ts);
  CHECK(reason_of(post_frame(p, ts)) == "sender key mismatch");
  // Unparseable sender_pub.
  p = post(fixture_key("bob"), kBob, sk, "x", ts);
  p.sender_pub = "bm90IGEga2V5";
  CHECK(reason_of(post_frame(p, ts)) == "bad sender key");
  // Right key id, wrong key: the tag does not verify.
  SenderKey wrong;
  wrong.id = sk.id;
  p = post(fixture_key("bob"), kBob, wrong, "x", ts);
  CHECK(reason_of(post_frame(p, ts)) == "cannot decrypt");
  // Malformed payload.
  json::Value bad = json::Object{{"sender", kBob}, {"ciphertext", "AAAA"}};
  CHECK(reason_of(server_frame(MessageType::MsgPublicChannel, kAlice, ts, bad))
            .rfind("malformed MSG_PUBLIC_CHANNEL", 0) == 0);
  // Not signed by our server: dropped with a warning before any other check.
  p = post(fixture_key("bob"), kBob, sk, "x", ts);
  auto ev = t.feed(post_frame(p, ts, &fixture_key("server_b")));
  CHECK(named(ev, "message").empty());
  CHECK(named(ev, "warning").size() == 1);
  // The genuine post still works.
  ev = t.feed(post_frame(post(fixture_key("bob"), kBob, sk, "genuine", ts), ts));
  REQUIRE(named(ev, "message").size() == 1);
}

TEST_CASE("public key shares: bad shares are refused with a warning", "[client][public]") {
  Alice t;
  auto warned = [&](const msg::PublicChannelKeyShare& ks) {
    auto ev = t.feed(share_frame(ks, t.clock.ms));
    return named(ev, "warning").size() == 1;
  };
  SenderKey a, b, c, d;
  // creator_pub is not bob's pinned key (and everything is signed by that other key).
  CHECK(warned(live_share(fixture_key("server_a"), kBob, a)));
  // content_sig over different shares.
  auto ks = live_share(fixture_key("bob"), kBob, b);
  ks.shares[0].wrapped = ks.shares[1].wrapped;
  CHECK(warned(ks));
  // Our share's own signature broken (content_sig re-made so only the share sig is wrong).
  ks = live_share(fixture_key("bob"), kBob, c);
  ks.shares[1].sig = ks.shares[0].sig;
  ks.content_sig = b64url_encode(
      fixture_key("bob").sign(msg::key_share_content(kBob, ks.key_id, ks.shares)).value());
  CHECK(warned(ks));
  // A share that is not addressed to us is silently not ours.
  ks = live_share(fixture_key("bob"), kBob, d);
  ks.shares.pop_back();
  ks.content_sig = b64url_encode(
      fixture_key("bob").sign(msg::key_share_content(kBob, ks.key_id, ks.shares)).value());
  CHECK(t.feed(share_frame(ks, t.clock.ms)).empty());
  // None of those keys were accepted: posts under them are held, not shown.
  for (const SenderKey* k : {&a, &b, &c, &d}) {
    CHECK(t.feed(post_frame(post(fixture_key("bob"), kBob, *k, "x", t.clock.ms), t.clock.ms))
              .empty());
  }
}

TEST_CASE("public /all: members on servers without socp/1 get it as a direct message",
          "[client][public][interop]") {
  Alice t;
  t.c.on_frame(updated_frame(3, {kAlice, kBob, kCarol}, t.clock.ms));
  t.c.command("/all hello everyone");
  (void)t.c.take_frames();
  json::Value list = list_of({{kAlice, "alice", &fixture_key("alice")},
                              {kBob, "bob", &fixture_key("bob")},
                              {kCarol, "carol", &fixture_key("server_b")}});
  // carol's home server is a G43 server.
  for (json::Value& u : list.as_object()["users"].as_array()) {
    if (*json::get_string(u, "user_id") == kCarol) u.as_object()["server_dialect"] = "g43";
  }
  t.c.on_frame(server_frame(MessageType::ListResponse, kAlice, t.clock.ms, list));
  auto frames = parse_all(t.c.take_frames());
  REQUIRE(frames.size() == 3);
  CHECK(frames[1].type == MessageType::MsgPublicChannel);
  REQUIRE(frames[2].type == MessageType::MsgDirect);
  CHECK(frames[2].to == kCarol);
  auto dm = msg::MsgDirect::from_json(frames[2].payload);
  REQUIRE(dm.ok());
  CHECK(dm->is_public);
  auto plain = fixture_key("server_b").decrypt(b64_decode(dm->ciphertext).value());
  REQUIRE(plain.ok());
  CHECK(std::string(reinterpret_cast<const char*>(plain->data()), plain->size()) ==
        "hello everyone");
  const auto events = t.c.take_events();
  const json::Value* sent = find_event(events, "sent_all");
  REQUIRE(sent);
  REQUIRE(sent->find("direct"));
  CHECK(sent->find("direct")->as_int() == 1);
}
