// Bulk files (docs/protocol.md "Bulk files") across an in-memory mesh with real ClientCores:
// a file crosses two servers in 256 KiB AEAD chunks that no server signs; a relaying server
// that alters a chunk is caught by the receiver (file refused, nothing left on disk, the
// sender told); recipients that cannot take bulk frames get the spec's RSA chunks; and an
// unsigned chunk is taken from nothing but a logged-in user or a socp/1 link.
#include <catch2/catch.hpp>

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

std::size_t files_in(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return 0;
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    (void)e;
    ++n;
  }
  return n;
}

// Alice on A, Bob on B (A <-> B), both real ClientCores with download folders.
struct BulkMesh {
  TempDir tmp{"socp-mesh-bulk-"};
  MeshSim sim;
  ClientMesh cm{sim};

  BulkMesh() {
    sim.add_server("A", "server_a");
    sim.add_server("B", "server_b", {"A"});
    sim.add_user("alice", "alice", "A");
    sim.add_user("bob", "bob", "B");
  }
  std::string downloads(const std::string& user) const { return tmp.path + "/" + user; }
  void login(const std::string& user, const std::string& node, bool bulk = true) {
    cm.login(user, node, [this, user, bulk](socp::ClientConfig& c) {
      c.download_dir = downloads(user);
      c.file_chunks_per_second = 0;
      c.file_bulk = bulk;
    });
  }
  std::string put(const std::string& name, const std::string& data) {
    const std::string p = tmp.path + "/" + name;
    std::ofstream(p, std::ios::binary) << data;
    return p;
  }
  std::uint64_t counter(const std::string& node, const char* name) {
    const auto& c = sim.node(node).core->counters();
    auto it = c.find(name);
    return it == c.end() ? 0 : it->second;
  }
};

}  // namespace

TEST_CASE("bulk files: a file crosses two servers in bulk mode and arrives intact",
          "[mesh][files][bulk]") {
  BulkMesh m;
  m.login("alice", "A");
  m.login("bob", "B");
  // 3 chunks of 256 KiB and a short fourth one.
  const std::string data = bytes_of(3 * 256 * 1024 + 1000, 7);
  const std::uint64_t sigs_a = m.sim.node("A").signatures;
  const std::uint64_t sigs_b = m.sim.node("B").signatures;
  m.sim.tap_on = true;
  m.cm.command("alice", "/file bob " + m.put("video.bin", data));

  auto rec = m.cm.named("bob", "file_received");
  REQUIRE(rec.size() == 1);
  CHECK(str(rec[0], "path") == m.downloads("bob") + "/video.bin");
  CHECK(read_file(str(rec[0], "path")) == data);
  CHECK(str(rec[0], "sha256") == socp::hex_encode(socp::sha256(data)));
  CHECK(files_in(m.downloads("bob")) == 1);  // no partial file left behind
  REQUIRE(m.cm.named("alice", "file_sent").size() == 1);
  CHECK(m.cm.named("bob", "file_failed").empty());
  CHECK(m.cm.named("alice", "file_failed").empty());
  // Every chunk went unsigned over both hops; no RSA chunk was used.
  CHECK(m.counter("A", "file_bulk_chunks_relayed") == 4);
  CHECK(m.counter("B", "file_bulk_chunks_relayed") == 4);
  CHECK(m.counter("A", "file_bulk_refused") == 0);
  std::size_t chunk_frames = 0, rsa_frames = 0;
  for (const auto& t : m.sim.tapped) {
    auto env = socp::parse_envelope(t.text);
    REQUIRE(env.ok());
    if (env->type == socp::MessageType::FileBulkChunk) {
      ++chunk_frames;
      CHECK(env->sig.empty());
    }
    if (env->type == socp::MessageType::FileChunk) ++rsa_frames;
  }
  CHECK(chunk_frames == 8);  // 4 chunks x (A -> B, B -> bob)
  CHECK(rsa_frames == 0);
  // Signatures: the manifest and one ACK per 4 chunks plus the final one, per hop -- not one
  // per chunk per hop.
  CHECK(m.sim.node("A").signatures - sigs_a <= 6);
  CHECK(m.sim.node("B").signatures - sigs_b <= 6);
}

TEST_CASE("bulk files: an empty file is one empty chunk", "[mesh][files][bulk]") {
  BulkMesh m;
  m.login("alice", "A");
  m.login("bob", "B");
  m.cm.command("alice", "/file bob " + m.put("empty.txt", ""));
  auto rec = m.cm.named("bob", "file_received");
  REQUIRE(rec.size() == 1);
  CHECK(read_file(str(rec[0], "path")).empty());
  CHECK(m.cm.named("alice", "file_sent").size() == 1);
}

