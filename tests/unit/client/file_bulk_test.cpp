// Bulk file crypto (core/client/file_bulk.h): the chunk cipher and the manifest verifier
// refuse a tampered, reordered, replayed, cross-file or missing chunk, a wrong last flag and a
// manifest whose signature does not cover what it says.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "core/client/file_bulk.h"
#include "fixtures.h"
#include "socp/bytes.h"
#include "socp/crypto.h"
#include "temp_files.h"

using namespace socp;
namespace bulk = socp::client::bulk;
using socp::test::bytes_of;

namespace {

constexpr std::size_t kChunk = 4096;  // small chunks keep the test fast; the code is the same

// A sender's view: the manifest and the chunk frames of `data`, sealed under `key`.
struct Sent {
  msg::FileBulkStart m;
  std::vector<msg::FileBulkChunk> chunks;
};

Sent seal_file(const std::string& file_id, const std::string& data, const SecretBytes& key) {
  Sent s;
  s.m.file_id = file_id;
  s.m.name = "x.bin";
  s.m.size = static_cast<std::int64_t>(data.size());
  s.m.chunk_size = kChunk;
  s.m.chunks = bulk::chunk_count(data.size(), kChunk);
  s.m.sha256 = hex_encode(sha256(data));
  for (std::int64_t i = 0; i < s.m.chunks; ++i) {
    const bool last = i == s.m.chunks - 1;
    auto sealed = bulk::seal_chunk(
        key, file_id, i, last,
        std::string_view(data).substr(static_cast<std::size_t>(i) * kChunk, kChunk));
    REQUIRE(sealed.ok());
    s.m.chunk_sha256.push_back(hex_encode(sha256(sealed->data(), sealed->size())));
    msg::FileBulkChunk c;
    c.file_id = file_id;
    c.index = i;
    c.last = last;
    c.ciphertext = b64url_encode(sealed.value());
    s.chunks.push_back(c);
  }
  return s;
}

SecretBytes copy_key(const SecretBytes& k) {
  return SecretBytes(k.data(), k.size());
}

}  // namespace

TEST_CASE("bulk cipher: a chunk opens only at its file, index and last flag", "[bulk]") {
  const SecretBytes key = bulk::new_key();
  auto sealed = bulk::seal_chunk(key, "f1", 3, false, "hello");
  REQUIRE(sealed.ok());
  CHECK(sealed->size() == 5 + bulk::kTagBytes);
  // Deterministic: the sender's second pass reproduces the hashed bytes.
  CHECK(bulk::seal_chunk(key, "f1", 3, false, "hello").value() == sealed.value());
  CHECK(bulk::open_chunk(key, "f1", 3, false, sealed.value()).value() == "hello");
  CHECK(bulk::open_chunk(key, "f1", 4, false, sealed.value()).code() == Errc::Crypto);
  CHECK(bulk::open_chunk(key, "f1", 3, true, sealed.value()).code() == Errc::Crypto);
  CHECK(bulk::open_chunk(key, "f2", 3, false, sealed.value()).code() == Errc::Crypto);
  CHECK(bulk::open_chunk(bulk::new_key(), "f1", 3, false, sealed.value()).code() == Errc::Crypto);
  Bytes bad = sealed.value();
  bad[0] ^= 1;
  CHECK(bulk::open_chunk(key, "f1", 3, false, bad).code() == Errc::Crypto);
  CHECK(bulk::open_chunk(key, "f1", 3, false, Bytes(4)).code() == Errc::BadFrame);
  CHECK(bulk::seal_chunk(SecretBytes(16), "f1", 0, true, "x").code() == Errc::InvalidArgument);
  CHECK(bulk::chunk_count(0) == 1);
  CHECK(bulk::chunk_count(bulk::kChunkBytes) == 1);
  CHECK(bulk::chunk_count(bulk::kChunkBytes + 1) == 2);
}

TEST_CASE("bulk receiver: an intact transfer verifies chunk by chunk and whole", "[bulk]") {
  const SecretBytes key = bulk::new_key();
  const std::string data = bytes_of(3 * kChunk + 100, 1);
  Sent s = seal_file("f1", data, key);
  bulk::Receiver rx(s.m, copy_key(key));
  std::string got;
  for (const auto& c : s.chunks) {
    auto plain = rx.accept(c);
    REQUIRE(plain.ok());
    got += plain.value();
  }
  CHECK(rx.complete());
  CHECK(rx.finish().ok());
  CHECK(got == data);
}

