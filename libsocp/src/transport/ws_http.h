// transport/ws_http.h — the HTTP/1.1 side of a WebSocket connection, sans-I/O (private).
//
// Server: collect one request head (bounded), decide between the WebSocket upgrade (RFC 6455
// §4.2), a plain HTTP GET for the host's HTTP callback, or an error status; format responses.
// Client: build the upgrade request and check the server's answer (§4.1: 101, Upgrade,
// Connection, Sec-WebSocket-Accept; no subprotocol or extension we did not ask for).
// Errors are values. Not thread-safe; no I/O.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace socp::transport {

/// Largest request/response head accepted (request line + headers).
inline constexpr std::size_t kMaxHttpHead = 8192;

/// Accumulates bytes until "\r\n\r\n". Everything after the head is left for the caller.
class HeadCollector {
 public:
  enum class Status { Incomplete, Complete, TooLarge };
  /// Consumes bytes up to and including the end of the head; returns how many were used.
  std::size_t feed(const char* p, std::size_t n);
  Status status() const noexcept { return status_; }
  const std::string& head() const noexcept { return head_; }  ///< without the final CRLFCRLF

 private:
  std::string head_;
  Status status_ = Status::Incomplete;
};

struct HttpHead {
  std::string start_line;                                    ///< request line or status line
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-cased

  /// First value of a header (lower-case name), nullptr if absent.
  const std::string* get(std::string_view name) const;
  /// True if any value of the header, as a comma-separated list, contains `token`
  /// (case-insensitive), e.g. Connection: keep-alive, Upgrade.
  bool has_token(std::string_view name, std::string_view token) const;
};

/// Parses a head (as collected). False on a malformed line (obs-fold, missing colon, bad name).
bool parse_head(const std::string& head, HttpHead& out);

/// What the server makes of a request.
struct ServerDecision {
  enum class Kind { Upgrade, Http, Reject } kind = Kind::Reject;
  std::string response;     ///< Upgrade: the 101 response; Reject: the error response
  std::string method;       ///< Http: the method
  std::string path;         ///< Http: the target's path (query string removed)
  std::string subprotocol;  ///< Upgrade: the name answered, empty if none was asked
  std::string why;          ///< Reject: for logs
};

/// RFC 6455 §4.2.1/§4.2.2 checks. A request without "Upgrade: websocket" is plain HTTP (Kind
/// Http for the host to answer). Subprotocol: "socp" if offered, else the first well-formed
/// name offered (peers of other implementations may ask for any name), else none.
/// Extensions are never accepted (permessage-deflate offers are declined, not refused).
ServerDecision decide_request(const std::string& head);

/// "HTTP/1.1 <status> <reason>" with Content-Type/Content-Length/Connection: close and body.
/// `extra_headers`: more "Name: value\r\n" lines.
std::string http_response(int status, std::string_view content_type, std::string_view body,
                          std::string_view extra_headers = {});

/// Sec-WebSocket-Accept for a Sec-WebSocket-Key (base64 of SHA-1 of key + GUID).
std::string websocket_accept(std::string_view key);

/// A fresh random Sec-WebSocket-Key (16 random bytes, base64).
std::string new_websocket_key();

/// The client's upgrade request. `host_header` is "host:port" (IPv6 in brackets).
std::string client_request(std::string_view host_header, std::string_view path,
                           std::string_view key);

/// Checks the server's answer to client_request(). Empty string = accepted, else why not.
std::string check_server_response(const std::string& head, std::string_view key);

}  // namespace socp::transport
