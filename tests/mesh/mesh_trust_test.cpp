// The trust machinery beyond the attack cases: link challenge-response, admission and
// introductions, peer caps, addresses, forgetting, challenge-bound logins, login proofs,
// signature budgets, registration policy and operator commands, per-turn commits, and
// servers without socp/1 still working on the plain rules.
#include <catch2/catch.hpp>

#include "core/server/dialect.h"
#include "fixtures.h"
#include "mesh_sim.h"
#include "socp/bytes.h"
#include "socp/messages.h"

using socp::Counter;
using socp::MessageType;
using socp::test::any_fixture_key;
using socp::test::MeshSim;
namespace json = socp::json;
namespace msg = socp::msg;

namespace {

bool linked(MeshSim& sim, const std::string& a, const std::string& b) {
  const auto l = sim.node(a).core->linked_servers();
  return std::find(l.begin(), l.end(), sim.server_id(b)) != l.end();
}

bool online_at(MeshSim& sim, const std::string& node, const std::string& user,
               const std::string& where) {
  auto v = sim.view(node);
  auto it = v.find(sim.user(user).user_id);
  return it != v.end() && it->second.second && it->second.first == sim.server_id(where);
}

std::string last_error_code(MeshSim& sim, const std::string& user) {
  const auto& errs = sim.user(user).errors;
  if (errs.empty()) return "";
  auto e = msg::ErrorMsg::from_json(errs.back().payload);
  return e ? e->code : "?";
}

/// A signed USER_HELLO of `user`, optionally answering a challenge.
std::string hello(MeshSim& sim, const std::string& user, std::int64_t ts,
                  const std::string& server_id = {}, const std::string& nonce = {}) {
  auto& u = sim.user(user);
  const auto& key = any_fixture_key(u.key_name);
  msg::UserHello h;
  h.client = "test";
  h.pubkey = key.public_key().b64url();
  h.enc_pubkey = h.pubkey;
  h.ts = ts;
  h.server_id = server_id;
  h.nonce = nonce;
  auto env = socp::make_envelope(MessageType::UserHello, u.user_id, "*", ts, h.to_json());
  env.sig = *socp::sign_payload(key, env.payload);
  return socp::serialize(env);
}

/// Asks for a challenge on the user's open connection; returns (nonce, server_id).
std::pair<std::string, std::string> challenge(MeshSim& sim, const std::string& user) {
  auto& u = sim.user(user);
  sim.send_raw(
      user, socp::serialize(socp::make_envelope(MessageType::UserChallengeRequest, u.user_id, "*",
                                                sim.now(), json::Object{})));
  for (auto it = u.inbox.rbegin(); it != u.inbox.rend(); ++it) {
    if (it->type == MessageType::UserChallenge) {
      CHECK(it->sig.empty());  // unsigned: strangers cost no signature
      auto c = msg::UserChallenge::from_json(it->payload);
      REQUIRE(c.ok());
      return {c->nonce, c->server_id};
    }
  }
  FAIL("no USER_CHALLENGE");
  return {};
}

}  // namespace

