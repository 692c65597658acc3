// base64url, hex, constant-time equality, randomness, UUIDs and SecretBytes.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "codec_test_util.h"
#include "socp/bytes.h"

using namespace socp;

TEST_CASE("base64url vectors: encode gives b64url_nopad, decode accepts all three forms",
          "[codec][vectors]") {
  const json::Value v = test::codec::read_vector("base64url.json");
  const json::Value* cases = v.find("cases");
  REQUIRE(cases);
  REQUIRE(cases->as_array().size() >= 9);
  for (const json::Value& c : cases->as_array()) {
    const std::string hex = *json::get_string(c, "hex");
    CAPTURE(hex);
    auto bytes = hex_decode(hex);
    REQUIRE(bytes.ok());
    CHECK(b64url_encode(*bytes) == *json::get_string(c, "b64url_nopad"));
    for (const char* column : {"b64url_nopad", "b64url_padded", "b64_std"}) {
      CAPTURE(column);
      auto decoded = b64_decode(*json::get_string(c, column));
      REQUIRE(decoded.ok());
      CHECK(*decoded == *bytes);
    }
  }
}

TEST_CASE("base64url vectors: every reject case is BadFrame", "[codec][vectors]") {
  const json::Value v = test::codec::read_vector("base64url.json");
  const json::Value* rejects = v.find("reject");
  REQUIRE(rejects);
  REQUIRE(rejects->as_array().size() == 6);
  for (const json::Value& r : rejects->as_array()) {
    CAPTURE(r.as_string());
    auto decoded = b64_decode(r.as_string());
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.code() == Errc::BadFrame);
  }
}

TEST_CASE("base64 decoder edge cases", "[codec]") {
  CHECK(b64_decode("").ok());
  CHECK(b64_decode("Zm9v").value() == Bytes{'f', 'o', 'o'});
  CHECK(b64_decode("Zm8").value() == Bytes{'f', 'o'});
  CHECK(b64_decode("Zm8=").value() == Bytes{'f', 'o'});
  CHECK(b64_decode("Zg==").value() == Bytes{'f'});
  CHECK(b64_decode("Zg").value() == Bytes{'f'});
  CHECK(b64_decode("-_8").value() == b64_decode("+/8").value());  // both alphabets
  CHECK_FALSE(b64_decode("Zg=").ok());    // padding must complete the quantum
  CHECK_FALSE(b64_decode("Zm8==").ok());  // too much padding for the data
  CHECK_FALSE(b64_decode("Zm9v=").ok());
  CHECK_FALSE(b64_decode("Zm9v====").ok());
  CHECK_FALSE(b64_decode("Zm 9v").ok());  // whitespace
  CHECK_FALSE(b64_decode("Zm9v\n").ok());
  CHECK_FALSE(b64_decode("=Zm9").ok());
  CHECK_FALSE(b64_decode("Zh").ok());  // non-zero unused bits ("Zg" is canonical)
  CHECK_FALSE(b64_decode(std::string("Zm\0v", 4)).ok());
  CHECK_FALSE(b64_decode("Zm9v\xc3\xa9").ok());
}

TEST_CASE("base64url round-trips every length 0..64", "[codec]") {
  for (std::size_t n = 0; n <= 64; ++n) {
    Bytes b = random_bytes(n);
    const std::string enc = b64url_encode(b);
    CHECK(enc.find('=') == std::string::npos);
    CHECK(enc.find('+') == std::string::npos);
    CHECK(enc.find('/') == std::string::npos);
    auto dec = b64_decode(enc);
    REQUIRE(dec.ok());
    CHECK(*dec == b);
  }
  CHECK(b64url_encode(std::string_view("foob")) == "Zm9vYg");
}

TEST_CASE("hex encode/decode", "[codec]") {
  const Bytes b{0x00, 0x01, 0xab, 0xff};
  CHECK(hex_encode(b) == "0001abff");
  CHECK(hex_decode("0001abff").value() == b);
  CHECK(hex_decode("0001ABFF").value() == b);
  CHECK(hex_decode("").value().empty());
  CHECK(hex_decode("abc").code() == Errc::BadFrame);
  CHECK(hex_decode("zz").code() == Errc::BadFrame);
}

TEST_CASE("constant_time_equal", "[codec]") {
  CHECK(constant_time_equal("", ""));
  CHECK(constant_time_equal("abc", "abc"));
  CHECK_FALSE(constant_time_equal("abc", "abd"));
  CHECK_FALSE(constant_time_equal("abc", "ab"));
  CHECK_FALSE(constant_time_equal("", "a"));
}

TEST_CASE("random_bytes gives the requested length and varies", "[codec]") {
  CHECK(random_bytes(0).empty());
  CHECK(random_bytes(33).size() == 33);
  CHECK(random_bytes(32) != random_bytes(32));
}

TEST_CASE("new_uuid_v4 is a lowercase RFC 4122 v4 UUID, unique", "[codec]") {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string u = new_uuid_v4();
    CAPTURE(u);
    REQUIRE(u.size() == 36);
    CHECK(is_uuid(u));
    CHECK(u[14] == '4');
    CHECK((u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b'));
    for (char c : u) CHECK_FALSE((c >= 'A' && c <= 'Z'));
    seen.insert(u);
  }
  CHECK(seen.size() == 200);
}

TEST_CASE("is_uuid accepts 8-4-4-4-12 hex in either case and nothing else", "[codec]") {
  CHECK(is_uuid("6f1c0e1a-3a0e-4c1b-9d0a-2b1b7a1f2c3d"));
  CHECK(is_uuid("6F1C0E1A-3A0E-4C1B-9D0A-2B1B7A1F2C3D"));
  CHECK(is_uuid("00000000-0000-0000-0000-000000000000"));
  CHECK_FALSE(is_uuid(""));
  CHECK_FALSE(is_uuid("6f1c0e1a3a0e4c1b9d0a2b1b7a1f2c3d"));
  CHECK_FALSE(is_uuid("6f1c0e1a-3a0e-4c1b-9d0a-2b1b7a1f2c3"));
  CHECK_FALSE(is_uuid("6f1c0e1a-3a0e-4c1b-9d0a-2b1b7a1f2c3d0"));
  CHECK_FALSE(is_uuid("6f1c0e1a-3a0e-4c1b-9d0a_2b1b7a1f2c3d"));
  CHECK_FALSE(is_uuid("6f1c0e1g-3a0e-4c1b-9d0a-2b1b7a1f2c3d"));
  CHECK_FALSE(is_uuid("{6f1c0e1a-3a0e-4c1b-9d0a-2b1b7a1f2c3}"));
}

TEST_CASE("SecretBytes holds, moves and wipes", "[codec]") {
  SecretBytes a(std::string_view("secret"));
  CHECK(a.size() == 6);
  CHECK(a.view() == "secret");
  SecretBytes b(std::move(a));
  CHECK(b.view() == "secret");
  CHECK(a.empty());  // NOLINT(bugprone-use-after-move): moved-from state is specified
  SecretBytes c(4);
  CHECK(c.view() == std::string(4, '\0'));
  c = std::move(b);
  CHECK(c.view() == "secret");
  const std::uint8_t raw[3] = {1, 2, 3};
  SecretBytes d(raw, 3);
  CHECK(d.size() == 3);
  CHECK(d.data()[2] == 3);
  d.wipe();
  CHECK(d.empty());
  CHECK(d.size() == 0);
}
