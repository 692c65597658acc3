// transport/ws_frame.cpp — RFC 6455 frame parsing and encoding (see ws_frame.h).
#include "transport/ws_frame.h"

#include <cstring>
#include <utility>

namespace socp::transport {

namespace {

bool is_control(std::uint8_t op) {
  return (op & 0x8) != 0;
}

bool is_known_opcode(std::uint8_t op) {
  switch (static_cast<WsOpcode>(op)) {
    case WsOpcode::Continuation:
    case WsOpcode::Text:
    case WsOpcode::Binary:
    case WsOpcode::Close:
    case WsOpcode::Ping:
    case WsOpcode::Pong:
      return true;
  }
  return false;
}

// Header size once the first two bytes are known.
std::size_t header_size(const unsigned char* h) {
  std::size_t n = 2;
  const unsigned len7 = h[1] & 0x7f;
  if (len7 == 126) n += 2;
  if (len7 == 127) n += 8;
  if (h[1] & 0x80) n += 4;
  return n;
}

}  // namespace

bool close_code_allowed_on_wire(int code) noexcept {
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1014) return true;
  return code >= 3000 && code <= 4999;
}

void apply_mask(char* p, std::size_t n, const unsigned char key[4], std::size_t pos) noexcept {
  std::size_t i = 0;
  // Byte-wise until the key lines up, then eight bytes at a time.
  while (i < n && ((pos + i) & 3) != 0) {
    p[i] = static_cast<char>(p[i] ^ key[(pos + i) & 3]);
    ++i;
  }
  if (n - i >= 8) {
    std::uint64_t k8;
    unsigned char kb[8] = {key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]};
    std::memcpy(&k8, kb, 8);
    for (; n - i >= 8; i += 8) {
      std::uint64_t w;
      std::memcpy(&w, p + i, 8);
      w ^= k8;
      std::memcpy(p + i, &w, 8);
    }
  }
  for (; i < n; ++i) p[i] = static_cast<char>(p[i] ^ key[(pos + i) & 3]);
}

std::string encode_frame(WsOpcode op, std::string_view payload, bool fin,
                         const unsigned char* mask) {
  const std::size_t n = payload.size();
  std::string f;
  f.reserve(n + 14);
  f.push_back(static_cast<char>((fin ? 0x80 : 0x00) | static_cast<std::uint8_t>(op)));
  const unsigned char mbit = mask ? 0x80 : 0x00;
  if (n < 126) {
    f.push_back(static_cast<char>(mbit | n));
  } else if (n <= 0xffff) {
    f.push_back(static_cast<char>(mbit | 126));
    f.push_back(static_cast<char>((n >> 8) & 0xff));
    f.push_back(static_cast<char>(n & 0xff));
  } else {
    f.push_back(static_cast<char>(mbit | 127));
    for (int i = 7; i >= 0; --i)
      f.push_back(static_cast<char>((static_cast<std::uint64_t>(n) >> (8 * i)) & 0xff));
  }
  if (mask) f.append(reinterpret_cast<const char*>(mask), 4);
  const std::size_t at = f.size();
  f.append(payload.data(), n);
  if (mask && n) apply_mask(&f[at], n, mask, 0);
  return f;
}

// ---- FrameReader ----------------------------------------------------------------------------

bool FrameReader::fail(std::vector<ReadEvent>& out, int code, const char* why) {
  done_ = true;
  std::string().swap(message_);
  std::string().swap(control_);
  out.push_back(ReadEvent{ReadEvent::Kind::Fail, why, code});
  return false;
}

std::size_t FrameReader::feed(const char* data, std::size_t n, std::vector<ReadEvent>& out) {
  std::size_t i = 0;
  while (i < n && !done_) {
    if (state_ == State::Header) {
      hdr_[hdr_len_++] = static_cast<unsigned char>(data[i++]);
      if (hdr_len_ < 2 || hdr_len_ < header_size(hdr_)) continue;
      if (!parse_header(out)) break;
      if (remaining_ == 0) end_of_frame(out);
      continue;
    }
    const std::size_t take = remaining_ < static_cast<std::uint64_t>(n - i)
                                 ? static_cast<std::size_t>(remaining_)
                                 : n - i;
    payload_bytes(data + i, take, out);
    i += take;
    remaining_ -= take;
    if (!done_ && remaining_ == 0) end_of_frame(out);
  }
  return i;
}

