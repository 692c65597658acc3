// WsHost as a WebSocket *client* (outgoing links, socp-cli) against a server played by the
// test (FakeWsServer): the handshake is checked, frames from the server must be unmasked, and
// the same RFC 6455 rules apply as on the server side. Also the crash of a client connection
// closed from inside its own receive callback (a message over its limit).
#include <catch2/catch.hpp>

#include <string>

#include "transport_test_util.h"

using namespace socp;
using namespace socp::test;

namespace {

constexpr ConnId kDial = kOutgoingBit | 5;

struct Client {
  Recorder rec;
  std::unique_ptr<WsHost> host;
  std::unique_ptr<LoopThread> loop;
  explicit Client(std::size_t max_frame = 1u << 20) {
    WsHostOptions opt;
    opt.max_frame = max_frame;
    auto h = WsHost::create(opt, rec);
    REQUIRE(h.ok());
    host = std::move(h.value());
    rec.host = host.get();
    loop = std::make_unique<LoopThread>(*host);
  }
  void dial(std::uint16_t port) {
    WsHost* h = host.get();
    host->post([h, port] { h->connect(kDial, "127.0.0.1", port); });
  }
  bool wait_closed() {
    return rec.wait([&] { return !rec.closes.empty(); }, std::chrono::milliseconds(5000));
  }
};

std::string server_text(const std::string& s) {
  FrameOpts o;
  o.mask = false;
  return ws_frame(1, s, o);
}

}  // namespace

TEST_CASE("client: a text frame arrives, our frames are masked, server close is answered",
          "[transport][rfc6455]") {
  FakeWsServer fake;
  FrameOpts o;
  o.mask = false;
  const std::uint16_t port =
      fake.start(server_text("welcome") + ws_frame(8, close_payload(1000, "bye"), o));
  REQUIRE(port != 0);
  Client c;
  c.rec.on_frame_hook = [&](ConnId id, const std::string&) { c.host->send(id, "thanks"); };
  c.dial(port);
  REQUIRE(c.wait_closed());
  REQUIRE(fake.wait_done());
  CHECK(c.rec.frames_of(kDial) == std::vector<std::string>{"welcome"});
  CHECK(c.rec.close_count(kDial) == 1);
  CHECK(fake.close_code() == 1000);
  CHECK(fake.all_masked());
  CHECK(fake.request().rfind("GET / HTTP/1.1\r\n", 0) == 0);
}

TEST_CASE("client: a masked frame from the server -> close 1002", "[transport][rfc6455]") {
  FakeWsServer fake;
  const std::uint16_t port = fake.start(ws_frame(1, "masked"));  // FrameOpts: masked
  REQUIRE(port != 0);
  Client c;
  c.dial(port);
  REQUIRE(fake.wait_done());
  CHECK(fake.close_code() == 1002);
  REQUIRE(c.wait_closed());
  CHECK(c.rec.frames_of(kDial).empty());
}

TEST_CASE("client: RSV bits from the server -> close 1002", "[transport][rfc6455]") {
  FakeWsServer fake;
  FrameOpts o;
  o.mask = false;
  o.rsv = 4;
  const std::uint16_t port = fake.start(ws_frame(1, "x", o));
  REQUIRE(port != 0);
  Client c;
  c.dial(port);
  REQUIRE(fake.wait_done());
  CHECK(fake.close_code() == 1002);
  REQUIRE(c.wait_closed());
}

TEST_CASE("client: invalid UTF-8 from the server -> close 1007", "[transport][rfc6455]") {
  FakeWsServer fake;
  const std::uint16_t port = fake.start(server_text("bad \xed\xa0\x80"));
  REQUIRE(port != 0);
  Client c;
  c.dial(port);
  REQUIRE(fake.wait_done());
  CHECK(fake.close_code() == 1007);
  REQUIRE(c.wait_closed());
  CHECK(c.rec.frames_of(kDial).empty());
}

// Regression (task 3): a joining server crashed (SIGSEGV in libwebsockets) when the
// introducer's welcome exceeded the outgoing connection's limit and the client connection
// was closed from inside its own receive callback.
TEST_CASE("client: a 2 MiB message over a 1 MiB limit closes 1009, no crash",
          "[transport][rfc6455]") {
  FakeWsServer fake;
  const std::uint16_t port = fake.start(server_text(std::string(2u << 20, 'w')));
  REQUIRE(port != 0);
  Client c(1u << 20);
  c.dial(port);
  REQUIRE(c.wait_closed());
  CHECK(c.rec.close_count(kDial) == 1);
  CHECK(c.rec.frames_of(kDial).empty());
  REQUIRE(fake.wait_done());
  CHECK(fake.close_code() == 1009);
  // The host is still usable afterwards.
  FakeWsServer again;
  const std::uint16_t port2 = again.start(server_text("ok"));
  WsHost* h = c.host.get();
  constexpr ConnId kSecond = kOutgoingBit | 6;
  c.host->post([h, port2] { h->connect(kSecond, "127.0.0.1", port2); });
  REQUIRE(c.rec.wait([&] { return !c.rec.frames[kSecond].empty(); }));
}

TEST_CASE("client: a wrong Sec-WebSocket-Accept fails the connection", "[transport][rfc6455]") {
  FakeWsServer fake;
  const std::uint16_t port =
      fake.start(server_text("never seen"),
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n");
  REQUIRE(port != 0);
  Client c;
  c.dial(port);
  REQUIRE(c.wait_closed());
  CHECK(c.rec.opened().empty());
  CHECK(c.rec.frames_of(kDial).empty());
}

TEST_CASE("client: a plain HTTP answer fails the connection", "[transport][rfc6455]") {
  FakeWsServer fake;
  const std::uint16_t port =
      fake.start("", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi");
  REQUIRE(port != 0);
  Client c;
  c.dial(port);
  REQUIRE(c.wait_closed());
  CHECK(c.rec.opened().empty());
}
