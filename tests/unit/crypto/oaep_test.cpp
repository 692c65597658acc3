// RSA-OAEP-SHA256 (vectors/oaep.json).
#include "crypto_test_util.h"
#include "socp/crypto.h"

using namespace socp;
using namespace socp::test;

TEST_CASE("OAEP vectors decrypt with bob's key", "[crypto][vectors]") {
  const json::Value v = load_vector_json("oaep.json");
  CHECK(*json::get_int(v, "max_plaintext_bytes") == 446);
  const json::Array& cases = v.find("cases")->as_array();
  REQUIRE(cases.size() >= 4);
  for (const json::Value& c : cases) {
    INFO("plaintext " << str_field(c, "plaintext_hex"));
    const PrivateKey& key = fixture_key(str_field(c, "recipient"));
    const Bytes ct = b64(str_field(c, "ciphertext"));
    auto pt = key.decrypt(ct);
    REQUIRE(pt.ok());
    CHECK(hex_encode(pt->data(), pt->size()) == str_field(c, "plaintext_hex"));

    // Wrong key and tampering fail cleanly.
    auto wrong = fixture_key("alice").decrypt(ct);
    REQUIRE_FALSE(wrong.ok());
    CHECK(wrong.code() == Errc::Crypto);
    for (std::size_t pos : {std::size_t{0}, std::size_t{255}, ct.size() - 1}) {
      Bytes flipped = ct;
      flipped[pos] ^= 0x01;
      auto r = key.decrypt(flipped);
      REQUIRE_FALSE(r.ok());
      CHECK(r.code() == Errc::Crypto);
    }
  }
}

TEST_CASE("OAEP encrypt limits and round trip", "[crypto]") {
  const PrivateKey& bob = fixture_key("bob");
  const PublicKey& pub = bob.public_key();

  std::string max(446, '\0');
  for (std::size_t i = 0; i < max.size(); ++i) max[i] = static_cast<char>(i * 7);
  auto ct = pub.encrypt(max);
  REQUIRE(ct.ok());
  CHECK(ct->size() == 512);
  auto pt = bob.decrypt(*ct);
  REQUIRE(pt.ok());
  CHECK(pt->view() == max);

  // Randomised: encrypting twice gives different ciphertexts.
  auto ct2 = pub.encrypt(max);
  REQUIRE(ct2.ok());
  CHECK(*ct2 != *ct);

  auto too_big = pub.encrypt(std::string(447, 'x'));
  REQUIRE_FALSE(too_big.ok());
  CHECK(too_big.code() == Errc::TooLarge);

  auto empty = pub.encrypt("");
  REQUIRE(empty.ok());
  auto empty_pt = bob.decrypt(*empty);
  REQUIRE(empty_pt.ok());
  CHECK(empty_pt->empty());
}

TEST_CASE("OAEP decrypt of truncated, empty or oversized ciphertext fails", "[crypto]") {
  const PrivateKey& bob = fixture_key("bob");
  auto ct = bob.public_key().encrypt("hello bob");
  REQUIRE(ct.ok());
  Bytes truncated(ct->begin(), ct->end() - 1);
  CHECK(bob.decrypt(truncated).code() == Errc::Crypto);
  CHECK(bob.decrypt(Bytes{}).code() == Errc::Crypto);
  Bytes longer = *ct;
  longer.push_back(0);
  CHECK(bob.decrypt(longer).code() == Errc::Crypto);
  CHECK(bob.decrypt(Bytes(512, 0xff)).code() == Errc::Crypto);
  // The failures did not poison the key: a good ciphertext still decrypts.
  auto pt = bob.decrypt(*ct);
  REQUIRE(pt.ok());
  CHECK(pt->view() == "hello bob");
}
