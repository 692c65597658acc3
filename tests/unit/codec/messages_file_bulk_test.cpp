// FILE_BULK_START / FILE_BULK_CHUNK / FILE_BULK_ACK codec: round trips, and every malformed or
// oversized field is an error value (BadFrame), never a throw.
#include <catch2/catch.hpp>

#include <string>

#include "socp/json.h"
#include "socp/messages.h"
#include "socp/protocol.h"

using namespace socp;

namespace {

const std::string kHash(64, 'a');

msg::FileBulkStart sample_start(std::int64_t size = 600'000) {
  msg::FileBulkStart m;
  m.file_id = "f-1";
  m.name = "a.bin";
  m.size = size;
  m.chunk_size = 256 * 1024;
  m.chunks = size == 0 ? 1 : (size + m.chunk_size - 1) / m.chunk_size;
  m.chunk_sha256.assign(static_cast<std::size_t>(m.chunks), kHash);
  m.sha256 = std::string(64, 'B');
  m.wrapped_key = "d3JhcHBlZA";
  m.sender_pub = "cHVi";
  m.content_sig = "c2ln";
  return m;
}

json::Value with(json::Value v, const std::string& key, json::Value field) {
  v.as_object()[key] = std::move(field);
  return v;
}

json::Value without(json::Value v, const std::string& key) {
  v.as_object().erase(key);
  return v;
}

}  // namespace

TEST_CASE("bulk codec: FILE_BULK_START round-trips and lowercases digests", "[codec][bulk]") {
  const msg::FileBulkStart m = sample_start();
  auto back = msg::FileBulkStart::from_json(m.to_json());
  REQUIRE(back.ok());
  CHECK(back->file_id == "f-1");
  CHECK(back->chunks == 3);
  CHECK(back->chunk_sha256.size() == 3);
  CHECK(back->sha256 == std::string(64, 'b'));
  CHECK(back->wrapped_key == m.wrapped_key);
  // An empty file is one (empty) chunk.
  auto empty = msg::FileBulkStart::from_json(sample_start(0).to_json());
  REQUIRE(empty.ok());
  CHECK(empty->chunks == 1);
}

TEST_CASE("bulk codec: malformed or inconsistent manifests are errors", "[codec][bulk]") {
  const json::Value good = sample_start().to_json();
  auto refused = [](const json::Value& v) {
    auto r = msg::FileBulkStart::from_json(v);
    return !r.ok() && r.code() == Errc::BadFrame;
  };
  CHECK(refused(json::Value(json::Array{})));
  CHECK(refused(without(good, "chunk_sha256")));
  CHECK(refused(without(good, "wrapped_key")));
  CHECK(refused(with(good, "file_id", "")));
  CHECK(refused(with(good, "file_id", std::string(129, 'x'))));
  CHECK(refused(with(good, "size", -1)));
  CHECK(refused(with(good, "size", "600000")));
  CHECK(refused(with(good, "chunk_size", 100)));                     // under the minimum
  CHECK(refused(with(good, "chunk_size", std::int64_t{64} << 20)));  // over the maximum
  CHECK(refused(with(good, "chunks", 4)));                           // does not match size
  CHECK(refused(with(good, "chunks", 0)));
  CHECK(refused(with(good, "size", INT64_MAX)));  // overflow-safe
  CHECK(refused(with(good, "sha256", std::string(63, 'a'))));
  CHECK(refused(with(good, "sha256", std::string(64, 'g'))));
  CHECK(refused(with(good, "chunk_sha256", json::Array{kHash, kHash})));  // one missing
  CHECK(refused(with(good, "chunk_sha256", json::Array{kHash, kHash, 7})));
  CHECK(refused(with(good, "chunk_sha256", json::Array{kHash, kHash, "zz"})));
  CHECK(refused(with(good, "chunk_sha256", "not an array")));
  CHECK(refused(with(good, "name", std::string(2000, 'n'))));
  CHECK(refused(with(good, "wrapped_key", std::string(5000, 'k'))));
}

TEST_CASE("bulk codec: FILE_BULK_CHUNK and FILE_BULK_ACK", "[codec][bulk]") {
  msg::FileBulkChunk c;
  c.file_id = "f-1";
  c.index = 2;
  c.last = true;
  c.ciphertext = "QUJD";
  auto back = msg::FileBulkChunk::from_json(c.to_json());
  REQUIRE(back.ok());
  CHECK(back->index == 2);
  CHECK(back->last);
  CHECK(back->ciphertext == "QUJD");
  const json::Value good = c.to_json();
  auto chunk_refused = [](const json::Value& v) { return !msg::FileBulkChunk::from_json(v).ok(); };
  CHECK(chunk_refused(without(good, "last")));
  CHECK(chunk_refused(with(good, "last", "yes")));
  CHECK(chunk_refused(with(good, "index", -1)));
  CHECK(chunk_refused(with(good, "index", msg::kBulkMaxChunks)));
  CHECK(chunk_refused(with(good, "ciphertext", 5)));
  CHECK(chunk_refused(with(good, "ciphertext", std::string(800'000, 'A'))));  // > one chunk
  CHECK(chunk_refused(with(good, "file_id", "")));

  msg::FileBulkAck a;
  a.file_id = "f-1";
  a.received = 4;
  a.status = "ok";
  auto ab = msg::FileBulkAck::from_json(a.to_json());
  REQUIRE(ab.ok());
  CHECK(ab->received == 4);
  CHECK(ab->status == "ok");
  const json::Value ag = a.to_json();
  CHECK_FALSE(msg::FileBulkAck::from_json(with(ag, "status", "maybe")).ok());
  CHECK_FALSE(msg::FileBulkAck::from_json(with(ag, "received", -3)).ok());
  CHECK_FALSE(msg::FileBulkAck::from_json(with(ag, "reason", std::string(201, 'r'))).ok());
  CHECK_FALSE(msg::FileBulkAck::from_json(without(ag, "file_id")).ok());
}

TEST_CASE("bulk codec: the new types have names, list entries carry caps leniently",
          "[codec][bulk]") {
  CHECK(to_string(MessageType::FileBulkStart) == "FILE_BULK_START");
  CHECK(message_type_from_string("FILE_BULK_CHUNK") == MessageType::FileBulkChunk);
  CHECK(message_type_from_string("FILE_BULK_ACK") == MessageType::FileBulkAck);
  msg::ListEntry e;
  e.user_id = "u";
  e.caps = {"file-bulk/1"};
  auto back = msg::ListEntry::from_json(e.to_json());
  REQUIRE(back.ok());
  CHECK(back->caps == std::vector<std::string>{"file-bulk/1"});
  // Another implementation's `caps` of another shape does not cost the entry.
  auto odd = msg::ListEntry::from_json(with(e.to_json(), "caps", "file-bulk/1"));
  REQUIRE(odd.ok());
  CHECK(odd->caps.empty());
  auto mixed = msg::ListEntry::from_json(with(e.to_json(), "caps", json::Array{1, "x"}));
  REQUIRE(mixed.ok());
  CHECK(mixed->caps == std::vector<std::string>{"x"});
}
