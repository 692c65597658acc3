// transport/ws_conn.cpp — queue accounting and fragment reassembly for one connection.
#include "transport/ws_conn.h"

#include <utility>

namespace socp::transport {

std::size_t WsConn::push(const std::string& text, std::size_t headroom) {
  OutFrame f;
  f.buf.reserve(headroom + text.size());
  f.buf.assign(headroom, '\0');
  f.buf.append(text);
  headroom_ = headroom;
  queued_bytes_ += text.size();
  queue_.push_back(std::move(f));
  return queued_bytes_;
}

void WsConn::pop() {
  // Accounting counts payload bytes only; the headroom is a constant per frame.
  queued_bytes_ -= queue_.front().buf.size() - headroom_;
  queue_.pop_front();
}

void WsConn::clear_queue() noexcept {
  queue_.clear();
  queued_bytes_ = 0;
}

void WsConn::mark_closing(int code, std::string reason) {
  if (closing_) return;
  closing_ = true;
  close_code_ = code;
  close_reason_ = std::move(reason);
}

bool WsConn::append_fragment(const char* data, std::size_t n, std::size_t max) {
  if (n > max || rx_.size() > max - n) return false;
  rx_.append(data, n);
  return true;
}

std::string WsConn::take_message() {
  std::string out = std::move(rx_);
  rx_.clear();
  return out;
}

}  // namespace socp::transport
