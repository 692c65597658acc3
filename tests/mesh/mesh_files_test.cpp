// File transfer across an in-memory mesh with real ClientCores: DM files across servers
// arrive byte-identical, chat overtakes file chunks on the same links (bulk lane), failures
// reach the sender once, and public-mode files cost one signature per server per chunk.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "channel_user.h"
#include "mesh_sim.h"
#include "socp/bytes.h"
#include "socp/crypto.h"
#include "socp/messages.h"
#include "temp_files.h"

using socp::test::bytes_of;
using socp::test::ClientMesh;
using socp::test::MeshSim;
using socp::test::read_file;
using socp::test::str;
using socp::test::TempDir;
namespace fs = std::filesystem;
namespace json = socp::json;

namespace {

// A mesh of servers with ClientCores whose downloads go to <tmp>/<user>.
struct FileMesh {
  TempDir tmp{"socp-mesh-files-"};
  MeshSim sim;
  ClientMesh cm{sim};

  std::string downloads(const std::string& user) const { return tmp.path + "/" + user; }

  void login(const std::string& user, const std::string& node, std::uint32_t rate = 0) {
    cm.login(user, node, [this, user, rate](socp::ClientConfig& c) {
      c.download_dir = downloads(user);
      c.file_chunks_per_second = rate;
      c.file_bulk = false;  // the spec's RSA chunks (bulk mode: mesh_files_bulk_test.cpp)
    });
  }

  std::string put(const std::string& name, const std::string& data) {
    const std::string p = tmp.path + "/" + name;
    std::ofstream(p, std::ios::binary) << data;
    return p;
  }

  // Index of the first event named `event` in the user's events (-1 if none).
  long first(const std::string& user, const std::string& event) {
    const auto& ev = cm.events(user);
    for (std::size_t i = 0; i < ev.size(); ++i) {
      if (str(ev[i], "event") == event) return static_cast<long>(i);
    }
    return -1;
  }
};

}  // namespace

