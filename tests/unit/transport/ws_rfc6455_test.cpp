// RFC 6455 conformance of the WsHost listener, frame by frame over a raw socket: each case
// sends hand-made bytes on a fresh connection to an echo server and asserts exactly what
// comes back (echoed messages, pongs) and how the connection ends (the close code, or "still
// open": then a polite close 1000 must be answered with 1000).
//
// The rules come from RFC 6455 §5 (framing), §5.5 (control frames), §7.4 (close codes) and
// §8.1 (UTF-8): protocol errors close with 1002, invalid UTF-8 in a text message with 1007,
// binary messages with 1003 (socp speaks text only), a message over the limit with 1009.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "transport_test_util.h"

using namespace socp;
using namespace socp::test;

namespace {

constexpr std::size_t kLimit = 128 * 1024;  // the echo server's message limit
constexpr int kOpen = 0;                    // "the connection stays open"

enum Op { kCont = 0, kText = 1, kBinary = 2, kClose = 8, kPing = 9, kPong = 10 };

struct Got {
  int opcode;
  std::string payload;
  bool operator==(const Got& o) const { return opcode == o.opcode && payload == o.payload; }
};

std::ostream& operator<<(std::ostream& os, const Got& g) {
  return os << "{op " << g.opcode << ", " << g.payload.size() << " bytes \""
            << g.payload.substr(0, 40) << "\"}";
}

struct Case {
  const char* name;
  std::string bytes;             // sent after the handshake
  std::vector<Got> expect;       // data/pong frames expected before the end (in order)
  std::vector<int> close;        // acceptable close codes; {kOpen} = must stay open
  std::size_t piece = 0;         // send in pieces of this many bytes (0 = at once)
  bool frames_may_vary = false;  // the frames before the close depend on TCP segmentation
};

std::string F(int op, const std::string& p, FrameOpts o = {}) {
  return ws_frame(op, p, o);
}
FrameOpts nofin() {
  FrameOpts o;
  o.fin = false;
  return o;
}
FrameOpts unmasked() {
  FrameOpts o;
  o.mask = false;
  return o;
}
FrameOpts rsv(int bits) {
  FrameOpts o;
  o.rsv = bits;
  return o;
}
FrameOpts form(int f) {
  FrameOpts o;
  o.len_form = f;
  return o;
}
Got text(const std::string& s) {
  return Got{kText, s};
}
Got pong(const std::string& s) {
  return Got{kPong, s};
}

std::string closef(int code, const std::string& reason = {}) {
  return F(kClose, close_payload(code, reason));
}

std::vector<Case> server_cases() {
  const std::string big125(125, 'a'), big126(126, 'b'), big65535(65535, 'c'), big65536(65536, 'd');
  std::vector<Case> v = {
      // ---- well-formed traffic ---------------------------------------------------------
      {"text", F(kText, "hello"), {text("hello")}, {kOpen}},
      {"empty text", F(kText, ""), {text("")}, {kOpen}},
      {"text 125 bytes (7-bit length)", F(kText, big125), {text(big125)}, {kOpen}},
      {"text 126 bytes (16-bit length)", F(kText, big126), {text(big126)}, {kOpen}},
      {"text 65535 bytes (16-bit length)", F(kText, big65535), {text(big65535)}, {kOpen}},
      {"text 65536 bytes (64-bit length)", F(kText, big65536), {text(big65536)}, {kOpen}},
      {"text at the limit", F(kText, std::string(kLimit, 'e')), {text(std::string(kLimit, 'e'))},
       {kOpen}},
      {"valid multi-byte UTF-8", F(kText, "\xce\xba\xe2\x82\xac\xf0\x9f\x98\x80"),
       {text("\xce\xba\xe2\x82\xac\xf0\x9f\x98\x80")}, {kOpen}},
      {"U+10FFFF is valid", F(kText, "\xf4\x8f\xbf\xbf"), {text("\xf4\x8f\xbf\xbf")}, {kOpen}},
      {"three fragments", F(kText, "abc", nofin()) + F(kCont, "def", nofin()) + F(kCont, "ghi"),
       {text("abcdefghi")}, {kOpen}},
      {"empty fragments", F(kText, "", nofin()) + F(kCont, "x", nofin()) + F(kCont, ""),
       {text("x")}, {kOpen}},
      {"ping between fragments", F(kText, "ab", nofin()) + F(kPing, "mid") + F(kCont, "cd"),
       {pong("mid"), text("abcd")}, {kOpen}},
      {"pong between fragments", F(kText, "ab", nofin()) + F(kPong, "x") + F(kCont, "cd"),
       {text("abcd")}, {kOpen}},
      {"UTF-8 code point split across fragments",
       F(kText, "\xe2\x82", nofin()) + F(kCont, "\xac"), {text("\xe2\x82\xac")}, {kOpen}},
      {"unsolicited pong is ignored", F(kPong, "nobody asked") + F(kText, "after"),
       {text("after")}, {kOpen}},
      {"ping empty", F(kPing, ""), {pong("")}, {kOpen}},
      {"ping 125 bytes", F(kPing, big125), {pong(big125)}, {kOpen}},
      {"ping binary payload", F(kPing, std::string("\x00\xff\xfe", 3)),
       {pong(std::string("\x00\xff\xfe", 3))}, {kOpen}},
      {"two frames in one segment", F(kText, "one") + F(kText, "two"),
       {text("one"), text("two")}, {kOpen}},
      {"frame sent one byte at a time", F(kText, "slowly"), {text("slowly")}, {kOpen}, 1},
      {"fragments sent one byte at a time",
       F(kText, "\xe2", nofin()) + F(kPing, "p") + F(kCont, "\x82\xac"),
       {pong("p"), text("\xe2\x82\xac")}, {kOpen}, 1},
      // ---- the close handshake ----------------------------------------------------------
      {"close 1000", closef(1000), {}, {1000}},
      {"close without payload", F(kClose, ""), {}, {1000, 1005}},
      {"close 1000 with a UTF-8 reason", closef(1000, "bye \xe2\x82\xac"), {}, {1000}},
      {"close 1001", closef(1001), {}, {1001}},
      {"close 1003", closef(1003), {}, {1003}},
      {"close 1007", closef(1007), {}, {1007}},
      {"close 1011", closef(1011), {}, {1011}},
      {"close 3000", closef(3000), {}, {3000}},
      {"close 4999", closef(4999), {}, {4999}},
      {"text after close is ignored", closef(1000) + F(kText, "late"), {}, {1000}},
      // ---- protocol errors: 1002 --------------------------------------------------------
      {"unmasked text", F(kText, "hi", unmasked()), {}, {1002}},
      {"unmasked ping", F(kPing, "hi", unmasked()), {}, {1002}},
      {"unmasked close", F(kClose, close_payload(1000), unmasked()), {}, {1002}},
      {"RSV1 set", F(kText, "x", rsv(4)), {}, {1002}},
      {"RSV2 set", F(kText, "x", rsv(2)), {}, {1002}},
      {"RSV3 set", F(kText, "x", rsv(1)), {}, {1002}},
      {"RSV bits on a ping", F(kPing, "x", rsv(7)), {}, {1002}},
      {"RSV on a continuation", F(kText, "a", nofin()) + F(kCont, "b", rsv(4)), {}, {1002}},
      {"reserved opcode 3", F(3, "x"), {}, {1002}},
      {"reserved opcode 4", F(4, "x"), {}, {1002}},
      {"reserved opcode 5", F(5, "x"), {}, {1002}},
      {"reserved opcode 6", F(6, "x"), {}, {1002}},
      {"reserved opcode 7", F(7, "x"), {}, {1002}},
      {"reserved opcode 0xB", F(0xB, "x"), {}, {1002}},
      {"reserved opcode 0xC", F(0xC, "x"), {}, {1002}},
      {"reserved opcode 0xD", F(0xD, "x"), {}, {1002}},
      {"reserved opcode 0xE", F(0xE, "x"), {}, {1002}},
      {"reserved opcode 0xF", F(0xF, "x"), {}, {1002}},
      {"fragmented ping", F(kPing, "p", nofin()), {}, {1002}},
      {"fragmented pong", F(kPong, "p", nofin()), {}, {1002}},
      {"fragmented close", F(kClose, close_payload(1000), nofin()), {}, {1002}},
      {"ping of 126 bytes", F(kPing, big126), {}, {1002}},
      {"close of 126 bytes", F(kClose, close_payload(1000, std::string(124, 'r'))), {}, {1002}},
      {"continuation without a start", F(kCont, "x"), {}, {1002}},
      // "a" reaches the handler; its echo goes out only if "b" came in a later read (a failed
      // connection sends nothing but its close frame).
      {"continuation after a complete message", F(kText, "a") + F(kCont, "b"), {}, {1002}, 0,
       true},
      {"text inside a fragmented message", F(kText, "a", nofin()) + F(kText, "b"), {}, {1002}},
      {"binary inside a fragmented message", F(kText, "a", nofin()) + F(kBinary, "b"), {},
       {1002}},
      {"non-minimal 16-bit length", F(kText, "short", form(126)), {}, {1002}},
      {"non-minimal 64-bit length (small)", F(kText, "short", form(127)), {}, {1002}},
      {"non-minimal 64-bit length (fits 16 bits)", F(kText, big126, form(127)), {}, {1002}},
      {"64-bit length with the top bit set",
       [] {
         FrameOpts o;
         o.announce = 0x8000000000000005ull;
         return F(kText, "", o);
       }(),
       {}, {1002}},
      {"close with a 1-byte payload", F(kClose, "\x03"), {}, {1002}},
      {"close code 0", closef(0), {}, {1002}},
      {"close code 999", closef(999), {}, {1002}},
      {"close code 1004", closef(1004), {}, {1002}},
      {"close code 1005", closef(1005), {}, {1002}},
      {"close code 1006", closef(1006), {}, {1002}},
      {"close code 1016", closef(1016), {}, {1002}},
      {"close code 1100", closef(1100), {}, {1002}},
      {"close code 2000", closef(2000), {}, {1002}},
      {"close code 2999", closef(2999), {}, {1002}},
      {"close code 5000", closef(5000), {}, {1002}},
      {"close code 65535", closef(65535), {}, {1002}},
      {"close reason not UTF-8", closef(1000, "bad \xff reason"), {}, {1002}},
      {"close reason overlong UTF-8", closef(1000, "\xc0\xaf"), {}, {1002}},
      // ---- invalid UTF-8 in text: 1007 --------------------------------------------------
      {"UTF-8 byte 0xFF", F(kText, "ab\xff"), {}, {1007}},
      {"UTF-8 lone continuation byte", F(kText, "\x80"), {}, {1007}},
      {"UTF-8 overlong 2-byte", F(kText, "\xc0\xaf"), {}, {1007}},
      {"UTF-8 overlong 3-byte", F(kText, "\xe0\x80\xaf"), {}, {1007}},
      {"UTF-8 overlong 4-byte", F(kText, "\xf0\x80\x80\xaf"), {}, {1007}},
      {"UTF-8 surrogate U+D800", F(kText, "\xed\xa0\x80"), {}, {1007}},
      {"UTF-8 surrogate U+DFFF", F(kText, "\xed\xbf\xbf"), {}, {1007}},
      {"UTF-8 above U+10FFFF", F(kText, "\xf4\x90\x80\x80"), {}, {1007}},
      {"UTF-8 lead byte 0xF5", F(kText, "\xf5\x80\x80\x80"), {}, {1007}},
      {"UTF-8 truncated at the end", F(kText, "abc\xe2\x82"), {}, {1007}},
      {"UTF-8 truncated across fragments", F(kText, "abc", nofin()) + F(kCont, "\xe2\x82"), {},
       {1007}},
      {"UTF-8 broken across fragments", F(kText, "\xe2\x82", nofin()) + F(kCont, "x"), {},
       {1007}},
      {"UTF-8 surrogate across fragments", F(kText, "\xed", nofin()) + F(kCont, "\xa0\x80"), {},
       {1007}},
      // fail fast: the first fragment already proves it, no final fragment ever comes
      {"UTF-8 invalid in an unfinished message", F(kText, "ok\xc0", nofin()), {}, {1007}},
      // ---- unsupported data and limits --------------------------------------------------
      {"binary frame", F(kBinary, "\x01\x02"), {}, {1003}},
      {"fragmented binary", F(kBinary, "\x01", nofin()), {}, {1003}},
      {"text one byte over the limit", F(kText, std::string(kLimit + 1, 'f')), {}, {1009}},
      {"fragments over the limit",
       F(kText, std::string(kLimit / 2, 'g'), nofin()) +
           F(kCont, std::string(kLimit / 2 + 1, 'g')),
       {}, {1009}},
      {"a header announcing 1 TiB (no payload sent)",
       [] {
         FrameOpts o;
         o.announce = 1ull << 40;
         return F(kText, "", o);
       }(),
       {}, {1009}},
  };
  return v;
}

struct EchoServer {
  Recorder rec;
  std::unique_ptr<WsHost> host;
  std::unique_ptr<LoopThread> loop;
  std::uint16_t port = 0;
  EchoServer() {
    rec.echo = true;
    WsHostOptions opt;
    opt.max_frame = kLimit;
    opt.max_frame_unauthenticated = kLimit;
    auto s = create_listener(opt, rec, &port);
    REQUIRE(s.ok());
    host = std::move(s.value());
    rec.host = host.get();
    loop = std::make_unique<LoopThread>(*host);
  }
};

// Reads frames until the end: returns the close code (-1: EOF/timeout without close frame).
int collect(RawWs& ws, std::vector<Got>& got) {
  for (;;) {
    int op = 0;
    std::string p;
    if (!ws.read_frame(op, p)) return -1;
    if (op == kClose) {
      ws.send_frame(kClose, p.substr(0, 2));
      if (p.size() < 2) return 1005;
      return (static_cast<unsigned char>(p[0]) << 8) | static_cast<unsigned char>(p[1]);
    }
    got.push_back(Got{op, std::move(p)});
  }
}

// Reads exactly the expected frames (a connection that must stay open never "ends").
std::vector<Got> read_n(RawWs& ws, std::size_t n) {
  std::vector<Got> got;
  while (got.size() < n) {
    int op = 0;
    std::string p;
    if (!ws.read_frame(op, p)) break;
    got.push_back(Got{op, std::move(p)});
    if (op == kClose) break;
  }
  return got;
}

}  // namespace

