// The sans-I/O WebSocket pieces without sockets: UTF-8 validation, the frame reader (every
// rule, byte by byte as well as at once), the HTTP upgrade decision, and the session state
// machine (output order, ping coalescing, close handshake, client handshake checks).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "transport/ws_frame.h"
#include "transport/ws_http.h"
#include "transport/ws_session.h"
#include "transport/ws_utf8.h"
#include "transport_test_util.h"

using namespace socp::transport;
using socp::test::close_payload;
using socp::test::FrameOpts;
using socp::test::ws_frame;

namespace {

using Kind = ReadEvent::Kind;

std::vector<ReadEvent> read_all(FrameReader& r, const std::string& bytes, bool bytewise = false) {
  std::vector<ReadEvent> out;
  if (!bytewise) {
    r.feed(bytes.data(), bytes.size(), out);
  } else {
    for (char c : bytes) r.feed(&c, 1, out);
  }
  return out;
}

FrameOpts unmasked() {
  FrameOpts o;
  o.mask = false;
  return o;
}

FrameOpts nofin() {
  FrameOpts o;
  o.fin = false;
  return o;
}

bool utf8(const std::string& s) {
  return valid_utf8(s.data(), s.size());
}

}  // namespace

TEST_CASE("utf8: strict RFC 3629", "[transport][codec]") {
  CHECK(utf8(""));
  CHECK(utf8("plain ascii, long enough for the 8-byte fast path"));
  CHECK(utf8("\xc2\x80\xdf\xbf"));
  CHECK(utf8("\xe0\xa0\x80\xef\xbf\xbf"));
  CHECK(utf8("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"));
  CHECK(utf8("\xed\x9f\xbf"));  // U+D7FF
  CHECK_FALSE(utf8("\x80"));
  CHECK_FALSE(utf8("\xc0\x80"));  // overlong NUL
  CHECK_FALSE(utf8("\xc1\xbf"));
  CHECK_FALSE(utf8("\xe0\x9f\xbf"));      // overlong
  CHECK_FALSE(utf8("\xed\xa0\x80"));      // surrogate
  CHECK_FALSE(utf8("\xf0\x8f\xbf\xbf"));  // overlong
  CHECK_FALSE(utf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  CHECK_FALSE(utf8("\xf5\x80\x80\x80"));
  CHECK_FALSE(utf8("\xff"));
  CHECK_FALSE(utf8("\xe2\x82"));  // truncated
  CHECK_FALSE(utf8("abcdefgh\xe2\x82zzzzzzzz"));
}

TEST_CASE("utf8: incremental, split anywhere, fails at the first bad byte", "[transport][codec]") {
  const std::string s = "a\xe2\x82\xac\xf0\x9f\x98\x80z";
  for (std::size_t cut = 0; cut <= s.size(); ++cut) {
    Utf8Validator v;
    CHECK(v.feed(reinterpret_cast<const unsigned char*>(s.data()), cut));
    CHECK(v.feed(reinterpret_cast<const unsigned char*>(s.data()) + cut, s.size() - cut));
    CHECK(v.complete());
  }
  Utf8Validator v;
  CHECK(v.feed(reinterpret_cast<const unsigned char*>("\xed"), 1));
  CHECK_FALSE(v.complete());
  CHECK_FALSE(v.feed(reinterpret_cast<const unsigned char*>("\xa0"), 1));
  CHECK(v.failed());
  CHECK_FALSE(v.feed(reinterpret_cast<const unsigned char*>("a"), 1));  // stays failed
}

TEST_CASE("frame reader: messages, fragments and control frames, whole or byte by byte",
          "[transport][codec]") {
  const std::string wire = ws_frame(1, "hello") + ws_frame(1, "ab", nofin()) + ws_frame(9, "p") +
                           ws_frame(0, "cd") + ws_frame(10, "q") +
                           ws_frame(1, std::string(70000, 'x')) +
                           ws_frame(8, close_payload(1001, "bye"));
  for (bool bytewise : {false, true}) {
    FrameReader r(true, 1 << 20);
    auto ev = read_all(r, wire, bytewise);
    REQUIRE(ev.size() == 6);
    CHECK((ev[0].kind == Kind::Text && ev[0].data == "hello"));
    CHECK((ev[1].kind == Kind::Ping && ev[1].data == "p"));
    CHECK((ev[2].kind == Kind::Text && ev[2].data == "abcd"));
    CHECK((ev[3].kind == Kind::Pong && ev[3].data == "q"));
    CHECK((ev[4].kind == Kind::Text && ev[4].data.size() == 70000));
    CHECK((ev[5].kind == Kind::Close && ev[5].code == 1001 && ev[5].data == "bye"));
    CHECK(r.done());
  }
}

TEST_CASE("frame reader: the failure code for each broken rule", "[transport][codec]") {
  struct Row {
    const char* name;
    std::string bytes;
    int code;
    bool server_side;
  };
  FrameOpts rsv;
  rsv.rsv = 4;
  FrameOpts f126;
  f126.len_form = 126;
  FrameOpts f127;
  f127.len_form = 127;
  FrameOpts top;
  top.announce = 1ull << 63;
  FrameOpts huge;
  huge.announce = 2000;
  const std::vector<Row> rows = {
      {"unmasked client frame", ws_frame(1, "x", unmasked()), 1002, true},
      {"masked server frame", ws_frame(1, "x"), 1002, false},
      {"rsv", ws_frame(1, "x", rsv), 1002, true},
      {"opcode 3", ws_frame(3, "x"), 1002, true},
      {"opcode 0xB", ws_frame(0xB, "x"), 1002, true},
      {"fragmented ping", ws_frame(9, "x", nofin()), 1002, true},
      {"long ping", ws_frame(9, std::string(126, 'p')), 1002, true},
      {"lone continuation", ws_frame(0, "x"), 1002, true},
      {"text in a message", ws_frame(1, "a", nofin()) + ws_frame(1, "b"), 1002, true},
      {"16-bit length 5", ws_frame(1, "abcde", f126), 1002, true},
      {"64-bit length 5", ws_frame(1, "abcde", f127), 1002, true},
      {"64-bit top bit", ws_frame(1, "", top), 1002, true},
      {"binary", ws_frame(2, "x"), 1003, true},
      {"bad utf8", ws_frame(1, "\xc0\xaf"), 1007, true},
      {"truncated utf8", ws_frame(1, "\xe2\x82"), 1007, true},
      {"over the limit", ws_frame(1, "", huge), 1009, true},
      {"close 1-byte", ws_frame(8, "x"), 1002, true},
      {"close 1005", ws_frame(8, close_payload(1005)), 1002, true},
      {"close reason", ws_frame(8, close_payload(1000, "\xff")), 1002, true},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    FrameReader r(row.server_side, 1000);
    auto ev = read_all(r, row.bytes);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].kind == Kind::Fail);
    CHECK(ev[0].code == row.code);
    CHECK(r.done());
    CHECK(r.buffered() == 0);
  }
}

