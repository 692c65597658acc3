// Helpers for the real-socket transport tests: free ports, a recording Handler, a host running
// on its own thread, and a minimal blocking WebSocket client for wire-level checks.
// Every wait is bounded (condition variable with a deadline or a socket receive timeout).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "socp/ws_host.h"

namespace socp::test {

/// A port that was free a moment ago (bind 127.0.0.1:0, read it, close).
std::uint16_t free_port();

/// Creates a listening host on a free port, retrying a few times if the port got taken.
Result<std::unique_ptr<WsHost>> create_listener(WsHostOptions opt, WsHost::Handler& h,
                                                std::uint16_t* port_out);

/// Records every Handler event; optionally echoes frames back or runs a hook.
class Recorder : public WsHost::Handler {
 public:
  WsHost* host = nullptr;  ///< set after create; used by echo
  bool echo = false;
  std::function<void(ConnId, const std::string&)> on_frame_hook;  ///< loop thread
  std::function<void(ConnId)> on_open_hook;                       ///< loop thread

  void on_open(ConnId c) override;
  void on_frame(ConnId c, std::string f) override;
  void on_close(ConnId c) override;

  /// Waits (bounded) until pred() holds, evaluated under the recorder's lock (so pred reads
  /// the fields directly and must not call the locking accessors below). The bound is well
  /// above libwebsockets' own timers: a connection it closes for a protocol error is reported
  /// closed only when its close handshake ends, which took 2-3 s on a loaded machine (3 s
  /// made "wire: a binary frame -> close 1003" fail about one run in 20).
  bool wait(const std::function<bool()>& pred,
            std::chrono::milliseconds limit = std::chrono::milliseconds(10000));
  /// Thread-safe snapshots.
  std::vector<ConnId> opened();
  std::vector<ConnId> closed_list();
  std::vector<std::string> frames_of(ConnId c);
  int close_count(ConnId c);

  // Guarded by mu (readable inside wait predicates).
  std::mutex mu;
  std::condition_variable cv;
  std::vector<ConnId> opens;
  std::vector<ConnId> closes;
  std::map<ConnId, std::vector<std::string>> frames;
  std::set<std::thread::id> callback_threads;
};

/// Runs host->run() on its own thread; stop_and_join() stops it (bounded by the test).
class LoopThread {
 public:
  explicit LoopThread(WsHost& host);
  ~LoopThread();
  void stop_and_join();
  int rc() const { return rc_; }
  std::thread::id id() const { return thread_.get_id(); }

