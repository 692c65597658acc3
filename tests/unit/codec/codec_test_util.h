// Helpers for the codec unit tests. Deliberately independent of tests/support/fixtures.cpp
// (which pulls in the crypto layer): the codec tests link against codec symbols only.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "socp/json.h"

namespace socp::test::codec {

inline std::string read_vector_text(const std::string& name) {
  std::ifstream in(std::string(SOCP_VECTORS_DIR) + "/" + name, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open vector file " + name);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline json::Value read_vector(const std::string& name) {
  json::ParseLimits lim;
  lim.max_bytes = 64u << 20;
  lim.max_depth = 64;
  auto r = json::parse(read_vector_text(name), lim);
  if (!r) throw std::runtime_error("cannot parse vector file " + name + ": " + r.error().detail);
  return std::move(r).value();
}

/// A syntactically valid envelope frame around `payload_json` (used by many tests).
inline std::string frame_with_payload(const std::string& payload_json) {
  return R"({"type":"HEARTBEAT","from":"6f1c0e1a-3a0e-4c1b-9d0a-2b1b7a1f2c3d","to":"*","ts":1,"payload":)" +
         payload_json + "}";
}

}  // namespace socp::test::codec
