// Two real WsHosts on 127.0.0.1 in one process for socp-cli tests: a listening "server" that
// can send a frame as soon as a connection opens, and a client-only host (with the options
// under test) dialling it. Each loop runs on its own thread; every wait has a deadline.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "socp/ws_host.h"

namespace socp::test {

/// Records what one host's handler sees (loop thread), readable under `mu` from the test.
struct LoopbackRecorder : WsHost::Handler {
  WsHost* host = nullptr;
  std::string send_on_open;  ///< sent to every connection as it opens (server side)

  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> frames;
  bool opened = false;
  bool closed = false;

  void on_open(ConnId c) override {
    if (!send_on_open.empty()) host->send(c, send_on_open);
    std::lock_guard<std::mutex> lock(mu);
    opened = true;
    cv.notify_all();
  }
  void on_frame(ConnId, std::string f) override {
    std::lock_guard<std::mutex> lock(mu);
    frames.push_back(std::move(f));
    cv.notify_all();
  }
  void on_close(ConnId) override {
    std::lock_guard<std::mutex> lock(mu);
    closed = true;
    cv.notify_all();
  }
  /// Waits until pred() (evaluated under `mu`) holds; false after 20 s.
  bool wait(const std::function<bool()>& pred) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(20), pred);
  }
};

inline std::uint16_t loopback_free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

class LoopbackPair {
 public:
  static constexpr ConnId kDial = kOutgoingBit | 1;

  explicit LoopbackPair(WsHostOptions client_opt) {
    std::unique_ptr<WsHost> s;
    for (int attempt = 0; attempt < 5 && !s; ++attempt) {
      WsHostOptions so;
      so.listen_port = loopback_free_port();
      so.max_queue_bytes = 256u << 20;
      auto r = WsHost::create(so, server);
      if (r.ok()) {
        port_ = so.listen_port;
        s = std::move(r).value();
      }
    }
    REQUIRE(s);
    server_host_ = std::move(s);
    server.host = server_host_.get();
    client_opt.listen_port = 0;
    auto c = WsHost::create(client_opt, client);
    REQUIRE(c.ok());
    client_host_ = std::move(c).value();
    client.host = client_host_.get();
    server_thread_ = std::thread([this] { server_host_->run(); });
    client_thread_ = std::thread([this] { client_host_->run(); });
  }
  ~LoopbackPair() {
    client_host_->stop();
    server_host_->stop();
    client_thread_.join();
    server_thread_.join();
  }
  LoopbackPair(const LoopbackPair&) = delete;
  LoopbackPair& operator=(const LoopbackPair&) = delete;

  /// The server sends `frame` to each connection as soon as it is open. Before dial().
  void server_sends_on_open(std::string frame) { server.send_on_open = std::move(frame); }
  void dial() {
    WsHost* h = client_host_.get();
    const std::uint16_t p = port_;
    client_host_->post([h, p] { h->connect(kDial, "127.0.0.1", p); });
  }

  LoopbackRecorder server, client;

 private:
  std::uint16_t port_ = 0;
  std::unique_ptr<WsHost> server_host_, client_host_;
  std::thread server_thread_, client_thread_;
};

}  // namespace socp::test
