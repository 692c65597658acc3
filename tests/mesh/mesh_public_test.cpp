// The public channel across an in-memory mesh, with real ClientCores on every member:
// sender keys shared by the clients, posts fanned out by the servers at one RSA signature per
// server per post, late joiners, concurrent senders, forgeries, and no channel key on servers.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "channel_user.h"
#include "mesh_sim.h"
#include "socp/bytes.h"
#include "socp/messages.h"

using socp::test::any_fixture_key;
using socp::test::ClientMesh;
using socp::test::MeshSim;

namespace {

const char* const kSix[] = {"alice", "bob", "carol", "dave", "erin", "frank"};

/// A introducer, B and C join through A (full mesh).
void three_servers(MeshSim& sim) {
  sim.add_server("A", "server_a");
  sim.add_server("B", "server_b", {"A"});
  sim.add_server("C", "server1", {"A"});
}

/// alice, dave @A; bob, erin @B; carol, frank @C — all logged in through ClientCores.
void six_members(MeshSim& sim, ClientMesh& cm) {
  const char* home[] = {"A", "B", "C", "A", "B", "C"};
  for (int i = 0; i < 6; ++i) sim.add_user(kSix[i], kSix[i], home[i]);
  for (int i = 0; i < 6; ++i) cm.login(kSix[i], home[i]);
}

std::map<std::string, std::uint64_t> signatures(MeshSim& sim) {
  std::map<std::string, std::uint64_t> out;
  for (const std::string& n : sim.node_names()) out[n] = sim.node(n).signatures;
  return out;
}

std::map<std::string, std::uint64_t> delta(const std::map<std::string, std::uint64_t>& before,
                                           const std::map<std::string, std::uint64_t>& after) {
  std::map<std::string, std::uint64_t> out;
  for (const auto& [n, v] : after) out[n] = v - before.at(n);
  return out;
}

std::string str(const socp::json::Value& e, const char* key) {
  const std::string* s = socp::json::get_string(e, key);
  return s ? *s : "<missing>";
}

std::uint64_t counter(MeshSim& sim, const std::string& node, const std::string& name) {
  const auto& c = sim.node(node).core->counters();
  auto it = c.find(name);
  return it == c.end() ? 0 : it->second;
}

/// Every text the user's client showed from the channel, counted.
std::size_t count_text(ClientMesh& cm, const std::string& user, const std::string& text) {
  auto texts = cm.channel_texts(user);
  return static_cast<std::size_t>(std::count(texts.begin(), texts.end(), text));
}

/// The stored shares of a server: member id -> {sender id -> entry}.
std::map<std::string, socp::json::Object> stored_shares(MeshSim& sim, const std::string& node) {
  std::map<std::string, socp::json::Object> out;
  auto members = sim.node(node).store->list_group_members("public");
  REQUIRE(members.ok());
  for (const socp::GroupMemberRecord& m : *members) {
    if (m.wrapped_key.empty()) continue;
    auto v = socp::json::parse(m.wrapped_key);
    REQUIRE(v.ok());
    REQUIRE(v->is_object());
    out[m.member_id] = v->as_object();
  }
  return out;
}

}  // namespace

TEST_CASE("public channel: a post reaches every member on every server exactly once",
          "[mesh][public]") {
  MeshSim sim;
  ClientMesh cm(sim);
  three_servers(sim);
  six_members(sim, cm);

  cm.command("alice", "/all hello channel");
  auto sent = cm.named("alice", "sent_all", true);
  REQUIRE(sent.size() == 1);
  CHECK(*socp::json::get_int(sent[0], "recipients") == 5);
  CHECK(*socp::json::get_int(sent[0], "skipped") == 0);
  CHECK(*socp::json::get_int(sent[0], "members") == 5);
  for (const char* u : kSix) {
    INFO(u);
    if (std::string(u) == "alice") {
      CHECK(cm.channel_texts(u).empty());  // own posts are not echoed
      continue;
    }
    REQUIRE(cm.channel_texts(u) == std::vector<std::string>{"hello channel"});
    auto m = cm.named(u, "message", true).front();
    CHECK(str(m, "from") == sim.user("alice").user_id);
    CHECK(str(m, "from_name") == "alice");
    CHECK(str(m, "to") == "public");
    CHECK(m.find("verified")->as_bool());
    CHECK(cm.named(u, "rejected").empty());
    CHECK(cm.named(u, "warning").empty());
  }

  // A second sender on another server; alice reads it too.
  cm.command("carol", "/all from C \xe2\x9c\x93");
  for (const char* u : kSix) {
    INFO(u);
    CHECK(count_text(cm, u, "from C \xe2\x9c\x93") == (std::string(u) == "carol" ? 0u : 1u));
  }
  CHECK(counter(sim, "A", "public_posts") == 1);
  CHECK(counter(sim, "C", "public_posts") == 1);
  CHECK(counter(sim, "B", "public_posts_received") == 2);
}

