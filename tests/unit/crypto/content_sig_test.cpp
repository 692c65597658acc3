// End-to-end content signatures (vectors/content_sig.json).
#include "crypto_test_util.h"
#include "socp/crypto.h"

using namespace socp;
using namespace socp::test;

namespace {

struct Case {
  std::string kind, variant, from, to, ciphertext, signer, sig, why;
  std::int64_t ts = 0;
  bool valid = false;
  Bytes signed_message;  // empty when the vector has none
};

std::vector<Case> load_cases() {
  const json::Value v = load_vector_json("content_sig.json");
  std::vector<Case> out;
  for (const json::Value& c : v.find("cases")->as_array()) {
    Case k;
    k.kind = str_field(c, "kind");
    k.variant = str_field(c, "variant");
    k.from = str_field(c, "from");
    if (const std::string* to = json::get_string(c, "to")) k.to = *to;
    k.ciphertext = str_field(c, "ciphertext");
    k.signer = str_field(c, "signer");
    k.sig = str_field(c, "content_sig");
    if (const std::string* why = json::get_string(c, "why")) k.why = *why;
    k.ts = *json::get_int(c, "ts");
    k.valid = c.find("valid")->as_bool();
    if (const std::string* hex = json::get_string(c, "signed_message_hex")) {
      k.signed_message = unhex(*hex);
    }
    out.push_back(std::move(k));
  }
  return out;
}

Bytes text_concat(const Case& c) {
  const std::string s = c.ciphertext + c.from + c.to + std::to_string(c.ts);
  return Bytes(s.begin(), s.end());
}

}  // namespace

TEST_CASE("content signature vectors verify exactly when valid", "[crypto][vectors]") {
  const auto cases = load_cases();
  REQUIRE(cases.size() >= 13);
  int invalid = 0;
  for (const Case& c : cases) {
    INFO(c.kind << " " << c.variant << " salt-case signer=" << c.signer << " why=" << c.why);
    if (c.kind == "public") REQUIRE(c.to.empty());
    CHECK(verify_content(fixture_pub(c.signer), c.ciphertext, c.from, c.to, c.ts, c.sig) ==
          c.valid);
    if (!c.valid) ++invalid;
  }
  CHECK(invalid == 2);
}

TEST_CASE("our variant constructions equal the vectors' signed messages", "[crypto][vectors]") {
  for (const Case& c : load_cases()) {
    if (c.signed_message.empty()) continue;
    INFO(c.kind << " " << c.variant);
    const Bytes raw = content_message(b64(c.ciphertext), c.from, c.to, c.ts);
    const Bytes text = text_concat(c);
    Bytes expected;
    if (c.variant == "B_raw") {
      expected = raw;
    } else if (c.variant == "A_b64text") {
      expected = text;
    } else if (c.variant == "C_sha256_raw") {
      expected = sha256(raw.data(), raw.size());
    } else if (c.variant == "D_sha256_b64text") {
      expected = sha256(text.data(), text.size());
    } else if (c.variant == "E_json") {
      json::Object o{{"ciphertext", c.ciphertext}, {"from", c.from}, {"ts", c.ts}};
      if (!c.to.empty()) o.emplace("to", c.to);
      const std::string s = json::canonical(json::Value(o));
      expected.assign(s.begin(), s.end());
    } else {
      FAIL("unknown variant " << c.variant);
    }
    CHECK(hex_encode(expected) == hex_encode(c.signed_message));
    // And the vector's signature is over exactly those bytes.
    CHECK(
        fixture_pub(c.signer).verify(c.signed_message.data(), c.signed_message.size(), b64(c.sig)));
  }
}

TEST_CASE("sign_content emits B_raw that verifies", "[crypto]") {
  for (const Case& c : load_cases()) {
    if (!c.valid || c.variant != "B_raw") continue;
    INFO(c.kind);
    const Bytes ct = b64(c.ciphertext);
    const PrivateKey& key = fixture_key(c.signer);
    auto sig = sign_content(key, ct, c.from, c.to, c.ts);
    REQUIRE(sig.ok());
    const Bytes msg = content_message(ct, c.from, c.to, c.ts);
    CHECK(hex_encode(msg) == hex_encode(c.signed_message));
    CHECK(key.public_key().verify(msg.data(), msg.size(), b64(*sig)));
    CHECK(verify_content(key.public_key(), c.ciphertext, c.from, c.to, c.ts, *sig));
    // Any field changed, or another key: rejected.
    CHECK_FALSE(verify_content(key.public_key(), c.ciphertext, c.from, c.to, c.ts + 1, *sig));
    CHECK_FALSE(verify_content(key.public_key(), c.ciphertext, c.from + "x", c.to, c.ts, *sig));
    CHECK_FALSE(verify_content(fixture_pub("server_b"), c.ciphertext, c.from, c.to, c.ts, *sig));
    // The DM and public-channel messages differ, so one cannot be replayed as the other.
    const std::string other_to = c.to.empty() ? std::string("someone") : std::string();
    CHECK_FALSE(verify_content(key.public_key(), c.ciphertext, c.from, other_to, c.ts, *sig));
  }
}

TEST_CASE("verify_content rejects empty and malformed signatures", "[crypto]") {
  const auto cases = load_cases();
  const Case& c = cases.front();
  const PublicKey& pub = fixture_pub(c.signer);
  REQUIRE(verify_content(pub, c.ciphertext, c.from, c.to, c.ts, c.sig));
  CHECK_FALSE(verify_content(pub, c.ciphertext, c.from, c.to, c.ts, ""));
  CHECK_FALSE(verify_content(pub, c.ciphertext, c.from, c.to, c.ts, "%%%"));
  CHECK_FALSE(verify_content(pub, c.ciphertext, c.from, c.to, c.ts, "AAAA"));
  Bytes sig = b64(c.sig);
  sig[7] ^= 0x80;
  CHECK_FALSE(verify_content(pub, c.ciphertext, c.from, c.to, c.ts, b64url_encode(sig)));
  // A ciphertext that is not base64 cannot match the raw variants, and does not crash.
  CHECK_FALSE(verify_content(pub, "***", c.from, c.to, c.ts, c.sig));
}
