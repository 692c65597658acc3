// Nothing lost: DMs to offline users are kept and arrive at login in order and once; a
// partition or a crash with messages in flight loses and duplicates nothing; quota and expiry;
// senders learn queued / delivered / failed through batched receipts.
#include <catch2/catch.hpp>

#include "mesh_sim.h"
#include "socp/messages.h"

using socp::Counter;
using socp::test::MeshSim;

namespace {

/// A, B; alice@A and bob@B are socp clients (receipts, acks); both known mesh-wide, offline.
void setup(MeshSim& sim, std::function<void(socp::ServerConfig&)> tweak = {}) {
  sim.add_server("A", "server_a", {}, tweak);
  sim.add_server("B", "server_b", {"A"}, tweak);
  sim.add_user("alice", "alice", "A").socp_client = true;
  sim.add_user("bob", "bob", "B").socp_client = true;
  sim.add_user("dave", "dave", "A").socp_client = true;
  for (const char* u : {"alice", "bob", "dave"}) {
    sim.login(u, u == std::string("bob") ? "B" : "A");
    sim.logout(u);
  }
}

std::vector<std::string> texts(int n, const std::string& prefix) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back(prefix + std::to_string(i));
  return v;
}

void send_all(MeshSim& sim, const std::string& from, const std::string& to,
              const std::vector<std::string>& msgs) {
  for (const auto& t : msgs) {
    sim.send_dm(from, to, t, std::nullopt, "id-" + t);
    sim.advance(1);
  }
}

}  // namespace

