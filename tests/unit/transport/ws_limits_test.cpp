// Per-connection limits of WsHost: the pre-authentication message limit (and set_max_frame),
// caps on accepted connections (total and per remote IP, refused at accept time, logged and
// counted), peer addresses for logs, and the ephemeral listening port.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <string>
#include <vector>

#include "transport_test_util.h"

using namespace socp;
using namespace socp::test;

namespace {

struct Listener {
  Recorder rec;
  LogCapture logs;
  std::unique_ptr<WsHost> host;
  std::unique_ptr<LoopThread> loop;
  std::uint16_t port = 0;
  explicit Listener(WsHostOptions opt = {}) {
    rec.echo = true;
    opt.log = logs.fn();
    auto s = create_listener(opt, rec, &port);
    REQUIRE(s.ok());
    host = std::move(s.value());
    rec.host = host.get();
    loop = std::make_unique<LoopThread>(*host);
  }
  WsHostStats stats() {
    WsHost* h = host.get();
    auto st = on_loop(*h, [h] { return h->stats(); });
    REQUIRE(st.has_value());
    return *st;
  }
  // Waits (bounded) until the host counts `n` connections.
  bool wait_connections(std::size_t n) {
    for (int i = 0; i < 300; ++i) {
      if (stats().connections == n) return true;
      rec.wait([] { return false; }, std::chrono::milliseconds(10));
    }
    return false;
  }
};

FrameOpts nofin() {
  FrameOpts o;
  o.fin = false;
  return o;
}

// An open handshake without a 101 (refused at accept: the socket is simply closed).
bool refused(RawWs& ws) {
  return ws.read_until_eof(4096).empty();
}

}  // namespace

// Regression: every accepted connection used to buffer fragments up to max_frame (8 MiB), so
// ten strangers could make the host hold ~75 MiB of unfinished messages without ever
// logging in. Now a stranger's message may be at most max_frame_unauthenticated (64 KiB),
// decided from each frame header, so the host never holds more than 10 x 64 KiB.
TEST_CASE("limits: ten unauthenticated connections cannot hold 75 MiB of fragments",
          "[transport][limits]") {
  WsHostOptions opt;  // the defaults: max_frame 8 MiB, max_frame_unauthenticated 64 KiB
  Listener l(opt);
  constexpr int kConns = 10;
  const std::size_t per_conn_bound = std::min(opt.max_frame_unauthenticated, opt.max_frame);
  std::vector<std::unique_ptr<RawWs>> conns;
  for (int i = 0; i < kConns; ++i) {
    conns.push_back(std::make_unique<RawWs>());
    REQUIRE(conns.back()->open(l.port).rfind("HTTP/1.1 101", 0) == 0);
  }
  // All ten start a message (60 KiB, under the limit: buffered), then each goes on to send
  // 7.5 MiB in 60 KiB fragments and never finishes the message.
  const std::string fragment(60 * 1024, 'f');
  for (auto& ws : conns) REQUIRE(ws->send_bytes(ws_frame(1, fragment, nofin())));
  std::string rest;
  for (int k = 1; k < 128; ++k) rest += ws_frame(0, fragment, nofin());  // 128 x 60 KiB
  for (auto& ws : conns) {
    ws->send_bytes(rest);  // may fail half-way: the host closes the connection early
    CHECK(ws->read_close_code() == 1009);
  }
  const WsHostStats st = l.stats();
  CHECK(st.rx_buffered_peak <= kConns * per_conn_bound);
  CHECK(st.rx_buffered_peak >= fragment.size());  // the first fragments were buffered
  REQUIRE(l.wait_connections(0));
  CHECK(l.stats().rx_buffered == 0);
  CHECK(l.rec.frames.empty());
}

TEST_CASE("limits: set_max_frame raises and lowers a connection's limit", "[transport][limits]") {
  Listener l;
  l.rec.on_frame_hook = [&](ConnId c, const std::string& f) {
    if (f == "raise") l.host->set_max_frame(c, 1u << 20);
    if (f == "lower") l.host->set_max_frame(c, 10);
  };
  RawWs ws;
  REQUIRE(ws.open(l.port).rfind("HTTP/1.1 101", 0) == 0);
  int op = 0;
  std::string p;
  REQUIRE(ws.send_frame(1, "raise"));
  REQUIRE(ws.read_frame(op, p));
  const std::string big(512 * 1024, 'b');  // over 64 KiB, under 1 MiB
  REQUIRE(ws.send_frame(1, big));
  REQUIRE(ws.read_frame(op, p));
  CHECK(p == big);
  REQUIRE(ws.send_frame(1, "lower"));
  REQUIRE(ws.read_frame(op, p));
  REQUIRE(ws.send_frame(1, "eleven byte"));
  CHECK(ws.read_close_code() == 1009);
}

