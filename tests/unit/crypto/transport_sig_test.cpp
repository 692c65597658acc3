// Transport signatures over canonical payload bytes (vectors/transport_sig.json).
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "crypto_test_util.h"
#include "socp/crypto.h"

using namespace socp;
using namespace socp::test;

namespace {

// Verifies like a strict peer: PSS-SHA256 with one fixed salt length (no auto-detection).
bool openssl_verify_fixed_salt(const PublicKey& key, std::string_view msg, const Bytes& sig,
                               int saltlen) {
  const Bytes der = b64(key.b64url());
  const unsigned char* p = der.data();
  EVP_PKEY* pk = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  REQUIRE(pk != nullptr);
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  const bool ok =
      EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), nullptr, pk) == 1 &&
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, saltlen) == 1 &&
      EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1 &&
      EVP_DigestVerify(md, sig.data(), sig.size(),
                       reinterpret_cast<const unsigned char*>(msg.data()), msg.size()) == 1;
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(pk);
  ERR_clear_error();
  return ok;
}

}  // namespace

TEST_CASE("transport signature vectors verify exactly when valid", "[crypto][vectors]") {
  const json::Value v = load_vector_json("transport_sig.json");
  const json::Array& cases = v.find("cases")->as_array();
  REQUIRE(cases.size() >= 13);
  int spaced_cases = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const json::Value& c = cases[i];
    INFO("case " << i);
    const json::Value* payload = c.find("payload");
    REQUIRE(payload != nullptr);
    const bool valid = c.find("valid")->as_bool();
    const std::string* why = json::get_string(c, "why");
    INFO("why " << (why ? *why : std::string("-")));
    if (const std::string* canon = json::get_string(c, "canonical")) {
      CHECK(json::canonical(*payload) == *canon);
    }
    const SigForm form =
        verify_payload(fixture_pub(str_field(c, "signer")), *payload, str_field(c, "sig"));
    CHECK((form != SigForm::None) == valid);
    if (valid && why != nullptr && why->find("separators") != std::string::npos) {
      CHECK(form == SigForm::Spaced);
      ++spaced_cases;
    } else if (valid) {
      CHECK(form == SigForm::Canonical);
    }
  }
  CHECK(spaced_cases == 1);
}

TEST_CASE("sign_payload output verifies for both salt lengths", "[crypto]") {
  const PrivateKey& key = fixture_key("server_a");
  json::Object o;
  o.emplace("user_id", "6f1c0e1a-3a0e-4c1b-9d0a-2b1b7a1f2c3d");
  o.emplace("display_name", "Zo\xc3\xab \xe2\x98\x95");
  o.emplace("n", json::Array{1, 2, 3});
  const json::Value payload(o);

  for (PssSalt salt : {PssSalt::Max, PssSalt::Digest32}) {
    auto sig = sign_payload(key, payload, salt);
    REQUIRE(sig.ok());
    CHECK(b64(*sig).size() == 512);
    CHECK(verify_payload(key.public_key(), payload, *sig) == SigForm::Canonical);
    CHECK(verify_payload(fixture_pub("server_b"), payload, *sig) == SigForm::None);
    // sign_canonical over the same bytes is interchangeable.
    auto sig2 = sign_canonical(key, json::canonical(payload), salt);
    REQUIRE(sig2.ok());
    CHECK(verify_payload(key.public_key(), payload, *sig2) == SigForm::Canonical);
    // Changing the payload breaks it.
    json::Object changed = o;
    changed["n"] = json::Array{1, 2, 4};
    CHECK(verify_payload(key.public_key(), json::Value(changed), *sig) == SigForm::None);
  }
}

TEST_CASE("salt Max signatures carry the 478-byte salt strict peers require", "[crypto]") {
  const PrivateKey& key = fixture_key("server_a");
  const std::string msg = "{\"a\":1}";
  auto max_sig = key.sign(msg, PssSalt::Max);
  REQUIRE(max_sig.ok());
  CHECK(openssl_verify_fixed_salt(key.public_key(), msg, *max_sig, 478));
  CHECK_FALSE(openssl_verify_fixed_salt(key.public_key(), msg, *max_sig, 32));

  auto short_sig = key.sign(msg, PssSalt::Digest32);
  REQUIRE(short_sig.ok());
  CHECK(openssl_verify_fixed_salt(key.public_key(), msg, *short_sig, 32));
  CHECK_FALSE(openssl_verify_fixed_salt(key.public_key(), msg, *short_sig, 478));

  // Our verifier auto-detects both.
  CHECK(key.public_key().verify(msg, *max_sig));
  CHECK(key.public_key().verify(msg, *short_sig));
}

TEST_CASE("verify_payload rejects empty, non-base64 and wrong-length signatures", "[crypto]") {
  const PrivateKey& key = fixture_key("server_a");
  const json::Value payload(json::Object{});
  auto sig = sign_payload(key, payload);
  REQUIRE(sig.ok());
  CHECK(verify_payload(key.public_key(), payload, *sig) == SigForm::Canonical);
  CHECK(verify_payload(key.public_key(), payload, "") == SigForm::None);
  CHECK(verify_payload(key.public_key(), payload, "not base64!") == SigForm::None);
  CHECK(verify_payload(key.public_key(), payload, "AAAA") == SigForm::None);
  CHECK(verify_payload(key.public_key(), payload, sig->substr(0, sig->size() - 4)) ==
        SigForm::None);
  // A failed verify leaves nothing on the OpenSSL error queue.
  CHECK(ERR_peek_error() == 0);
}

TEST_CASE("PSS verify of raw messages", "[crypto]") {
  const PrivateKey& key = fixture_key("alice");
  auto sig = key.sign("");
  REQUIRE(sig.ok());
  CHECK(key.public_key().verify("", *sig));
  CHECK_FALSE(key.public_key().verify("x", *sig));
  CHECK_FALSE(fixture_pub("bob").verify("", *sig));
  Bytes flipped = *sig;
  flipped[100] ^= 0x01;
  CHECK_FALSE(key.public_key().verify("", flipped));
  CHECK_FALSE(key.public_key().verify("", Bytes{}));
  CHECK(ERR_peek_error() == 0);
}