TEST_CASE("files: a DM file crosses servers and arrives byte-identical", "[mesh][files]") {
  FileMesh m;
  m.sim.add_server("A", "server_a");
  m.sim.add_server("B", "server_b", {"A"});
  m.sim.add_user("alice", "alice", "A");
  m.sim.add_user("bob", "bob", "B");
  m.login("alice", "A");
  m.login("bob", "B");
  const std::string data = bytes_of(50'000, 1);
  m.cm.command("alice", "/file bob " + m.put("photo.jpg", data));

  auto rec = m.cm.named("bob", "file_received");
  REQUIRE(rec.size() == 1);
  CHECK(str(rec[0], "path") == m.downloads("bob") + "/photo.jpg");
  CHECK(read_file(str(rec[0], "path")) == data);
  CHECK(str(rec[0], "from") == m.sim.user("alice").user_id);
  CHECK(str(rec[0], "from_name") == "alice");
  CHECK(str(rec[0], "sha256") == socp::hex_encode(socp::sha256(data)));
  CHECK(m.cm.named("alice", "file_sent").size() == 1);
  CHECK(m.cm.named("bob", "file_failed").empty());
  CHECK(m.cm.named("alice", "error").empty());
  // Both servers relayed every chunk as bulk traffic, and nothing was decrypted on the way.
  const auto& a = m.sim.node("A").core->counters();
  const auto& b = m.sim.node("B").core->counters();
  const std::uint64_t chunks = (data.size() + 445) / 446;
  CHECK(a.at("file_frames_remote") == chunks + 2);
  CHECK(b.at("file_frames_delivered") == chunks + 2);
}

TEST_CASE("files: chat overtakes file chunks on the same links (bulk lane)", "[mesh][files]") {
  FileMesh m;
  m.sim.add_server("A", "server_a");
  m.sim.add_server("B", "server_b", {"A"});
  m.sim.add_user("alice", "alice", "A");
  m.sim.add_user("bob", "bob", "B");
  m.login("alice", "A");
  m.login("bob", "B");
  const std::string data = bytes_of(100 * 446, 2);
  m.sim.defer_bulk_jobs(true);  // the signing pools are busy: bulk signatures wait
  m.cm.command("alice", "/file bob " + m.put("big.bin", data));
  CHECK(m.sim.held_bulk_jobs() == 102);  // FILE_START, 100 chunks, FILE_END at server A
  m.cm.command("alice", "/tell bob hello while the file is on its way");

  // The DM went A -> B -> bob although 102 file frames were queued before it on that link.
  auto msgs = m.cm.named("bob", "message");
  REQUIRE(msgs.size() == 1);
  CHECK(str(msgs[0], "text") == "hello while the file is on its way");
  CHECK(m.first("bob", "file_incoming") == -1);

  CHECK(m.sim.release_bulk_jobs() == 102);  // A signs; B's bulk signatures are held next
  m.cm.pump();
  CHECK(m.sim.held_bulk_jobs() == 102);
  CHECK(m.sim.release_bulk_jobs() == 102);
  m.cm.pump();
  auto rec = m.cm.named("bob", "file_received");
  REQUIRE(rec.size() == 1);
  CHECK(read_file(str(rec[0], "path")) == data);
  CHECK(m.first("bob", "message") < m.first("bob", "file_incoming"));
}

TEST_CASE("files: a recipient leaving mid-transfer is reported to the sender once",
          "[mesh][files]") {
  FileMesh m;
  m.sim.add_server("A", "server_a");
  m.sim.add_server("B", "server_b", {"A"});
  m.sim.add_user("alice", "alice", "A");
  m.sim.add_user("bob", "bob", "B");
  m.login("alice", "A", 20);  // 20 chunks per second
  m.login("bob", "B");
  m.cm.command("alice", "/file bob " + m.put("x.bin", bytes_of(200 * 446, 3)));
  CHECK(m.cm.named("bob", "file_incoming").size() == 1);
  m.cm.logout("bob");
  m.cm.advance(3'000);
  auto failed = m.cm.named("alice", "file_failed");
  REQUIRE(failed.size() == 1);
  CHECK(str(failed[0], "direction") == "send");
  CHECK(str(failed[0], "reason").rfind("USER_NOT_FOUND: ", 0) == 0);
  CHECK(m.cm.named("alice", "file_sent").empty());
  CHECK(m.cm.named("alice", "error").empty());  // no error per chunk either
  // Nothing more goes out for that file.
  const auto before = m.sim.node("A").core->counters().at("frames_in");
  m.cm.advance(5'000);
  CHECK(m.sim.node("A").core->counters().at("frames_in") - before < 20);  // heartbeats only
}

TEST_CASE("files: a server's size limit reaches the sender as TOO_LARGE", "[mesh][files]") {
  FileMesh m;
  m.sim.add_server("A", "server_a", {},
                   [](socp::ServerConfig& c) { c.limits.max_file_size = 10'000; });
  m.sim.add_user("alice", "alice", "A");
  m.sim.add_user("bob", "bob", "A");
  m.login("alice", "A");
  m.login("bob", "A");
  m.cm.command("alice", "/file bob " + m.put("x.bin", bytes_of(10'001, 4)));
  auto failed = m.cm.named("alice", "file_failed");
  REQUIRE(failed.size() == 1);
  CHECK(str(failed[0], "reason").rfind("TOO_LARGE: ", 0) == 0);
  CHECK(m.cm.named("bob", "file_incoming").empty());
}

TEST_CASE("files: /file all reaches every member on every server, one signature per chunk",
          "[mesh][files]") {
  FileMesh m;
  m.sim.add_server("A", "server_a");
  m.sim.add_server("B", "server_b", {"A"});
  m.sim.add_server("C", "server1", {"A"});
  const char* users[] = {"alice", "bob", "carol", "dave"};
  const char* homes[] = {"A", "B", "C", "A"};
  for (int i = 0; i < 4; ++i) m.sim.add_user(users[i], users[i], homes[i]);
  for (int i = 0; i < 4; ++i) m.login(users[i], homes[i]);
  m.cm.command("alice", "/list");  // the channel key is shared with every member's key

  const std::string data = bytes_of(30 * 446 + 5, 5);
  std::map<std::string, std::uint64_t> before;
  for (const char* n : {"A", "B", "C"}) before[n] = m.sim.node(n).signatures;
  m.cm.command("alice", "/file all " + m.put("deck.pdf", data));
  for (const char* u : {"bob", "carol", "dave"}) {
    auto rec = m.cm.named(u, "file_received");
    REQUIRE(rec.size() == 1);
    CHECK(read_file(str(rec[0], "path")) == data);
    CHECK(str(rec[0], "mode") == "public");
    CHECK(m.cm.named(u, "file_failed").empty());
  }
  CHECK(m.cm.named("alice", "file_received").empty());
  auto sent = m.cm.named("alice", "file_sent");
  REQUIRE(sent.size() == 1);
  CHECK(str(sent[0], "to") == "public");
  // 31 chunks + FILE_START + FILE_END = 33 payloads; the key share adds a couple of frames.
  for (const char* n : {"A", "B", "C"}) {
    const std::uint64_t used = m.sim.node(n).signatures - before[n];
    INFO("server " << n << " signatures " << used);
    CHECK(used >= 33);
    CHECK(used <= 33 + 4);
  }
}

TEST_CASE("files: a server cannot send file frames for users it does not host", "[mesh][files]") {
  MeshSim sim;
  sim.add_server("A", "server_a");
  sim.add_server("B", "server_b", {"A"});
  sim.add_user("alice", "alice", "A");
  sim.add_user("bob", "bob", "B");
  sim.add_user("carol", "carol", "B");
  sim.login("alice", "A");
  sim.login("bob", "B");
  sim.login("carol", "B");
  const std::string a = sim.server_id("A");
  const std::string carol = sim.user("carol").user_id;
  const std::string alice = sim.user("alice").user_id;
  const std::string evil_pub = socp::test::any_fixture_key("erin").public_key().b64url();
  auto deliver = [&](const std::string& sender, const std::string& sender_pub) {
    socp::msg::ServerDeliver d;
    d.user_id = sim.user("bob").user_id;
    d.sender = sender;
    d.sender_pub = sender_pub;
    d.content_sig = "c2ln";
    d.orig_ts = sim.now();
    d.inner_type = "FILE_START";
    d.extra = json::Object{{"file_id", socp::new_uuid_v4()},
                           {"name", "x"},
                           {"size", 1},
                           {"sha256", std::string(64, 'a')},
                           {"mode", "dm"}};
    return MeshSim::signed_frame(socp::MessageType::ServerDeliver, a, sim.server_id("B"), sim.now(),
                                 d.to_json(), "server_a");
  };
  auto starts = [&] {
    std::size_t n = 0;
    for (const auto& e : sim.user("bob").inbox) n += e.type == socp::MessageType::FileStart;
    return n;
  };
  // carol lives at B: A may not speak for her; alice lives at A but that is not her key.
  REQUIRE(sim.inject("A", "B",
                     deliver(carol, socp::test::any_fixture_key("carol").public_key().b64url())));
  REQUIRE(sim.inject("A", "B", deliver(alice, evil_pub)));
  CHECK(starts() == 0);
  CHECK(sim.node("B").core->counters().at("rejected_forged_senders") == 2);
  // The genuine article passes.
  REQUIRE(sim.inject("A", "B",
                     deliver(alice, socp::test::any_fixture_key("alice").public_key().b64url())));
  CHECK(starts() == 1);
  // Public mode, same rule.
  json::Object pub{{"file_id", socp::new_uuid_v4()}, {"name", "x"},          {"size", 1},
                   {"sha256", std::string(64, 'a')}, {"mode", "public"},     {"sender", carol},
                   {"sender_pub", evil_pub},         {"content_sig", "c2ln"}};
  REQUIRE(sim.inject("A", "B",
                     MeshSim::signed_frame(socp::MessageType::FileStart, a, "public", sim.now(),
                                           json::Value(pub), "server_a")));
  CHECK(starts() == 1);
  CHECK(sim.node("B").core->counters().at("rejected_forged_senders") == 3);
}
