// Fair links: one user's DMs waiting for their signatures never hold back another user's DM on
// the same server link (order is kept per sender, not per link), and a user's own DMs still
// arrive in the order sent.
#include <catch2/catch.hpp>

#include "mesh_sim.h"
#include "socp/protocol.h"
#include "two_server_mesh.h"

using socp::test::MeshSim;

namespace {

struct Mesh : socp::test::TwoServerMesh {
  /// Server A's signatures for alice's SERVER_DELIVERs wait (a pool busy with her backlog).
  void hold_alices_forwards() {
    const std::string alice = sim.user("alice").user_id;
    sim.hold_if = [alice](const std::string& node, const socp::Job& j) {
      return node == "A" && j.kind == socp::Job::Kind::Sign &&
             j.input.find("SERVER_DELIVER") != std::string::npos &&
             j.input.find(alice) != std::string::npos;
    };
  }
};

}  // namespace

TEST_CASE("another user's DM passes a backlog of unsigned DMs on the same link",
          "[mesh][fairness]") {
  Mesh m;
  m.hold_alices_forwards();
  for (int i = 0; i < 3; ++i) m.sim.send_dm("alice", "bob", "backlog " + std::to_string(i));
  m.sim.send_dm("carol", "dave", "not stuck");
  m.sim.run();
  // Before lanes, carol's signed SERVER_DELIVER waited in A's outbox for the link to B behind
  // alice's three unsigned ones.
  CHECK(m.sim.received_texts("dave") == std::vector<std::string>{"not stuck"});
  CHECK(m.sim.received_texts("bob").empty());
  m.sim.hold_if = nullptr;
  // One signature is held; alice's other two DMs are parked behind it on the link (coalesced
  // deliveries) and leave together in one SERVER_DELIVER_BATCH once it is signed.
  CHECK(m.sim.release_bulk_jobs(/*newest_first=*/true) == 1);
  CHECK(m.sim.received_texts("bob") ==
        std::vector<std::string>{"backlog 0", "backlog 1", "backlog 2"});
}

TEST_CASE("presence is not held back by a user's waiting DMs", "[mesh][fairness]") {
  Mesh m;
  m.hold_alices_forwards();
  m.sim.send_dm("alice", "bob", "waiting");
  m.sim.logout("carol");
  m.sim.run();
  // carol's USER_REMOVE is not a DM: it does not wait for alice's lane either.
  CHECK_FALSE(m.sim.view("B")[m.sim.user("carol").user_id].second);
  m.sim.login("carol", "A");
  m.sim.run();
  CHECK(m.sim.view("B")[m.sim.user("carol").user_id].second);
  m.sim.hold_if = nullptr;
  m.sim.release_bulk_jobs();
  CHECK(m.sim.received_texts("bob") == std::vector<std::string>{"waiting"});
}
