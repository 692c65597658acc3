// transport/ws_conn.h — per-connection C++ state of a WsHost (private).
//
// Owned by the WsHost registry (ConnId -> WsConn); libwebsockets only ever sees the ConnId
// (stored as the wsi's opaque user data), so nothing with a destructor lives in lws memory.
// Loop thread only.
#pragma once

#include <cstddef>
#include <deque>
#include <string>

#include "socp/server_core.h"  // ConnId

struct lws;

namespace socp::transport {

/// One queued outgoing text frame. `buf` holds LWS_PRE bytes of headroom followed by the
/// payload, so lws_write can frame it in place without another copy.
struct OutFrame {
  std::string buf;
};

class WsConn {
 public:
  WsConn(ConnId id, lws* wsi) : id_(id), wsi_(wsi) {}

  ConnId id() const noexcept { return id_; }
  lws* wsi() const noexcept { return wsi_; }
  void set_wsi(lws* wsi) noexcept { wsi_ = wsi; }

  /// True once on_open was delivered (accepted and established, or client connected).
  bool opened = false;
  /// "host:port" of an outgoing connection (for logs).
  std::string peer;

  // ---- outgoing queue ---------------------------------------------------------------------
  /// Appends a frame (copies `text` once behind `headroom` bytes). Returns the queued bytes.
  std::size_t push(const std::string& text, std::size_t headroom);
  bool has_frames() const noexcept { return !queue_.empty(); }
  OutFrame& front() { return queue_.front(); }
  void pop();
  void clear_queue() noexcept;
  std::size_t queued_bytes() const noexcept { return queued_bytes_; }

  // ---- closing ----------------------------------------------------------------------------
  bool closing() const noexcept { return closing_; }
  int close_code() const noexcept { return close_code_; }
  const std::string& close_reason() const noexcept { return close_reason_; }
  /// Marks the connection for closing once the queue drains (first call wins).
  void mark_closing(int code, std::string reason);

  // ---- reassembly -------------------------------------------------------------------------
  /// Appends a fragment; false (and nothing appended) if the message would exceed `max`.
  bool append_fragment(const char* data, std::size_t n, std::size_t max);
  /// Hands out the reassembled message and resets the buffer.
  std::string take_message();

 private:
  ConnId id_;
  lws* wsi_;
  std::deque<OutFrame> queue_;
  std::size_t queued_bytes_ = 0;
  std::size_t headroom_ = 0;
  bool closing_ = false;
  int close_code_ = 1000;
  std::string close_reason_;
  std::string rx_;
};

}  // namespace socp::transport
