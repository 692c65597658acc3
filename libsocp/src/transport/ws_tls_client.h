// transport/ws_tls_client.h — client-side TLS for outgoing wss:// connections, sans-I/O
// (OpenSSL with memory BIOs), private to the transport.
//
// Why not libwebsockets' TLS: lws 4.1.6 starts TLS on a raw-socket client connection before
// the socket exists (connect.c: lws_client_create_tls right after the wsi is created), so
// every raw wss:// dial fails with EBADF. The listener side works and stays with lws.
//
// Bytes from the socket go in (on_input → plaintext out), plaintext goes in (encrypt) and
// the ciphertext to write comes out (out()/consumed()). The server is checked when the
// handshake completes, before any application byte is sent: either its certificate's SHA-256
// equals the pin (self-signed is fine, the name is not checked), or the chain verifies
// against the context's CAs and the certificate names the host (DNS name or IP address).
// Errors are values (error()); nothing throws except std::bad_alloc. Loop thread only.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace socp::transport {

/// An OpenSSL client context: TLS 1.2+, peer verification with `ca_file` (PEM) or the system
/// store when empty. Null (and *why set) if the CA file cannot be loaded.
std::shared_ptr<SSL_CTX> make_client_tls_context(const std::string& ca_file, std::string* why);

class TlsClient {
 public:
  /// `host`: the name or IP address dialled (SNI for names, and what the certificate must
  /// name unless pinned). `pin_sha256`: lower-case hex (normalize_pin), empty = CA checks.
  TlsClient(std::shared_ptr<SSL_CTX> ctx, const std::string& host, std::string pin_sha256);
  ~TlsClient();
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  /// Starts the handshake (the ClientHello appears in out()). False on failure (error()).
  bool start();
  /// Ciphertext from the socket; decrypted application bytes are appended to `plain`. False
  /// on a fatal error (handshake failure, verification, bad record): error() says why.
  bool on_input(const char* p, std::size_t n, std::string& plain);
  /// True once the handshake completed and the server passed the checks.
  bool ready() const noexcept { return ready_; }
  /// Encrypts application bytes (only when ready()).
  bool encrypt(std::string_view plain);
  /// Queues a close_notify alert (once).
  void shutdown();
  bool shut_down() const noexcept { return shutdown_sent_; }

  /// Ciphertext to write to the socket.
  std::string_view out() const noexcept { return std::string_view(out_).substr(out_off_); }
  void consumed(std::size_t n);

  const std::string& error() const noexcept { return error_; }

 private:
  void drain_wbio();
  bool fail(std::string why);
  bool check_server();

  std::shared_ptr<SSL_CTX> ctx_;
  SSL* ssl_ = nullptr;
  std::string host_;
  std::string pin_;
  bool ready_ = false;
  bool shutdown_sent_ = false;
  std::string out_;
  std::size_t out_off_ = 0;
  std::string error_;
};

}  // namespace socp::transport
