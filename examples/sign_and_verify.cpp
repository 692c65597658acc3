// Example: load a PKCS#8 private key, sign a payload the way SOCP servers do, verify it.
//   socp_example_sign <private-key.pem>
// Prints the canonical payload and whether the transport signature verifies.
#include <fstream>
#include <iostream>
#include <sstream>

#include "socp/crypto.h"
#include "socp/json.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " <private-key.pem>\n";
    return 1;
  }
  std::ifstream in(argv[1]);
  std::stringstream pem;
  pem << in.rdbuf();
  auto key = socp::PrivateKey::from_pem(pem.str());
  if (!key) {
    std::cerr << "cannot load key: " << key.error().detail << "\n";
    return 1;
  }
  socp::json::Object payload;
  payload["user_id"] = "6f1c0e1a-3a0e-4c1b-9d0a-2b1b7a1f2c3d";
  payload["meta"] = socp::json::Object{{"display_name", "Zoë"}};
  const socp::json::Value v(payload);
  auto sig = socp::sign_payload(*key, v);
  if (!sig) {
    std::cerr << "sign failed: " << sig.error().detail << "\n";
    return 1;
  }
  const auto form = socp::verify_payload(key->public_key(), v, *sig);
  std::cout << "canonical: " << socp::json::canonical(v) << "\n"
            << "fingerprint: " << key->public_key().fingerprint_hex() << "\n"
            << "verified: " << (form == socp::SigForm::Canonical ? "yes" : "no") << "\n";
  return form == socp::SigForm::Canonical ? 0 : 1;
}
