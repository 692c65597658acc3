// Password verifiers (derive on the client, hash/check on the server).
#include <sodium.h>

#include "crypto_test_util.h"
#include "socp/crypto.h"

using namespace socp;
using namespace socp::test;

TEST_CASE("derive_password_verifier is deterministic per (password, user_id)", "[crypto]") {
  auto a1 = derive_password_verifier("hunter2", "alice");
  auto a2 = derive_password_verifier("hunter2", "alice");
  auto b = derive_password_verifier("hunter2", "bob");
  auto a_other = derive_password_verifier("hunter3", "alice");
  REQUIRE(a1.ok());
  REQUIRE(a2.ok());
  REQUIRE(b.ok());
  REQUIRE(a_other.ok());
  CHECK(*a1 == *a2);
  CHECK(*a1 != *b);
  CHECK(*a1 != *a_other);
  CHECK(b64(*a1).size() == 32);
  CHECK(a1->find_first_of("+/=") == std::string::npos);  // base64url, unpadded
  CHECK(a1->find("hunter2") == std::string::npos);
}

TEST_CASE("derive_password_verifier follows the documented construction", "[crypto]") {
  // Argon2id13(password, salt = SHA-256("socp-pake-v1" || user_id)[0..16]), INTERACTIVE.
  REQUIRE(sodium_init() >= 0);
  const std::string password = "p\xc3\xa4ssword";
  const std::string user = "6f1c0e1a-3a0e-4c1b-9d0a-2b1b7a1f2c3d";
  const Bytes digest = sha256("socp-pake-v1" + user);
  unsigned char out[32];
  REQUIRE(crypto_pwhash(out, sizeof out, password.data(), password.size(), digest.data(),
                        crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                        crypto_pwhash_ALG_ARGON2ID13) == 0);
  auto v = derive_password_verifier(password, user);
  REQUIRE(v.ok());
  CHECK(*v == b64url_encode(out, sizeof out));
}

TEST_CASE("hash_verifier / check_verifier", "[crypto]") {
  auto v = derive_password_verifier("hunter2", "alice");
  REQUIRE(v.ok());
  auto h = hash_verifier(*v);
  REQUIRE(h.ok());
  CHECK(h->rfind("$argon2id$", 0) == 0);
  CHECK(h->find(*v) == std::string::npos);
  CHECK(check_verifier(*h, *v));
  CHECK_FALSE(check_verifier(*h, *v + "x"));
  CHECK_FALSE(check_verifier(*h, ""));
  CHECK_FALSE(check_verifier("", *v));
  CHECK_FALSE(check_verifier("garbage", *v));
  CHECK_FALSE(check_verifier(std::string(1000, '$'), *v));
  CHECK_FALSE(check_verifier(std::string("$argon2id\0", 10), *v));
  // Salted: hashing the same verifier twice gives different strings, both valid.
  auto h2 = hash_verifier(*v);
  REQUIRE(h2.ok());
  CHECK(*h2 != *h);
  CHECK(check_verifier(*h2, *v));
}
