// Store commits off the loop thread (ServerConfig::commit_off_loop, socp-server's mode): a
// frame never leaves before the writes made before it are durable, writes made while a commit
// is in flight are grouped into the next one, and a crash before the commit loses nothing
// anyone was told about.
#include <catch2/catch.hpp>

#include "mesh_sim.h"
#include "socp/server_counters.h"

using socp::Counter;
using socp::test::MeshSim;

namespace {

/// A with alice (online) and dave (registered, offline), both socp clients.
void setup(MeshSim& sim) {
  sim.add_server("A", "server_a");
  sim.add_user("alice", "alice", "A").socp_client = true;
  sim.add_user("dave", "dave", "A").socp_client = true;
  sim.login("dave", "A");
  sim.logout("dave");
  sim.login("alice", "A");
  sim.run();
}

}  // namespace

TEST_CASE("commit: a DM kept for an offline user is reported queued only once durable",
          "[mesh][commit]") {
  MeshSim sim;
  setup(sim);
  sim.hold_commits = true;
  sim.send_dm("alice", "dave", "kept", std::nullopt, "id-kept");
  sim.advance(1'000);  // the receipt batch is due
  CHECK(sim.receipts("alice").count("id-kept") == 0);
  sim.hold_commits = false;
  CHECK(sim.release_commits() >= 1);
  sim.advance(1'000);
  CHECK(sim.receipts("alice")["id-kept"] == "queued");
}

TEST_CASE("commit: writes made while a commit is in flight form the next one", "[mesh][commit]") {
  MeshSim sim;
  setup(sim);
  sim.hold_commits = true;
  const auto before = sim.node("A").core->counter(Counter::StoreCommits);
  for (int i = 0; i < 20; ++i) {
    sim.send_dm("alice", "dave", "m" + std::to_string(i), std::nullopt, "id-" + std::to_string(i));
  }
  sim.hold_commits = false;
  sim.release_commits();
  sim.advance(1'000);
  // The first DM's commit was in flight; the other 19 DMs share the next (and the receipts
  // batch its own): a few commits, not twenty.
  CHECK(sim.node("A").core->counter(Counter::StoreCommits) - before <= 4);
  CHECK(sim.node("A").core->stats().queued_messages == 20);
  sim.login("dave", "A");
  CHECK(sim.received_texts("dave").size() == 20);
}

TEST_CASE("commit: a crash before the commit loses only what nobody was told about",
          "[mesh][commit]") {
  MeshSim sim;
  setup(sim);
  sim.hold_commits = true;
  sim.send_dm("alice", "dave", "lost in the crash", std::nullopt, "id-crash");
  sim.advance(1'000);
  CHECK(sim.receipts("alice").count("id-crash") == 0);
  sim.crash("A");
  sim.hold_commits = false;
  CHECK(sim.release_commits() >= 1);  // the held commit finds A down: nothing is written
  sim.restart("A");
  CHECK(sim.node("A").core->stats().queued_messages == 0);
  // alice was never told "queued", so her client still holds the message and resends it.
  sim.login("alice", "A");
  sim.send_dm("alice", "dave", "lost in the crash", std::nullopt, "id-crash");
  sim.advance(1'000);
  CHECK(sim.receipts("alice")["id-crash"] == "queued");
}
