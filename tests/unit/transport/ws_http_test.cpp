// Plain HTTP on the WebSocket port: GET requests go to WsHostOptions::http (for /health and
// /metrics), other methods get 405, no callback means 400 (WebSocket only). One request per
// connection, answered with Connection: close; the Handler never hears of it.
#include <catch2/catch.hpp>

#include <string>

#include "transport_test_util.h"

using namespace socp;
using namespace socp::test;

namespace {

struct HttpServer {
  Recorder rec;
  std::unique_ptr<WsHost> host;
  std::unique_ptr<LoopThread> loop;
  std::uint16_t port = 0;
  explicit HttpServer(HttpHandler http) {
    WsHostOptions opt;
    opt.listen = true;
    opt.http = std::move(http);
    auto h = WsHost::create(opt, rec);
    REQUIRE(h.ok());
    host = std::move(h.value());
    port = host->listen_port();
    loop = std::make_unique<LoopThread>(*host);
  }
  std::string request(const std::string& req) {
    RawWs raw;
    REQUIRE(raw.connect_only(port));
    REQUIRE(raw.send_bytes(req));
    return raw.read_until_eof();
  }
};

std::string status_line(const std::string& resp) {
  return resp.substr(0, resp.find("\r\n"));
}
std::string body(const std::string& resp) {
  auto at = resp.find("\r\n\r\n");
  return at == std::string::npos ? std::string() : resp.substr(at + 4);
}

}  // namespace

TEST_CASE("http: GET goes to the callback, its status, type and body are sent",
          "[transport][http]") {
  std::vector<std::string> seen;
  HttpServer s([&](std::string_view method, std::string_view path) {
    seen.push_back(std::string(method) + " " + std::string(path));
    if (path == "/health") return HttpResponse{200, "application/json", "{\"ok\":true}"};
    return HttpResponse{};  // not found
  });
  const std::string ok = s.request("GET /health?probe=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(status_line(ok) == "HTTP/1.1 200 OK");
  CHECK(ok.find("Content-Type: application/json\r\n") != std::string::npos);
  CHECK(ok.find("Content-Length: 11\r\n") != std::string::npos);
  CHECK(ok.find("Connection: close\r\n") != std::string::npos);
  CHECK(body(ok) == "{\"ok\":true}");

  const std::string missing = s.request("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(status_line(missing) == "HTTP/1.1 404 Not Found");

  // HTTP/1.0 without Host is still a plain request.
  CHECK(status_line(s.request("GET /health HTTP/1.0\r\n\r\n")) == "HTTP/1.1 200 OK");

  // `seen` is written on the loop thread: read it there.
  CHECK(on_loop(*s.host, [&] { return seen; }) ==
        std::vector<std::string>{"GET /health", "GET /nope", "GET /health"});
  CHECK(s.rec.opened().empty());  // the Handler never sees HTTP requests
}

TEST_CASE("http: other methods get 405, the callback is not called", "[transport][http]") {
  int calls = 0;
  HttpServer s([&](std::string_view, std::string_view) {
    ++calls;
    return HttpResponse{200, "text/plain", "x"};
  });
  const std::string post =
      s.request("POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  CHECK(status_line(post) == "HTTP/1.1 405 Method Not Allowed");
  CHECK(post.find("Allow: GET\r\n") != std::string::npos);
  CHECK(status_line(s.request("HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n")) ==
        "HTTP/1.1 405 Method Not Allowed");
  CHECK(on_loop(*s.host, [&] { return calls; }) == 0);
}

TEST_CASE("http: a throwing callback answers 500, the host goes on", "[transport][http]") {
  HttpServer s([](std::string_view, std::string_view path) -> HttpResponse {
    if (path == "/boom") throw std::runtime_error("bug");
    return HttpResponse{200, "text/plain", "fine"};
  });
  CHECK(status_line(s.request("GET /boom HTTP/1.1\r\nHost: x\r\n\r\n")) ==
        "HTTP/1.1 500 Internal Server Error");
  CHECK(body(s.request("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")) == "fine");
}

TEST_CASE("http: without a callback plain requests get 400, WebSocket still works",
          "[transport][http]") {
  HttpServer s(nullptr);
  const std::string r = s.request("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(status_line(r) == "HTTP/1.1 400 Bad Request");
  CHECK(status_line(s.request("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")) ==
        "HTTP/1.1 400 Bad Request");
  RawWs ws;
  CHECK(ws.open(s.port).rfind("HTTP/1.1 101", 0) == 0);
}

TEST_CASE("http: malformed and oversized requests", "[transport][http]") {
  HttpServer s([](std::string_view, std::string_view) { return HttpResponse{200, "t", "x"}; });
  CHECK(status_line(s.request("GARBAGE\r\n\r\n")) == "HTTP/1.1 400 Bad Request");
  CHECK(status_line(s.request("GET / HTTP/1.1\r\n" + std::string(9000, 'a') + "\r\n\r\n")) ==
        "HTTP/1.1 431 Request Header Fields Too Large");
  // A WebSocket request with a bad version is refused with 426, not passed as plain HTTP.
  const std::string v8 = s.request(
      "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n");
  CHECK(status_line(v8) == "HTTP/1.1 426 Upgrade Required");
  CHECK(v8.find("Sec-WebSocket-Version: 13\r\n") != std::string::npos);
}
