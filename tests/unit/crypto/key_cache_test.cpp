// PublicKeyCache: same key back, bounded size, failures not cached.
#include "crypto_test_util.h"
#include "socp/crypto.h"

using namespace socp;
using namespace socp::test;

TEST_CASE("PublicKeyCache returns the parsed key and stays bounded", "[crypto]") {
  PublicKeyCache cache(2);
  const std::string a = fixture_key_field("alice", "public_der_b64url");
  const std::string a_pem = fixture_key_field("alice", "public_pem");
  const std::string b = fixture_key_field("bob", "public_der_b64url");
  const std::string c = fixture_key_field("server_a", "public_der_b64url");

  auto k1 = cache.get(a);
  REQUIRE(k1.ok());
  auto k2 = cache.get(a);
  REQUIRE(k2.ok());
  CHECK(k1.value() == k2.value());
  CHECK(k1->b64url() == a);
  CHECK(cache.size() == 1);

  // Keyed by exact text: the PEM of the same key is its own entry but the same key.
  auto k3 = cache.get(a_pem);
  REQUIRE(k3.ok());
  CHECK(k3.value() == k1.value());
  CHECK(cache.size() == 2);

  REQUIRE(cache.get(b).ok());
  REQUIRE(cache.get(c).ok());
  CHECK(cache.size() == 2);

  // Bad keys are reported and not cached.
  auto bad = cache.get("garbage");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.code() == Errc::BadKey);
  CHECK(cache.size() == 2);

  // Evicted entries are simply parsed again.
  auto again = cache.get(a);
  REQUIRE(again.ok());
  CHECK(again->b64url() == a);
  CHECK(cache.size() == 2);
}

TEST_CASE("PublicKeyCache with many distinct texts never exceeds capacity", "[crypto]") {
  PublicKeyCache cache(3);
  const std::string pem = fixture_key_field("bob", "public_pem");
  // Leading blank lines make distinct texts of one key (parse trims them).
  for (int i = 0; i < 10; ++i) {
    REQUIRE(cache.get(std::string(static_cast<std::size_t>(i), '\n') + pem).ok());
    CHECK(cache.size() == static_cast<std::size_t>(std::min(i + 1, 3)));
  }
}
