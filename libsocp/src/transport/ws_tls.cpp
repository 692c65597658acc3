// transport/ws_tls.cpp — certificate pinning for outgoing wss:// connections.
//
// A pinned connection accepts exactly one server certificate, identified by the SHA-256 of
// its DER encoding (what `openssl x509 -noout -fingerprint -sha256` prints). The pin replaces
// the CA chain and host name checks (so a self-signed certificate works); without a pin,
// libwebsockets' OpenSSL verification applies (system CAs or WsHostOptions::tls_ca_file, and
// the host name or IP address).
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cctype>

#include "transport/ws_host_impl.h"

namespace socp::transport {

namespace {

std::string hex(const unsigned char* p, std::size_t n) {
  static const char* const kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[p[i] >> 4]);
    out.push_back(kDigits[p[i] & 15]);
  }
  return out;
}

std::string cert_sha256(X509* cert) {
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert, &der);
  if (len <= 0 || !der) return {};
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  const bool ok =
      EVP_Digest(der, static_cast<std::size_t>(len), md, &md_len, EVP_sha256(), nullptr) == 1;
  OPENSSL_free(der);
  return ok ? hex(md, md_len) : std::string();
}

}  // namespace

std::string normalize_pin(const std::string& pin) {
  std::string out;
  for (char c : pin) {
    if (c == ':') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return {};
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out.size() == 64 ? out : std::string();
}

int verify_pinned(void* x509_store_ctx, const std::string& pin, std::string* why) {
  auto* ctx = static_cast<X509_STORE_CTX*>(x509_store_ctx);
  if (X509_STORE_CTX_get_error_depth(ctx) > 0) {
    // The chain above the leaf does not matter: the leaf is either the pinned one or not.
    X509_STORE_CTX_set_error(ctx, X509_V_OK);
    return 0;
  }
  const std::string got = cert_sha256(X509_STORE_CTX_get_current_cert(ctx));
  if (!got.empty() && got == pin) {
    X509_STORE_CTX_set_error(ctx, X509_V_OK);  // self-signed, other name: the pin decides
    return 0;
  }
  if (why) *why = "server certificate SHA-256 " + got + " does not match the pin";
  X509_STORE_CTX_set_error(ctx, X509_V_ERR_CERT_REJECTED);
  return 1;
}

}  // namespace socp::transport
