#include "fixtures.h"

#include <fstream>

#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include "socp/bytes.h"

namespace socp::test {

std::string read_vector_file(const std::string& name) {
  std::ifstream in(std::string(SOCP_VECTORS_DIR) + "/" + name, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open vector file " + name);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json::Value load_vector_json(const std::string& name) {
  json::ParseLimits lim;
  lim.max_bytes = 64u << 20;
  lim.max_depth = 64;
  auto r = json::parse(read_vector_file(name), lim);
  if (!r) throw std::runtime_error("cannot parse vector file " + name + ": " + r.error().detail);
  return std::move(r).value();
}

std::string fixture_key_field(const std::string& name, const std::string& field) {
  static const json::Value keys = load_vector_json("keys.json");
  const json::Value* k = keys.find("keys");
  const json::Value* entry = k ? k->find(name) : nullptr;
  const json::Value* f = entry ? entry->find(field) : nullptr;
  if (!f || !f->is_string()) throw std::runtime_error("no fixture key field " + name + "." + field);
  return f->as_string();
}

const PrivateKey& fixture_key(const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, PrivateKey> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  auto r = PrivateKey::from_pem(fixture_key_field(name, "private_pkcs8_pem"));
  if (!r) throw std::runtime_error("bad fixture key " + name + ": " + r.error().detail);
  return cache.emplace(name, std::move(r).value()).first->second;
}

}  // namespace socp::test

namespace socp::test {

std::string synthetic_pubkey(std::uint64_t i) {
  static const Bytes base = [] {
    auto der = b64_decode(fixture_key("alice").public_key().b64url());
    if (!der) throw std::runtime_error("cannot decode a fixture key");
    return *der;
  }();
  Bytes der = base;
  // The modulus ends just before the 5-byte exponent encoding (02 03 01 00 01); bytes well
  // inside it can take any value without changing the DER structure or the key size.
  const std::size_t at = der.size() - 5 - 64;
  for (int b = 0; b < 8; ++b) der[at + b] = static_cast<std::uint8_t>(i >> (8 * b));
  return b64url_encode(der);
}

}  // namespace socp::test