TEST_CASE("bulk files: a relaying server that alters a chunk is caught by the receiver",
          "[mesh][files][bulk]") {
  BulkMesh m;
  m.login("alice", "A");
  m.login("bob", "B");
  const std::string data = bytes_of(3 * 256 * 1024, 8);
  // Server A turns hostile: it flips one byte of chunk 1's ciphertext on its way to B.
  int altered = 0;
  m.sim.mutate = [&](const std::string& from, const std::string& to, std::string& text) {
    if (from != "A" || to != "B" || text.find("FILE_BULK_CHUNK") == std::string::npos) return;
    auto env = socp::parse_envelope(text);
    if (!env.ok() || *json::get_int(env->payload, "index") != 1) return;
    auto raw = socp::b64_decode(*json::get_string(env->payload, "ciphertext")).value();
    raw[1000] ^= 0x01;
    env->payload.as_object()["ciphertext"] = socp::b64url_encode(raw);
    text = socp::serialize(env.value());
    ++altered;
  };
  m.cm.command("alice", "/file bob " + m.put("report.pdf", data));

  CHECK(altered == 1);
  CHECK(m.cm.named("bob", "file_received").empty());
  auto failed = m.cm.named("bob", "file_failed");
  REQUIRE(failed.size() == 1);
  CHECK(str(failed[0], "reason").find("chunk 1 does not match the signed manifest") !=
        std::string::npos);
  CHECK(files_in(m.downloads("bob")) == 0);  // the partial file (chunk 0) is gone
  // The sender hears of it (FILE_BULK_ACK "failed") and stops.
  auto sent_failed = m.cm.named("alice", "file_failed");
  REQUIRE(sent_failed.size() == 1);
  CHECK(str(sent_failed[0], "reason").find("refused") != std::string::npos);
  CHECK(m.cm.named("alice", "file_sent").empty());
}

