// transport/ws_session.h — one WebSocket connection as a sans-I/O state machine (private).
//
// Bytes from the socket go in (on_bytes), events come out (the handshake completed, a text
// message, a plain HTTP request), and the bytes to write are taken from pending()/consumed().
// The owner (WsHost) does the socket I/O, the timers and the bookkeeping; everything about
// the protocol is decided here, so it is unit-tested without sockets.
//
// Server role: expects an HTTP request (upgrade → 101; plain GET → an Http event the owner
// answers with respond_http(); anything else → an error status), then masked client frames.
// Client role: start_client() queues the upgrade request; the 101 is checked (accept key), then
// unmasked server frames; every frame we send is masked with a fresh random key.
//
// Output order: an HTTP head first; then at each frame boundary a pending pong (only the most
// recent ping is answered, RFC 6455 §5.5.3, so a ping flood costs O(1) memory) or ping, then
// data frames in order, then the close frame; nothing after the close frame. A frame already
// partly written is always finished first, so control frames never split a data frame.
//
// Closing: close() sends the close frame after the queued data (Closing until the peer's
// close arrives); a peer's close is answered at once (queued data dropped); a protocol
// error (FrameReader Fail) drops queued data and sends the close code. After that the session
// is Closed: input is ignored and the owner closes TCP once pending() is empty (finished()).
//
// Errors are values; nothing throws except std::bad_alloc. Not thread-safe (loop thread).
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "transport/ws_frame.h"
#include "transport/ws_http.h"

namespace socp::transport {

struct SessionEvent {
  enum class Kind {
    Open,      ///< handshake done (data: the subprotocol answered, server role)
    Message,   ///< a complete text message (data)
    Http,      ///< plain HTTP request (method, data = path): call respond_http() now
    Activity,  ///< a ping or pong arrived: the peer is alive (no data)
  };
  Kind kind;
  std::string data;
  std::string method;
};

class WsSession {
 public:
  enum class Role { Server, Client };
  enum class State {
    Handshake,  ///< server: waiting for the request; client: waiting for the 101
    Open,
    Closing,  ///< our close frame is queued or sent; waiting for the peer's
    Closed,   ///< no more input; close TCP once the output is written
  };

  WsSession(Role role, std::size_t max_message);

  /// Client: queues the upgrade request. `host_header` is "host:port".
  void start_client(std::string_view host_header, std::string_view path = "/");

  /// Feeds bytes read from the socket; events are appended to `out` in order.
  void on_bytes(const char* p, std::size_t n, std::vector<SessionEvent>& out);

  /// Server, right after an Http event: the answer (then the connection closes).
  void respond_http(int status, std::string_view content_type, std::string_view body,
                    std::string_view extra_headers = {});

  /// Queues a text message as one frame. Ignored unless Open. Returns false if ignored.
  bool send_text(std::string_view text);
  /// Queues a ping (liveness). Ignored unless Open.
  void send_ping(std::string_view payload);
  /// Polite close: the close frame follows the queued data. First call wins; in Handshake
  /// state the connection just ends (nothing to say in WebSocket terms).
  void close(int code, std::string_view reason);
  /// Immediate close with a code: queued data is dropped (a frame in flight is finished).
  void fail(int code, std::string_view reason);

  /// The next bytes to write (empty: nothing now). Stays valid until consumed() or a call
  /// that queues output.
  std::string_view pending();
  void consumed(std::size_t n);

  State state() const noexcept { return state_; }
  Role role() const noexcept { return role_; }
  bool opened() const noexcept { return opened_; }
  /// Closed and everything written: the owner should close the TCP connection now.
  bool finished();
  /// Bytes waiting to be written (data frames and the frame in flight).
  std::size_t queued_bytes() const noexcept { return data_bytes_ + (cur_.size() - cur_off_); }
  /// Bytes held for an unfinished incoming message.
  std::size_t buffered_rx() const noexcept { return reader_.buffered(); }
  void set_max_message(std::size_t n) noexcept { reader_.set_max_message(n); }
  std::size_t max_message() const noexcept { return reader_.max_message(); }

  /// Why the session ended (for logs): who closed and with which code.
  int close_code() const noexcept { return close_code_; }
  const std::string& close_reason() const noexcept { return close_reason_; }
  bool peer_closed() const noexcept { return peer_closed_; }
  /// True once the close frame has been handed out by pending().
  bool close_sent() const noexcept { return close_sent_; }

 private:
  void handshake_bytes(const char* p, std::size_t n, std::vector<SessionEvent>& out);
  void frame_bytes(const char* p, std::size_t n, std::vector<SessionEvent>& out);
  std::string frame(WsOpcode op, std::string_view payload) const;
  void queue_close(int code, std::string_view reason);
  void refill();

  const Role role_;
  State state_ = State::Handshake;
  bool opened_ = false;
  HeadCollector head_;
  std::string client_key_;
  FrameReader reader_;

  // output
  std::string http_out_;  ///< an HTTP head (+ body) to write first
  std::string cur_;       ///< the frame (or HTTP bytes) being written
  std::size_t cur_off_ = 0;
  std::deque<std::string> data_;  ///< encoded data frames, in order
  std::size_t data_bytes_ = 0;
  std::optional<std::string> pong_;  ///< payload of the most recent unanswered ping
  std::optional<std::string> ping_;
  std::optional<std::string> close_frame_;  ///< encoded; sent once data_ is empty
  bool close_sent_ = false;

  int close_code_ = 0;
  std::string close_reason_;
  bool peer_closed_ = false;
};

}  // namespace socp::transport
