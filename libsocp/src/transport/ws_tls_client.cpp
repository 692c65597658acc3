// transport/ws_tls_client.cpp — OpenSSL memory-BIO TLS client (see ws_tls_client.h).
#include "transport/ws_tls_client.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <utility>

namespace socp::transport {

namespace {

std::string openssl_error(const char* what) {
  std::string s = what;
  unsigned long e = ERR_get_error();
  if (e) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    s += std::string(": ") + buf;
  }
  ERR_clear_error();
  return s;
}

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

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

std::shared_ptr<SSL_CTX> make_client_tls_context(const std::string& ca_file, std::string* why) {
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!ctx) {
    if (why) *why = openssl_error("cannot create a TLS client context");
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  const bool loaded = ca_file.empty()
                          ? SSL_CTX_set_default_verify_paths(ctx.get()) == 1
                          : SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) == 1;
  if (!loaded) {
    if (why)
      *why = openssl_error(ca_file.empty() ? "cannot load the system CA store"
                                           : ("cannot load CA file " + ca_file).c_str());
    return nullptr;
  }
  return ctx;
}

TlsClient::TlsClient(std::shared_ptr<SSL_CTX> ctx, const std::string& host, std::string pin_sha256)
    : ctx_(std::move(ctx)), host_(host), pin_(std::move(pin_sha256)) {}

TlsClient::~TlsClient() {
  if (ssl_) SSL_free(ssl_);  // frees both BIOs
}

bool TlsClient::fail(std::string why) {
  if (error_.empty()) error_ = std::move(why);
  ERR_clear_error();
  return false;
}

bool TlsClient::start() {
  if (!ctx_) return fail("no TLS context");
  ssl_ = SSL_new(ctx_.get());
  if (!ssl_) return fail(openssl_error("SSL_new"));
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  if (!rbio || !wbio) {
    BIO_free(rbio);
    BIO_free(wbio);
    return fail("cannot allocate TLS buffers");
  }
  SSL_set_bio(ssl_, rbio, wbio);
  SSL_set_connect_state(ssl_);
  const bool ip = is_ip_literal(host_);
  if (!ip) SSL_set_tlsext_host_name(ssl_, host_.c_str());
  if (pin_.empty()) {
    // CA chain and name: OpenSSL fails the handshake if either is wrong.
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host_.c_str())
                      : X509_VERIFY_PARAM_set1_host(param, host_.c_str(), host_.size());
    if (ok != 1) return fail("cannot check the certificate against " + host_);
    SSL_set_verify(ssl_, SSL_VERIFY_PEER, nullptr);
  } else {
    // The pin decides, after the handshake and before any application byte.
    SSL_set_verify(ssl_, SSL_VERIFY_NONE, nullptr);
  }
  std::string ignored;
  return on_input(nullptr, 0, ignored);
}

bool TlsClient::check_server() {
  if (pin_.empty()) return true;  // verified by OpenSSL during the handshake
  X509* cert = SSL_get0_peer_certificate(ssl_);
  if (!cert) return fail("the server sent no certificate");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &md_len) != 1) return fail("cannot hash the certificate");
  const std::string got = hex(md, md_len);
  if (got != pin_) return fail("server certificate SHA-256 " + got + " does not match the pin");
  return true;
}

bool TlsClient::on_input(const char* p, std::size_t n, std::string& plain) {
  if (!ssl_ || !error_.empty()) return false;
  if (n > 0) {
    const int w = BIO_write(SSL_get_rbio(ssl_), p, static_cast<int>(n));
    if (w != static_cast<int>(n)) return fail("cannot buffer TLS input");
  }
  if (!ready_) {
    const int rc = SSL_do_handshake(ssl_);
    if (rc != 1) {
      const int err = SSL_get_error(ssl_, rc);
      drain_wbio();  // an alert, or the next flight
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return true;
      const long vr = SSL_get_verify_result(ssl_);
      if (vr != X509_V_OK)
        return fail(std::string("certificate rejected: ") + X509_verify_cert_error_string(vr));
      return fail(openssl_error("TLS handshake failed"));
    }
    drain_wbio();
    if (!check_server()) return false;
    ready_ = true;
  }
  char buf[16384];
  for (;;) {
    const int r = SSL_read(ssl_, buf, sizeof buf);
    if (r > 0) {
      plain.append(buf, static_cast<std::size_t>(r));
      continue;
    }
    const int err = SSL_get_error(ssl_, r);
    drain_wbio();  // e.g. key updates or session tickets may want to answer
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return true;
    if (err == SSL_ERROR_ZERO_RETURN) return true;  // close_notify: the TCP close follows
    return fail(openssl_error("TLS read failed"));
  }
}

bool TlsClient::encrypt(std::string_view plain) {
  if (!ready_ || !error_.empty()) return false;
  std::size_t off = 0;
  while (off < plain.size()) {
    const int w = SSL_write(ssl_, plain.data() + off, static_cast<int>(plain.size() - off));
    if (w <= 0) return fail(openssl_error("TLS write failed"));
    off += static_cast<std::size_t>(w);
  }
  drain_wbio();
  return true;
}

void TlsClient::shutdown() {
  if (!ssl_ || shutdown_sent_ || !ready_) return;
  shutdown_sent_ = true;
  SSL_shutdown(ssl_);
  ERR_clear_error();
  drain_wbio();
}

void TlsClient::drain_wbio() {
  BIO* wbio = SSL_get_wbio(ssl_);
  char buf[16384];
  for (;;) {
    const int r = BIO_read(wbio, buf, sizeof buf);
    if (r <= 0) break;
    if (out_off_ == out_.size()) {
      out_.clear();
      out_off_ = 0;
    }
    out_.append(buf, static_cast<std::size_t>(r));
  }
}

void TlsClient::consumed(std::size_t n) {
  out_off_ += n;
  if (out_off_ >= out_.size()) {
    out_.clear();
    out_off_ = 0;
  }
}

}  // namespace socp::transport
