// ServerCore file relay (handle_file.cpp) on one server with raw user frames: routing of
// FILE_START / FILE_CHUNK / FILE_END, one error per failed file, the size limit, public fan-out
// at one signature per chunk, and the bulk lane (file chunks never hold back other frames).
#include <catch2/catch.hpp>

#include "mesh_sim.h"
#include "socp/bytes.h"
#include "socp/messages.h"

using socp::MessageType;
using socp::test::any_fixture_key;
using socp::test::MeshSim;
namespace json = socp::json;
namespace msg = socp::msg;

namespace {

struct FileFrames {
  MeshSim& sim;
  std::string from;  // user name
  std::string to;    // user id or "public"
  std::string file_id = socp::new_uuid_v4();

  std::string uid() { return sim.user(from).user_id; }
  std::string frame(MessageType t, json::Object p, const std::string& type_name = {}) {
    socp::Envelope env = socp::make_envelope(t, uid(), to, sim.now(), json::Value(std::move(p)));
    if (!type_name.empty()) env.type_name = type_name;  // an alias on the wire
    return socp::serialize(env);
  }
  std::string start(std::int64_t size, const std::string& mode = "dm",
                    const std::string& key_name = {}) {
    const auto& k = any_fixture_key(key_name.empty() ? sim.user(from).key_name : key_name);
    return frame(MessageType::FileStart, {{"file_id", file_id},
                                          {"name", "x.bin"},
                                          {"size", size},
                                          {"sha256", std::string(64, 'a')},
                                          {"mode", mode},
                                          {"sender_pub", k.public_key().b64url()},
                                          {"content_sig", "c2ln"}});
  }
  std::string chunk(std::int64_t i) {
    return frame(
        MessageType::FileChunk,
        {{"file_id", file_id}, {"index", i}, {"ciphertext", "Y2h1bmsg" + std::to_string(i)}});
  }
  std::string end(std::int64_t n) {
    return frame(MessageType::FileEnd, {{"file_id", file_id}, {"chunks", n}});
  }
};

std::vector<socp::Envelope> of_type(MeshSim& sim, const std::string& user, MessageType t) {
  std::vector<socp::Envelope> out;
  for (const auto& e : sim.user(user).inbox) {
    if (e.type == t) out.push_back(e);
  }
  return out;
}

bool is_file(const socp::Envelope& e) {
  return e.type == MessageType::FileStart || e.type == MessageType::FileChunk ||
         e.type == MessageType::FileEnd;
}

struct OneServer {
  MeshSim sim;
  explicit OneServer(std::function<void(socp::ServerConfig&)> tweak = {}) {
    sim.add_server("A", "server_a", {}, std::move(tweak));
    sim.add_user("alice", "alice", "A");
    sim.add_user("bob", "bob", "A");
    sim.add_user("carol", "carol", "A");
    sim.login("alice", "A");
    sim.login("bob", "A");
  }
};

}  // namespace

TEST_CASE("file relay: a DM file to a local user, ts kept, sender added, signed by the server",
          "[core][files]") {
  OneServer t;
  MeshSim& sim = t.sim;
  FileFrames f{sim, "alice", sim.user("bob").user_id};
  const std::int64_t ts = sim.now();
  sim.send_raw("alice", f.start(1000));
  for (int i = 0; i < 3; ++i) sim.send_raw("alice", f.chunk(i));
  sim.send_raw("alice", f.end(3));
  std::vector<socp::Envelope> got;
  for (const auto& e : sim.user("bob").inbox) {
    if (is_file(e)) got.push_back(e);
  }
  REQUIRE(got.size() == 5);
  const auto& spub = any_fixture_key("server_a").public_key();
  for (const auto& e : got) {
    CHECK(e.from == sim.server_id("A"));
    CHECK(e.to == sim.user("bob").user_id);
    CHECK(e.ts == ts);
    CHECK(*json::get_string(e.payload, "sender") == sim.user("alice").user_id);
    CHECK(*json::get_string(e.payload, "file_id") == f.file_id);
    CHECK(socp::verify_payload(spub, e.payload, e.sig) != socp::SigForm::None);
  }
  CHECK(got[0].type == MessageType::FileStart);
  CHECK(*json::get_string(got[0].payload, "content_sig") == "c2ln");
  CHECK(*json::get_string(got[0].payload, "sender_pub") ==
        any_fixture_key("alice").public_key().b64url());
  for (int i = 0; i < 3; ++i) {
    CHECK(got[1 + i].type == MessageType::FileChunk);
    CHECK(*json::get_int(got[1 + i].payload, "index") == i);
    CHECK(*json::get_string(got[1 + i].payload, "ciphertext") == "Y2h1bmsg" + std::to_string(i));
  }
  CHECK(got[4].type == MessageType::FileEnd);
  CHECK(*json::get_int(got[4].payload, "chunks") == 3);
  CHECK(sim.user("alice").errors.empty());
}