TEST_CASE("limits: outgoing connections start at max_frame", "[transport][limits]") {
  FakeWsServer fake;
  FrameOpts o;
  o.mask = false;
  const std::string msg(200 * 1024, 'm');  // over the 64 KiB pre-auth limit
  const std::uint16_t port = fake.start(ws_frame(1, msg, o));
  REQUIRE(port != 0);
  Recorder rec;
  auto h = WsHost::create(WsHostOptions{}, rec);
  REQUIRE(h.ok());
  LoopThread loop(*h.value());
  WsHost* host = h.value().get();
  constexpr ConnId kDial = kOutgoingBit | 3;
  host->post([host, port] { host->connect(kDial, "127.0.0.1", port); });
  REQUIRE(rec.wait([&] { return !rec.frames[kDial].empty(); }));
  CHECK(rec.frames_of(kDial)[0] == msg);
}

TEST_CASE("limits: max_connections refuses further connections at accept time",
          "[transport][limits]") {
  WsHostOptions opt;
  opt.max_connections = 3;
  Listener l(opt);
  std::vector<std::unique_ptr<RawWs>> conns;
  for (int i = 0; i < 3; ++i) {
    conns.push_back(std::make_unique<RawWs>());
    REQUIRE(conns.back()->open(l.port).rfind("HTTP/1.1 101", 0) == 0);
  }
  {
    RawWs fourth;
    REQUIRE(fourth.connect_only(l.port));
    CHECK(refused(fourth));
  }
  WsHostStats st = l.stats();
  CHECK(st.refused_max_connections == 1);
  CHECK(st.accepted_total == 3);
  CHECK(l.logs.contains("refused connection from 127.0.0.1: too many connections"));
  // One leaves: there is room again.
  conns.pop_back();
  REQUIRE(l.wait_connections(2));
  RawWs again;
  CHECK(again.open(l.port).rfind("HTTP/1.1 101", 0) == 0);
}

TEST_CASE("limits: max_connections_per_ip counts each remote address", "[transport][limits]") {
  WsHostOptions opt;
  opt.max_connections_per_ip = 2;
  Listener l(opt);
  RawWs a, b, c, other;
  REQUIRE(a.open(l.port).rfind("HTTP/1.1 101", 0) == 0);
  REQUIRE(b.open(l.port).rfind("HTTP/1.1 101", 0) == 0);
  REQUIRE(c.connect_only(l.port));
  CHECK(refused(c));
  // 127.0.0.2 is another loopback address: its own count.
  CHECK(other.open_from("127.0.0.2", l.port).rfind("HTTP/1.1 101", 0) == 0);
  const WsHostStats st = l.stats();
  CHECK(st.refused_per_ip == 1);
  CHECK(st.refused_max_connections == 0);
  CHECK(l.logs.contains("refused connection from 127.0.0.1: too many connections from this"));
}

TEST_CASE("limits: peer_address gives ip:port for logs", "[transport][limits]") {
  Listener l;
  std::string seen;
  l.rec.on_open_hook = [&](ConnId c) {
    std::lock_guard<std::mutex> lk(l.rec.mu);
    seen = l.host->peer_address(c);
  };
  RawWs ws;
  REQUIRE(ws.open(l.port).rfind("HTTP/1.1 101", 0) == 0);
  REQUIRE(l.rec.wait([&] { return !seen.empty(); }));
  sockaddr_in local{};
  socklen_t len = sizeof local;
  REQUIRE(::getsockname(ws.fd(), reinterpret_cast<sockaddr*>(&local), &len) == 0);
  {
    std::lock_guard<std::mutex> lk(l.rec.mu);
    CHECK(seen == "127.0.0.1:" + std::to_string(ntohs(local.sin_port)));
  }
  WsHost* h = l.host.get();
  CHECK(on_loop(*h, [h] { return h->peer_address(424242); }) == std::string());
}

TEST_CASE("listen port 0: `listen` picks an ephemeral port, listen_port() reports it",
          "[transport][limits]") {
  Recorder rec;
  WsHostOptions opt;
  opt.listen = true;
  opt.listen_port = 0;
  auto h = WsHost::create(opt, rec);
  REQUIRE(h.ok());
  const std::uint16_t port = h.value()->listen_port();
  REQUIRE(port != 0);
  rec.echo = true;
  rec.host = h.value().get();
  LoopThread loop(*h.value());
  RawWs ws;
  REQUIRE(ws.open(port).rfind("HTTP/1.1 101", 0) == 0);
  REQUIRE(ws.send_frame(1, "here"));
  int op = 0;
  std::string p;
  REQUIRE(ws.read_frame(op, p));
  CHECK(p == "here");

  // Port 0 without `listen` is still a client-only host.
  Recorder rec2;
  auto client_only = WsHost::create(WsHostOptions{}, rec2);
  REQUIRE(client_only.ok());
  CHECK(client_only.value()->listen_port() == 0);
}
