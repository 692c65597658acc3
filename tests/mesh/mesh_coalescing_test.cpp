// Coalesced deliveries (core/server/delivery_coalescing.h): while one delivery frame for a
// socp client waits for its signature, the DMs that arrive for that client wait with it and
// leave together in one USER_DELIVER_BATCH: one signature instead of one per DM, every DM
// delivered once and in order, nothing lost if the session drops meanwhile.
#include <catch2/catch.hpp>

#include "core/server/delivery_coalescing.h"
#include "mesh_sim.h"
#include "socp/protocol.h"
#include "socp/server_counters.h"
#include "two_server_mesh.h"

using socp::Counter;
using socp::test::MeshSim;

namespace {

struct Mesh : socp::test::TwoServerMesh {
  /// B's signing pool is busy: its USER_DELIVER signatures wait.
  void hold_deliveries() {
    sim.hold_if = [](const std::string& node, const socp::Job& j) {
      return node == "B" && j.kind == socp::Job::Kind::Sign &&
             j.input.find("\"USER_DELIVER") != std::string::npos;
    };
  }
  std::vector<std::string> burst(const std::string& from, const std::string& to, int n) {
    std::vector<std::string> texts;
    for (int i = 0; i < n; ++i) {
      texts.push_back(from + " " + std::to_string(i));
      sim.send_dm(from, to, texts.back());
    }
    sim.run();
    return texts;
  }
  std::uint64_t coalesced() { return sim.node("B").core->counter(Counter::DeliveriesCoalesced); }
};

}  // namespace

TEST_CASE("a burst for one client waits for one signature, then arrives whole and in order",
          "[mesh][coalescing]") {
  Mesh m;
  m.hold_deliveries();
  const auto texts = m.burst("alice", "bob", 10);
  // Before coalescing, each of the 10 DMs was its own USER_DELIVER: 10 signatures queued.
  CHECK(m.sim.held_bulk_jobs() == 1);
  CHECK(m.sim.received_texts("bob").empty());
  m.sim.hold_if = nullptr;
  m.sim.release_bulk_jobs();
  CHECK(m.sim.received_texts("bob") == texts);
  CHECK(m.coalesced() == 9);
  CHECK(m.sim.ack_deliveries("bob") == 10);
  m.sim.run();
  m.sim.advance(1000);
  const auto r = m.sim.receipts("alice");
  CHECK(r.size() == 10);
  for (const auto& [id, state] : r) CHECK(state == "delivered");
}

TEST_CASE("a client whose deliveries keep pace gets one USER_DELIVER per DM",
          "[mesh][coalescing]") {
  Mesh m;
  for (int i = 0; i < 3; ++i) {
    m.sim.send_dm("alice", "bob", "one by one " + std::to_string(i));
    m.sim.run();
  }
  CHECK(m.sim.received_texts("bob").size() == 3);
  CHECK(m.coalesced() == 0);
  std::size_t delivers = 0;
  for (const auto& env : m.sim.user("bob").inbox) {
    if (env.type == socp::MessageType::UserDeliver) ++delivers;
    CHECK(env.type != socp::MessageType::UserDeliverBatch);
  }
  CHECK(delivers == 3);
}

TEST_CASE("another client's DM is not parked behind a busy recipient", "[mesh][coalescing]") {
  Mesh m;
  const std::string bob = m.sim.user("bob").user_id;
  m.sim.hold_if = [bob](const std::string& node, const socp::Job& j) {
    return node == "B" && j.kind == socp::Job::Kind::Sign &&
           j.input.find("\"USER_DELIVER") != std::string::npos &&
           j.input.find(bob) != std::string::npos;
  };
  m.burst("alice", "bob", 5);
  m.sim.send_dm("carol", "dave", "not parked");
  m.sim.run();
  CHECK(m.sim.received_texts("dave") == std::vector<std::string>{"not parked"});
  CHECK(m.sim.received_texts("bob").empty());
  m.sim.hold_if = nullptr;
  m.sim.release_bulk_jobs();
  CHECK(m.sim.received_texts("bob").size() == 5);
}

TEST_CASE("parked deliveries of a session that drops come back at the next login",
          "[mesh][coalescing]") {
  Mesh m;
  m.hold_deliveries();
  const auto texts = m.burst("alice", "bob", 6);
  CHECK(m.sim.held_bulk_jobs() == 1);
  m.sim.logout("bob");
  m.sim.hold_if = nullptr;
  m.sim.release_bulk_jobs();
  m.sim.login("bob", "B");
  m.sim.run();
  // The first DM's frame went to the old connection; all six are handed over again at login
  // (they were never acknowledged), none twice.
  CHECK(m.sim.received_texts("bob") == texts);
  CHECK(m.sim.ack_deliveries("bob") == 6);
}

TEST_CASE("a burst across servers waits for one SERVER_DELIVER signature, then one batch",
          "[mesh][coalescing]") {
  Mesh m;
  m.sim.hold_if = [](const std::string& node, const socp::Job& j) {
    return node == "A" && j.kind == socp::Job::Kind::Sign &&
           j.input.find("\"SERVER_DELIVER") != std::string::npos;
  };
  const auto texts = m.burst("alice", "bob", 12);
  // Before coalescing between servers, A queued 12 SERVER_DELIVER signatures.
  CHECK(m.sim.held_bulk_jobs() == 1);
  m.sim.hold_if = nullptr;
  m.sim.release_bulk_jobs();
  CHECK(m.sim.received_texts("bob") == texts);
  CHECK(m.sim.node("A").core->counter(Counter::DeliveriesCoalesced) == 11);
  CHECK(m.sim.ack_deliveries("bob") == 12);
  m.sim.run();
  m.sim.advance(1000);
  const auto r = m.sim.receipts("alice");
  CHECK(r.size() == 12);
  for (const auto& [id, state] : r) CHECK(state == "delivered");
}

