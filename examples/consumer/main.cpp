// socp_consumer: the smallest program built against an installed socp (find_package(socp),
// socp::socp). Reads a public key in any form socp accepts (base64url DER, PEM, ...) from a
// file and prints its SHA-256 fingerprint.
//   socp_consumer <public-key-file>
#include <fstream>
#include <iostream>
#include <sstream>

#include <socp/crypto.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " <public-key-file>\n";
    return 1;
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::cerr << "cannot read " << argv[1] << "\n";
    return 1;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto key = socp::PublicKey::parse(text.str());
  if (!key) {
    std::cerr << "not a usable key: " << key.error().detail << "\n";
    return 1;
  }
  std::cout << "fingerprint: " << key->fingerprint_hex() << "\n";
  return 0;
}