TEST_CASE("frame reader: the limit is decided from the header, nothing is buffered past it",
          "[transport][codec]") {
  FrameReader r(true, 100);
  std::vector<ReadEvent> ev;
  const std::string first = ws_frame(1, std::string(60, 'a'), nofin());
  r.feed(first.data(), first.size(), ev);
  CHECK(ev.empty());
  CHECK(r.buffered() == 60);
  FrameOpts o;
  o.announce = 41;  // 60 + 41 > 100: refused before any payload byte
  const std::string head = ws_frame(0, "", o);
  r.feed(head.data(), head.size(), ev);
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].code == 1009);
  CHECK(r.buffered() == 0);
  // Raising the limit applies from the next header.
  FrameReader r2(true, 10);
  r2.set_max_message(100);
  auto ok = read_all(r2, ws_frame(1, std::string(100, 'b')));
  REQUIRE(ok.size() == 1);
  CHECK(ok[0].kind == Kind::Text);
}

TEST_CASE("frame encoder: lengths and masking round-trip through the reader",
          "[transport][codec]") {
  const unsigned char key[4] = {1, 2, 3, 4};
  for (std::size_t n : {0u, 125u, 126u, 65535u, 65536u}) {
    const std::string payload(n, 'z');
    FrameReader server(true, 1 << 20), client(false, 1 << 20);
    auto a = read_all(server, encode_frame(WsOpcode::Text, payload, true, key));
    auto b = read_all(client, encode_frame(WsOpcode::Text, payload));
    REQUIRE(a.size() == 1);
    REQUIRE(b.size() == 1);
    CHECK(a[0].data == payload);
    CHECK(b[0].data == payload);
  }
}

