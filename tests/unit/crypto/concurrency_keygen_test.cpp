// Concurrent use of one key, and (hidden, slow) key generation.
#include <atomic>
#include <thread>
#include <vector>

#include "crypto_test_util.h"
#include "socp/crypto.h"

using namespace socp;
using namespace socp::test;

TEST_CASE("one key signs, verifies and decrypts from several threads", "[crypto]") {
  const PrivateKey& key = fixture_key("server_b");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 8; ++i) {
        const std::string msg = "thread " + std::to_string(t) + " msg " + std::to_string(i);
        auto sig = key.sign(msg, i % 2 ? PssSalt::Max : PssSalt::Digest32);
        if (!sig || !key.public_key().verify(msg, *sig)) ++failures;
        if (key.public_key().verify(msg + "!", sig.ok() ? *sig : Bytes{})) ++failures;
        auto ct = key.public_key().encrypt(msg);
        auto pt = ct ? key.decrypt(*ct) : Result<SecretBytes>(make_error(Errc::Crypto));
        if (!pt || pt->view() != msg) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures.load() == 0);
}

TEST_CASE("4-prime RSA-4096 key generation", "[.slow][keygen]") {
  auto key = PrivateKey::generate(4);
  REQUIRE(key.ok());
  const PublicKey& pub = key->public_key();
  // The public key is an ordinary RSA-4096 key any peer parses.
  auto parsed = PublicKey::parse(pub.b64url());
  REQUIRE(parsed.ok());
  CHECK(parsed.value() == pub);
  CHECK(pub.fingerprint_hex().size() == 64);

  auto sig = key->sign("hello", PssSalt::Max);
  REQUIRE(sig.ok());
  CHECK(parsed->verify("hello", *sig));
  auto ct = parsed->encrypt("secret");
  REQUIRE(ct.ok());
  auto pt = key->decrypt(*ct);
  REQUIRE(pt.ok());
  CHECK(pt->view() == "secret");

  // PKCS#8 round trip keeps all four primes working.
  auto again = PrivateKey::from_pem(key->to_pem().view());
  REQUIRE(again.ok());
  CHECK(again->public_key() == pub);
  auto sig2 = again->sign("hello", PssSalt::Digest32);
  REQUIRE(sig2.ok());
  CHECK(pub.verify("hello", *sig2));
}
