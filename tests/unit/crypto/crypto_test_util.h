// Helpers shared by the crypto unit tests.
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "fixtures.h"
#include "socp/bytes.h"
#include "socp/json.h"

namespace socp::test {

inline const std::string& str_field(const json::Value& obj, const char* name) {
  const std::string* s = json::get_string(obj, name);
  if (s == nullptr) FAIL("vector lacks string field " << name);
  return *s;
}

inline Bytes b64(std::string_view text) {
  auto r = b64_decode(text);
  REQUIRE(r.ok());
  return std::move(r).value();
}

inline Bytes unhex(std::string_view text) {
  auto r = hex_decode(text);
  REQUIRE(r.ok());
  return std::move(r).value();
}

inline const PublicKey& fixture_pub(const std::string& name) {
  return fixture_key(name).public_key();
}

}  // namespace socp::test