TEST_CASE("http: the upgrade decision", "[transport][codec]") {
  const std::string ok =
      "GET /x?y HTTP/1.1\r\nHost: h\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
  auto d = decide_request(ok);
  REQUIRE(d.kind == ServerDecision::Kind::Upgrade);
  // The RFC 6455 §1.3 example.
  CHECK(d.response.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") !=
        std::string::npos);
  CHECK(d.subprotocol.empty());

  CHECK(decide_request(ok + "Sec-WebSocket-Protocol: chat, socp\r\n").subprotocol == "socp");
  CHECK(decide_request(ok + "Sec-WebSocket-Protocol: chat, x\r\n").subprotocol == "chat");

  auto plain = decide_request("GET /health?verbose HTTP/1.1\r\nHost: h\r\n");
  CHECK(plain.kind == ServerDecision::Kind::Http);
  CHECK(plain.method == "GET");
  CHECK(plain.path == "/health");

  auto status_of = [](const std::string& head) {
    auto r = decide_request(head);
    return r.kind == ServerDecision::Kind::Reject ? r.response.substr(9, 3) : std::string("ok");
  };
  auto without = [&](const std::string& line) {
    std::string s = ok;
    s.erase(s.find(line), line.size());
    return s;
  };
  CHECK(status_of(without("Host: h\r\n")) == "400");
  CHECK(status_of(without("Connection: keep-alive, Upgrade\r\n")) == "400");
  CHECK(status_of(without("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")) == "400");
  CHECK(status_of(without("Sec-WebSocket-Version: 13\r\n")) == "426");
  std::string v8 = ok;
  v8.replace(v8.find("Version: 13"), 11, "Version: 8");
  CHECK(status_of(v8) == "426");
  CHECK(decide_request(v8).response.find("Sec-WebSocket-Version: 13\r\n") != std::string::npos);
  std::string short_key = ok;
  short_key.replace(short_key.find("dGhlIHNhbXBsZSBub25jZQ=="), 24, "c2hvcnQ=");
  CHECK(status_of(short_key) == "400");
  std::string post = ok;
  post.replace(0, 3, "POST");
  CHECK(status_of(post) == "400");
  std::string http10 = ok;
  http10.replace(http10.find("HTTP/1.1"), 8, "HTTP/1.0");
  CHECK(status_of(http10) == "400");
  CHECK(status_of("garbage") == "400");
  CHECK(status_of("GET / HTTP/1.1\r\n folded: header\r\n") == "400");
  CHECK(status_of("GET / HTTP/1.1\r\nno colon here\r\n") == "400");
}

TEST_CASE("http: head collection is bounded and leaves the rest", "[transport][codec]") {
  HeadCollector h;
  const std::string req = "GET / HTTP/1.1\r\nHost: x\r\n\r\nFRAMES";
  std::size_t used = 0;
  for (char c : req) {
    if (h.status() != HeadCollector::Status::Incomplete) break;
    used += h.feed(&c, 1);
  }
  CHECK(h.status() == HeadCollector::Status::Complete);
  CHECK(req.substr(used) == "FRAMES");
  CHECK(h.head() == "GET / HTTP/1.1\r\nHost: x");

  HeadCollector big;
  const std::string junk(kMaxHttpHead + 100, 'a');
  big.feed(junk.data(), junk.size());
  CHECK(big.status() == HeadCollector::Status::TooLarge);
}

namespace {

std::string drain(WsSession& s) {
  std::string out;
  for (;;) {
    auto v = s.pending();
    if (v.empty()) break;
    out.append(v.data(), v.size());
    s.consumed(v.size());
  }
  return out;
}

std::vector<SessionEvent> feed(WsSession& s, const std::string& bytes) {
  std::vector<SessionEvent> ev;
  s.on_bytes(bytes.data(), bytes.size(), ev);
  return ev;
}

const std::string kUpgrade =
    "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

std::vector<ReadEvent> client_read(const std::string& server_bytes) {
  FrameReader r(false, 1 << 20);
  return read_all(r, server_bytes);
}

}  // namespace

TEST_CASE("session: upgrade, frames in the same read, echo order", "[transport][codec]") {
  WsSession s(WsSession::Role::Server, 1000);
  auto ev = feed(s, kUpgrade + ws_frame(1, "one") + ws_frame(9, "ping"));
  REQUIRE(ev.size() == 3);
  CHECK(ev[0].kind == SessionEvent::Kind::Open);
  CHECK((ev[1].kind == SessionEvent::Kind::Message && ev[1].data == "one"));
  CHECK(ev[2].kind == SessionEvent::Kind::Activity);  // a ping keeps the link alive
  CHECK(s.send_text("reply"));
  const std::string out = drain(s);
  REQUIRE(out.rfind("HTTP/1.1 101 ", 0) == 0);
  auto frames = client_read(out.substr(out.find("\r\n\r\n") + 4));
  REQUIRE(frames.size() == 2);
  CHECK((frames[0].kind == Kind::Pong && frames[0].data == "ping"));  // control first
  CHECK((frames[1].kind == Kind::Text && frames[1].data == "reply"));
}

TEST_CASE("session: a ping flood leaves one pong, a frame in flight is never split",
          "[transport][codec]") {
  WsSession s(WsSession::Role::Server, 1 << 20);
  feed(s, kUpgrade);
  drain(s);
  s.send_text(std::string(100000, 'd'));
  const std::string first10(s.pending().substr(0, 10));
  s.consumed(10);  // the data frame is now in flight
  std::string flood;
  for (int i = 0; i < 1000; ++i) flood += ws_frame(9, std::to_string(i));
  feed(s, flood);
  const std::string out = first10 + drain(s);
  auto frames = client_read(out);
  REQUIRE(frames.size() == 2);
  CHECK(frames[0].kind == Kind::Text);
  CHECK((frames[1].kind == Kind::Pong && frames[1].data == "999"));
}

