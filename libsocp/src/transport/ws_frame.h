// transport/ws_frame.h — the RFC 6455 frame codec, sans-I/O (private to the transport).
//
// FrameReader turns the bytes of one connection into whole messages and control frames,
// enforcing every framing rule of RFC 6455 §5 as the bytes arrive:
//   - RSV bits set (no extension is ever negotiated), reserved opcodes, fragmented or
//     >125-byte control frames, a continuation without a started message, a new data frame
//     inside a fragmented message, a non-minimal 16/64-bit length or one with the top bit set,
//     a frame masked the wrong way (clients must mask, servers must not)  -> fail 1002
//   - a text message that is not valid UTF-8, checked incrementally ("fail fast", also across
//     fragments)                                                          -> fail 1007
//   - a binary message (socp speaks text only)                            -> fail 1003
//   - a message whose announced size would exceed the limit — decided from the frame header,
//     before any of that payload is buffered                              -> fail 1009
//   - a close frame with a 1-byte payload, an invalid code (§7.4) or a reason that is not
//     UTF-8                                                               -> fail 1002
// Memory: at most the current limit for a message, 125 bytes for a control frame and 14
// header bytes per connection. CPU: O(bytes), nothing is scanned twice.
//
// Errors are values (ReadEvent::Kind::Fail), never exceptions, except std::bad_alloc.
// Not thread-safe: one reader per connection, on the loop thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "transport/ws_utf8.h"

namespace socp::transport {

enum class WsOpcode : std::uint8_t {
  Continuation = 0x0,
  Text = 0x1,
  Binary = 0x2,
  Close = 0x8,
  Ping = 0x9,
  Pong = 0xA,
};

/// Close codes used by the transport (RFC 6455 §7.4.1).
namespace close_code {
inline constexpr int kNormal = 1000;
inline constexpr int kGoingAway = 1001;
inline constexpr int kProtocolError = 1002;
inline constexpr int kUnsupportedData = 1003;
inline constexpr int kNoStatus = 1005;  ///< never on the wire: "close frame without a code"
inline constexpr int kInvalidPayload = 1007;
inline constexpr int kPolicyViolation = 1008;
inline constexpr int kTooBig = 1009;
inline constexpr int kInternalError = 1011;
}  // namespace close_code

/// True for a code a peer may send in a close frame (§7.4: 1000-1003, 1007-1014, 3000-4999).
bool close_code_allowed_on_wire(int code) noexcept;

struct ReadEvent {
  enum class Kind { Text, Ping, Pong, Close, Fail };
  Kind kind;
  std::string data;  ///< Text: the message; Ping/Pong: payload; Close: reason; Fail: why
  int code = 0;      ///< Close: the peer's code (1005 if none); Fail: the close code to send
};

class FrameReader {
 public:
  /// `expect_masked`: true on the server side (client frames must be masked), false on the
  /// client side (server frames must not be).
  FrameReader(bool expect_masked, std::size_t max_message) noexcept
      : expect_masked_(expect_masked), max_message_(max_message) {}

  /// Applies from the next frame header on (a message in progress keeps what it has).
  void set_max_message(std::size_t n) noexcept { max_message_ = n; }
  std::size_t max_message() const noexcept { return max_message_; }

  /// Consumes bytes, appending events in wire order. After a Close or Fail event the reader
  /// is done: it consumes nothing more and returns the count consumed up to that point.
  std::size_t feed(const char* data, std::size_t n, std::vector<ReadEvent>& out);

  bool done() const noexcept { return done_; }
  /// Bytes held for an unfinished message (for accounting).
  std::size_t buffered() const noexcept { return message_.size(); }

 private:
  enum class State { Header, Payload };

  bool parse_header(std::vector<ReadEvent>& out);
  void payload_bytes(const char* p, std::size_t n, std::vector<ReadEvent>& out);
  void end_of_frame(std::vector<ReadEvent>& out);
  bool fail(std::vector<ReadEvent>& out, int code, const char* why);  // false

  const bool expect_masked_;
  std::size_t max_message_;
  bool done_ = false;
  State state_ = State::Header;

  // current frame
  unsigned char hdr_[14];
  std::size_t hdr_len_ = 0;
  bool fin_ = false;
  std::uint8_t opcode_ = 0;
  bool masked_ = false;
  unsigned char mask_[4] = {0, 0, 0, 0};
  std::size_t mask_pos_ = 0;
  std::uint64_t remaining_ = 0;

  // current message (data frames) and control frame payload
  bool in_message_ = false;  ///< a fragmented text message has started
  std::string message_;
  Utf8Validator utf8_;
  std::string control_;
};

/// Encodes one frame. `mask` = nullptr: unmasked (server to client); else the 4-byte masking
/// key to apply (client to server, RFC 6455 §5.3).
std::string encode_frame(WsOpcode op, std::string_view payload, bool fin = true,
                         const unsigned char* mask = nullptr);

/// XORs `n` bytes at `p` with the masking key, starting at key offset `pos` (mod 4).
void apply_mask(char* p, std::size_t n, const unsigned char key[4], std::size_t pos) noexcept;

}  // namespace socp::transport
