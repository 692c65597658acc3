// Real-socket tests of WsHost on 127.0.0.1: two hosts in one process (a listener with an echo
// handler, a client-only host dialling it), each loop on its own thread.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <string>

#include "transport_test_util.h"

using namespace socp;
using namespace socp::test;

namespace {

constexpr ConnId kDial = kOutgoingBit | 1;

struct Pair {
  Recorder server_rec, client_rec;
  std::unique_ptr<WsHost> server, client;
  std::unique_ptr<LoopThread> server_loop, client_loop;
  std::uint16_t port = 0;

  explicit Pair(WsHostOptions sopt = {}, WsHostOptions copt = {}) {
    server_rec.echo = true;
    auto s = create_listener(sopt, server_rec, &port);
    REQUIRE(s.ok());
    server = std::move(s.value());
    server_rec.host = server.get();
    copt.listen_port = 0;
    auto c = WsHost::create(copt, client_rec);
    REQUIRE(c.ok());
    client = std::move(c.value());
    client_rec.host = client.get();
    server_loop = std::make_unique<LoopThread>(*server);
    client_loop = std::make_unique<LoopThread>(*client);
  }
  ~Pair() {
    client_loop.reset();
    server_loop.reset();
  }
  void dial(ConnId id = kDial) {
    WsHost* h = client.get();
    std::uint16_t p = port;
    client->post([h, id, p] { h->connect(id, "127.0.0.1", p); });
  }
  bool wait_open(ConnId id = kDial) {
    return client_rec.wait([&] {
      for (ConnId c : client_rec.opens)
        if (c == id) return true;
      return false;
    });
  }
};

}  // namespace

TEST_CASE("WsHost: connect and echo a 1 MiB frame", "[transport]") {
  Pair p;
  // Accepted connections start at the small pre-authentication limit; the handler raises it.
  p.server_rec.on_open_hook = [&](ConnId c) { p.server->set_max_frame(c, 2u << 20); };
  p.dial();
  REQUIRE(p.wait_open());
  const std::string big(1u << 20, 'x');
  WsHost* h = p.client.get();
  p.client->post([h, big] { h->send(kDial, big); });
  REQUIRE(p.client_rec.wait([&] { return !p.client_rec.frames[kDial].empty(); }));
  auto got = p.client_rec.frames_of(kDial);
  REQUIRE(got.size() == 1);
  CHECK(got[0] == big);
  // The server saw one accepted connection (id without the outgoing bit).
  auto sopen = p.server_rec.opened();
  REQUIRE(sopen.size() == 1);
  CHECK((sopen[0] & kOutgoingBit) == 0);
  CHECK(sopen[0] != 0);
}

TEST_CASE("WsHost: frames keep their order and close() drains the queue first", "[transport]") {
  Pair p;
  p.server_rec.echo = false;
  p.server_rec.on_frame_hook = [&](ConnId c, const std::string& f) {
    if (f != "go") return;
    for (int i = 0; i < 5; ++i) p.server->send(c, "frame " + std::to_string(i));
    p.server->close(c, 1000, "bye");
  };
  p.dial();
  REQUIRE(p.wait_open());
  WsHost* h = p.client.get();
  p.client->post([h] { h->send(kDial, "go"); });
  REQUIRE(p.client_rec.wait([&] { return !p.client_rec.closes.empty(); }));
  auto got = p.client_rec.frames_of(kDial);
  REQUIRE(got.size() == 5);
  for (int i = 0; i < 5; ++i) CHECK(got[i] == "frame " + std::to_string(i));
  CHECK(p.client_rec.close_count(kDial) == 1);
  REQUIRE(p.server_rec.wait([&] { return p.server_rec.closes.size() == 1; }));
}

TEST_CASE("WsHost: a frame over max_frame closes the connection", "[transport]") {
  WsHostOptions sopt;
  sopt.max_frame = 1000;
  Pair p(sopt);
  p.dial();
  REQUIRE(p.wait_open());
  WsHost* h = p.client.get();
  p.client->post([h] { h->send(kDial, std::string(2000, 'y')); });
  REQUIRE(p.client_rec.wait([&] { return !p.client_rec.closes.empty(); }));
  CHECK(p.client_rec.close_count(kDial) == 1);
  CHECK(p.client_rec.frames_of(kDial).empty());
  REQUIRE(p.server_rec.wait([&] { return p.server_rec.closes.size() == 1; }));
  CHECK(p.server_rec.frames.empty());
}

TEST_CASE("WsHost: dialling a closed port reports on_close for that id", "[transport]") {
  Recorder rec;
  auto c = WsHost::create(WsHostOptions{}, rec);
  REQUIRE(c.ok());
  WsHost& host = *c.value();
  LoopThread loop(host);
  const std::uint16_t port = free_port();  // nothing listens here
  const ConnId id = kOutgoingBit | 42;
  host.post([&host, id, port] { host.connect(id, "127.0.0.1", port); });
  REQUIRE(rec.wait([&] { return !rec.closes.empty(); }));
  CHECK(rec.close_count(id) == 1);
  CHECK(rec.opened().empty());
}

TEST_CASE("WsHost: post() runs on the loop thread, unknown ids are ignored", "[transport]") {
  Pair p;
  std::mutex mu;
  std::condition_variable cv;
  std::thread::id ran_on;
  bool done = false;
  WsHost* h = p.server.get();
  std::thread other([&] {
    h->post([&] {
      h->send(12345, "nobody");  // unknown id: ignored
      h->close(12345);
      h->send(kOutgoingBit | 99, "nobody either");
      std::lock_guard<std::mutex> lk(mu);
      ran_on = std::this_thread::get_id();
      done = true;
      cv.notify_all();
    });
  });
  other.join();
  std::unique_lock<std::mutex> lk(mu);
  REQUIRE(cv.wait_for(lk, std::chrono::seconds(3), [&] { return done; }));
  CHECK(ran_on == p.server_loop->id());
  lk.unlock();
  // The host still works afterwards.
  p.dial();
  REQUIRE(p.wait_open());
}

