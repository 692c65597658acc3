// transport/ws_tls.cpp — certificate pins as users write them.
//
// A pinned connection accepts exactly one server certificate, identified by the SHA-256 of
// its DER encoding (what `openssl x509 -noout -fingerprint -sha256` prints); see
// ws_tls_client.h.
#include <cctype>

#include "transport/ws_host_impl.h"

namespace socp::transport {

std::string normalize_pin(const std::string& pin) {
  std::string out;
  for (char c : pin) {
    if (c == ':') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return {};
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out.size() == 64 ? out : std::string();
}

}  // namespace socp::transport