TEST_CASE("offline recipient on the same server: kept, in order, once, receipts",
          "[mesh][delivery]") {
  MeshSim sim;
  setup(sim);
  sim.login("alice", "A");
  const auto msgs = texts(5, "same-");
  send_all(sim, "alice", "dave", msgs);
  sim.advance(1'000);  // receipt batches go out
  for (const auto& t : msgs) REQUIRE(sim.receipts("alice")["id-" + t] == "queued");
  REQUIRE(sim.node("A").core->stats().queued_messages == 5);
  sim.login("dave", "A");
  REQUIRE(sim.received_texts("dave") == msgs);
  REQUIRE(sim.ack_deliveries("dave") == 5);
  sim.advance(1'000);
  for (const auto& t : msgs) REQUIRE(sim.receipts("alice")["id-" + t] == "delivered");
  REQUIRE(sim.node("A").core->stats().queued_messages == 0);
  // Logging in again brings nothing twice.
  sim.logout("dave");
  sim.user("dave").inbox.clear();
  sim.login("dave", "A");
  REQUIRE(sim.received_texts("dave").empty());
}

TEST_CASE("offline recipient on another server: kept by its home server", "[mesh][delivery]") {
  MeshSim sim;
  setup(sim);
  sim.login("alice", "A");
  const auto msgs = texts(4, "far-");
  send_all(sim, "alice", "bob", msgs);
  sim.advance(1'000);
  REQUIRE(sim.node("B").core->stats().queued_messages == 4);  // mailbox at bob's home
  REQUIRE(sim.node("A").core->stats().queued_messages == 0);  // the hop was acknowledged
  sim.login("bob", "B");
  REQUIRE(sim.received_texts("bob") == msgs);
  sim.ack_deliveries("bob");
  sim.advance(1'000);
  for (const auto& t : msgs) REQUIRE(sim.receipts("alice")["id-" + t] == "delivered");
}

TEST_CASE("online recipient: delivered at once, receipt delivered after the client's ack",
          "[mesh][delivery]") {
  MeshSim sim;
  setup(sim);
  sim.login("alice", "A");
  sim.login("bob", "B");
  sim.send_dm("alice", "bob", "now", std::nullopt, "id-now");
  REQUIRE(sim.received_texts("bob") == std::vector<std::string>{"now"});
  sim.advance(1'000);
  REQUIRE(sim.receipts("alice")["id-now"] == "queued");
  sim.ack_deliveries("bob");
  sim.advance(1'000);
  REQUIRE(sim.receipts("alice")["id-now"] == "delivered");
}

TEST_CASE("a partition with messages in flight loses and duplicates nothing after healing",
          "[mesh][delivery]") {
  MeshSim sim;
  setup(sim);
  sim.login("alice", "A");
  sim.login("bob", "B");
  const auto first = texts(3, "one-");
  send_all(sim, "alice", "bob", first);
  sim.partition({"B"});  // the hop acks of `first` are still waiting in B's batch
  const auto during = texts(3, "two-");
  send_all(sim, "alice", "bob", during);
  sim.advance(1'000);
  for (const auto& t : during) REQUIRE(sim.receipts("alice")["id-" + t] == "queued");
  REQUIRE(sim.node("A").core->stats().queued_messages >= 3);
  sim.advance(20'000);
  sim.heal();
  sim.advance(20'000);
  std::vector<std::string> all = first;
  all.insert(all.end(), during.begin(), during.end());
  REQUIRE(sim.received_texts("bob") == all);  // each once, in order
  sim.ack_deliveries("bob");
  sim.advance(2'000);
  for (const auto& t : all) REQUIRE(sim.receipts("alice")["id-" + t] == "delivered");
  REQUIRE(sim.node("A").core->stats().queued_messages == 0);
  REQUIRE(sim.node("B").core->stats().queued_messages == 0);
}

TEST_CASE("crash: the sender's server restarts with its outbox and delivers", "[mesh][delivery]") {
  MeshSim sim;
  setup(sim);
  sim.login("alice", "A");
  sim.partition({"B"});
  const auto msgs = texts(3, "crash-");
  send_all(sim, "alice", "bob", msgs);
  sim.crash("A");  // nothing in memory survives, the store does
  sim.heal();
  sim.restart("A");
  sim.advance(20'000);
  REQUIRE(sim.node("B").core->stats().queued_messages == 3);
  sim.login("bob", "B");
  REQUIRE(sim.received_texts("bob") == msgs);
}

TEST_CASE("crash: the recipient's server restarts with the mailbox", "[mesh][delivery]") {
  MeshSim sim;
  setup(sim);
  sim.login("alice", "A");
  const auto msgs = texts(3, "kept-");
  send_all(sim, "alice", "bob", msgs);
  sim.advance(1'000);
  sim.crash("B");
  sim.restart("B");
  sim.advance(20'000);
  sim.login("bob", "B");
  REQUIRE(sim.received_texts("bob") == msgs);
}

TEST_CASE("mailbox quota and expiry: the sender is told", "[mesh][delivery]") {
  MeshSim sim;
  setup(sim, [](socp::ServerConfig& c) {
    c.mailbox_max_messages = 2;
    c.message_ttl_ms = 5 * 60'000;
  });
  sim.login("alice", "A");
  send_all(sim, "alice", "dave", texts(3, "q-"));
  sim.advance(1'000);
  auto r = sim.receipts("alice");
  REQUIRE(r["id-q-0"] == "queued");
  REQUIRE(r["id-q-1"] == "queued");
  REQUIRE(r["id-q-2"] == "failed:TOO_LARGE");
  sim.advance(10 * 60'000, 30'000);
  r = sim.receipts("alice");
  REQUIRE(r["id-q-0"] == "failed:TIMEOUT");
  REQUIRE(sim.node("A").core->counter(Counter::MessagesExpired) == 2);
  sim.login("dave", "A");
  REQUIRE(sim.received_texts("dave").empty());
}

TEST_CASE("a client without socp/1: handed over is delivered, nothing kept for it",
          "[mesh][delivery]") {
  MeshSim sim;
  setup(sim);
  sim.user("dave").socp_client = false;
  sim.login("alice", "A");
  sim.send_dm("alice", "dave", "while away", std::nullopt, "id-away");
  sim.login("dave", "A");
  REQUIRE(sim.received_texts("dave") == std::vector<std::string>{"while away"});
  sim.send_dm("alice", "dave", "now", std::nullopt, "id-now");
  sim.advance(1'000);
  REQUIRE(sim.receipts("alice")["id-away"] == "delivered");
  REQUIRE(sim.receipts("alice")["id-now"] == "delivered");
  REQUIRE(sim.node("A").core->stats().queued_messages == 0);
}

TEST_CASE("receipts that come due while the sender is away arrive at its next login",
          "[mesh][delivery]") {
  MeshSim sim;
  setup(sim);
  sim.login("alice", "A");
  const auto msgs = texts(3, "away-");
  send_all(sim, "alice", "bob", msgs);  // bob (on B) is offline: kept by B
  sim.advance(1'000);
  for (const auto& t : msgs) REQUIRE(sim.receipts("alice")["id-" + t] == "queued");
  sim.logout("alice");
  sim.login("bob", "B");
  REQUIRE(sim.received_texts("bob") == msgs);
  REQUIRE(sim.ack_deliveries("bob") == 3);
  sim.advance(2'000);  // B tells A; A finds alice gone and keeps the receipts
  sim.user("alice").inbox.clear();
  sim.login("alice", "A");
  sim.advance(1'000);
  for (const auto& t : msgs) REQUIRE(sim.receipts("alice")["id-" + t] == "delivered");
}

TEST_CASE("a resent DM is answered: queued while on its way, delivered once delivered",
          "[mesh][delivery]") {
  MeshSim sim;
  setup(sim);
  sim.login("alice", "A");
  sim.login("dave", "A");
  sim.send_dm("alice", "dave", "once", std::nullopt, "id-once");
  REQUIRE(sim.ack_deliveries("dave") == 1);
  sim.advance(1'000);
  REQUIRE(sim.receipts("alice")["id-once"] == "delivered");
  sim.user("alice").inbox.clear();
  sim.send_dm("alice", "dave", "once", std::nullopt, "id-once");  // a client's resend
  sim.advance(1'000);
  REQUIRE(sim.receipts("alice")["id-once"] == "delivered");
  REQUIRE(sim.received_texts("dave").size() == 1);
}
