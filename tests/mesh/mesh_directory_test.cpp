// In-memory mesh scenarios on the sans-I/O ServerCore (fake links, fake clock): the directory
// converges everywhere through logins, logouts, joins, partitions and restarts.
#include <catch2/catch.hpp>

#include "mesh_sim.h"
#include "socp/messages.h"

using socp::test::MeshSim;

namespace {

/// Builds the standard scenario: A introducer, B and C join through A; alice@A, bob@B, carol@C.
void three_servers(MeshSim& sim, bool login = true) {
  sim.add_server("A", "server_a");
  sim.add_server("B", "server_b", {"A"});
  sim.add_server("C", "server1", {"A"});
  sim.add_user("alice", "alice", "A");
  sim.add_user("bob", "bob", "B");
  sim.add_user("carol", "carol", "C");
  if (login) {
    sim.login("alice", "A");
    sim.login("bob", "B");
    sim.login("carol", "C");
  }
}

void require_same_view(MeshSim& sim) {
  const auto names = sim.node_names();
  const auto ref = sim.view(names.front());
  for (const auto& n : names) {
    INFO("node " << n);
    REQUIRE(sim.view(n) == ref);
  }
}

bool online(MeshSim& sim, const std::string& node, const std::string& user) {
  auto v = sim.view(node);
  auto it = v.find(sim.user(user).user_id);
  return it != v.end() && it->second.second;
}

}  // namespace

TEST_CASE("three servers form a full mesh and agree on every user", "[mesh]") {
  MeshSim sim;
  three_servers(sim);
  for (const auto& n : {"A", "B", "C"}) {
    INFO(n);
    REQUIRE(sim.node(n).core->linked_servers().size() == 2);
  }
  require_same_view(sim);
  auto v = sim.view("A");
  REQUIRE(v.size() == 3);
  REQUIRE(v[sim.user("alice").user_id] == std::make_pair(sim.server_id("A"), true));
  REQUIRE(v[sim.user("bob").user_id] == std::make_pair(sim.server_id("B"), true));
  REQUIRE(v[sim.user("carol").user_id] == std::make_pair(sim.server_id("C"), true));
}

TEST_CASE("logout on one server shows offline everywhere, key stays pinned", "[mesh]") {
  MeshSim sim;
  three_servers(sim);
  sim.logout("bob");
  for (const auto& n : {"A", "B", "C"}) REQUIRE_FALSE(online(sim, n, "bob"));
  require_same_view(sim);
  REQUIRE(sim.node("C").core->directory().find(sim.user("bob").user_id)->pubkey ==
          socp::test::any_fixture_key("bob").public_key().b64url());
  sim.login("bob", "B");
  for (const auto& n : {"A", "B", "C"}) REQUIRE(online(sim, n, "bob"));
}

TEST_CASE("cross-server direct messages arrive once, decrypted and verified", "[mesh]") {
  MeshSim sim;
  three_servers(sim);
  sim.send_dm("bob", "alice", "hello");
  sim.send_dm("alice", "carol", "hi carol");
  sim.send_dm("carol", "carol", "note to self");
  REQUIRE(sim.received_texts("alice") == std::vector<std::string>{"hello"});
  REQUIRE(sim.received_texts("carol") == std::vector<std::string>{"hi carol", "note to self"});
}

TEST_CASE("identical frames replayed by a client or looping between servers are dropped",
          "[mesh]") {
  MeshSim sim;
  three_servers(sim);
  // Build one MSG_DIRECT and send the same bytes three times.
  auto& bob = sim.user("bob");
  auto& alice = sim.user("alice");
  const auto& bk = socp::test::any_fixture_key("bob");
  const auto& ak = socp::test::any_fixture_key("alice").public_key();
  socp::Bytes ct = *ak.encrypt(std::string("replay me"));
  socp::msg::MsgDirect m;
  m.ciphertext = socp::b64url_encode(ct);
  m.sender_pub = bk.public_key().b64url();
  m.content_sig = *socp::sign_content(bk, ct, bob.user_id, alice.user_id, sim.now());
  const std::string frame = MeshSim::signed_frame(socp::MessageType::MsgDirect, bob.user_id,
                                                  alice.user_id, sim.now(), m.to_json(), "bob");
  sim.send_raw("bob", frame);
  sim.send_raw("bob", frame);
  sim.send_raw("bob", frame);
  REQUIRE(sim.received_texts("alice") == std::vector<std::string>{"replay me"});
  REQUIRE(sim.node("B").core->counters().at("duplicates") >= 2);
  // Gossip forwarded around the triangle comes back and is dropped, not re-applied.
  REQUIRE(sim.node("A").core->counters().count("duplicates") == 1);
}