bool FrameReader::parse_header(std::vector<ReadEvent>& out) {
  const unsigned char b0 = hdr_[0], b1 = hdr_[1];
  fin_ = (b0 & 0x80) != 0;
  opcode_ = b0 & 0x0f;
  masked_ = (b1 & 0x80) != 0;
  const unsigned len7 = b1 & 0x7f;
  hdr_len_ = 0;
  state_ = State::Header;

  if (b0 & 0x70) return fail(out, close_code::kProtocolError, "reserved bits set");
  if (!is_known_opcode(opcode_)) return fail(out, close_code::kProtocolError, "reserved opcode");
  if (masked_ != expect_masked_) {
    return fail(out, close_code::kProtocolError,
                expect_masked_ ? "unmasked client frame" : "masked server frame");
  }
  if (is_control(opcode_)) {
    if (!fin_) return fail(out, close_code::kProtocolError, "fragmented control frame");
    if (len7 > 125) return fail(out, close_code::kProtocolError, "control frame too long");
  } else {
    const auto op = static_cast<WsOpcode>(opcode_);
    if (op == WsOpcode::Continuation && !in_message_)
      return fail(out, close_code::kProtocolError, "continuation without a message");
    if (op != WsOpcode::Continuation && in_message_)
      return fail(out, close_code::kProtocolError, "new message inside a fragmented one");
    if (op == WsOpcode::Binary) return fail(out, close_code::kUnsupportedData, "text frames only");
  }

  std::uint64_t len = len7;
  std::size_t pos = 2;
  if (len7 == 126) {
    len = (std::uint64_t{hdr_[2]} << 8) | hdr_[3];
    pos = 4;
    if (len < 126) return fail(out, close_code::kProtocolError, "non-minimal length");
  } else if (len7 == 127) {
    len = 0;
    for (int k = 0; k < 8; ++k) len = (len << 8) | hdr_[2 + k];
    pos = 10;
    if (len >> 63) return fail(out, close_code::kProtocolError, "length top bit set");
    if (len <= 0xffff) return fail(out, close_code::kProtocolError, "non-minimal length");
  }
  if (masked_) {
    std::memcpy(mask_, hdr_ + pos, 4);
  } else {
    std::memset(mask_, 0, 4);
  }
  mask_pos_ = 0;
  remaining_ = len;

  if (is_control(opcode_)) {
    control_.clear();
  } else {
    if (len > max_message_ || message_.size() > max_message_ - len)
      return fail(out, close_code::kTooBig, "message too big");
    if (static_cast<WsOpcode>(opcode_) == WsOpcode::Text) {
      in_message_ = true;
      message_.clear();
      utf8_.reset();
      // The first frame's size is a good guess for the whole message (bounded by the limit).
      // Later fragments grow the buffer geometrically (never one reallocation per fragment).
      message_.reserve(static_cast<std::size_t>(len));
    }
  }
  state_ = len ? State::Payload : State::Header;
  return true;
}

void FrameReader::payload_bytes(const char* p, std::size_t n, std::vector<ReadEvent>& out) {
  std::string& dst = is_control(opcode_) ? control_ : message_;
  const std::size_t at = dst.size();
  dst.append(p, n);
  if (masked_) apply_mask(&dst[at], n, mask_, mask_pos_);
  mask_pos_ += n;
  if (!is_control(opcode_) &&
      !utf8_.feed(reinterpret_cast<const unsigned char*>(dst.data() + at), n)) {
    fail(out, close_code::kInvalidPayload, "text is not valid UTF-8");
  }
}

void FrameReader::end_of_frame(std::vector<ReadEvent>& out) {
  state_ = State::Header;
  switch (static_cast<WsOpcode>(opcode_)) {
    case WsOpcode::Ping:
      out.push_back(ReadEvent{ReadEvent::Kind::Ping, std::move(control_), 0});
      control_.clear();
      return;
    case WsOpcode::Pong:
      out.push_back(ReadEvent{ReadEvent::Kind::Pong, std::move(control_), 0});
      control_.clear();
      return;
    case WsOpcode::Close: {
      if (control_.size() == 1) {
        fail(out, close_code::kProtocolError, "close frame with a 1-byte payload");
        return;
      }
      int code = close_code::kNoStatus;
      std::string reason;
      if (control_.size() >= 2) {
        code = (static_cast<unsigned char>(control_[0]) << 8) |
               static_cast<unsigned char>(control_[1]);
        if (!close_code_allowed_on_wire(code)) {
          fail(out, close_code::kProtocolError, "invalid close code");
          return;
        }
        reason = control_.substr(2);
        if (!valid_utf8(reason.data(), reason.size())) {
          fail(out, close_code::kProtocolError, "close reason is not UTF-8");
          return;
        }
      }
      done_ = true;
      std::string().swap(message_);
      out.push_back(ReadEvent{ReadEvent::Kind::Close, std::move(reason), code});
      return;
    }
    default:
      break;
  }
  // A data frame.
  if (!fin_) return;
  if (!utf8_.complete()) {
    fail(out, close_code::kInvalidPayload, "text ends inside a UTF-8 sequence");
    return;
  }
  in_message_ = false;
  out.push_back(ReadEvent{ReadEvent::Kind::Text, std::move(message_), 0});
  message_ = std::string();
  utf8_.reset();
}

}  // namespace socp::transport