TEST_CASE("bulk files: a relaying server that drops the last chunk leaves nothing behind",
          "[mesh][files][bulk]") {
  BulkMesh m;
  m.login("alice", "A");
  m.login("bob", "B");
  // Server B swallows chunk 2 of 3 on its way to bob: a truncated transfer.
  m.sim.mutate = [](const std::string& from, const std::string& to, std::string& text) {
    if (from == "B" && to == "u:bob" && text.find("FILE_BULK_CHUNK") != std::string::npos &&
        text.find("\"index\":2") != std::string::npos) {
      text.clear();
    }
  };
  m.cm.command("alice", "/file bob " + m.put("cut.bin", bytes_of(2 * 256 * 1024 + 10, 11)));
  CHECK(m.cm.named("bob", "file_received").empty());
  CHECK(files_in(m.downloads("bob")) == 1);  // the partial file, hidden, while it waits
  m.cm.advance(31'000);                      // file_timeout_ms
  auto failed = m.cm.named("bob", "file_failed");
  REQUIRE(failed.size() == 1);
  CHECK(str(failed[0], "reason").find("timeout: incomplete (2 of 3 chunks)") != std::string::npos);
  CHECK(files_in(m.downloads("bob")) == 0);
  REQUIRE(m.cm.named("alice", "file_failed").size() == 1);  // told, or timed out itself
  CHECK(m.cm.named("alice", "file_sent").empty());
}

TEST_CASE("bulk files: a recipient whose client does not take bulk gets RSA chunks",
          "[mesh][files][bulk]") {
  BulkMesh m;
  m.login("alice", "A");
  m.login("bob", "B", /*bulk=*/false);
  const std::string data = bytes_of(2000, 9);
  m.sim.tap_on = true;
  m.cm.command("alice", "/file bob " + m.put("notes.txt", data));
  auto rec = m.cm.named("bob", "file_received");
  REQUIRE(rec.size() == 1);
  CHECK(read_file(str(rec[0], "path")) == data);
  CHECK(m.counter("A", "file_bulk_chunks_relayed") == 0);
  CHECK(m.counter("A", "file_frames_remote") == 5 + 2);  // FILE_START, 5 chunks, FILE_END
}

TEST_CASE("bulk files: a recipient on a path without bulk support gets RSA chunks",
          "[mesh][files][bulk]") {
  // Bob's client claims the capability but is not a socp client, so his server will not hand
  // it FILE_BULK_* frames: B refuses the manifest, alice's client falls back to RSA chunks.
  BulkMesh m;
  m.login("alice", "A");
  m.sim.user("bob").claims_bulk = true;
  m.sim.login("bob", "B");
  m.cm.pump();
  const std::string data = bytes_of(1000, 10);
  m.cm.command("alice", "/file bob " + m.put("x.bin", data));
  std::size_t starts = 0, chunks = 0, bulk = 0;
  for (const auto& env : m.sim.user("bob").inbox) {
    if (env.type == socp::MessageType::FileStart) ++starts;
    if (env.type == socp::MessageType::FileChunk) ++chunks;
    if (env.type == socp::MessageType::FileBulkStart ||
        env.type == socp::MessageType::FileBulkChunk) {
      ++bulk;
    }
  }
  CHECK(bulk == 0);
  CHECK(starts == 1);
  CHECK(chunks == 3);
  CHECK(m.counter("B", "file_bulk_refused") >= 1);
  bool warned = false;
  for (const auto& w : m.cm.named("alice", "warning")) {
    if (str(w, "detail").find("RSA chunks") != std::string::npos) warned = true;
  }
  CHECK(warned);
  CHECK(m.cm.named("alice", "file_sent").size() == 1);
  CHECK(m.cm.named("alice", "file_failed").empty());
}

TEST_CASE("bulk files: an unsigned chunk from anything but a user or socp/1 link is refused",
          "[mesh][files][bulk]") {
  BulkMesh m;
  m.login("bob", "B");
  const std::string bob = m.sim.user("bob").user_id;
  // A stranger's connection (not logged in, not a server) tries to push a chunk to bob.
  m.sim.add_user("mallory", "carol", "B");
  m.sim.connect("mallory", "B");
  socp::msg::FileBulkChunk c;
  c.file_id = "f";
  c.index = 0;
  c.last = true;
  c.ciphertext = "QUJD";
  json::Value p = c.to_json();
  p.as_object()["sender"] = m.sim.user("alice").user_id;
  m.sim.send_raw("mallory",
                 socp::serialize(socp::make_envelope(socp::MessageType::FileBulkChunk,
                                                     m.sim.server_id("A"), bob, m.sim.now(), p)));
  m.sim.run();
  m.cm.pump();
  CHECK(m.counter("B", "file_bulk_chunks_relayed") == 0);
  CHECK_FALSE(m.sim.connected("mallory"));  // NOT_AUTHENTICATED, closed
  bool delivered = false;
  for (const auto& env : m.sim.user("bob").inbox) {
    if (env.type == socp::MessageType::FileBulkChunk) delivered = true;
  }
  CHECK_FALSE(delivered);

  // A logged-in user may send chunks only to someone who can take them: a raw client (no
  // socp/1) is never sent one, and a malformed chunk is a BAD_FRAME error, not a crash.
  m.sim.login("mallory", "B");
  c.ciphertext = std::string(900'000, 'A');  // over the largest chunk
  m.sim.send_raw("mallory", socp::serialize(socp::make_envelope(socp::MessageType::FileBulkChunk,
                                                                m.sim.user("mallory").user_id, bob,
                                                                m.sim.now(), c.to_json())));
  m.sim.run();
  REQUIRE_FALSE(m.sim.user("mallory").errors.empty());
  CHECK(*json::get_string(m.sim.user("mallory").errors.back().payload, "code") == "BAD_FRAME");
  CHECK(m.counter("B", "file_bulk_refused") >= 1);
}

TEST_CASE("bulk files: a server without socp/1 neither sends nor gets bulk frames",
          "[mesh][files][bulk]") {
  using socp::Counter;
  MeshSim sim;
  const std::string legacy_pub = socp::test::any_fixture_key("server5").public_key().b64url();
  sim.add_server("A", "server_a", {},
                 [&](socp::ServerConfig& c) { c.allowed_servers = {legacy_pub}; });
  sim.add_user("alice", "alice", "A");
  sim.user("alice").socp_client = true;
  sim.login("alice", "A");
  // A legacy server (no socp/1) links to A and advertises its user lucy.
  const std::string lid = socp::new_uuid_v4();
  sim.guest("legacy", "server5");
  sim.connect("legacy", "A");
  socp::msg::ServerHello h;
  h.host = "legacy.example";
  h.port = 7000;
  h.pubkey = legacy_pub;
  sim.send_raw("legacy", MeshSim::signed_frame(socp::MessageType::ServerHelloLink, lid, "*",
                                               sim.now(), h.to_json(), "server5", false));
  sim.guest("lucy", "erin");
  socp::msg::UserAdvertise ad;
  ad.user_id = sim.user("lucy").user_id;
  ad.server_id = lid;
  ad.pubkey = socp::test::any_fixture_key("erin").public_key().b64url();
  ad.meta = json::Object{{"caps", json::Array{"file-bulk/1"}}};  // a lying advert
  sim.send_raw("legacy", MeshSim::signed_frame(socp::MessageType::UserAdvertise, lid, "*",
                                               sim.now(), ad.to_json(), "server5", false));
  REQUIRE(sim.view("A")[ad.user_id] == std::make_pair(lid, true));
  const std::uint64_t refused = sim.node("A").core->counter(Counter::FileBulkRefused);

  // An unsigned chunk from that link, claiming to be lucy's, is refused: no signature, and
  // the link is not one that may carry unsigned chunks.
  socp::msg::FileBulkChunk c;
  c.file_id = "f";
  c.index = 0;
  c.last = true;
  c.ciphertext = "QUJD";
  json::Value p = c.to_json();
  p.as_object()["sender"] = ad.user_id;
  sim.send_raw("legacy",
               socp::serialize(socp::make_envelope(socp::MessageType::FileBulkChunk, lid,
                                                   sim.user("alice").user_id, sim.now(), p)));
  sim.run();
  CHECK(sim.node("A").core->counter(Counter::FileBulkRefused) == refused + 1);
  CHECK(sim.node("A").core->counter(Counter::FileBulkChunksRelayed) == 0);
  for (const auto& env : sim.user("alice").inbox)
    CHECK(env.type != socp::MessageType::FileBulkChunk);

  // A manifest for lucy is refused with an ERROR naming it, so alice's client falls back.
  socp::msg::FileBulkStart m;
  m.file_id = "f2";
  m.name = "x";
  m.size = 1;
  m.chunk_size = 262144;
  m.chunks = 1;
  m.chunk_sha256 = {std::string(64, 'a')};
  m.sha256 = std::string(64, 'b');
  m.wrapped_key = "d3Jh";
  m.sender_pub = socp::test::any_fixture_key("alice").public_key().b64url();
  m.content_sig = "c2ln";
  sim.send_raw("alice", socp::serialize(socp::make_envelope(socp::MessageType::FileBulkStart,
                                                            sim.user("alice").user_id, ad.user_id,
                                                            sim.now(), m.to_json())));
  sim.run();
  REQUIRE_FALSE(sim.user("alice").errors.empty());
  const json::Value& e = sim.user("alice").errors.back().payload;
  CHECK(*json::get_string(e, "msg_ref") == "FILE_BULK_START");
  CHECK(*json::get_string(e, "file_id") == "f2");
}

TEST_CASE("bulk files: a sender that ignores acknowledgements is stopped by its own server",
          "[mesh][files][bulk]") {
  BulkMesh m;
  m.login("alice", "A");
  m.login("bob", "B");
  // bob's acknowledgements never reach A (tampered on the way: A drops them as forged).
  m.sim.mutate = [](const std::string& from, const std::string& to, std::string& text) {
    if (from == "B" && to == "A" && text.find("FILE_BULK_ACK") != std::string::npos) {
      const auto at = text.find("\"received\":");
      if (at != std::string::npos) text.replace(at, 11, "\"receivedX\":");
    }
  };
  m.sim.tap_on = true;
  m.cm.command("alice", "/file bob " + m.put("big.bin", bytes_of(40 * 256 * 1024, 9)));
  m.sim.run();
  m.cm.pump();
  std::string file_id;
  for (const auto& t : m.sim.tapped) {
    if (t.from != "A" || t.to != "B" || t.text.find("FILE_BULK_START") == std::string::npos) {
      continue;
    }
    file_id = str(socp::parse_envelope(t.text)->payload, "file_id");
  }
  REQUIRE_FALSE(file_id.empty());
  CHECK(m.counter("A", "file_bulk_refused") == 0);  // the honest client stopped at its window
  // Now alice's connection pushes chunks regardless, as a hostile client would.
  const std::string alice = m.sim.user("alice").user_id;
  const std::string bob = m.sim.user("bob").user_id;
  auto chunk = [&](std::int64_t index) {
    socp::msg::FileBulkChunk c;
    c.file_id = file_id;
    c.index = index;
    c.ciphertext = "QUJD";
    return socp::serialize(socp::make_envelope(socp::MessageType::FileBulkChunk, alice, bob,
                                               m.sim.now(), c.to_json()));
  };
  const auto relayed = m.counter("A", "file_bulk_chunks_relayed");
  for (std::int64_t i = 16; i < 40; ++i) m.sim.send_raw("alice", chunk(i));
  m.sim.run();
  // 24 unacknowledged chunks at most: 8 more went, then the transfer was refused.
  CHECK(m.counter("A", "file_bulk_chunks_relayed") - relayed == 8);
  CHECK(m.counter("A", "file_bulk_refused") >= 1);
}