TEST_CASE("an unknown recipient gets USER_NOT_FOUND, an offline one gets it at login", "[mesh]") {
  MeshSim sim;
  three_servers(sim);
  sim.logout("carol");
  sim.send_dm("alice", "carol", "are you there?");
  REQUIRE(sim.user("alice").errors.empty());  // kept for carol by her server
  sim.login("carol", "C");
  REQUIRE(sim.received_texts("carol") == std::vector<std::string>{"are you there?"});
  sim.guest("nobody", "erin");
  sim.send_dm("alice", "nobody", "hello?");
  auto& errs = sim.user("alice").errors;
  REQUIRE(errs.size() == 1);
  auto e = socp::msg::ErrorMsg::from_json(errs[0].payload);
  REQUIRE(e->code == "USER_NOT_FOUND");
  REQUIRE(e->msg_ref == "MSG_DIRECT");
}

TEST_CASE("a partitioned server converges within one heartbeat period after healing",
          "[mesh][partition]") {
  MeshSim sim;
  three_servers(sim);
  sim.add_user("dave", "dave", "A");
  sim.add_user("erin", "erin", "C");
  sim.partition({"C"});
  sim.advance(2'000);
  REQUIRE_FALSE(online(sim, "A", "carol"));  // links dropped: C's users offline on A/B
  REQUIRE_FALSE(online(sim, "C", "alice"));
  // Presence changes on both sides during the partition.
  sim.logout("bob");
  sim.login("dave", "A");
  sim.logout("carol");
  sim.login("erin", "C");
  sim.advance(58'000);
  sim.heal();
  sim.advance(socp::kHeartbeatIntervalMs);
  require_same_view(sim);
  REQUIRE(online(sim, "C", "dave"));
  REQUIRE(online(sim, "A", "erin"));
  REQUIRE_FALSE(online(sim, "C", "bob"));
  REQUIRE_FALSE(online(sim, "A", "carol"));
  REQUIRE(online(sim, "B", "alice"));
}

TEST_CASE("forged adverts are rejected and leave the directory unchanged", "[mesh][security]") {
  MeshSim sim;
  three_servers(sim);
  sim.logout("alice");
  const auto before = sim.view("C");
  const std::string A = sim.server_id("A"), B = sim.server_id("B"), C = sim.server_id("C");
  socp::msg::UserAdvertise ad;
  ad.user_id = sim.user("alice").user_id;
  ad.pubkey = socp::test::any_fixture_key("alice").public_key().b64url();
  ad.meta = socp::json::Object{{"display_name", "alice"}};
  ad.since = sim.now();

  SECTION("bad signature: claims to be B, signed with another key") {
    ad.server_id = B;
    const auto f = MeshSim::signed_frame(socp::MessageType::UserAdvertise, B, "*", sim.now(),
                                         ad.to_json(), "server2");
    REQUIRE(sim.inject("B", "C", f));
    REQUIRE(sim.node("C").core->counters().at("invalid_sigs") >= 1);
  }
  SECTION("wrong home server: B advertises a user located at A") {
    ad.server_id = A;
    const auto f = MeshSim::signed_frame(socp::MessageType::UserAdvertise, B, "*", sim.now(),
                                         ad.to_json(), "server_b");
    REQUIRE(sim.inject("B", "C", f));
    REQUIRE(sim.node("C").core->counters().at("rejected_adverts_authority") == 1);
  }
  SECTION("key substitution: B advertises alice with bob's key") {
    ad.server_id = B;
    ad.pubkey = socp::test::any_fixture_key("bob").public_key().b64url();
    const auto f = MeshSim::signed_frame(socp::MessageType::UserAdvertise, B, "*", sim.now(),
                                         ad.to_json(), "server_b");
    REQUIRE(sim.inject("B", "C", f));
    REQUIRE(sim.node("C").core->counters().at("rejected_adverts_key") == 1);
    REQUIRE(sim.node("C").core->directory().find(ad.user_id)->pubkey ==
            socp::test::any_fixture_key("alice").public_key().b64url());
  }
  REQUIRE(sim.view("C") == before);
}

TEST_CASE("a server joining a mesh learns users already online without new logins",
          "[mesh][join]") {
  MeshSim sim;
  three_servers(sim);
  sim.add_server("D", "server2", {"A"});
  REQUIRE(sim.node("D").core->linked_servers().size() == 3);
  REQUIRE(online(sim, "D", "alice"));
  REQUIRE(online(sim, "D", "bob"));
  REQUIRE(online(sim, "D", "carol"));
  require_same_view(sim);
}

TEST_CASE("ten servers converge", "[mesh][scale]") {
  MeshSim sim;
  sim.add_server("S1", "server1");
  for (int i = 2; i <= 10; ++i)
    sim.add_server("S" + std::to_string(i), "server" + std::to_string(i), {"S1"});
  const char* users[] = {"alice", "bob", "carol", "dave", "erin", "frank"};
  for (int i = 0; i < 6; ++i) {
    const std::string home = "S" + std::to_string(i + 3);
    sim.add_user(users[i], users[i], home);
    sim.login(users[i], home);
  }
  sim.advance(1'000);
  for (const auto& n : sim.node_names()) REQUIRE(sim.node(n).core->linked_servers().size() == 9);
  require_same_view(sim);
  REQUIRE(sim.view("S1").size() == 6);
  sim.send_dm("alice", "frank", "across ten");
  REQUIRE(sim.received_texts("frank") == std::vector<std::string>{"across ten"});
}

TEST_CASE("a crashed server's users go offline, it restarts from its store and rejoins",
          "[mesh][restart]") {
  MeshSim sim;
  three_servers(sim);
  const std::string c_id = sim.server_id("C");
  sim.crash("C");
  REQUIRE_FALSE(online(sim, "A", "carol"));
  REQUIRE_FALSE(online(sim, "B", "carol"));
  REQUIRE(sim.node("A").core->directory().find(sim.user("carol").user_id) != nullptr);
  sim.advance(5'000);
  sim.restart("C");
  sim.advance(2'000);
  REQUIRE(sim.server_id("C") == c_id);
  REQUIRE(sim.node("C").core->linked_servers().size() == 2);
  sim.login("carol", "C");
  for (const auto& n : {"A", "B", "C"}) REQUIRE(online(sim, n, "carol"));
  require_same_view(sim);
  sim.send_dm("bob", "carol", "welcome back");
  REQUIRE(sim.received_texts("carol") == std::vector<std::string>{"welcome back"});
}

TEST_CASE("a user online on two servers at once: the newest proven login wins everywhere",
          "[mesh][conflict]") {
  MeshSim sim;
  three_servers(sim, false);          // everyone registered and known mesh-wide, nobody online
  sim.clone_user("alice2", "alice");  // a second device of alice
  sim.login("alice", "A");            // everyone learns alice's key...
  sim.logout("alice");                // ...and that she is offline
  sim.partition({"B"});
  sim.login("alice", "A");  // older login
  sim.advance(5'000);
  sim.login("alice2", "B");  // newer login, B cannot see A
  REQUIRE(sim.user("alice2").logged_in);
  sim.heal();
  sim.advance(socp::kHeartbeatIntervalMs);
  // Each login's proof (alice's signed hello) travels with its advert: the older session was
  // told NAME_IN_USE and closed; everyone agrees alice is on B.
  REQUIRE_FALSE(sim.user("alice").logged_in);
  REQUIRE(sim.user("alice").errors.size() == 1);
  REQUIRE(socp::msg::ErrorMsg::from_json(sim.user("alice").errors[0].payload)->code ==
          "NAME_IN_USE");
  REQUIRE(sim.user("alice2").logged_in);
  for (const auto& n : {"A", "B", "C"}) {
    INFO(n);
    REQUIRE(sim.view(n)[sim.user("alice").user_id] == std::make_pair(sim.server_id("B"), true));
  }
}

TEST_CASE("a user can move to another server and is tracked there", "[mesh][move]") {
  MeshSim sim;
  three_servers(sim);
  sim.logout("alice");
  sim.login("alice", "C");
  REQUIRE(sim.user("alice").logged_in);
  for (const auto& n : {"A", "B", "C"}) {
    auto v = sim.view(n);
    REQUIRE(v[sim.user("alice").user_id] == std::make_pair(sim.server_id("C"), true));
  }
  sim.send_dm("bob", "alice", "found you");
  REQUIRE(sim.received_texts("alice") == std::vector<std::string>{"found you"});
}
