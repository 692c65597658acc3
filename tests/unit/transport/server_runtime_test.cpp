// ServerRuntime glue on a real socket: a lone ServerCore (MemoryStore, fixture key) answers a
// malformed first frame with a signed ERROR (a Sign job through the worker pool and back via
// post) and a close; stop() from another thread shuts it down.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "fixtures.h"
#include "socp/bytes.h"
#include "socp/store.h"
#include "transport_test_util.h"

using namespace socp;
using namespace socp::test;

TEST_CASE("ServerRuntime: serves a connection and stops cleanly", "[transport]") {
  MemoryStore store;
  const PrivateKey& key = fixture_key("server_a");
  std::unique_ptr<ServerCore> core;
  std::unique_ptr<ServerRuntime> rt;
  std::uint16_t port = 0;
  for (int attempt = 0; attempt < 5 && !rt; ++attempt) {
    port = free_port();
    ServerConfig cfg;
    cfg.port = port;
    core = std::make_unique<ServerCore>(cfg, new_uuid_v4(), key.public_key(), store,
                                        [] { return std::int64_t{1700000000000}; });
    ServerRuntimeOptions ro;
    ro.listen_port = port;
    ro.sign_threads = 1;
    auto r = ServerRuntime::create(*core, key, ro);
    if (r) rt = std::move(r.value());
  }
  REQUIRE(rt);

  std::mutex mu;
  std::condition_variable cv;
  bool returned = false;
  int rc = -1;
  std::thread loop([&] {
    int r = rt->run();
    std::lock_guard<std::mutex> lk(mu);
    rc = r;
    returned = true;
    cv.notify_all();
  });

  {
    RawWs ws;
    std::string head = ws.open(port);
    CHECK(head.rfind("HTTP/1.1 101", 0) == 0);
    CHECK(ws.send_frame(1, "this is not json"));
    int op = 0;
    std::string payload;
    CHECK(ws.read_frame(op, payload));
    CHECK(op == 1);
    CHECK(payload.find("\"ERROR\"") != std::string::npos);
    CHECK(payload.find("\"sig\":\"") != std::string::npos);
    CHECK(ws.read_close_code() >= 1000);
  }

  std::thread([&] { rt->stop(); }).join();
  bool ok;
  {
    std::unique_lock<std::mutex> lk(mu);
    ok = cv.wait_for(lk, std::chrono::seconds(5), [&] { return returned; });
  }
  if (!ok) rt->stop();  // second stop: immediate
  loop.join();
  REQUIRE(ok);
  CHECK(rc == 0);
  rt.reset();  // pools joined before the host goes away
}
