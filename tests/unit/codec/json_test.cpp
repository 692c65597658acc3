// json::parse (bounded, strict) and the canonical writers.
#include <catch2/catch.hpp>

#include <string>

#include "codec_test_util.h"
#include "socp/json.h"

using namespace socp;
using json::Value;

namespace {
Errc parse_code(const std::string& text, const json::ParseLimits& lim = {}) {
  auto r = json::parse(text, lim);
  REQUIRE_FALSE(r.ok());
  return r.code();
}
}  // namespace

TEST_CASE("canonical vectors: canonical() and canonical_utf8()", "[codec][vectors]") {
  const Value v = test::codec::read_vector("canonical.json");
  const Value* cases = v.find("cases");
  REQUIRE(cases);
  REQUIRE(cases->as_array().size() >= 9);
  for (const Value& c : cases->as_array()) {
    const std::string& input = *json::get_string(c, "input");
    CAPTURE(input);
    auto parsed = json::parse(input);
    REQUIRE(parsed.ok());
    CHECK(json::canonical(*parsed) == *json::get_string(c, "canonical_ascii"));
    CHECK(json::canonical_utf8(*parsed) == *json::get_string(c, "canonical_utf8"));
    // The canonical form is a fixed point.
    auto again = json::parse(json::canonical(*parsed));
    REQUIRE(again.ok());
    CHECK(*again == *parsed);
  }
}

TEST_CASE("canonical_spaced equals Python's json.dumps(sort_keys=True)", "[codec]") {
  // Expected strings computed with python3 json.dumps(v, sort_keys=True).
  auto v = json::parse(R"({"b":[1,{"d":null,"c":true}],"a":"x\u00e9\ud83d\ude00","e":{},"f":[]})");
  REQUIRE(v.ok());
  CHECK(json::canonical_spaced(*v) ==
        R"({"a": "x\u00e9\ud83d\ude00", "b": [1, {"c": true, "d": null}], "e": {}, "f": []})");
  CHECK(json::canonical(*v) ==
        R"({"a":"x\u00e9\ud83d\ude00","b":[1,{"c":true,"d":null}],"e":{},"f":[]})");
  CHECK(
      json::canonical_utf8(*v) ==
      "{\"a\":\"x\xc3\xa9\xf0\x9f\x98\x80\",\"b\":[1,{\"c\":true,\"d\":null}],\"e\":{},\"f\":[]}");

  auto w = json::parse(
      R"({"ctl":"\u0000\u0001\u001f\u007f/\"\\\b\f\n\r\t","k\u2028":"\ud7ff\ue000\uffff"})");
  REQUIRE(w.ok());
  CHECK(json::canonical_spaced(*w) ==
        R"({"ctl": "\u0000\u0001\u001f\u007f/\"\\\b\f\n\r\t", "k\u2028": "\ud7ff\ue000\uffff"})");
  CHECK(json::canonical(*w) ==
        R"({"ctl":"\u0000\u0001\u001f\u007f/\"\\\b\f\n\r\t","k\u2028":"\ud7ff\ue000\uffff"})");
  // ensure_ascii=False: DEL and non-ASCII raw, control characters still escaped.
  CHECK(json::canonical_utf8(*w) ==
        "{\"ctl\":\"\\u0000\\u0001\\u001f\x7f/\\\"\\\\\\b\\f\\n\\r\\t\",\"k\xe2\x80\xa8\":"
        "\"\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\"}");
}

TEST_CASE("canonical writer on values built in code", "[codec]") {
  json::Object o;
  o["z"] = Value(json::Array{Value(1), Value(-2), Value(INT64_MIN), Value(INT64_MAX)});
  o["a"] = Value(std::string("nul\0inside", 10));
  o["m"] = Value(json::Object{});
  o["\xc3\xa9"] = true;  // sorts after ASCII keys (code point order)
  o["B"] = nullptr;
  CHECK(
      json::canonical(Value(o)) ==
      R"({"B":null,"a":"nul\u0000inside","m":{},"z":[1,-2,-9223372036854775808,9223372036854775807],"\u00e9":true})");
  CHECK(json::canonical(Value("")) == R"("")");
  CHECK(json::canonical(Value(json::Array{})) == "[]");
  CHECK(json::canonical(Value(false)) == "false");
  // Ill-formed UTF-8 built in code is written as U+FFFD, never copied through.
  CHECK(json::canonical(Value("a\xff"
                              "b")) == R"("a\ufffdb")");
  CHECK(json::canonical_utf8(Value("a\xff"
                                   "b")) ==
        "\"a\xef\xbf\xbd"
        "b\"");
}