TEST_CASE("file relay: USER_FILE_* aliases are accepted", "[core][files]") {
  OneServer t;
  MeshSim& sim = t.sim;
  FileFrames f{sim, "alice", sim.user("bob").user_id};
  sim.send_raw("alice", f.frame(MessageType::FileChunk,
                                {{"file_id", f.file_id}, {"index", 0}, {"ciphertext", "eA"}},
                                "USER_FILE_CHUNK"));
  auto chunks = of_type(sim, "bob", MessageType::FileChunk);
  REQUIRE(chunks.size() == 1);
  CHECK(chunks[0].type_name == "FILE_CHUNK");  // socp emits the canonical name
  CHECK(sim.user("alice").errors.empty());
}

TEST_CASE("file relay: an unreachable recipient costs one error per file, not per chunk",
          "[core][files]") {
  OneServer t;
  MeshSim& sim = t.sim;
  SECTION("offline") {
    FileFrames f{sim, "alice", sim.user("carol").user_id};  // registered, not logged in
    sim.send_raw("alice", f.start(5000));
    for (int i = 0; i < 10; ++i) sim.send_raw("alice", f.chunk(i));
    sim.send_raw("alice", f.end(10));
    REQUIRE(sim.user("alice").errors.size() == 1);
    const auto& e = sim.user("alice").errors[0];
    auto em = msg::ErrorMsg::from_json(e.payload);
    CHECK(em->code == "USER_NOT_FOUND");
    CHECK(em->msg_ref == "FILE_START");
    CHECK(*json::get_string(e.payload, "file_id") == f.file_id);
    CHECK(em->detail.find("offline") != std::string::npos);
  }
  SECTION("unknown, even when the chunks come first") {
    FileFrames f{sim, "alice", socp::new_uuid_v4()};
    for (int i = 0; i < 5; ++i) sim.send_raw("alice", f.chunk(i));
    sim.send_raw("alice", f.start(5000));
    REQUIRE(sim.user("alice").errors.size() == 1);
    CHECK(*json::get_string(sim.user("alice").errors[0].payload, "file_id") == f.file_id);
    // Another file to the same nobody gets its own error.
    FileFrames g{sim, "alice", f.to};
    sim.send_raw("alice", g.start(10));
    REQUIRE(sim.user("alice").errors.size() == 2);
  }
  CHECK(of_type(sim, "bob", MessageType::FileChunk).empty());
}

TEST_CASE("file relay: the server's size limit, key and mode checks", "[core][files]") {
  OneServer t([](socp::ServerConfig& c) { c.limits.max_file_size = 4096; });
  MeshSim& sim = t.sim;
  auto error_of = [&](const std::string& frame) {
    const std::size_t before = sim.user("alice").errors.size();
    sim.send_raw("alice", frame);
    REQUIRE(sim.user("alice").errors.size() == before + 1);
    return msg::ErrorMsg::from_json(sim.user("alice").errors.back().payload).value();
  };
  const std::string bob = sim.user("bob").user_id;
  FileFrames big{sim, "alice", bob};
  auto e = error_of(big.start(4097));
  CHECK(e.code == "TOO_LARGE");
  CHECK(e.msg_ref == "FILE_START");
  sim.send_raw("alice", big.chunk(0));  // the rest of a refused file is dropped quietly
  CHECK(sim.user("alice").errors.size() == 1);
  CHECK(of_type(sim, "bob", MessageType::FileChunk).empty());
  FileFrames ok{sim, "alice", bob};
  sim.send_raw("alice", ok.start(4096));
  CHECK(of_type(sim, "bob", MessageType::FileStart).size() == 1);

  FileFrames badkey{sim, "alice", bob};
  CHECK(error_of(badkey.start(10, "dm", "erin")).code == "BAD_KEY");
  FileFrames badmode{sim, "alice", bob};
  CHECK(error_of(badmode.start(10, "broadcast")).code == "BAD_FRAME");
  FileFrames mixed{sim, "alice", bob};
  CHECK(error_of(mixed.start(10, "public")).code == "BAD_FRAME");
  FileFrames noid{sim, "alice", bob};
  CHECK(error_of(noid.frame(MessageType::FileChunk, {{"index", 0}, {"ciphertext", "x"}})).code ==
        "BAD_FRAME");
  // `from` must be the session's user.
  FileFrames spoof{sim, "bob", bob};
  sim.send_raw("alice", spoof.start(10));
  CHECK(msg::ErrorMsg::from_json(sim.user("alice").errors.back().payload)->code == "BAD_FRAME");
  CHECK(of_type(sim, "bob", MessageType::FileStart).size() == 1);
}