 private:
  WsHost& host_;
  int rc_ = -1;
  std::thread thread_;
};

/// How ws_frame() lays out one frame; the defaults make a well-formed masked client frame.
struct FrameOpts {
  bool fin = true;
  bool mask = true;
  int rsv = 0;       ///< the three RSV bits (0..7)
  int len_form = 0;  ///< 0 = minimal, 126 = force 16-bit, 127 = force 64-bit length
  /// Announced payload length instead of payload.size() (the payload is sent as given).
  std::uint64_t announce = ~std::uint64_t{0};
};

/// One WebSocket frame exactly as described (used to break the rules on purpose).
std::string ws_frame(int opcode, const std::string& payload, FrameOpts o = {});
/// A close frame payload: 2-byte code + reason.
std::string close_payload(int code, const std::string& reason = {});

/// A frame as read off the wire.
struct WireFrame {
  bool fin = true;
  bool masked = false;
  int opcode = 0;
  std::string payload;  ///< unmasked
};

/// Reads one frame from a blocking socket (unmasking if needed); false on timeout/EOF or a
/// frame over 64 MiB.
bool read_wire_frame(int fd, WireFrame& out);
/// Connects to 127.0.0.1:port with a receive timeout (-1 on failure), optionally from a given
/// local address.
int connect_loopback(std::uint16_t port, int timeout_s = 3, const char* source_ip = nullptr);
/// Writes all bytes (false on error).
bool write_all(int fd, const std::string& bytes);

/// Runs fn on the host's loop thread and returns its result (nullopt if the loop did not run
/// it within `limit`).
template <typename Fn>
auto on_loop(WsHost& host, Fn fn, std::chrono::milliseconds limit = std::chrono::milliseconds(3000))
    -> std::optional<decltype(fn())> {
  using T = decltype(fn());
  auto state = std::make_shared<std::pair<std::mutex, std::condition_variable>>();
  auto result = std::make_shared<std::optional<T>>();
  host.post([state, result, fn] {
    T v = fn();
    std::lock_guard<std::mutex> lk(state->first);
    *result = std::move(v);
    state->second.notify_all();
  });
  std::unique_lock<std::mutex> lk(state->first);
  state->second.wait_for(lk, limit, [&] { return result->has_value(); });
  return *result;
}

/// A temporary directory under /tmp, removed (with its files) by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// A self-signed certificate made at test time (EC P-256, CN=localhost, SAN DNS:localhost and
/// IP:127.0.0.1, usable as its own CA). Never committed anywhere.
struct TestCert {
  std::string cert_file;  ///< PEM
  std::string key_file;   ///< PEM
  std::string sha256;     ///< fingerprint of the DER certificate, "AB:CD:..." (openssl style)
};
/// Writes cert.pem/key.pem (with `prefix`) into dir. Fails the test on error.
TestCert make_test_cert(const TempDir& dir, const std::string& prefix = "");

/// Log lines collected from a WsHost (thread-safe).
struct LogCapture {
  std::mutex mu;
  std::vector<std::string> lines;
  LogFn fn() {
    return [this](LogLevel, std::string_view m) {
      std::lock_guard<std::mutex> lk(mu);
      lines.emplace_back(m);
    };
  }
  bool contains(const std::string& needle) {
    std::lock_guard<std::mutex> lk(mu);
    for (const auto& l : lines)
      if (l.find(needle) != std::string::npos) return true;
    return false;
  }
};

/// A tiny blocking WebSocket client speaking raw bytes (3 s receive timeout).
class RawWs {
 public:
  ~RawWs();
  /// TCP connect + handshake with extra request headers ("Name: value\r\n" lines).
  /// Returns the HTTP response head ("" on socket failure).
  std::string open(std::uint16_t port, const std::string& extra_headers = {});
  /// TCP connect only (for hand-written requests); false on failure. `source_ip` binds the
  /// local end first (e.g. "127.0.0.2", another loopback address).
  bool connect_only(std::uint16_t port, const char* source_ip = nullptr);
  /// Like open() but from a given local address.
  std::string open_from(const char* source_ip, std::uint16_t port);
  /// Sends one masked frame.
  bool send_frame(int opcode, const std::string& payload, bool fin = true);
  /// Sends bytes as they are (in pieces of `piece` bytes if non-zero).
  bool send_bytes(const std::string& bytes, std::size_t piece = 0);
  /// Reads one frame; false on timeout/EOF.
  bool read_frame(int& opcode, std::string& payload);
  /// Reads until EOF (or timeout), at most `max` bytes.
  std::string read_until_eof(std::size_t max = 1 << 20);
  /// Reads frames until a close frame, acknowledges it and returns its status code (-1 if
  /// none arrived).
  int read_close_code();
  int fd() const { return fd_; }

 private:
  std::string handshake(std::uint16_t port, const std::string& extra_headers);
  bool read_exact(char* p, std::size_t n);
  int fd_ = -1;
};

/// A one-connection WebSocket *server* played by the test, to check WsHost as a client.
/// start() listens on 127.0.0.1:0; a thread accepts one connection, reads the upgrade request,
/// answers with `response` (default: a correct 101 for the request's key; "{accept}" in a
/// custom response is replaced by the correct Sec-WebSocket-Accept), writes `script` bytes,
/// then reads client frames until a close frame or EOF and records them.
class FakeWsServer {
 public:
  ~FakeWsServer();
  std::uint16_t start(std::string script, std::string response = {});
  /// Waits (bounded) for the connection to end; true if it did.
  bool wait_done(std::chrono::milliseconds limit = std::chrono::milliseconds(5000));
  /// The client's close code (-1: none, 1005: empty close frame). Valid after wait_done.
  int close_code() const { return close_code_; }
  const std::vector<WireFrame>& frames() const { return frames_; }
  const std::string& request() const { return request_; }
  bool all_masked() const { return all_masked_; }

 private:
  void serve(std::string script, std::string response);
  int lfd_ = -1;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  int close_code_ = -1;
  bool all_masked_ = true;
  std::vector<WireFrame> frames_;
  std::string request_;
};

}  // namespace socp::test