TEST_CASE("canonical writer handles nesting far deeper than the parser allows", "[codec]") {
  // Built iteratively; the writer uses an explicit stack. (Destruction of a Value is still
  // recursive, so keep this deep enough to matter but far from any stack limit.)
  Value v = json::Array{};
  for (int i = 0; i < 2000; ++i) v = Value(json::Array{std::move(v)});
  const std::string s = json::canonical(v);
  CHECK(s.size() == 2 * 2001);
  CHECK(s.substr(0, 3) == "[[[");
}

TEST_CASE("parse keeps NUL characters inside strings", "[codec]") {
  auto v = json::parse(R"({"a\u0000b":"x\u0000y"})");
  REQUIRE(v.ok());
  const auto& o = v->as_object();
  REQUIRE(o.size() == 1);
  CHECK(o.begin()->first == std::string("a\0b", 3));
  CHECK(o.begin()->second.as_string() == std::string("x\0y", 3));
  CHECK(json::canonical(*v) == R"({"a\u0000b":"x\u0000y"})");
}

TEST_CASE("parse accepts integers across the whole int64 range", "[codec]") {
  auto v = json::parse(
      "[0,-0,1,-1,2147483648,4294967296,-2147483649,9223372036854775807,"
      "-9223372036854775808]");
  REQUIRE(v.ok());
  const auto& a = v->as_array();
  CHECK(a[0].as_int() == 0);
  CHECK(a[1].as_int() == 0);
  CHECK(a[4].as_int() == 2147483648LL);
  CHECK(a[5].as_int() == 4294967296LL);
  CHECK(a[6].as_int() == -2147483649LL);
  CHECK(a[7].as_int() == INT64_MAX);
  CHECK(a[8].as_int() == INT64_MIN);
}

TEST_CASE("parse rejects what SOCP does not allow", "[codec]") {
  CHECK(parse_code("9223372036854775808") == Errc::BadFrame);   // INT64_MAX + 1
  CHECK(parse_code("-9223372036854775809") == Errc::BadFrame);  // INT64_MIN - 1
  CHECK(parse_code("18446744073709551616") == Errc::BadFrame);  // 2^64
  CHECK(parse_code("1.5") == Errc::BadFrame);
  CHECK(parse_code("1e3") == Errc::BadFrame);
  CHECK(parse_code("1E3") == Errc::BadFrame);
  CHECK(parse_code("[1.0]") == Errc::BadFrame);
  CHECK(parse_code("NaN") == Errc::BadFrame);
  CHECK(parse_code("Infinity") == Errc::BadFrame);
  CHECK(parse_code("01") == Errc::BadFrame);
  CHECK(parse_code(R"({"a":1,"a":2})") == Errc::BadFrame);
  CHECK(parse_code(R"({"a":{"b":1,"b":1}})") == Errc::BadFrame);
  CHECK(parse_code("{} x") == Errc::BadFrame);
  CHECK(parse_code("{}{}") == Errc::BadFrame);
  CHECK(parse_code(std::string("{}\0", 3)) == Errc::BadFrame);
  CHECK(parse_code(std::string("{\"a\":\"\0\"}", 8)) == Errc::BadFrame);
  CHECK(parse_code("") == Errc::BadFrame);
  CHECK(parse_code("   ") == Errc::BadFrame);
  CHECK(parse_code("{'a':1}") == Errc::BadFrame);
  CHECK(parse_code("{\"a\":1,}") == Errc::BadFrame);
  CHECK(parse_code("\"tab\there\"") == Errc::BadFrame);         // raw control character
  CHECK(parse_code("\xef\xbb\xbf{}") == Errc::BadFrame);        // BOM
  CHECK(parse_code("\"\xff\xfe\"") == Errc::BadFrame);          // invalid UTF-8
  CHECK(parse_code("\"\xc0\xaf\"") == Errc::BadFrame);          // overlong '/'
  CHECK(parse_code("\"\xe0\x80\xaf\"") == Errc::BadFrame);      // overlong, 3 bytes
  CHECK(parse_code("\"\xed\xa0\x80\"") == Errc::BadFrame);      // UTF-8-encoded surrogate
  CHECK(parse_code("\"\xf4\x90\x80\x80\"") == Errc::BadFrame);  // > U+10FFFF
  CHECK(parse_code("\"\xc3\"") == Errc::BadFrame);              // truncated sequence
  CHECK(parse_code(R"("\ud800")") == Errc::BadFrame);           // lone high surrogate
  CHECK(parse_code(R"("\udc00")") == Errc::BadFrame);           // lone low surrogate
  CHECK(parse_code(R"("\ud800\u0041")") == Errc::BadFrame);
  CHECK(parse_code(R"({"\udc00":1})") == Errc::BadFrame);  // in a key too
  CHECK(parse_code(R"("\x")") == Errc::BadFrame);
}

