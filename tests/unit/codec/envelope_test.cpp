// parse_envelope: the single entry point for untrusted frames.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "codec_test_util.h"
#include "socp/envelope.h"

using namespace socp;
using test::codec::frame_with_payload;

namespace {

const std::string kFrom = "6f1c0e1a-3a0e-4c1b-9d0a-2b1b7a1f2c3d";

// A frame with each top-level member given as raw JSON text; "" omits the member.
std::string frame(const std::string& type, const std::string& from, const std::string& to,
                  const std::string& ts, const std::string& payload, const std::string& sig = "") {
  std::string out = "{";
  auto add = [&](const char* k, const std::string& v) {
    if (v.empty()) return;
    if (out.size() > 1) out += ',';
    out += '"';
    out += k;
    out += "\":" + v;
  };
  add("type", type);
  add("from", from);
  add("to", to);
  add("ts", ts);
  add("payload", payload);
  add("sig", sig);
  return out + "}";
}

const std::string T = "\"HEARTBEAT\"";
const std::string F = "\"" + kFrom + "\"";
const std::string TO = "\"*\"";
const std::string TS = "1700000000000";
const std::string P = "{}";

struct BadCase {
  std::string name;
  std::string text;
  Errc code;
  json::ParseLimits limits{};
};

// A valid frame with "ts" given twice.
std::string duplicate_ts() {
  std::string s = frame(T, F, TO, TS, P);
  s.insert(s.size() - 1, ",\"ts\":2");
  return s;
}

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

std::string nested_objects(std::size_t depth) {
  std::string s;
  for (std::size_t i = 0; i < depth; ++i) s += "{\"k\":";
  s += "1";
  s += std::string(depth, '}');
  return s;
}

std::vector<BadCase> bad_cases() {
  json::ParseLimits one_mib;
  one_mib.max_string = 1u << 20;
  one_mib.max_bytes = 8u << 20;
  json::ParseLimits small_frame;
  small_frame.max_bytes = 64;
  json::ParseLimits depth32;
  depth32.max_depth = 32;

  std::vector<BadCase> v{
      {"not JSON", "hello", Errc::BadFrame},
      {"empty string", "", Errc::BadFrame},
      {"whitespace only", "  \n ", Errc::BadFrame},
      {"array", "[1,2]", Errc::BadFrame},
      {"string", "\"frame\"", Errc::BadFrame},
      {"number", "42", Errc::BadFrame},
      {"null", "null", Errc::BadFrame},
      {"missing type", frame("", F, TO, TS, P), Errc::BadFrame},
      {"type number", frame("7", F, TO, TS, P), Errc::BadFrame},
      {"type null", frame("null", F, TO, TS, P), Errc::BadFrame},
      {"type empty", frame("\"\"", F, TO, TS, P), Errc::BadFrame},
      {"type too long", frame("\"" + std::string(65, 'A') + "\"", F, TO, TS, P), Errc::BadFrame},
      {"missing from", frame(T, "", TO, TS, P), Errc::BadFrame},
      {"from number", frame(T, "5", TO, TS, P), Errc::BadFrame},
      {"from not a UUID", frame(T, "\"alice\"", TO, TS, P), Errc::BadFrame},
      {"from empty", frame(T, "\"\"", TO, TS, P), Errc::BadFrame},
      {"missing to", frame(T, F, "", TS, P), Errc::BadFrame},
      {"to number", frame(T, F, "1", TS, P), Errc::BadFrame},
      {"to array", frame(T, F, "[]", TS, P), Errc::BadFrame},
      {"to too long", frame(T, F, "\"" + std::string(257, 'h') + "\"", TS, P), Errc::BadFrame},
      {"missing ts", frame(T, F, TO, "", P), Errc::BadFrame},
      {"ts as string", frame(T, F, TO, "\"1700000000000\"", P), Errc::BadFrame},
      {"ts as float", frame(T, F, TO, "1700000000000.5", P), Errc::BadFrame},
      {"ts as exponent", frame(T, F, TO, "1.7e12", P), Errc::BadFrame},
      {"ts as bool", frame(T, F, TO, "true", P), Errc::BadFrame},
      {"ts as null", frame(T, F, TO, "null", P), Errc::BadFrame},
      {"ts 2^64", frame(T, F, TO, "18446744073709551616", P), Errc::BadFrame},
      {"ts 2^63", frame(T, F, TO, "9223372036854775808", P), Errc::BadFrame},
      {"missing payload", frame(T, F, TO, TS, ""), Errc::BadFrame},
      {"payload array", frame(T, F, TO, TS, "[]"), Errc::BadFrame},
      {"payload string", frame(T, F, TO, TS, "\"{}\""), Errc::BadFrame},
      {"payload null", frame(T, F, TO, TS, "null"), Errc::BadFrame},
      {"sig number", frame(T, F, TO, TS, P, "12"), Errc::BadFrame},
      {"sig object", frame(T, F, TO, TS, P, "{}"), Errc::BadFrame},
      {"sig not base64", frame(T, F, TO, TS, P, "\"ab$c\""), Errc::BadFrame},
      {"sig bad length", frame(T, F, TO, TS, P, "\"abcde\""), Errc::BadFrame},
      {"float in payload", frame_with_payload(R"({"x":1.25})"), Errc::BadFrame},
      {"integer 2^64 in payload", frame_with_payload(R"({"x":18446744073709551616})"),
       Errc::BadFrame},
      {"duplicate top-level key", duplicate_ts(), Errc::BadFrame},
      {"duplicate payload key", frame_with_payload(R"({"a":1,"a":1})"), Errc::BadFrame},
      {"trailing garbage", frame(T, F, TO, TS, P) + " x", Errc::BadFrame},
      {"two objects", frame(T, F, TO, TS, P) + "{}", Errc::BadFrame},
      {"truncated", frame(T, F, TO, TS, P).substr(0, 40), Errc::BadFrame},
      {"invalid UTF-8 in string", frame_with_payload("{\"x\":\"\xff\xfe\"}"), Errc::BadFrame},
      {"overlong UTF-8", frame_with_payload("{\"x\":\"\xc0\xaf\"}"), Errc::BadFrame},
      {"UTF-8 surrogate", frame_with_payload("{\"x\":\"\xed\xa0\x80\"}"), Errc::BadFrame},
      {"lone surrogate escape", frame_with_payload(R"({"x":"\ud800"})"), Errc::BadFrame},
      {"lone low surrogate escape", frame_with_payload(R"({"x":"\udc00"})"), Errc::BadFrame},
      {"raw NUL byte", frame(T, F, TO, TS, P) + std::string(1, '\0'), Errc::BadFrame},
      {"2 MiB string, max_string 1 MiB",
       frame_with_payload("{\"x\":\"" + std::string(2u << 20, 'a') + "\"}"), Errc::TooLarge,
       one_mib},
      {"2 MiB key, max_string 1 MiB",
       frame_with_payload("{\"" + std::string(2u << 20, 'k') + "\":1}"), Errc::TooLarge, one_mib},
      {"frame over max_bytes", frame_with_payload(R"({"pad":"0123456789"})"), Errc::TooLarge,
       small_frame},
      {"100,000-deep arrays in payload",
       frame_with_payload("{\"x\":" + nested_arrays(100'000) + "}"), Errc::TooDeep},
      {"100,000-deep arrays at top level", nested_arrays(100'000), Errc::TooDeep},
      {"100,000 unclosed arrays", std::string(100'000, '['), Errc::TooDeep},
      {"33-deep objects, max_depth 32", nested_objects(33), Errc::TooDeep, depth32},
      {"33 deep in payload, max_depth 32", frame_with_payload(nested_objects(32)), Errc::TooDeep,
       depth32},
  };
  return v;
}

}  // namespace

TEST_CASE("malformed envelopes give the right error and never crash", "[codec][envelope]") {
  const auto cases = bad_cases();
  REQUIRE(cases.size() >= 30);
  for (const auto& c : cases) {
    CAPTURE(c.name);
    auto r = parse_envelope(c.text, c.limits);
    REQUIRE_FALSE(r.ok());
    CHECK(r.code() == c.code);
    CHECK_FALSE(r.error().detail.empty());
  }
}

TEST_CASE("a frame exactly at the depth limit is accepted", "[codec][envelope]") {
  json::ParseLimits depth32;
  depth32.max_depth = 32;
  // Envelope object (1) + payload (2) + 30 more levels = 32.
  auto r = parse_envelope(frame_with_payload(nested_objects(31)), depth32);
  REQUIRE(r.ok());
}

TEST_CASE("a well-formed envelope is decoded field by field", "[codec][envelope]") {
  const std::string text =
      R"({"type":"MSG_DIRECT","from":"6F1C0E1A-3A0E-4C1B-9D0A-2B1B7A1F2C3D","to":"localhost:8765",)"
      R"("ts":-5,"payload":{"ciphertext":"AA"},"sig":"-_8"})";
  auto r = parse_envelope(text);
  REQUIRE(r.ok());
  CHECK(r->type == MessageType::MsgDirect);
  CHECK(r->type_name == "MSG_DIRECT");
  CHECK(r->from == "6F1C0E1A-3A0E-4C1B-9D0A-2B1B7A1F2C3D");
  CHECK(r->to == "localhost:8765");
  CHECK(r->ts == -5);
  CHECK(*json::get_string(r->payload, "ciphertext") == "AA");
  CHECK(r->sig == "-_8");
  CHECK(r->extra.empty());
}

TEST_CASE("sig may be absent, null, empty, padded or standard base64", "[codec][envelope]") {
  for (const std::string sig : {"", "null", "\"\""}) {
    CAPTURE(sig);
    auto r = parse_envelope(frame(T, F, TO, TS, P, sig));
    REQUIRE(r.ok());
    CHECK(r->sig.empty());
    CHECK(serialize(*r).find("\"sig\"") == std::string::npos);
  }
  for (const std::string sig : {"\"Zm9vYg\"", "\"Zm9vYg==\"", "\"+/8=\""}) {
    CAPTURE(sig);
    auto r = parse_envelope(frame(T, F, TO, TS, P, sig));
    REQUIRE(r.ok());
    CHECK("\"" + r->sig + "\"" == sig);
  }
}

TEST_CASE("to may be empty, *, public, a UUID or host:port", "[codec][envelope]") {
  for (const std::string& to :
       std::vector<std::string>{"\"\"", "\"*\"", "\"public\"", F, "\"10.0.0.1:8765\"",
                                "\"" + std::string(256, 'h') + "\""}) {
    CAPTURE(to);
    CHECK(parse_envelope(frame(T, F, to, TS, P)).ok());
  }
}

TEST_CASE("unknown type is not an error: type is nullopt", "[codec][envelope]") {
  auto r = parse_envelope(frame("\"SOMETHING_NEW\"", F, TO, TS, P));
  REQUIRE(r.ok());
  CHECK_FALSE(r->type.has_value());
  CHECK(r->type_name == "SOMETHING_NEW");
  // Re-serialized with the name it came with.
  auto again = parse_envelope(serialize(*r));
  REQUIRE(again.ok());
  CHECK(again->type_name == "SOMETHING_NEW");
}

TEST_CASE("aliases are resolved and kept when re-serialized", "[codec][envelope]") {
  auto r = parse_envelope(frame("\"MSG_PRIVATE\"", F, TO, TS, P));
  REQUIRE(r.ok());
  CHECK(r->type == MessageType::MsgDirect);
  CHECK(r->type_name == "MSG_PRIVATE");
  CHECK(serialize(*r).find("\"type\":\"MSG_PRIVATE\"") != std::string::npos);
  // If code changes the type, the canonical name of the new type is emitted.
  r->type = MessageType::UserDeliver;
  CHECK(serialize(*r).find("\"type\":\"USER_DELIVER\"") != std::string::npos);
}

TEST_CASE("extra envelope fields are preserved through serialize()", "[codec][envelope]") {
  const std::string text =
      R"({"usig":"AAAA","type":"USER_ADVERTISE","from":")" + kFrom +
      R"(","to":"*","ts":1700000000000,"payload":{"b":1,"a":"\u00e9"},"id":"x-1","relay":[1,{"z":null}],"sig":"AQAB"})";
  auto r = parse_envelope(text);
  REQUIRE(r.ok());
  REQUIRE(r->extra.size() == 3);
  CHECK(r->extra.at("id").as_string() == "x-1");
  CHECK(r->extra.at("usig").as_string() == "AAAA");
  const std::string out = serialize(*r);
  CHECK(
      out ==
      R"({"from":")" + kFrom +
          R"(","id":"x-1","payload":{"a":"\u00e9","b":1},"relay":[1,{"z":null}],"sig":"AQAB","to":"*","ts":1700000000000,"type":"USER_ADVERTISE","usig":"AAAA"})");
  // serialize() is the canonical form of the whole frame.
  auto whole = json::parse(text);
  REQUIRE(whole.ok());
  CHECK(out == json::canonical(*whole));
  auto back = parse_envelope(out);
  REQUIRE(back.ok());
  CHECK(back->extra == r->extra);
  CHECK(back->payload == r->payload);
}

TEST_CASE("make_envelope + serialize + parse_envelope round-trip", "[codec][envelope]") {
  Envelope e = make_envelope(MessageType::Heartbeat, kFrom, "*", 1700000000123,
                             json::Object{{"k", json::Value("v")}});
  CHECK(e.type_name == "HEARTBEAT");
  CHECK(e.sig.empty());
  const std::string out = serialize(e);
  CHECK(out == R"({"from":")" + kFrom +
                   R"(","payload":{"k":"v"},"to":"*","ts":1700000000123,"type":"HEARTBEAT"})");
  e.sig = "AQAB";
  auto r = parse_envelope(serialize(e));
  REQUIRE(r.ok());
  CHECK(r->type == MessageType::Heartbeat);
  CHECK(r->from == kFrom);
  CHECK(r->to == "*");
  CHECK(r->ts == 1700000000123);
  CHECK(r->payload == e.payload);
  CHECK(r->sig == "AQAB");
  // Extra fields that collide with envelope fields are never emitted twice.
  e.extra["ts"] = json::Value(5);
  e.extra["zz"] = json::Value(true);
  auto r2 = parse_envelope(serialize(e));
  REQUIRE(r2.ok());
  CHECK(r2->ts == 1700000000123);
  CHECK(r2->extra.size() == 1);
}