TEST_CASE("a SERVER_DELIVER_BATCH is held to every rule of a SERVER_DELIVER",
          "[mesh][coalescing][attack]") {
  MeshSim sim;
  sim.add_server("A", "server_a");
  sim.add_server("B", "server_b", {"A"});
  sim.add_server("C", "server1", {"A"});
  sim.add_user("alice", "alice", "A").socp_client = true;
  sim.add_user("bob", "bob", "B").socp_client = true;
  sim.login("alice", "A");
  sim.login("bob", "B");
  sim.run();
  sim.tap_on = true;
  sim.send_dm("alice", "bob", "genuine");
  sim.run();
  REQUIRE(sim.received_texts("bob") == std::vector<std::string>{"genuine"});
  socp::Envelope real = sim.last_tapped(socp::MessageType::ServerDeliver, "A", "B");
  socp::json::Value entry = real.payload;
  entry.as_object().erase("ctx");
  auto batch_of = [](std::vector<socp::json::Value> entries) {
    socp::json::Array list(entries.begin(), entries.end());
    socp::json::Object o;
    o.emplace("deliveries", std::move(list));
    return socp::json::Value(std::move(o));
  };
  auto& b = *sim.node("B").core;
  const auto forged_before = b.counter(Counter::RejectedForgedSenders);
  // C, a linked socp server, relays alice's (A's user's) message as its own: refused, since
  // alice does not live at C (as for a single SERVER_DELIVER).
  socp::json::Value renamed = entry;
  renamed.as_object()["msg_id"] = "replayed-through-c";
  REQUIRE(sim.inject(
      "C", "B",
      MeshSim::signed_frame(socp::MessageType::ServerDeliverBatch, sim.server_id("C"),
                            sim.server_id("B"), sim.now(), batch_of({renamed}), "server1")));
  sim.run();
  CHECK(b.counter(Counter::RejectedForgedSenders) == forged_before + 1);
  // A file frame has no place in a batch.
  socp::json::Value file = entry;
  file.as_object()["inner_type"] = "FILE_CHUNK";
  file.as_object()["msg_id"] = "file-in-batch";
  const auto inner_before = b.counter(Counter::UnknownInnerTypes);
  REQUIRE(sim.inject(
      "A", "B",
      MeshSim::signed_frame(socp::MessageType::ServerDeliverBatch, sim.server_id("A"),
                            sim.server_id("B"), sim.now(), batch_of({file}), "server_a")));
  sim.run();
  CHECK(b.counter(Counter::UnknownInnerTypes) == inner_before + 1);
  // More than 64 entries, or none: refused whole.
  const auto bad_before = b.counter(Counter::BadFrames);
  REQUIRE(sim.inject(
      "A", "B",
      MeshSim::signed_frame(socp::MessageType::ServerDeliverBatch, sim.server_id("A"),
                            sim.server_id("B"), sim.now(),
                            batch_of(std::vector<socp::json::Value>(65, entry)), "server_a")));
  REQUIRE(
      sim.inject("A", "B",
                 MeshSim::signed_frame(socp::MessageType::ServerDeliverBatch, sim.server_id("A"),
                                       sim.server_id("B"), sim.now(), batch_of({}), "server_a")));
  sim.run();
  CHECK(b.counter(Counter::BadFrames) == bad_before + 2);
  // A batch signed by A but replayed: dropped as a duplicate frame.
  const std::string replay =
      MeshSim::signed_frame(socp::MessageType::ServerDeliverBatch, sim.server_id("A"),
                            sim.server_id("B"), sim.now(), batch_of({entry}), "server_a");
  const auto dup_before = b.counter(Counter::Duplicates);
  REQUIRE(sim.inject("A", "B", replay));
  REQUIRE(sim.inject("A", "B", replay));
  sim.run();
  CHECK(b.counter(Counter::Duplicates) >= dup_before + 1);
  CHECK(sim.received_texts("bob") == std::vector<std::string>{"genuine"});
}

TEST_CASE("one sender's DMs on a link wait for acknowledgements beyond a bound, others pass",
          "[mesh][coalescing][fairness]") {
  Mesh m;
  // B's hop acknowledgements (DELIVERY_RECEIPTS) wait: nothing of alice's is acknowledged.
  m.sim.hold_if = [](const std::string& node, const socp::Job& j) {
    return node == "B" && j.kind == socp::Job::Kind::Sign &&
           j.input.find("\"DELIVERY_RECEIPTS") != std::string::npos;
  };
  const int n = static_cast<int>(socp::core::kMaxUnackedPerLane) + 20;
  const auto texts = m.burst("alice", "bob", n);
  // Before the bound, all of alice's DMs went onto the link at once.
  CHECK(m.sim.received_texts("bob").size() == socp::core::kMaxUnackedPerLane);
  m.sim.send_dm("carol", "dave", "another lane");
  m.sim.run();
  CHECK(m.sim.received_texts("dave") == std::vector<std::string>{"another lane"});
  m.sim.hold_if = nullptr;
  m.sim.release_bulk_jobs();
  m.sim.advance(1000);
  CHECK(m.sim.received_texts("bob") == texts);
}