TEST_CASE("file relay: public mode reaches every local user but the sender, one signature each",
          "[core][files]") {
  OneServer t;
  MeshSim& sim = t.sim;
  sim.login("carol", "A");
  FileFrames f{sim, "alice", "public"};
  sim.send_raw("alice", f.start(2000, "public"));
  const std::uint64_t before = sim.node("A").signatures;
  for (int i = 0; i < 5; ++i) sim.send_raw("alice", f.chunk(i));
  CHECK(sim.node("A").signatures - before == 5);  // one per chunk, however many members
  for (const char* u : {"bob", "carol"}) {
    CHECK(of_type(sim, u, MessageType::FileStart).size() == 1);
    CHECK(of_type(sim, u, MessageType::FileChunk).size() == 5);
  }
  CHECK(of_type(sim, "alice", MessageType::FileChunk).empty());
  CHECK(sim.user("alice").errors.empty());
}

TEST_CASE("bulk lane: a DM queued after 100 pending chunk frames is sent before them",
          "[core][files]") {
  OneServer t;
  MeshSim& sim = t.sim;
  sim.defer_bulk_jobs(true);  // the signing pool is busy with low-priority work
  FileFrames f{sim, "alice", sim.user("bob").user_id};
  sim.send_raw("alice", f.start(100 * 446));
  for (int i = 0; i < 100; ++i) sim.send_raw("alice", f.chunk(i));
  CHECK(sim.held_bulk_jobs() == 101);
  const std::size_t inbox_before = sim.user("bob").inbox.size();

  sim.send_dm("alice", "bob", "not stuck behind the file");
  // The DM went out on bob's connection although 101 file frames were queued before it.
  REQUIRE(sim.received_texts("bob") == std::vector<std::string>{"not stuck behind the file"});
  REQUIRE(sim.user("bob").inbox.size() == inbox_before + 1);
  CHECK(sim.user("bob").inbox.back().type == MessageType::UserDeliver);

  // Once signed, the file frames follow in their own order.
  CHECK(sim.release_bulk_jobs() == 101);
  std::vector<socp::Envelope> files;
  for (std::size_t i = inbox_before; i < sim.user("bob").inbox.size(); ++i) {
    if (is_file(sim.user("bob").inbox[i])) files.push_back(sim.user("bob").inbox[i]);
  }
  REQUIRE(files.size() == 101);
  CHECK(files[0].type == MessageType::FileStart);
  for (int i = 0; i < 100; ++i) CHECK(*json::get_int(files[1 + i].payload, "index") == i);
}

TEST_CASE("bulk lane: file frames keep their order when signatures finish out of order",
          "[core][files]") {
  // A signing pool with several threads may finish chunk 2 before chunk 0: a ready bulk frame
  // still waits for the earlier bulk frames on its connection.
  OneServer t;
  MeshSim& sim = t.sim;
  FileFrames f{sim, "alice", sim.user("bob").user_id};
  sim.defer_bulk_jobs(true);
  for (int i = 0; i < 3; ++i) sim.send_raw("alice", f.chunk(i));
  CHECK(sim.release_bulk_jobs(/*newest_first=*/true) == 3);
  auto chunks = of_type(sim, "bob", MessageType::FileChunk);
  REQUIRE(chunks.size() == 3);
  for (int i = 0; i < 3; ++i) CHECK(*json::get_int(chunks[i].payload, "index") == i);
}