TEST_CASE("rfc6455: server side, frame by frame", "[transport][rfc6455]") {
  EchoServer s;
  const auto cases = server_cases();
  for (const Case& c : cases) {
    INFO("case: " << c.name);
    RawWs ws;
    REQUIRE(ws.open(s.port).rfind("HTTP/1.1 101", 0) == 0);
    REQUIRE(ws.send_bytes(c.bytes, c.piece));
    if (c.close == std::vector<int>{kOpen}) {
      CHECK(read_n(ws, c.expect.size()) == c.expect);
      // Still open and healthy: a polite close is answered politely.
      ws.send_frame(kClose, close_payload(1000));
      std::vector<Got> rest;
      CHECK(collect(ws, rest) == 1000);
      CHECK(rest.empty());
    } else {
      std::vector<Got> got;
      const int code = collect(ws, got);
      if (!c.frames_may_vary) CHECK(got == c.expect);
      CHECK_THAT(c.close, Catch::Matchers::VectorContains(code));
    }
  }
}

TEST_CASE("rfc6455: a flood of pings is answered promptly, memory stays bounded",
          "[transport][rfc6455]") {
  EchoServer s;
  RawWs ws;
  REQUIRE(ws.open(s.port).rfind("HTTP/1.1 101", 0) == 0);
  constexpr int kPings = 10000;
  std::string flood;
  for (int i = 0; i < kPings; ++i) flood += F(kPing, std::to_string(i));
  flood += F(kText, "after the flood");
  REQUIRE(ws.send_bytes(flood));
  // RFC 6455 §5.5.3: a pong may answer only the most recent ping. Whatever is skipped, the
  // last ping is answered, and the text after the flood is echoed (within the read timeout).
  int pongs = 0;
  std::string last_pong;
  bool echoed = false;
  while (!echoed) {
    int op = 0;
    std::string p;
    REQUIRE(ws.read_frame(op, p));
    if (op == kPong) {
      ++pongs;
      last_pong = p;
    } else {
      REQUIRE(op == kText);
      CHECK(p == "after the flood");
      echoed = true;
    }
  }
  CHECK(pongs >= 1);
  CHECK(pongs <= kPings);
  CHECK(last_pong == std::to_string(kPings - 1));
  ws.send_frame(kClose, close_payload(1000));
  std::vector<Got> rest;
  CHECK(collect(ws, rest) == 1000);
}