TEST_CASE("public channel: one RSA signature per server per post, whatever the member count",
          "[mesh][public]") {
  // Two servers; 1 member each, then 3 members each: the per-post cost does not change.
  auto per_post = [](int per_server) {
    MeshSim sim;
    ClientMesh cm(sim);
    sim.add_server("A", "server_a");
    sim.add_server("B", "server_b", {"A"});
    for (int i = 0; i < 2 * per_server; ++i) {
      sim.add_user(kSix[i], kSix[i], i % 2 == 0 ? "A" : "B");
      cm.login(kSix[i], i % 2 == 0 ? "A" : "B");
    }
    cm.command("alice", "/all first (shares the key)");
    const auto before = signatures(sim);
    cm.command("alice", "/all second");
    const auto d = delta(before, signatures(sim));
    for (int i = 1; i < 2 * per_server; ++i) CHECK(count_text(cm, kSix[i], "second") == 1);
    return d;
  };
  const auto two = per_post(1);
  const auto six = per_post(3);
  CHECK(two == std::map<std::string, std::uint64_t>{{"A", 1}, {"B", 1}});
  CHECK(six == two);

  // Three servers, six members: each server signs the post once.
  MeshSim sim;
  ClientMesh cm(sim);
  three_servers(sim);
  six_members(sim, cm);
  cm.command("bob", "/all warm-up");
  const auto before = signatures(sim);
  cm.command("bob", "/all counted");
  CHECK(delta(before, signatures(sim)) ==
        std::map<std::string, std::uint64_t>{{"A", 1}, {"B", 1}, {"C", 1}});
}

TEST_CASE("public channel: a late joiner reads the posts made after joining", "[mesh][public]") {
  MeshSim sim;
  ClientMesh cm(sim);
  three_servers(sim);
  sim.add_user("alice", "alice", "A");
  sim.add_user("bob", "bob", "B");
  cm.login("alice", "A");
  cm.login("bob", "B");
  cm.command("alice", "/all before frank");
  cm.command("bob", "/all bob before frank");
  REQUIRE(count_text(cm, "bob", "before frank") == 1);

  // frank registers at C and logs in: the senders learn of him and share their keys.
  sim.add_user("frank", "frank", "C");
  cm.login("frank", "C");
  cm.command("alice", "/all after frank");
  cm.command("bob", "/all bob after frank");
  CHECK(cm.channel_texts("frank") == std::vector<std::string>{"after frank", "bob after frank"});
  CHECK(cm.named("frank", "rejected").empty());
  CHECK(count_text(cm, "bob", "after frank") == 1);
  CHECK(count_text(cm, "alice", "bob after frank") == 1);
  // frank's home server keeps both senders' wrapped keys for his next login.
  auto stored = stored_shares(sim, "C");
  REQUIRE(stored.count(sim.user("frank").user_id) == 1);
  CHECK(stored[sim.user("frank").user_id].size() == 2);
  // Every server counts three members now.
  for (const std::string& n : sim.node_names()) {
    auto g = sim.node(n).store->get_group("public");
    REQUIRE(g.ok());
    CHECK(g->version == 3);
    CHECK(g->creator_id == "system");
  }
}