TEST_CASE("WsHost: stop() from another thread ends run()", "[transport]") {
  Recorder rec;
  std::uint16_t port = 0;
  auto s = create_listener(WsHostOptions{}, rec, &port);
  REQUIRE(s.ok());
  WsHost& host = *s.value();
  std::mutex mu;
  std::condition_variable cv;
  bool returned = false;
  int rc = -1;
  std::thread loop([&] {
    int r = host.run();
    std::lock_guard<std::mutex> lk(mu);
    rc = r;
    returned = true;
    cv.notify_all();
  });
  std::thread stopper([&] { host.stop(); });
  stopper.join();
  {
    std::unique_lock<std::mutex> lk(mu);
    bool ok = cv.wait_for(lk, std::chrono::seconds(3), [&] { return returned; });
    lk.unlock();
    if (!ok) host.stop();
    loop.join();
    REQUIRE(ok);
  }
  CHECK(rc == 0);
  host.post([] {});  // after the loop ended: a no-op, not a crash
}

TEST_CASE("WsHost: a second listener on a taken port fails with Io", "[transport]") {
  Recorder rec;
  std::uint16_t port = 0;
  auto first = create_listener(WsHostOptions{}, rec, &port);
  REQUIRE(first.ok());
  WsHostOptions opt;
  opt.listen_host = "127.0.0.1";
  opt.listen_port = port;
  auto second = WsHost::create(opt, rec);
  REQUIRE_FALSE(second.ok());
  CHECK(second.code() == Errc::Io);
  CHECK(second.error().detail.find("cannot listen on 127.0.0.1:" + std::to_string(port)) == 0);
}

TEST_CASE("WsHost: the tick runs repeatedly on the loop thread", "[transport]") {
  Recorder rec;
  auto c = WsHost::create(WsHostOptions{}, rec);
  REQUIRE(c.ok());
  WsHost& host = *c.value();
  std::atomic<int> ticks{0};
  host.set_tick(10, [&] {
    if (++ticks >= 3) rec.cv.notify_all();
  });
  LoopThread loop(host);
  CHECK(rec.wait([&] { return ticks.load() >= 3; }));
}

TEST_CASE("WsHost: a write queue over max_queue_bytes closes the connection", "[transport]") {
  WsHostOptions sopt;
  sopt.max_queue_bytes = 64 * 1024;
  Pair p(sopt);
  p.server_rec.echo = false;
  p.server_rec.on_frame_hook = [&](ConnId c, const std::string&) {
    // Queued in one go, before any WRITEABLE: far over the limit.
    for (int i = 0; i < 10; ++i) p.server->send(c, std::string(16 * 1024, 'q'));
  };
  p.dial();
  REQUIRE(p.wait_open());
  WsHost* h = p.client.get();
  p.client->post([h] { h->send(kDial, "flood me"); });
  REQUIRE(p.server_rec.wait([&] { return p.server_rec.closes.size() == 1; }));
  REQUIRE(p.client_rec.wait([&] { return p.client_rec.closes.size() == 1; }));
}

TEST_CASE("WsHost: a throwing handler closes only its connection", "[transport]") {
  Pair p;
  p.server_rec.on_frame_hook = [](ConnId, const std::string& f) {
    if (f == "boom") throw std::runtime_error("handler bug");
  };
  p.dial(kOutgoingBit | 1);
  p.dial(kOutgoingBit | 2);
  REQUIRE(p.wait_open(kOutgoingBit | 1));
  REQUIRE(p.wait_open(kOutgoingBit | 2));
  WsHost* h = p.client.get();
  p.client->post([h] { h->send(kOutgoingBit | 1, "boom"); });
  REQUIRE(p.client_rec.wait([&] { return p.client_rec.closes.size() == 1; }));
  CHECK(p.client_rec.closed_list()[0] == (kOutgoingBit | 1));
  p.client->post([h] { h->send(kOutgoingBit | 2, "still here"); });
  REQUIRE(p.client_rec.wait([&] { return !p.client_rec.frames[kOutgoingBit | 2].empty(); }));
  CHECK(p.client_rec.frames_of(kOutgoingBit | 2)[0] == "still here");
  CHECK(p.client_rec.close_count(kOutgoingBit | 2) == 0);
}

TEST_CASE("WsHost: closing a dial that is still connecting reports only on_close", "[transport]") {
  // A TCP listener that never answers the WebSocket handshake: the dial stays pending.
  int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(lfd >= 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  REQUIRE(::listen(lfd, 4) == 0);
  socklen_t len = sizeof sa;
  REQUIRE(::getsockname(lfd, reinterpret_cast<sockaddr*>(&sa), &len) == 0);
  const std::uint16_t port = ntohs(sa.sin_port);

  Recorder rec;
  auto c = WsHost::create(WsHostOptions{}, rec);
  REQUIRE(c.ok());
  WsHost& host = *c.value();
  LoopThread loop(host);
  const ConnId id = kOutgoingBit | 7;
  host.post([&host, id, port] {
    host.connect(id, "127.0.0.1", port);
    host.close(id);
  });
  CHECK(rec.wait([&] { return !rec.closes.empty(); }));
  CHECK(rec.close_count(id) == 1);
  CHECK(rec.opened().empty());
  loop.stop_and_join();
  ::close(lfd);
}