TEST_CASE("session: close handshakes", "[transport][codec]") {
  SECTION("peer closes: answered at once, queued data dropped") {
    WsSession s(WsSession::Role::Server, 1000);
    feed(s, kUpgrade);
    drain(s);
    s.send_text("never sent");
    feed(s, ws_frame(8, close_payload(1001, "going")));
    CHECK(s.state() == WsSession::State::Closed);
    CHECK(s.peer_closed());
    auto frames = client_read(drain(s));
    REQUIRE(frames.size() == 1);
    CHECK((frames[0].kind == Kind::Close && frames[0].code == 1001));
    CHECK(s.finished());
  }
  SECTION("we close: data first, then our close; the peer's answer finishes it") {
    WsSession s(WsSession::Role::Server, 1000);
    feed(s, kUpgrade);
    drain(s);
    s.send_text("last");
    s.close(4001, "done");
    CHECK_FALSE(s.send_text("too late"));
    auto frames = client_read(drain(s));
    REQUIRE(frames.size() == 2);
    CHECK(frames[0].data == "last");
    CHECK((frames[1].kind == Kind::Close && frames[1].code == 4001 && frames[1].data == "done"));
    CHECK(s.state() == WsSession::State::Closing);
    CHECK_FALSE(s.finished());
    auto ev = feed(s, ws_frame(1, "ignored") + ws_frame(8, close_payload(4001)));
    CHECK(ev.empty());
    CHECK(s.finished());
  }
  SECTION("protocol error: queued data dropped, close code sent, input ignored") {
    WsSession s(WsSession::Role::Server, 1000);
    feed(s, kUpgrade);
    drain(s);
    s.send_text("dropped");
    auto ev = feed(s, ws_frame(1, "\xff") + ws_frame(1, "after"));
    CHECK(ev.empty());
    auto frames = client_read(drain(s));
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].code == 1007);
    CHECK(s.close_code() == 1007);
    CHECK(s.finished());
  }
}

TEST_CASE("session: plain HTTP and refused handshakes", "[transport][codec]") {
  {
    WsSession s(WsSession::Role::Server, 1000);
    auto ev = feed(s, "GET /metrics HTTP/1.1\r\nHost: h\r\n\r\n");
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].kind == SessionEvent::Kind::Http);
    CHECK(ev[0].method == "GET");
    CHECK(ev[0].data == "/metrics");
    s.respond_http(200, "text/plain", "up 1\n");
    const std::string out = drain(s);
    CHECK(out.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(out.find("Content-Length: 5\r\n") != std::string::npos);
    CHECK(out.substr(out.size() - 5) == "up 1\n");
    CHECK(s.finished());
  }
  {
    WsSession s(WsSession::Role::Server, 1000);
    feed(s, std::string(kMaxHttpHead + 10, 'x'));
    CHECK(drain(s).rfind("HTTP/1.1 431 ", 0) == 0);
    CHECK(s.finished());
  }
}

TEST_CASE("session: client handshake checks the accept key", "[transport][codec]") {
  WsSession c(WsSession::Role::Client, 1000);
  c.start_client("127.0.0.1:9", "/");
  const std::string req = drain(c);
  REQUIRE(req.rfind("GET / HTTP/1.1\r\nHost: 127.0.0.1:9\r\n", 0) == 0);
  const auto k = req.find("Sec-WebSocket-Key: ") + 19;
  const std::string key = req.substr(k, req.find("\r\n", k) - k);
  SECTION("good answer, a frame in the same read") {
    FrameOpts o;
    o.mask = false;
    auto ev = feed(c,
                   "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
                       websocket_accept(key) + "\r\n\r\n" + ws_frame(1, "hi", o));
    REQUIRE(ev.size() == 2);
    CHECK(ev[0].kind == SessionEvent::Kind::Open);
    CHECK(ev[1].data == "hi");
    c.send_text("masked");
    FrameReader server(true, 1000);
    auto got = read_all(server, drain(c));
    REQUIRE(got.size() == 1);
    CHECK(got[0].data == "masked");
  }
  SECTION("wrong key") {
    auto ev = feed(c,
                   "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n");
    CHECK(ev.empty());
    CHECK(c.state() == WsSession::State::Closed);
    CHECK_FALSE(c.opened());
    CHECK(c.finished());
  }
  SECTION("an extension we did not offer") {
    auto ev = feed(c,
                   "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"
                   "Sec-WebSocket-Accept: " +
                       websocket_accept(key) + "\r\n\r\n");
    CHECK(ev.empty());
    CHECK_FALSE(c.opened());
  }
}
