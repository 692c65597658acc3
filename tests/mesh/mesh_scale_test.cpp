// A directory larger than a frame: paged snapshots between servers, paged LIST_RESPONSE, a
// welcome that never carries the mesh's users to a socp/1 joiner.
#include <catch2/catch.hpp>
#include <set>

#include "fixtures.h"
#include "mesh_sim.h"
#include "socp/bytes.h"
#include "socp/messages.h"

using socp::Counter;
using socp::Envelope;
using socp::MessageType;
using socp::test::MeshSim;
namespace msg = socp::msg;

namespace {

constexpr std::size_t kFrame = 128u << 10;  // pages of 64 KiB: ~80 users each

void small_frames(socp::ServerConfig& c) {
  c.limits.max_server_frame = kFrame;
  c.limits.max_user_frame = kFrame;
}

/// `n` offline accounts located at node `name`, written to its store while it is down.
std::set<std::string> seed_users(MeshSim& sim, const std::string& name, int n) {
  std::set<std::string> ids;
  const std::string server_id = sim.server_id(name);
  sim.crash(name);
  sim.advance(1'000);  // a restart is never in the same millisecond: snapshot ids increase
  for (int i = 0; i < n; ++i) {
    socp::DirectoryRecord r;
    r.user_id = socp::new_uuid_v4();
    r.pubkey = socp::test::synthetic_pubkey(static_cast<std::uint64_t>(1000 + i));
    r.server_id = server_id;
    r.meta_json = R"({"display_name":"u)" + std::to_string(i) + R"("})";
    REQUIRE(sim.node(name).store->put_directory(r).ok());
    ids.insert(r.user_id);
  }
  sim.restart(name);
  return ids;
}

}  // namespace

TEST_CASE("scale: a snapshot larger than a frame travels in pages and applies once whole",
          "[mesh][scale]") {
  MeshSim sim;
  sim.add_server("A", "server_a", {}, small_frames);
  sim.add_server("B", "server_b", {"A"}, small_frames);
  sim.run();
  sim.tap_on = true;
  const auto ids = seed_users(sim, "B", 300);  // ~300 KiB of entries
  sim.run();
  sim.advance(5'000);
  INFO("A knows " << sim.node("A").core->directory().size() << " users; snapshots applied "
                  << sim.node("A").core->counter(Counter::SnapshotsApplied) << ", duplicate "
                  << sim.node("A").core->counter(Counter::SnapshotsDuplicate) << ", refused "
                  << sim.node("A").core->counter(Counter::UnknownFieldsRefused) << ", tapped "
                  << sim.tapped.size() << ", links "
                  << sim.node("A").core->linked_servers().size());
  REQUIRE(sim.node("A").core->directory().users_at(sim.server_id("B")) == 300);
  std::size_t pages = 0;
  for (const auto& t : sim.tapped) {
    if (t.from != "B" || t.to != "A" || t.text.find("DIRECTORY_SNAPSHOT") == std::string::npos) {
      continue;
    }
    ++pages;
    CHECK(t.text.size() < kFrame);
  }
  CHECK(pages >= 4);
}

TEST_CASE("scale: pages of an older or incomplete snapshot change nothing", "[mesh][scale]") {
  MeshSim sim;
  sim.add_server("A", "server_a");
  sim.add_server("B", "server_b", {"A"});
  sim.run();
  const std::string b = sim.server_id("B");
  auto page = [&](std::int64_t id, std::int64_t index, std::int64_t count, int first, int n) {
    msg::DirectorySnapshot snap;
    snap.server_id = b;
    snap.snapshot = id;
    snap.page = index;
    snap.pages = count;
    for (int i = first; i < first + n; ++i) {
      msg::DirectoryEntry e;
      e.user_id = "00000000-0000-4000-8000-" + std::to_string(100000000000 + i);
      e.server_id = b;
      e.pubkey = socp::test::synthetic_pubkey(static_cast<std::uint64_t>(i));
      snap.users.push_back(e);
    }
    return MeshSim::signed_frame(MessageType::DirectorySnapshot, b, "*", sim.now() + index + 1,
                                 snap.to_json(), "server_b");
  };
  const std::int64_t id = sim.now() + 10'000;
  REQUIRE(sim.inject("B", "A", page(id, 0, 2, 0, 10)));
  CHECK(sim.node("A").core->directory().users_at(b) == 0);  // waits for page 1
  REQUIRE(sim.inject("B", "A", page(id, 0, 2, 0, 10)));     // a repeated page counts once
  CHECK(sim.node("A").core->directory().users_at(b) == 0);
  REQUIRE(sim.inject("B", "A", page(id, 1, 2, 10, 5)));
  CHECK(sim.node("A").core->directory().users_at(b) == 15);
  // An older snapshot id, even complete, is a replay.
  REQUIRE(sim.inject("B", "A", page(id - 1, 0, 1, 20, 3)));
  CHECK(sim.node("A").core->directory().users_at(b) == 15);
}

TEST_CASE("scale: LIST_RESPONSE comes in pages that fit a frame, `after` walks them",
          "[mesh][scale]") {
  MeshSim sim;
  sim.add_server("A", "server_a", {}, small_frames);
  sim.add_server("B", "server_b", {"A"}, small_frames);
  sim.add_user("alice", "alice", "A");
  sim.login("alice", "A");
  const auto ids = seed_users(sim, "B", 300);
  sim.run();
  sim.advance(5'000);
  std::set<std::string> seen;
  std::string after;
  int pages = 0;
  do {
    msg::ListRequest req;
    req.after = after;
    const std::size_t before = sim.user("alice").inbox.size();
    sim.send_raw("alice",
                 MeshSim::signed_frame(MessageType::ListRequest, sim.user("alice").user_id,
                                       sim.server_id("A"), sim.now(), req.to_json(), "alice"));
    sim.run();
    REQUIRE(sim.user("alice").inbox.size() > before);
    const Envelope& env = sim.user("alice").inbox.back();
    REQUIRE(env.type == MessageType::ListResponse);
    auto l = msg::ListResponse::from_json(env.payload);
    REQUIRE(l.ok());
    REQUIRE_FALSE(l->users.empty());
    for (const auto& u : l->users) CHECK(seen.insert(u.user_id).second);  // no repeats
    after = l->next;
    ++pages;
    REQUIRE(pages < 50);
  } while (!after.empty());
  CHECK(pages >= 3);
  for (const auto& id : ids) CHECK(seen.count(id) == 1);
  CHECK(seen.count(sim.user("alice").user_id) == 1);
}

TEST_CASE("scale: a socp/1 joiner's welcome carries servers, not users", "[mesh][scale]") {
  MeshSim sim;
  sim.add_server("A", "server_a");
  sim.add_user("alice", "alice", "A");
  sim.login("alice", "A");
  sim.tap_on = true;
  sim.add_server("B", "server_b", {"A"});
  sim.run();
  const Envelope w = sim.last_tapped(MessageType::ServerWelcome, "A", "B");
  auto welcome = msg::ServerWelcome::from_json(w.payload);
  REQUIRE(welcome.ok());
  CHECK(welcome->users.empty());
  // B still knows alice: from A's snapshot on the link.
  REQUIRE(sim.view("B")[sim.user("alice").user_id] == std::make_pair(sim.server_id("A"), true));
}

TEST_CASE(
    "scale: the directory's online count agrees with its users through logins, "
    "logouts, partitions and crashes",
    "[mesh][scale]") {
  MeshSim sim;
  sim.add_server("A", "server_a");
  sim.add_server("B", "server_b", {"A"});
  sim.add_user("alice", "alice", "A");
  sim.add_user("bob", "bob", "B");
  auto agrees = [&] {
    for (const auto& n : sim.node_names()) {
      if (!sim.node(n).up) continue;
      std::size_t scanned = 0;
      const auto& dir = sim.node(n).core->directory();
      dir.for_each([&](const socp::UserInfo& u) { scanned += u.online ? 1 : 0; });
      REQUIRE(dir.online_count() == scanned);
    }
  };
  sim.login("alice", "A");
  sim.login("bob", "B");
  agrees();
  sim.partition({"B"});
  sim.advance(60'000);
  agrees();
  sim.heal();
  sim.advance(20'000);
  agrees();
  sim.logout("alice");
  agrees();
  sim.crash("B");
  sim.advance(60'000);
  agrees();
  sim.restart("B");
  sim.advance(20'000);
  agrees();
}

TEST_CASE("login: a socp/1 client gets no advert per online user, other clients do",
          "[mesh][scale]") {
  MeshSim sim;
  sim.add_server("A", "server_a");
  for (const char* u : {"alice", "bob", "dave", "erin"}) {
    sim.add_user(u, u, "A");
    sim.login(u, "A");
  }
  sim.add_user("carol", "carol", "A").socp_client = true;
  sim.add_user("frank", "frank", "A");
  sim.run();
  auto adverts_to = [&](const std::string& user) {
    int n = 0;
    for (const auto& t : sim.tapped) {
      auto env = socp::parse_envelope(t.text);
      if (t.to == "u:" + user && env && env->type == socp::MessageType::UserAdvertise) ++n;
    }
    return n;
  };
  sim.tap_on = true;
  sim.login("carol", "A");
  sim.login("frank", "A");
  sim.run();
  // carol (socp/1) asks for the paged LIST instead; frank learns the 4 (and carol) by advert.
  INFO("carol " << adverts_to("carol") << " frank " << adverts_to("frank"));
  CHECK(adverts_to("carol") <= 1);  // at most frank's own login, which happens after hers
  CHECK(adverts_to("frank") >= 5);
}

TEST_CASE("gossip: in a complete mesh a login costs n - 1 server frames, not n squared",
          "[mesh][scale]") {
  MeshSim sim;
  sim.add_server("S0", "server_a");
  for (int i = 1; i < 5; ++i)
    sim.add_server("S" + std::to_string(i), "server" + std::to_string(i), {"S0"});
  sim.advance(40'000);  // links, then heartbeats that say who is linked to whom
  sim.add_user("alice", "alice", "S0");
  sim.tap_on = true;
  sim.login("alice", "S0");
  sim.run();
  int adverts = 0;
  for (const auto& t : sim.tapped) {
    auto env = socp::parse_envelope(t.text);
    if (t.to.rfind("u:", 0) != 0 && env && env->type == MessageType::UserAdvertise) ++adverts;
  }
  // Before: 4 from S0, then each of the 4 forwarded to the 3 others (16 in all).
  CHECK(adverts == 4);
  for (int i = 1; i < 5; ++i)
    CHECK(sim.view("S" + std::to_string(i))[sim.user("alice").user_id].second);
}