TEST_CASE("public channel: a member offline at share time gets the stored share at login",
          "[mesh][public]") {
  MeshSim sim;
  ClientMesh cm(sim);
  three_servers(sim);
  sim.add_user("alice", "alice", "A");
  sim.add_user("erin", "erin", "B");
  cm.login("erin", "B");
  cm.logout("erin");  // every server now knows erin (offline) and her key
  cm.login("alice", "A");
  cm.command("alice", "/all while erin is away");
  auto sent = cm.named("alice", "sent_all", true);
  REQUIRE(sent.size() == 1);
  CHECK(*socp::json::get_int(sent[0], "recipients") == 1);  // erin holds the key
  REQUIRE(stored_shares(sim, "B").count(sim.user("erin").user_id) == 1);

  cm.advance(1'000);      // a new login, not a replay of the first hello
  cm.login("erin", "B");  // the stored share arrives with the login
  const auto before = cm.named("alice", "sent_all", true).size();
  cm.command("alice", "/all welcome back");
  CHECK(cm.named("alice", "sent_all", true).size() == before + 1);
  CHECK(count_text(cm, "erin", "welcome back") == 1);
  CHECK(count_text(cm, "erin", "while erin is away") == 0);  // no store-and-forward of posts
  CHECK(cm.named("erin", "rejected").empty());
}

TEST_CASE("public channel: concurrent posts from two senders all arrive", "[mesh][public]") {
  MeshSim sim;
  ClientMesh cm(sim);
  three_servers(sim);
  six_members(sim, cm);
  // Both senders type before anything is delivered; each then posts twice more, interleaved.
  cm.command("alice", "/all a1", false);
  cm.command("frank", "/all f1", false);
  cm.pump();
  cm.command("alice", "/all a2", false);
  cm.command("frank", "/all f2", false);
  cm.command("alice", "/all a3", false);
  cm.command("frank", "/all f3", false);
  cm.pump();
  for (const char* u : kSix) {
    INFO(u);
    for (const char* t : {"a1", "a2", "a3"})
      CHECK(count_text(cm, u, t) == (u == kSix[0] ? 0u : 1u));
    for (const char* t : {"f1", "f2", "f3"})
      CHECK(count_text(cm, u, t) == (u == kSix[5] ? 0u : 1u));
    CHECK(cm.named(u, "rejected").empty());
  }
}

TEST_CASE("public channel: forged posts are rejected", "[mesh][public]") {
  MeshSim sim;
  ClientMesh cm(sim);
  three_servers(sim);
  six_members(sim, cm);
  cm.command("alice", "/all genuine");
  const std::string alice = sim.user("alice").user_id;
  const socp::PrivateKey& bob_key = any_fixture_key("bob");
  const socp::PrivateKey& alice_key = any_fixture_key("alice");
  const auto ct = socp::random_bytes(64);
  const std::string ct_b64 = socp::b64url_encode(ct);

  auto user_post = [&](const socp::PrivateKey& signer, const std::string& sender_pub) {
    socp::msg::MsgPublicChannel m;
    m.ciphertext = ct_b64;
    m.key_id = "k1";
    m.sender_pub = sender_pub;
    m.content_sig = *socp::sign_content(signer, ct, sim.user("bob").user_id, "", sim.now());
    return socp::serialize(socp::make_envelope(socp::MessageType::MsgPublicChannel,
                                               sim.user("bob").user_id, "public", sim.now(),
                                               m.to_json()));
  };
  // bob claims alice's key: BAD_KEY from his server, nothing relayed.
  sim.send_raw("bob", user_post(bob_key, alice_key.public_key().b64url()));
  REQUIRE(!sim.user("bob").errors.empty());
  CHECK(str(sim.user("bob").errors.back().payload, "code") == "BAD_KEY");
  // bob's own key but a content_sig by another key: INVALID_SIG.
  sim.send_raw("bob", user_post(alice_key, bob_key.public_key().b64url()));
  CHECK(str(sim.user("bob").errors.back().payload, "code") == "INVALID_SIG");
  CHECK(counter(sim, "B", "public_posts") == 0);

  // A lying server B speaks for alice to C: wrong sender_pub, then a bad content_sig.
  auto server_post = [&](const socp::PrivateKey& signer, const std::string& sender_pub,
                         std::int64_t ts) {
    socp::msg::MsgPublicChannel p;
    p.sender = alice;
    p.ciphertext = ct_b64;
    p.key_id = "k1";
    p.sender_pub = sender_pub;
    p.content_sig = *socp::sign_content(signer, ct, alice, "", ts);
    return MeshSim::signed_frame(socp::MessageType::MsgPublicChannel, sim.server_id("B"), "public",
                                 ts, p.to_json(), "server_b");
  };
  REQUIRE(sim.inject("B", "C", server_post(bob_key, bob_key.public_key().b64url(), sim.now())));
  REQUIRE(
      sim.inject("B", "C", server_post(bob_key, alice_key.public_key().b64url(), sim.now() + 1)));
  CHECK(counter(sim, "C", "public_rejected") == 2);
  cm.pump();

  // B replays alice's genuine post to C under a new envelope: C delivered it once already.
  socp::Envelope genuine;
  for (const auto& env : sim.user("carol").inbox) {
    if (env.type == socp::MessageType::MsgPublicChannel) genuine = env;
  }
  REQUIRE(genuine.type == socp::MessageType::MsgPublicChannel);
  const auto dups = counter(sim, "C", "duplicates");
  REQUIRE(sim.inject("B", "C",
                     MeshSim::signed_frame(socp::MessageType::MsgPublicChannel, sim.server_id("B"),
                                           "public", genuine.ts, genuine.payload, "server_b")));
  CHECK(counter(sim, "C", "duplicates") == dups + 1);
  cm.pump();
  CHECK(cm.channel_texts("carol") == std::vector<std::string>{"genuine"});

  // A post from a user C never heard of passes C (nothing pinned to compare with) but no
  // member holds its key: the clients hold it, then reject it.
  const std::string ghost = socp::new_uuid_v4();
  const socp::PrivateKey& ghost_key = any_fixture_key("server12");
  {
    socp::msg::MsgPublicChannel p;
    p.sender = ghost;
    p.ciphertext = ct_b64;
    p.key_id = "k1";
    p.sender_pub = ghost_key.public_key().b64url();
    p.content_sig = *socp::sign_content(ghost_key, ct, ghost, "", sim.now());
    REQUIRE(
        sim.inject("B", "C",
                   MeshSim::signed_frame(socp::MessageType::MsgPublicChannel, sim.server_id("B"),
                                         "public", sim.now(), p.to_json(), "server_b")));
  }
  cm.pump();
  CHECK(cm.named("carol", "rejected").empty());  // held, not yet rejected
  cm.advance(31'000);
  for (const char* u : {"carol", "frank"}) {
    INFO(u);
    auto r = cm.named(u, "rejected", true);
    REQUIRE(r.size() == 1);
    CHECK(str(r[0], "reason") == "no channel key");
    CHECK(str(r[0], "from") == ghost);
    CHECK(cm.channel_texts(u) == std::vector<std::string>{"genuine"});
  }
  for (const char* u : {"bob", "erin", "dave"}) CHECK(cm.named(u, "rejected").empty());
}

TEST_CASE("public channel: forged or malformed key shares are refused", "[mesh][public]") {
  MeshSim sim;
  ClientMesh cm(sim);
  three_servers(sim);
  six_members(sim, cm);
  const std::string bob = sim.user("bob").user_id;
  const std::string alice = sim.user("alice").user_id;
  const socp::PrivateKey& bob_key = any_fixture_key("bob");
  const socp::PrivateKey& other = any_fixture_key("server12");

  auto share = [&](const socp::PrivateKey& signer, const std::string& sender,
                   const std::string& creator_pub) {
    socp::msg::PublicChannelKeyShare ks;
    ks.key_id = "kid";
    socp::msg::ChannelShare sh;
    sh.member = alice;
    sh.wrapped =
        socp::b64url_encode(*any_fixture_key("alice").public_key().encrypt(std::string(32, 'k')));
    sh.sig = socp::b64url_encode(
        *signer.sign(socp::msg::share_sig_message(sender, alice, ks.key_id, sh.wrapped)));
    ks.shares.push_back(sh);
    ks.creator_pub = creator_pub;
    ks.content_sig = socp::b64url_encode(
        *signer.sign(socp::msg::key_share_content(sender, ks.key_id, ks.shares)));
    return ks;
  };
  auto from_bob = [&](const socp::msg::PublicChannelKeyShare& ks) {
    sim.send_raw("bob",
                 socp::serialize(socp::make_envelope(socp::MessageType::PublicChannelKeyShare, bob,
                                                     "public", sim.now(), ks.to_json())));
    REQUIRE(!sim.user("bob").errors.empty());
    return str(sim.user("bob").errors.back().payload, "code");
  };
  CHECK(from_bob(share(other, bob, other.public_key().b64url())) == "BAD_KEY");
  CHECK(from_bob(share(other, bob, bob_key.public_key().b64url())) == "INVALID_SIG");
  auto empty = share(bob_key, bob, bob_key.public_key().b64url());
  empty.shares.clear();
  CHECK(from_bob(empty) == "BAD_FRAME");
  CHECK(str(sim.user("bob").errors.back().payload, "msg_ref") == "PUBLIC_CHANNEL_KEY_SHARE");
  CHECK(counter(sim, "B", "public_key_shares") == 0);

  // A lying server relays a share for bob that bob never signed: A drops it, alice sees nothing.
  auto forged = share(other, bob, bob_key.public_key().b64url());
  forged.sender = bob;
  REQUIRE(
      sim.inject("B", "A",
                 MeshSim::signed_frame(socp::MessageType::PublicChannelKeyShare, sim.server_id("B"),
                                       "public", sim.now(), forged.to_json(), "server_b")));
  CHECK(counter(sim, "A", "public_rejected") == 1);
  CHECK(stored_shares(sim, "A").empty());
  cm.pump();
  CHECK(cm.named("alice", "warning").empty());
}

TEST_CASE("public channel: servers store only wrapped keys, never the channel key",
          "[mesh][public]") {
  MeshSim sim;
  ClientMesh cm(sim);
  three_servers(sim);
  six_members(sim, cm);
  cm.command("alice", "/all secret");
  cm.command("bob", "/all also secret");

  std::map<std::string, socp::Bytes> channel_keys;  // sender -> K, from the members' view
  std::size_t wrapped_seen = 0;
  for (const std::string& n : sim.node_names()) {
    MeshSim::Node& node = sim.node(n);
    const socp::PrivateKey& server_key = any_fixture_key(node.key_name);
    for (const auto& [member, map] : stored_shares(sim, n)) {
      const socp::UserInfo* u = node.core->directory().find(member);
      REQUIRE(u != nullptr);
      CHECK(u->server_id == node.core->server_id());  // only its own members' shares
      std::string member_name;
      for (const char* name : kSix) {
        if (sim.user(name).user_id == member) member_name = name;
      }
      for (const auto& [sender, entry] : map) {
        const auto wrapped = socp::b64_decode(str(entry, "wrapped"));
        REQUIRE(wrapped.ok());
        CHECK(wrapped->size() == socp::kRsaBytes);       // an RSA-OAEP blob
        CHECK_FALSE(server_key.decrypt(*wrapped).ok());  // the server cannot open it
        auto k = any_fixture_key(member_name).decrypt(*wrapped);
        REQUIRE(k.ok());
        REQUIRE(k->size() == 32);
        const socp::Bytes kb(k->data(), k->data() + k->size());
        if (channel_keys.count(sender)) CHECK(channel_keys[sender] == kb);  // one K per sender
        channel_keys[sender] = kb;
        ++wrapped_seen;
      }
    }
  }
  CHECK(wrapped_seen == 5 + 5);  // alice's and bob's keys, to the five others each
  REQUIRE(channel_keys.size() == 2);
  // No stored field carries a channel key in any encoding.
  for (const std::string& n : sim.node_names()) {
    std::string all;
    auto members = sim.node(n).store->list_group_members("public");
    REQUIRE(members.ok());
    for (const auto& m : *members) all += m.member_id + m.role + m.wrapped_key;
    auto g = sim.node(n).store->get_group("public");
    REQUIRE(g.ok());
    all += g->meta_json;
    auto dir = sim.node(n).store->list_directory();
    REQUIRE(dir.ok());
    for (const auto& d : *dir) all += d.pubkey + d.meta_json;
    auto users = sim.node(n).store->list_users();
    REQUIRE(users.ok());
    for (const auto& u : *users) all += u.privkey_store + u.meta_json;
    for (const auto& [sender, k] : channel_keys) {
      CHECK(all.find(socp::b64url_encode(k)) == std::string::npos);
      CHECK(all.find(socp::hex_encode(k)) == std::string::npos);
      CHECK(all.find(std::string(k.begin(), k.end())) == std::string::npos);
    }
  }
}

TEST_CASE("public channel: membership versions, UPDATED on login, persisted group",
          "[mesh][public]") {
  MeshSim sim;
  three_servers(sim);
  sim.add_user("alice", "alice", "A");
  sim.add_user("bob", "bob", "B");
  sim.login("alice", "A");  // raw user: inspect the frames
  auto updated_of = [&](const std::string& user) {
    std::vector<socp::msg::PublicChannelUpdated> out;
    for (const auto& env : sim.user(user).inbox) {
      if (env.type != socp::MessageType::PublicChannelUpdated) continue;
      auto u = socp::msg::PublicChannelUpdated::from_json(env.payload);
      REQUIRE(u.ok());
      out.push_back(*u);
    }
    return out;
  };
  auto up = updated_of("alice");
  REQUIRE(!up.empty());
  CHECK(up.back().version == 1);  // A knows alice only (bob is offline elsewhere)
  CHECK(up.back().members == std::vector<std::string>{sim.user("alice").user_id});

  sim.login("bob", "B");  // A learns bob: version 2, pushed to alice ...
  sim.advance(1'000);     // ... within a second (UPDATED is sent at most once per second)
  up = updated_of("alice");
  CHECK(up.back().version == 2);
  std::vector<std::string> ids{sim.user("alice").user_id, sim.user("bob").user_id};
  std::sort(ids.begin(), ids.end());
  CHECK(up.back().members == ids);
  CHECK(counter(sim, "A", "public_adds") >= 1);  // B announced its new local member

  // A user registered at C without logging in: found by the periodic scan at C.
  sim.add_user("carol", "carol", "C");
  sim.advance(1'000);
  auto g = sim.node("C").store->get_group("public");
  REQUIRE(g.ok());
  CHECK(g->version == 3);

  // Persisted on A: the group (creator "system") and one member row per user.
  auto ga = sim.node("A").store->get_group("public");
  REQUIRE(ga.ok());
  CHECK(ga->version == 2);
  CHECK(ga->creator_id == "system");
  CHECK(sim.node("A").store->list_group_members("public")->size() == 2);

  // Restart A: it comes back from the store, learns carol from C's snapshot on the new link,
  // and a login gets the current version and member list.
  sim.crash("A");
  sim.restart("A");
  sim.user("alice").inbox.clear();
  sim.login("alice", "A");
  ga = sim.node("A").store->get_group("public");
  REQUIRE(ga.ok());
  CHECK(ga->version == 3);
  CHECK(sim.node("A").store->list_group_members("public")->size() == 3);
  up = updated_of("alice");
  REQUIRE(!up.empty());
  CHECK(up.back().version == 3);
  CHECK(up.back().members.size() == 3);
}

TEST_CASE("public channel bench: /all cost with 100 members", "[.bench][public]") {
  MeshSim sim;
  ClientMesh cm(sim);
  three_servers(sim);
  const char* keys[] = {"alice",   "bob",     "carol",   "dave",    "erin",    "frank",
                        "server2", "server3", "server4", "server5", "server6", "server7"};
  const char* nodes[] = {"A", "B", "C"};
  const int kMembers = 100;
  std::vector<std::string> names;
  for (int i = 0; i < kMembers; ++i) {
    names.push_back("m" + std::to_string(i));
    sim.add_user(names.back(), keys[i % 12], nodes[i % 3]);
  }
  for (int i = 0; i < kMembers; ++i) cm.login(names[i], nodes[i % 3]);

  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  auto s0 = signatures(sim);
  cm.command("m0", "/all first post: shares the key with 99 members");
  const double first_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  const auto first = delta(s0, signatures(sim));

  // Senders on B and C share their keys too, then 20 posts rotate over the three servers.
  cm.command("m1", "/all warm-up B");
  cm.command("m2", "/all warm-up C");
  const int kPosts = 20;
  s0 = signatures(sim);
  const auto c0 = cm.client_time();
  t0 = Clock::now();
  for (int p = 0; p < kPosts; ++p) {
    cm.command("m" + std::to_string(p % 3), "/all post " + std::to_string(p));
  }
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  const double client_ms = std::chrono::duration<double, std::milli>(cm.client_time() - c0).count();
  const auto d = delta(s0, signatures(sim));
  for (int i = 3; i < kMembers; ++i) REQUIRE(cm.channel_texts(names[i]).size() == 3 + kPosts);

  std::printf("METRIC public_members %d\n", kMembers);
  for (const auto& [n, v] : first) {
    std::printf("METRIC public_first_post_signatures_%s %llu\n", n.c_str(),
                static_cast<unsigned long long>(v));
  }
  std::printf("METRIC public_first_post_ms %.1f\n", first_ms);
  for (const auto& [n, v] : d) {
    std::printf("METRIC public_signatures_per_post_%s %.2f\n", n.c_str(),
                static_cast<double>(v) / kPosts);
  }
  std::printf("METRIC public_ms_per_post %.2f\n", ms / kPosts);
  std::printf("METRIC public_ms_per_post_receiving_clients %.2f\n", client_ms / kPosts);
  std::printf("METRIC public_ms_per_post_servers_and_sim %.2f\n", (ms - client_ms) / kPosts);
  for (const auto& [n, v] : d) CHECK(v == static_cast<std::uint64_t>(kPosts));
}