TEST_CASE("parse enforces max_depth exactly", "[codec]") {
  json::ParseLimits lim;
  lim.max_depth = 32;
  std::string ok_text, deep_text;
  for (int i = 0; i < 32; ++i) ok_text += "{\"k\":";
  ok_text += "1" + std::string(32, '}');
  for (int i = 0; i < 33; ++i) deep_text += "{\"k\":";
  deep_text += "1" + std::string(33, '}');
  CHECK(json::parse(ok_text, lim).ok());
  CHECK(parse_code(deep_text, lim) == Errc::TooDeep);
  CHECK(parse_code(std::string(33, '[') + std::string(33, ']'), lim) == Errc::TooDeep);
  CHECK(json::parse(std::string(32, '[') + std::string(32, ']'), lim).ok());
}

TEST_CASE("parse survives 1,000,000-deep nesting", "[codec]") {
  const std::string open(1'000'000, '[');
  CHECK(parse_code(open + std::string(1'000'000, ']')) == Errc::TooDeep);
  CHECK(parse_code(open) == Errc::TooDeep);  // unterminated: the depth limit hits first
  std::string objs;
  for (int i = 0; i < 100'000; ++i) objs += "{\"a\":";
  CHECK(parse_code(objs) == Errc::TooDeep);
}

TEST_CASE("parse enforces max_bytes and max_string", "[codec]") {
  json::ParseLimits lim;
  lim.max_bytes = 16;
  CHECK(json::parse(R"({"a":"1234567"})", lim).ok());   // 15 bytes
  CHECK(json::parse(R"({"a":"12345678"})", lim).ok());  // 16 bytes
  CHECK(parse_code(R"({"a":"123456789"})", lim) == Errc::TooLarge);
  lim = {};
  lim.max_string = 4;
  CHECK(json::parse(R"({"abcd":"wxyz"})", lim).ok());
  CHECK(parse_code(R"({"a":"wxyz1"})", lim) == Errc::TooLarge);
  CHECK(parse_code(R"({"abcde":"w"})", lim) == Errc::TooLarge);           // keys count too
  CHECK(parse_code(R"(["\u00e9\u00e9\u00e9"])", lim) == Errc::TooLarge);  // limit is in bytes
}

TEST_CASE("Value::find, get_string and get_int", "[codec]") {
  auto v = json::parse(R"({"s":"x","i":7,"b":true,"n":null})");
  REQUIRE(v.ok());
  REQUIRE(v->find("s"));
  CHECK(v->find("s")->as_string() == "x");
  CHECK(v->find("missing") == nullptr);
  CHECK(Value(1).find("s") == nullptr);
  REQUIRE(json::get_string(*v, "s"));
  CHECK(*json::get_string(*v, "s") == "x");
  CHECK(json::get_string(*v, "i") == nullptr);
  CHECK(json::get_string(*v, "missing") == nullptr);
  REQUIRE(json::get_int(*v, "i"));
  CHECK(*json::get_int(*v, "i") == 7);
  CHECK(json::get_int(*v, "s") == nullptr);
  CHECK(json::get_int(*v, "b") == nullptr);
  CHECK(json::get_int(Value("str"), "i") == nullptr);
}
