// transport/ws_session.cpp — the per-connection WebSocket state machine (see ws_session.h).
#include "transport/ws_session.h"

#include <openssl/rand.h>

#include <utility>

namespace socp::transport {

namespace {

std::string close_payload(int code, std::string_view reason) {
  if (code == close_code::kNoStatus) return {};
  std::string p;
  p.push_back(static_cast<char>((code >> 8) & 0xff));
  p.push_back(static_cast<char>(code & 0xff));
  p.append(reason.data(), reason.size());
  return p;
}

}  // namespace

WsSession::WsSession(Role role, std::size_t max_message)
    : role_(role), reader_(role == Role::Server, max_message) {}

void WsSession::start_client(std::string_view host_header, std::string_view path) {
  if (role_ != Role::Client || state_ != State::Handshake || !client_key_.empty()) return;
  client_key_ = new_websocket_key();
  http_out_ = client_request(host_header, path, client_key_);
}

std::string WsSession::frame(WsOpcode op, std::string_view payload) const {
  if (role_ == Role::Server) return encode_frame(op, payload);
  unsigned char mask[4];
  if (RAND_bytes(mask, sizeof mask) != 1) {
    // The masking key only protects intermediaries from cache poisoning (RFC 6455 §10.3);
    // fall back to something that varies rather than fail the frame.
    const auto v = reinterpret_cast<std::uintptr_t>(payload.data()) ^ payload.size();
    for (int i = 0; i < 4; ++i) mask[i] = static_cast<unsigned char>(v >> (8 * i));
  }
  return encode_frame(op, payload, true, mask);
}

// ---- input ----------------------------------------------------------------------------------

void WsSession::on_bytes(const char* p, std::size_t n, std::vector<SessionEvent>& out) {
  if (state_ == State::Closed || n == 0) return;
  if (state_ == State::Handshake) {
    handshake_bytes(p, n, out);
    return;
  }
  frame_bytes(p, n, out);
}

void WsSession::handshake_bytes(const char* p, std::size_t n, std::vector<SessionEvent>& out) {
  const std::size_t used = head_.feed(p, n);
  switch (head_.status()) {
    case HeadCollector::Status::Incomplete:
      return;
    case HeadCollector::Status::TooLarge:
      state_ = State::Closed;
      close_reason_ = "HTTP head too large";
      if (role_ == Role::Server)
        http_out_ = http_response(431, "text/plain; charset=utf-8", "socp: head too large\n");
      return;
    case HeadCollector::Status::Complete:
      break;
  }
  if (role_ == Role::Client) {
    std::string why = check_server_response(head_.head(), client_key_);
    if (!why.empty()) {
      state_ = State::Closed;
      close_reason_ = std::move(why);
      return;
    }
    state_ = State::Open;
    opened_ = true;
    out.push_back(SessionEvent{SessionEvent::Kind::Open, {}, {}});
  } else {
    ServerDecision d = decide_request(head_.head());
    switch (d.kind) {
      case ServerDecision::Kind::Reject:
        state_ = State::Closed;
        close_reason_ = std::move(d.why);
        http_out_ = std::move(d.response);
        return;
      case ServerDecision::Kind::Http:
        state_ = State::Closed;  // one request per connection; respond_http() answers it
        close_reason_ = "plain HTTP request";
        out.push_back(
            SessionEvent{SessionEvent::Kind::Http, std::move(d.path), std::move(d.method)});
        return;
      case ServerDecision::Kind::Upgrade:
        state_ = State::Open;
        opened_ = true;
        http_out_ = std::move(d.response);
        out.push_back(SessionEvent{SessionEvent::Kind::Open, std::move(d.subprotocol), {}});
        break;
    }
  }
  // Frames may follow the head in the same read.
  if (used < n) frame_bytes(p + used, n - used, out);
}

void WsSession::frame_bytes(const char* p, std::size_t n, std::vector<SessionEvent>& out) {
  std::vector<ReadEvent> evs;
  reader_.feed(p, n, evs);
  for (ReadEvent& ev : evs) {
    if (state_ == State::Closed) break;
    switch (ev.kind) {
      case ReadEvent::Kind::Text:
        // Messages arriving after we decided to close are of no interest to the owner.
        if (state_ == State::Open)
          out.push_back(SessionEvent{SessionEvent::Kind::Message, std::move(ev.data), {}});
        break;
      case ReadEvent::Kind::Ping:
        if (!close_sent_) pong_ = std::move(ev.data);  // only the latest ping is answered
        if (state_ == State::Open)
          out.push_back(SessionEvent{SessionEvent::Kind::Activity, {}, {}});
        break;
      case ReadEvent::Kind::Pong:
        if (state_ == State::Open)
          out.push_back(SessionEvent{SessionEvent::Kind::Activity, {}, {}});
        break;
      case ReadEvent::Kind::Close:
        peer_closed_ = true;
        if (state_ == State::Open) {
          close_code_ = ev.code;
          close_reason_ = std::move(ev.data);
          // Answer at once: what we still had queued would not be read anyway.
          data_.clear();
          data_bytes_ = 0;
          close_frame_ = frame(WsOpcode::Close, close_payload(ev.code, {}));
        } else if (!close_sent_) {
          // We were draining data before our own close: the peer has gone, stop now.
          data_.clear();
          data_bytes_ = 0;
        }
        state_ = State::Closed;
        break;
      case ReadEvent::Kind::Fail:
        fail(ev.code, ev.data);
        break;
    }
  }
}

// ---- output ---------------------------------------------------------------------------------

void WsSession::respond_http(int status, std::string_view content_type, std::string_view body,
                             std::string_view extra_headers) {
  if (role_ != Role::Server || opened_ || !http_out_.empty()) return;
  http_out_ = http_response(status, content_type, body, extra_headers);
}

bool WsSession::send_text(std::string_view text) {
  if (state_ != State::Open) return false;
  data_.push_back(frame(WsOpcode::Text, text));
  data_bytes_ += data_.back().size();
  return true;
}

void WsSession::send_ping(std::string_view payload) {
  if (state_ != State::Open) return;
  ping_ = std::string(payload.substr(0, 125));
}

void WsSession::close(int code, std::string_view reason) {
  if (state_ == State::Handshake) {
    state_ = State::Closed;
    close_code_ = code;
    close_reason_ = std::string(reason);
    return;
  }
  if (state_ != State::Open) return;
  state_ = State::Closing;
  close_code_ = code;
  close_reason_ = std::string(reason);
  close_frame_ = frame(WsOpcode::Close, close_payload(code, reason));
}

void WsSession::fail(int code, std::string_view reason) {
  const bool was_handshake = state_ == State::Handshake;
  const bool already_closed = state_ == State::Closed;
  state_ = State::Closed;
  if (already_closed) return;
  close_code_ = code;
  close_reason_ = std::string(reason);
  if (was_handshake) return;
  data_.clear();
  data_bytes_ = 0;
  pong_.reset();
  ping_.reset();
  if (!close_sent_) close_frame_ = frame(WsOpcode::Close, close_payload(code, reason));
}

void WsSession::refill() {
  cur_.clear();
  cur_off_ = 0;
  if (!http_out_.empty()) {
    cur_.swap(http_out_);
    return;
  }
  if (close_sent_ || state_ == State::Handshake) return;
  if (pong_) {
    cur_ = frame(WsOpcode::Pong, *pong_);
    pong_.reset();
    return;
  }
  if (ping_) {
    cur_ = frame(WsOpcode::Ping, *ping_);
    ping_.reset();
    return;
  }
  if (!data_.empty()) {
    cur_ = std::move(data_.front());
    data_.pop_front();
    data_bytes_ -= cur_.size();
    return;
  }
  if (close_frame_) {
    cur_ = std::move(*close_frame_);
    close_frame_.reset();
    close_sent_ = true;
  }
}

std::string_view WsSession::pending() {
  if (cur_off_ >= cur_.size()) refill();
  return std::string_view(cur_).substr(cur_off_);
}

void WsSession::consumed(std::size_t n) {
  cur_off_ += n;
  if (cur_off_ > cur_.size()) cur_off_ = cur_.size();
  if (cur_off_ == cur_.size()) {
    // Give large frames' memory back as soon as they are written.
    if (cur_.capacity() > 64 * 1024) std::string().swap(cur_);
    cur_.clear();
    cur_off_ = 0;
  }
}

bool WsSession::finished() {
  return state_ == State::Closed && pending().empty();
}

}  // namespace socp::transport
