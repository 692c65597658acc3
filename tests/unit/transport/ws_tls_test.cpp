// wss:// on both sides of WsHost with a self-signed certificate made by the test: a TLS
// listener, outgoing connections verified by a CA file or a pinned SHA-256, and the ways a
// TLS connection must fail (unknown CA, wrong pin, plain ws:// to a TLS port).
#include <catch2/catch.hpp>

#include <string>

#include "transport_test_util.h"

using namespace socp;
using namespace socp::test;

namespace {

constexpr ConnId kDial = kOutgoingBit | 9;

struct TlsPair {
  TempDir dir;
  TestCert cert = make_test_cert(dir);
  Recorder server_rec, client_rec;
  LogCapture client_logs;
  std::unique_ptr<WsHost> server, client;
  std::unique_ptr<LoopThread> server_loop, client_loop;
  std::uint16_t port = 0;

  /// `trust_as_ca`: the client trusts the server's (self-signed) certificate as a CA file.
  explicit TlsPair(bool trust_as_ca = false) {
    WsHostOptions sopt;
    sopt.listen = true;
    sopt.tls_cert_file = cert.cert_file;
    sopt.tls_key_file = cert.key_file;
    auto s = WsHost::create(sopt, server_rec);
    REQUIRE(s.ok());
    server = std::move(s.value());
    port = server->listen_port();
    server_rec.echo = true;
    server_rec.host = server.get();
    WsHostOptions copt;
    if (trust_as_ca) copt.tls_ca_file = cert.cert_file;
    copt.log = client_logs.fn();
    auto c = WsHost::create(copt, client_rec);
    REQUIRE(c.ok());
    client = std::move(c.value());
    client_rec.host = client.get();
    server_loop = std::make_unique<LoopThread>(*server);
    client_loop = std::make_unique<LoopThread>(*client);
  }
  ~TlsPair() {
    client_loop.reset();
    server_loop.reset();
  }
  void dial(const std::string& host, ConnectOptions co) {
    WsHost* h = client.get();
    const std::uint16_t p = port;
    client->post([h, host, p, co] { h->connect(kDial, host, p, co); });
  }
  bool echo_works() {
    if (!client_rec.wait([&] { return !client_rec.opens.empty() || !client_rec.closes.empty(); },
                         std::chrono::milliseconds(5000)))
      return false;
    if (client_rec.opened().empty()) return false;
    WsHost* h = client.get();
    client->post([h] { h->send(kDial, "over tls"); });
    return client_rec.wait([&] { return !client_rec.frames[kDial].empty(); }) &&
           client_rec.frames_of(kDial)[0] == "over tls";
  }
  bool failed_without_open() {
    return client_rec.wait([&] { return !client_rec.closes.empty(); },
                           std::chrono::milliseconds(5000)) &&
           client_rec.opened().empty();
  }
};

ConnectOptions tls(const std::string& pin = {}) {
  ConnectOptions co;
  co.tls = true;
  co.pin_sha256 = pin;
  return co;
}

}  // namespace

TEST_CASE("tls: a pinned certificate is accepted (self-signed, any name)", "[transport][tls]") {
  TlsPair p;
  p.dial("127.0.0.1", tls(p.cert.sha256));
  CHECK(p.echo_works());
}

TEST_CASE("tls: a CA file verifies the chain and the IP address", "[transport][tls]") {
  TlsPair p(true);
  p.dial("127.0.0.1", tls());
  CHECK(p.echo_works());
}

TEST_CASE("tls: an unknown CA fails the connection", "[transport][tls]") {
  TlsPair p;  // client uses the system CA store, which does not know the test certificate
  p.dial("127.0.0.1", tls());
  CHECK(p.failed_without_open());
  CHECK(p.server_rec.opened().empty());
}

TEST_CASE("tls: a trusted certificate for another name fails the connection", "[transport][tls]") {
  TlsPair p(true);  // trusted, but issued for localhost / 127.0.0.1, not 127.0.0.2
  p.dial("127.0.0.2", tls());
  CHECK(p.failed_without_open());
}

TEST_CASE("tls: a wrong pin fails the connection, and says why", "[transport][tls]") {
  TlsPair p;
  p.dial("127.0.0.1", tls(std::string(64, 'a')));
  CHECK(p.failed_without_open());
  CHECK(p.client_logs.contains("does not match the pin"));
}

TEST_CASE("tls: a plain ws:// client gets no WebSocket from a TLS listener", "[transport][tls]") {
  TlsPair p;
  RawWs ws;
  CHECK(ws.open(p.port).rfind("HTTP/1.1 101", 0) != 0);
  CHECK(p.server_rec.opened().empty());
}

TEST_CASE("tls: bad options are refused at create", "[transport][tls]") {
  Recorder rec;
  WsHostOptions only_cert;
  only_cert.listen = true;
  only_cert.tls_cert_file = "/nonexistent/cert.pem";
  auto a = WsHost::create(only_cert, rec);
  REQUIRE_FALSE(a.ok());
  CHECK(a.code() == Errc::InvalidArgument);
  WsHostOptions missing = only_cert;
  missing.tls_key_file = "/nonexistent/key.pem";
  auto b = WsHost::create(missing, rec);
  REQUIRE_FALSE(b.ok());
  CHECK(b.error().detail.find("/nonexistent/cert.pem") != std::string::npos);
}

TEST_CASE("tls: a listener on a non-loopback address without TLS logs a warning",
          "[transport][tls]") {
  Recorder rec;
  LogCapture logs;
  WsHostOptions opt;
  opt.listen = true;
  opt.listen_host = "0.0.0.0";
  opt.log = logs.fn();
  auto h = WsHost::create(opt, rec);
  REQUIRE(h.ok());
  CHECK(logs.contains("without TLS"));
  LogCapture quiet;
  WsHostOptions lo;
  lo.listen = true;
  lo.log = quiet.fn();
  auto l = WsHost::create(lo, rec);
  REQUIRE(l.ok());
  CHECK_FALSE(quiet.contains("without TLS"));
}

TEST_CASE("tls: large messages both ways, in many TLS records", "[transport][tls]") {
  TlsPair p;
  p.server_rec.on_open_hook = [&](ConnId c) { p.server->set_max_frame(c, 4u << 20); };
  p.dial("127.0.0.1", tls(p.cert.sha256));
  REQUIRE(p.client_rec.wait([&] { return !p.client_rec.opens.empty(); }));
  std::string big(3u << 20, 'x');
  for (std::size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + i % 26);
  WsHost* h = p.client.get();
  p.client->post([h, big] { h->send(kDial, big); });
  REQUIRE(p.client_rec.wait([&] { return !p.client_rec.frames[kDial].empty(); },
                            std::chrono::milliseconds(10000)));
  CHECK(p.client_rec.frames_of(kDial)[0] == big);
  // A polite close from the client side goes through TLS as well.
  p.client->post([h] { h->close(kDial, 1000, "done"); });
  REQUIRE(p.server_rec.wait([&] { return !p.server_rec.closes.empty(); }));
  REQUIRE(p.client_rec.wait([&] { return !p.client_rec.closes.empty(); }));
}