TEST_CASE("links: a captured hello replayed to another server or after the fact makes no link",
          "[mesh][trust]") {
  MeshSim sim;
  sim.tap_on = true;
  sim.add_server("A", "server_a");
  sim.add_server("B", "server_b", {"A"});
  sim.add_server("C", "server1", {"A"});
  REQUIRE(linked(sim, "B", "C"));
  // B's hello to C (to = C in its signed context), replayed to A by a stranger.
  socp::Envelope h;
  bool found = false;
  for (const auto& t : sim.tapped) {
    auto env = socp::parse_envelope(t.text);
    if (env && env->type == MessageType::ServerHelloLink && env->from == sim.server_id("B") &&
        env->to == sim.server_id("C")) {
      h = *env;
      found = true;
    }
  }
  REQUIRE(found);
  sim.guest("eve", "dave");
  sim.connect("eve", "A");
  sim.send_raw("eve", socp::serialize(h));  // envelope says to = C
  auto changed = h;
  changed.to = sim.server_id("A");
  sim.guest("eve2", "dave");
  sim.connect("eve2", "A");
  sim.send_raw("eve2", socp::serialize(changed));  // envelope says A, the signed context C
  // ... and verbatim to C, which will ask for a proof nobody can give.
  sim.guest("eve3", "dave");
  sim.connect("eve3", "C");
  sim.send_raw("eve3", socp::serialize(h));
  sim.advance(20'000);
  for (const char* e : {"eve", "eve2", "eve3"}) {
    INFO(e);
    REQUIRE_FALSE(sim.connected(e));
    for (const auto& env : sim.user(e).inbox) {
      REQUIRE((env.type == MessageType::Error || env.type == MessageType::ServerHelloLink));
    }
  }
  REQUIRE(linked(sim, "A", "B"));
  REQUIRE(linked(sim, "B", "C"));
  REQUIRE(sim.node("A").core->counter(Counter::ContextMismatch) >= 1);
}

TEST_CASE("links: a socp/1 server cannot be downgraded to a hello without a challenge",
          "[mesh][trust]") {
  MeshSim sim;
  sim.add_server("A", "server_a");
  sim.add_server("B", "server_b", {"A"});
  msg::ServerHello h;
  h.host = "sim";
  h.port = sim.node("B").port;
  h.pubkey = any_fixture_key("server_b").public_key().b64url();  // no caps, no nonce
  sim.guest("eve", "dave");
  sim.connect("eve", "A");
  sim.send_raw(
      "eve", MeshSim::signed_frame(MessageType::ServerHelloLink, sim.server_id("B"),
                                   sim.server_id("A"), sim.now(), h.to_json(), "server_b", false));
  REQUIRE_FALSE(sim.connected("eve"));
  REQUIRE(last_error_code(sim, "eve") == "INVALID_SIG");
  REQUIRE(linked(sim, "A", "B"));
}

TEST_CASE("admission: join policy, allowlist and the peer cap", "[mesh][trust]") {
  MeshSim sim;
  SECTION("closed: nobody joins") {
    sim.add_server("A", "server_a", {},
                   [](socp::ServerConfig& c) { c.join_policy = socp::JoinPolicy::Closed; });
    sim.add_server("B", "server_b", {"A"});
    sim.advance(5'000);
    REQUIRE_FALSE(linked(sim, "A", "B"));
    REQUIRE(sim.node("A").core->counter(Counter::LinksRefusedAdmission) >= 1);
  }
  SECTION("allowlist: only listed keys join") {
    sim.add_server("A", "server_a", {}, [](socp::ServerConfig& c) {
      c.join_policy = socp::JoinPolicy::Allowlist;
      c.allowed_servers = {any_fixture_key("server_b").public_key().b64url()};
    });
    sim.add_server("B", "server_b", {"A"});
    sim.add_server("C", "server1", {"A"});
    sim.advance(5'000);
    REQUIRE(linked(sim, "A", "B"));
    REQUIRE_FALSE(linked(sim, "A", "C"));
  }
  SECTION("peer cap") {
    sim.add_server("A", "server_a", {}, [](socp::ServerConfig& c) { c.max_peers = 1; });
    sim.add_server("B", "server_b", {"A"});
    sim.add_server("C", "server1", {"A"});
    sim.advance(5'000);
    REQUIRE(linked(sim, "A", "B"));
    REQUIRE_FALSE(linked(sim, "A", "C"));
    REQUIRE(sim.node("A").core->linked_servers().size() == 1);
  }
}

TEST_CASE("admission: introductions count only from trusted introducers", "[mesh][trust]") {
  MeshSim sim;
  sim.add_server("A", "server_a");
  sim.add_server("B", "server_b", {"A"});
  SECTION("C joins through B: A never chose to trust B, so A keeps C out") {
    sim.add_server("C", "server1", {"B"});
    sim.advance(30'000);
    REQUIRE(linked(sim, "B", "C"));
    REQUIRE_FALSE(linked(sim, "A", "C"));
  }
  SECTION("... unless A's operator trusts B as an introducer") {
    sim.reconfigure("A", [&](socp::ServerConfig& c) {
      c.trusted_introducers = {any_fixture_key("server_b").public_key().b64url()};
    });
    sim.advance(5'000);
    sim.add_server("C", "server1", {"B"});
    sim.advance(30'000);
    REQUIRE(linked(sim, "A", "C"));
  }
}

TEST_CASE("addresses: a known server moves only when it says so on its own link", "[mesh][trust]") {
  MeshSim sim;
  sim.add_server("A", "server_a");
  sim.add_server("B", "server_b", {"A"});
  sim.add_server("C", "server1", {"A"});
  // C (hostile) introduces B at another address: A keeps B where it is.
  msg::ServerIntroduce in{sim.server_id("B"),
                          "evil.example",
                          6666,
                          any_fixture_key("server_b").public_key().b64url(),
                          {"socp/1"}};
  REQUIRE(sim.inject("C", "A",
                     MeshSim::signed_frame(MessageType::ServerIntroduce, sim.server_id("C"), "*",
                                           sim.now(), in.to_json(), "server1")));
  REQUIRE(sim.node("A").store->get_server(sim.server_id("B"))->host == "sim");
  // B itself moves (same key, new port): its own announce on its link is believed.
  msg::ServerHello h;
  h.host = "sim";
  h.port = 9999;
  h.pubkey = any_fixture_key("server_b").public_key().b64url();
  h.caps = {"socp/1"};
  REQUIRE(
      sim.inject("B", "A",
                 MeshSim::signed_frame(MessageType::ServerAnnounce, sim.server_id("B"),
                                       sim.server_id("A"), sim.now(), h.to_json(), "server_b")));
  REQUIRE(sim.node("A").store->get_server(sim.server_id("B"))->port == 9999);
}

TEST_CASE("forgetting: an operator forgets a server now, its users go", "[mesh][trust]") {
  MeshSim sim;
  sim.add_server("A", "server_a");
  sim.add_server("C", "server1", {"A"});
  sim.add_user("carl", "dave", "C");
  sim.login("carl", "C");
  const std::string c_id = sim.server_id("C");
  sim.crash("C");
  REQUIRE(sim.node("A").core->forget_server(c_id));
  REQUIRE(sim.node("A").core->directory().find(sim.user("carl").user_id) == nullptr);
  REQUIRE_FALSE(sim.node("A").core->forget_server(c_id));
  const auto dials = sim.node("A").core->counter(Counter::Dials);
  sim.advance(10'000);  // nobody redials it
  REQUIRE(sim.node("A").core->counter(Counter::Dials) == dials);
}

TEST_CASE("logins: a challenge binds the hello to this server and connection", "[mesh][trust]") {
  MeshSim sim;
  sim.add_server("A", "server_a");
  sim.add_server("B", "server_b", {"A"});
  sim.add_user("alice", "alice", "A");
  sim.login("alice", "A");
  sim.logout("alice");
  SECTION("answered: logged in") {
    sim.connect("alice", "A");
    auto [nonce, sid] = challenge(sim, "alice");
    REQUIRE(sid == sim.server_id("A"));
    sim.send_raw("alice", hello(sim, "alice", sim.now() - 60'000, sid, nonce));
    REQUIRE(sim.user("alice").logged_in);  // the clock may lag: the nonce proves freshness
  }
  SECTION("a wrong nonce, a reused one, or one for another server is refused") {
    sim.connect("alice", "A");
    auto [nonce, sid] = challenge(sim, "alice");
    sim.send_raw("alice", hello(sim, "alice", sim.now(), sid, "bm90IGl0"));
    REQUIRE(last_error_code(sim, "alice") == "INVALID_SIG");
    sim.connect("alice", "A");
    sim.send_raw("alice", hello(sim, "alice", sim.now(), sid, nonce));  // another connection
    REQUIRE_FALSE(sim.user("alice").logged_in);
    sim.logout("alice");
    sim.connect("alice", "B");
    auto [nonce_b, sid_b] = challenge(sim, "alice");
    sim.send_raw("alice", hello(sim, "alice", sim.now(), sim.server_id("A"), nonce_b));
    REQUIRE_FALSE(sim.user("alice").logged_in);
  }
  SECTION("without a challenge: newer than the last login, within the window") {
    sim.connect("alice", "B");
    sim.send_raw("alice", hello(sim, "alice", sim.now() - 3 * 60'000));  // outside ±2 min
    REQUIRE_FALSE(sim.user("alice").logged_in);
    sim.advance(1'000);
    sim.connect("alice", "B");
    sim.send_raw("alice", hello(sim, "alice", sim.now()));
    REQUIRE(sim.user("alice").logged_in);
    REQUIRE(online_at(sim, "A", "alice", "B"));
  }
}

TEST_CASE("login proofs: a forged or misplaced proof is dropped with its advert", "[mesh][trust]") {
  MeshSim sim;
  sim.add_server("A", "server_a");
  sim.add_server("C", "server1", {"A"});
  sim.add_user("alice", "alice", "A");
  sim.login("alice", "A");
  auto forge = [&](const std::string& signer_key, const std::string& bound_to) {
    msg::UserHello h;
    h.pubkey = any_fixture_key("alice").public_key().b64url();
    h.enc_pubkey = h.pubkey;
    h.ts = sim.now() + 10'000;  // "newer"
    h.server_id = bound_to;
    h.nonce = bound_to.empty() ? "" : "bm9uY2U";
    json::Value hp = h.to_json();
    msg::UserAdvertise ad;
    ad.user_id = sim.user("alice").user_id;
    ad.server_id = sim.server_id("C");
    ad.pubkey = h.pubkey;
    ad.proof =
        json::Object{{"hello", hp}, {"sig", *socp::sign_payload(any_fixture_key(signer_key), hp)}};
    return MeshSim::signed_frame(MessageType::UserAdvertise, sim.server_id("C"), "*", sim.now(),
                                 ad.to_json(), "server1");
  };
  REQUIRE(sim.inject("C", "A", forge("carol", "")));                  // not alice's signature
  REQUIRE(sim.inject("C", "A", forge("alice", sim.server_id("A"))));  // a login at A, not C
  REQUIRE(online_at(sim, "A", "alice", "A"));
  REQUIRE(sim.user("alice").logged_in);
  REQUIRE(sim.node("A").core->counter(Counter::LoginProofsRejected) == 2);
}

TEST_CASE("budget: a connection's signatures are bounded, then it is closed", "[mesh][trust]") {
  MeshSim sim;
  sim.add_server("A", "server_a", {}, [](socp::ServerConfig& c) {
    c.user_sign_rate = 10;
    c.user_sign_burst = 20;
    c.budget_drops_before_close = 5;
  });
  sim.add_user("mallory", "carol", "A");
  sim.add_user("bob", "bob", "A");
  sim.login("mallory", "A");
  sim.login("bob", "A");
  const auto before = sim.node("A").signatures;
  auto& m = sim.user("mallory");
  int sent = 0;
  for (; sent < 200 && sim.connected("mallory"); ++sent) {
    sim.send_raw("mallory", socp::serialize(socp::make_envelope(MessageType::ListRequest, m.user_id,
                                                                "*", sim.now(), json::Object{})));
  }
  const auto spent = sim.node("A").signatures - before;
  INFO("frames sent " << sent << ", signatures " << spent);
  REQUIRE(spent <= 22);
  REQUIRE_FALSE(sim.connected("mallory"));
  REQUIRE(sim.node("A").core->counter(Counter::BudgetCloses) == 1);
  // Others are unaffected.
  sim.send_raw(
      "bob", socp::serialize(socp::make_envelope(MessageType::ListRequest, sim.user("bob").user_id,
                                                 "*", sim.now(), json::Object{})));
  REQUIRE(sim.user("bob").inbox.back().type == MessageType::ListResponse);
}

TEST_CASE("operator: registration closed or by invitation, commands reach a running server",
          "[mesh][trust]") {
  MeshSim sim;
  sim.add_server("A", "server_a");
  sim.add_server("C", "server1", {"A"});
  auto& store = *sim.node("A").store;
  auto register_frame = [&](const std::string& user, const std::string& invite) {
    auto& u = sim.user(user);
    const auto& key = any_fixture_key(u.key_name);
    msg::UserRegister r;
    r.user_id = u.user_id;
    r.pubkey = key.public_key().b64url();
    r.privkey_store = "sealed";
    r.pake_password = "verifier";
    r.ts = sim.now();
    r.invite = invite;
    auto env =
        socp::make_envelope(MessageType::UserRegister, u.user_id, "*", sim.now(), r.to_json());
    env.sig = *socp::sign_payload(key, env.payload);
    return socp::serialize(env);
  };
  REQUIRE(store.put_setting("registration", "closed").ok());
  sim.guest("gus", "erin");
  sim.connect("gus", "A");
  sim.send_raw("gus", register_frame("gus", ""));
  REQUIRE(last_error_code(sim, "gus") == "NOT_ADMITTED");
  REQUIRE(store.put_setting("registration", "invite").ok());
  REQUIRE(store.put_setting("invite/t0k3n", "1").ok());
  sim.advance(1'000);
  sim.send_raw("gus", register_frame("gus", "wrong"));
  REQUIRE(last_error_code(sim, "gus") == "NOT_ADMITTED");
  sim.advance(1'000);
  sim.send_raw("gus", register_frame("gus", "t0k3n"));
  REQUIRE(store.get_user(sim.user("gus").user_id).ok());
  REQUIRE_FALSE(store.get_setting("invite/t0k3n").ok());  // used once

  // Commands written while the server runs (as `socp-server admin` does).
  sim.add_user("alice", "alice", "A");
  sim.login("alice", "A");
  REQUIRE(store.put_setting("command/1", "delete-user " + sim.user("alice").user_id).ok());
  REQUIRE(store.put_setting("command/2", "forget-server " + sim.server_id("C")).ok());
  sim.advance(2'000);
  REQUIRE_FALSE(sim.user("alice").logged_in);
  REQUIRE_FALSE(store.get_user(sim.user("alice").user_id).ok());
  REQUIRE(sim.node("A").core->directory().find(sim.user("alice").user_id) == nullptr);
  REQUIRE_FALSE(store.get_server(sim.server_id("C")).ok());
  REQUIRE(store.list_settings("command/")->empty());
}

TEST_CASE("store: the writes of one turn commit in one transaction", "[mesh][trust]") {
  MeshSim sim;
  sim.add_server("A", "server_a");
  sim.add_server("B", "server_b", {"A"});
  msg::DirectorySnapshot snap;
  snap.server_id = sim.server_id("B");
  for (int i = 0; i < 50; ++i) {
    msg::DirectoryEntry e;
    e.user_id = socp::new_uuid_v4();
    e.server_id = snap.server_id;
    e.pubkey = socp::test::synthetic_pubkey(static_cast<std::uint64_t>(i));
    snap.users.push_back(e);
  }
  const auto commits = sim.node("A").core->counter(Counter::StoreCommits);
  REQUIRE(sim.inject("B", "A",
                     MeshSim::signed_frame(MessageType::DirectorySnapshot, sim.server_id("B"), "*",
                                           sim.now() + 10'000, snap.to_json(), "server_b")));
  REQUIRE(sim.node("A").core->directory().users_at(sim.server_id("B")) == 50);
  REQUIRE(sim.node("A").core->counter(Counter::StoreCommits) - commits == 1);
}

TEST_CASE("servers without socp/1 keep working on the plain rules", "[mesh][trust]") {
  MeshSim sim;
  const std::string legacy_pub = any_fixture_key("server5").public_key().b64url();
  sim.add_server("A", "server_a", {},
                 [&](socp::ServerConfig& c) { c.allowed_servers = {legacy_pub}; });
  sim.add_user("alice", "alice", "A");
  sim.user("alice").socp_client = true;
  sim.login("alice", "A");
  // A legacy server dials A: a signed hello without caps or nonce, then frames without ctx.
  const std::string lid = socp::new_uuid_v4();
  sim.guest("legacy", "server5");
  sim.connect("legacy", "A");
  msg::ServerHello h;
  h.host = "legacy.example";
  h.port = 7000;
  h.pubkey = legacy_pub;
  sim.send_raw("legacy", MeshSim::signed_frame(MessageType::ServerHelloLink, lid, "*", sim.now(),
                                               h.to_json(), "server5", false));
  // A takes the connection as receive-only (such servers read only sockets they accepted) and
  // dials the address from the hello to send.
  REQUIRE(sim.node("A").core->counter(Counter::ReceiveOnlyLinks) == 1);
  // It advertises its user (no ctx, no proof) ...
  sim.guest("lucy", "erin");
  msg::UserAdvertise ad;
  ad.user_id = sim.user("lucy").user_id;
  ad.server_id = lid;
  ad.pubkey = any_fixture_key("erin").public_key().b64url();
  sim.send_raw("legacy", MeshSim::signed_frame(MessageType::UserAdvertise, lid, "*", sim.now(),
                                               ad.to_json(), "server5", false));
  REQUIRE(sim.view("A")[ad.user_id] == std::make_pair(lid, true));
  // ... and alice's DM to lucy needs the connection A dials: nothing listens at legacy.example
  // here, and without socp/1 there is no hop acknowledgement to keep it for, so alice is told.
  REQUIRE(sim.node("A").core->counter(Counter::Dials) >= 1);
  sim.user("lucy").key_name = "erin";
  sim.send_dm("alice", "lucy", "hi lucy", std::nullopt, "id-lucy");
  sim.advance(1'000);
  REQUIRE(sim.receipts("alice")["id-lucy"].rfind("failed:", 0) == 0);
}

namespace {

/// An unsigned SERVER_HELLO_JOIN/SERVER_HELLO_LINK of a server without socp/1 (no caps, no
/// nonce, no signature), as G56 sends them. `pem`: its key in G56's form (PEM text, base64url).
std::string unsigned_hello(MessageType type, const std::string& from, const std::string& to,
                           std::int64_t ts, const std::string& key_name, bool pem = false) {
  msg::ServerHello h;
  h.host = "plain.example";
  h.port = 7000;
  const socp::PublicKey key = any_fixture_key(key_name).public_key();
  h.pubkey = pem ? socp::core::pem_b64url(key) : key.b64url();
  return socp::serialize(socp::make_envelope(type, from, to, ts, h.to_json()));
}

/// From a new socket `guest`, the server `gid` (key `key_name`) sends `node` an unsigned
/// SERVER_HELLO_LINK. True if `node` keeps that socket.
bool plain_link(MeshSim& sim, const std::string& guest, const std::string& gid,
                const std::string& node, const std::string& key_name = "server5") {
  sim.guest(guest, key_name);
  sim.connect(guest, node);
  sim.send_raw(guest, unsigned_hello(MessageType::ServerHelloLink, gid, sim.server_id(node),
                                     sim.now(), key_name));
  return sim.connected(guest);
}

/// The server `joiner` (key server5) joins through `via` with an unsigned hello.
void plain_join(MeshSim& sim, const std::string& joiner, const std::string& gid,
                const std::string& via, bool pem = false) {
  sim.guest(joiner, "server5");
  sim.connect(joiner, via);
  sim.send_raw(joiner, unsigned_hello(MessageType::ServerHelloJoin, gid,
                                      "sim:" + std::to_string(sim.node(via).port), sim.now(),
                                      "server5", pem));
  REQUIRE(sim.connected(joiner));
  REQUIRE(!sim.user(joiner).inbox.empty());
  REQUIRE(sim.user(joiner).inbox.back().type == MessageType::ServerWelcome);
}

}  // namespace

TEST_CASE("introductions: a server without socp/1 that joins through A is introduced to B",
          "[mesh][trust]") {
  MeshSim sim;
  sim.add_server("A", "server_a");
  sim.add_server("B", "server_b", {"A"});
  sim.advance(2'000);
  REQUIRE(linked(sim, "A", "B"));
  const std::string gid = socp::new_uuid_v4();
  const auto introduced = sim.node("A").core->counter(Counter::ServersIntroduced);
  const auto dialect_in = sim.node("B").core->counter(Counter::DialectIn);
  sim.tap_on = true;
  plain_join(sim, "g-join", gid, "A");
  // A vouches for it to B, without the socp caps: B pins the key A pinned from the join hello.
  REQUIRE(sim.node("A").core->counter(Counter::ServersIntroduced) == introduced + 1);
  auto in = msg::ServerIntroduce::from_json(
      sim.last_tapped(MessageType::ServerIntroduce, "A", "B").payload);
  REQUIRE(in.ok());
  REQUIRE(in->server_id == gid);
  REQUIRE(in->caps.empty());
  auto rec = sim.node("B").store->get_server(gid);
  REQUIRE(rec.ok());
  REQUIRE(rec->pubkey == any_fixture_key("server5").public_key().b64url());
  REQUIRE_FALSE(rec->socp);
  REQUIRE(rec->introduced_by == sim.server_id("A"));
  REQUIRE(rec->dialect == "plain");  // the introduction's own fields say nothing of it

  SECTION("B takes its unsigned hello with exactly that key") {
    REQUIRE(plain_link(sim, "g-link", gid, "B"));
    REQUIRE(sim.user("g-link").errors.empty());
    REQUIRE(sim.node("B").core->counter(Counter::DialectIn) == dialect_in + 1);
    REQUIRE(sim.node("B").core->counter(Counter::ReceiveOnlyLinks) == 1);
  }
  SECTION("an unsigned hello with another key for that id is refused: the pin stays") {
    REQUIRE_FALSE(plain_link(sim, "mallory", gid, "B", "server6"));
    REQUIRE(last_error_code(sim, "mallory") == "BAD_KEY");
    REQUIRE(sim.node("B").store->get_server(gid)->pubkey == rec->pubkey);
  }
}

TEST_CASE("introductions: an unsigned hello before the introduction is refused, a later one taken",
          "[mesh][trust]") {
  MeshSim sim;
  sim.add_server("A", "server_a");
  sim.add_server("B", "server_b", {"A"});
  sim.advance(2'000);
  const std::string gid = socp::new_uuid_v4();
  REQUIRE_FALSE(plain_link(sim, "g-early", gid, "B"));  // not pinned yet: unsigned is not enough
  REQUIRE(last_error_code(sim, "g-early") == "INVALID_SIG");
  plain_join(sim, "g-join", gid, "A");
  REQUIRE(plain_link(sim, "g-link", gid, "B"));  // G56 dials again (every 2 s)
  REQUIRE(sim.node("B").core->counter(Counter::ReceiveOnlyLinks) == 1);
}

TEST_CASE(
    "introductions: a G17 joiner is not introduced (it refuses hellos on sockets it accepted)",
    "[mesh][trust]") {
  MeshSim sim;
  sim.add_server("A", "server_a", {},
                 [](socp::ServerConfig& c) { c.peer_dialects = {"plain.example:7000=g17"}; });
  sim.add_server("B", "server_b", {"A"});
  sim.advance(2'000);
  const auto introduced = sim.node("A").core->counter(Counter::ServersIntroduced);
  const std::string gid = socp::new_uuid_v4();
  plain_join(sim, "g-join", gid, "A");
  REQUIRE(sim.node("A").core->counter(Counter::ServersIntroduced) == introduced);
  REQUIRE_FALSE(sim.node("B").store->get_server(gid).ok());
}

TEST_CASE("introductions: a server without socp/1 introduced by an untrusted server is ignored",
          "[mesh][trust]") {
  MeshSim sim;
  sim.add_server("A", "server_a");
  sim.add_server("B", "server_b", {"A"});
  sim.advance(2'000);
  REQUIRE(linked(sim, "A", "B"));
  // It joins through B, which A never chose to trust (A did not join through B).
  const std::string gid = socp::new_uuid_v4();
  const auto refused = sim.node("A").core->counter(Counter::LinksRefusedAdmission);
  plain_join(sim, "g-join", gid, "B");
  REQUIRE(sim.node("A").core->counter(Counter::LinksRefusedAdmission) == refused + 1);
  REQUIRE_FALSE(sim.node("A").store->get_server(gid).ok());
  // So A never takes its unsigned hello.
  REQUIRE_FALSE(plain_link(sim, "g-link", gid, "A"));
  REQUIRE(last_error_code(sim, "g-link") == "INVALID_SIG");
  REQUIRE(sim.node("A").core->counter(Counter::ReceiveOnlyLinks) == 0);
  REQUIRE_FALSE(sim.node("A").store->get_server(gid).ok());
}

TEST_CASE("introductions: a socp/1 server's hello replayed without a challenge joins nothing",
          "[mesh][trust]") {
  MeshSim sim;
  sim.add_server("A", "server_a");
  sim.add_server("B", "server_b", {"A"});
  sim.add_server("C", "server1", {"A"});
  sim.advance(2'000);
  REQUIRE(linked(sim, "A", "B"));
  const auto introduced = sim.node("A").core->counter(Counter::ServersIntroduced);
  sim.guest("eve", "dave");
  sim.connect("eve", "A");
  sim.send_raw("eve", unsigned_hello(MessageType::ServerHelloJoin, sim.server_id("B"), "sim:9001",
                                     sim.now(), "server_b"));
  REQUIRE_FALSE(sim.connected("eve"));
  REQUIRE(last_error_code(sim, "eve") == "INVALID_SIG");
  REQUIRE(sim.node("A").core->counter(Counter::ServersIntroduced) == introduced);
  REQUIRE(sim.node("A").store->get_server(sim.server_id("B"))->socp);
  REQUIRE(linked(sim, "A", "B"));
}

TEST_CASE("introductions: the introduced key's form tells B the joiner's dialect before B dials",
          "[mesh][trust]") {
  MeshSim sim;
  sim.add_server("A", "server_a");
  sim.add_server("B", "server_b", {"A"});
  sim.advance(2'000);
  const std::string gid = socp::new_uuid_v4();
  sim.tap_on = true;
  plain_join(sim, "g-join", gid, "A", /*pem=*/true);  // a G56 server: its key as PEM text
  auto in = msg::ServerIntroduce::from_json(
      sim.last_tapped(MessageType::ServerIntroduce, "A", "B").payload);
  REQUIRE(in.ok());
  REQUIRE(in->pubkey ==
          socp::core::pem_b64url(any_fixture_key("server5").public_key()));  // as G56 shows it
  auto rec = sim.node("B").store->get_server(gid);
  REQUIRE(rec.ok());
  REQUIRE(rec->pubkey == any_fixture_key("server5").public_key().b64url());  // the same key
  REQUIRE(rec->dialect == "g56");
}