TEST_CASE("bulk receiver: tampering, reordering, truncation and splicing fail", "[bulk]") {
  const SecretBytes key = bulk::new_key();
  const std::string data = bytes_of(3 * kChunk + 100, 2);
  Sent s = seal_file("f1", data, key);

  SECTION("a ciphertext altered on the way does not match the signed digest") {
    bulk::Receiver rx(s.m, copy_key(key));
    msg::FileBulkChunk c = s.chunks[0];
    auto raw = b64_decode(c.ciphertext).value();
    raw[10] ^= 0x40;
    c.ciphertext = b64url_encode(raw);
    auto r = rx.accept(c);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().detail.find("manifest") != std::string::npos);
    // The transfer is over: even the genuine chunk is refused now.
    CHECK_FALSE(rx.accept(s.chunks[0]).ok());
  }
  SECTION("chunks out of order are refused") {
    bulk::Receiver rx(s.m, copy_key(key));
    CHECK_FALSE(rx.accept(s.chunks[1]).ok());
  }
  SECTION("a replayed chunk is refused") {
    bulk::Receiver rx(s.m, copy_key(key));
    REQUIRE(rx.accept(s.chunks[0]).ok());
    CHECK_FALSE(rx.accept(s.chunks[0]).ok());
  }
  SECTION("a chunk relabelled to another index fails (digest and AEAD)") {
    bulk::Receiver rx(s.m, copy_key(key));
    msg::FileBulkChunk c = s.chunks[1];
    c.index = 0;
    CHECK_FALSE(rx.accept(c).ok());
  }
  SECTION("a wrong last flag fails: a transfer cannot be cut short") {
    bulk::Receiver rx(s.m, copy_key(key));
    msg::FileBulkChunk c = s.chunks[0];
    c.last = true;
    CHECK_FALSE(rx.accept(c).ok());
  }
  SECTION("a truncated transfer does not finish") {
    bulk::Receiver rx(s.m, copy_key(key));
    REQUIRE(rx.accept(s.chunks[0]).ok());
    REQUIRE(rx.accept(s.chunks[1]).ok());
    CHECK_FALSE(rx.complete());
    auto st = rx.finish();
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().detail.find("incomplete") != std::string::npos);
  }
  SECTION("a chunk from another file (same key, same index) does not fit") {
    Sent other = seal_file("f2", bytes_of(3 * kChunk + 100, 3), key);
    bulk::Receiver rx(s.m, copy_key(key));
    msg::FileBulkChunk c = other.chunks[0];
    CHECK_FALSE(rx.accept(c).ok());  // file id differs
    c.file_id = "f1";                // relabelled: digest differs
    bulk::Receiver rx2(s.m, copy_key(key));
    CHECK_FALSE(rx2.accept(c).ok());
  }
  SECTION("a manifest whose whole-file digest lies fails at the end") {
    msg::FileBulkStart m = s.m;
    m.sha256 = std::string(64, '0');
    bulk::Receiver rx(m, copy_key(key));
    for (const auto& c : s.chunks) REQUIRE(rx.accept(c).ok());
    CHECK(rx.finish().code() == Errc::Crypto);
  }
}

TEST_CASE("bulk manifest: the signature covers every field the receiver relies on", "[bulk]") {
  const PrivateKey& alice = test::fixture_key("alice");
  const SecretBytes key = bulk::new_key();
  Sent s = seal_file("f1", bytes_of(2 * kChunk, 4), key);
  s.m.wrapped_key = "wrapped";
  const std::string from = "alice-id", to = "bob-id";
  auto sig = alice.sign(bulk::manifest_bytes(s.m, from, to));
  REQUIRE(sig.ok());
  const PublicKey pub = alice.public_key();
  CHECK(pub.verify(bulk::manifest_bytes(s.m, from, to), sig.value()));
  auto still_valid = [&](msg::FileBulkStart m, const std::string& f, const std::string& t) {
    return pub.verify(bulk::manifest_bytes(m, f, t), sig.value());
  };
  msg::FileBulkStart m = s.m;
  m.chunk_sha256[1][0] = m.chunk_sha256[1][0] == 'a' ? 'b' : 'a';
  CHECK_FALSE(still_valid(m, from, to));
  m = s.m;
  m.size -= 1;
  CHECK_FALSE(still_valid(m, from, to));
  m = s.m;
  m.wrapped_key = "other";
  CHECK_FALSE(still_valid(m, from, to));
  m = s.m;
  m.file_id = "f2";
  CHECK_FALSE(still_valid(m, from, to));
  CHECK_FALSE(still_valid(s.m, from, "mallory-id"));  // not for another recipient
  CHECK_FALSE(still_valid(s.m, "mallory-id", to));
  CHECK_FALSE(test::fixture_key("bob").public_key().verify(bulk::manifest_bytes(s.m, from, to),
                                                           sig.value()));
}
