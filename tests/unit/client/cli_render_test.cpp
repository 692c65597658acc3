// socp-cli text output (client/render.h): every event and error code, with and without colour.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <ctime>

#include "progress.h"
#include "render.h"
#include "style.h"

using namespace socp;
using namespace socp::cli;

namespace {

const std::string kAlice = "a11ce000-0000-4000-8000-000000000001";
const std::string kBob = "b0b00000-0000-4000-8000-000000000002";
const std::string kBob2 = "b0b20000-0000-4000-8000-000000000007";
const std::string kServer = "5e4e4000-0000-4000-8000-00000000000a";
const std::string kFp =
    "80b3e32dc28b0883f078203275000837"
    "4c952d521161d30b559640c12e25fb60";

RenderContext plain() {
  RenderContext c;
  c.self_id = kAlice;
  c.users = {{kAlice, "alice"}, {kBob, "bob"}};
  return c;
}

RenderContext colored() {
  RenderContext c = plain();
  c.color_out = c.color_err = true;
  return c;
}

json::Value ev(const char* name, json::Object fields) {
  fields["event"] = name;
  return json::Value(std::move(fields));
}

// The one line an event renders to (checks there is exactly one).
Line one(const json::Value& e, const RenderContext& c = plain()) {
  Rendered r = render_event(e, c);
  REQUIRE(r.lines.size() == 1);
  return r.lines[0];
}

std::string err_text(const char* code, const std::string& detail, const char* ref = "") {
  return error_text(ev("error", {{"code", code}, {"detail", detail}, {"msg_ref", ref}}), plain());
}

// Runs with TZ=UTC so clock times are predictable; restores the zone afterwards.
struct UtcZone {
  std::string old;
  bool had = false;
  UtcZone() {
    if (const char* tz = std::getenv("TZ")) {
      old = tz;
      had = true;
    }
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
  ~UtcZone() {
    if (had) {
      ::setenv("TZ", old.c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }
};

constexpr std::int64_t kTs = 1700000000000;  // 2023-11-14 22:13:20 UTC

}  // namespace

TEST_CASE("cli render: clock and printable", "[cli]") {
  UtcZone utc;
  CHECK(format_clock(kTs) == "22:13");
  CHECK(format_clock(kTs + 39'999) == "22:13");
  CHECK(format_clock(kTs + 40'000) == "22:14");  // minutes are cut, not rounded
  CHECK(printable("a\tb\x1b[31mc\x7f\xc2\x9b") == "a b?[31mc??");
  CHECK(printable("gr\xc3\xbc\xc3\x9f"
                  "e") ==
        "gr\xc3\xbc\xc3\x9f"
        "e");
}

TEST_CASE("cli render: messages", "[cli]") {
  UtcZone utc;
  json::Value m = ev("message", {{"from", kBob},
                                 {"from_name", "bob"},
                                 {"to", kAlice},
                                 {"text", "hi alice"},
                                 {"ts", kTs},
                                 {"verified", true},
                                 {"first_contact", false}});
  Line l = one(m);
  CHECK(l.stream == Stream::Out);
  CHECK(l.text == "[22:13] bob: hi alice");

  // Escape sequences from the network are neutralised; lines of a long text are indented.
  json::Value evil = m;
  evil.as_object()["text"] = "\x1b]0;pwned\x07 line one\nline two";
  CHECK(one(evil).text == "[22:13] bob: ?]0;pwned? line one\n             line two");

  // First contact: the message, then a hint on stderr.
  json::Value first = m;
  first.as_object()["first_contact"] = true;
  Rendered r = render_event(first, plain());
  REQUIRE(r.lines.size() == 2);
  CHECK(r.lines[0].text == "[22:13] bob: hi alice");
  CHECK(r.lines[1].stream == Stream::Err);
  CHECK(r.lines[1].text ==
        "* first message from bob: its key is now pinned; compare fingerprints with /verify bob");

  // The public channel: tagged.
  json::Value pub = m;
  pub.as_object()["to"] = "public";
  CHECK(one(pub).text == "[22:13] [all] bob: hi alice");
  pub.as_object()["channel"] = "public";
  CHECK(one(pub).text == "[22:13] [all] bob: hi alice");

  // Colour: dim time, bob in his colour.
  const std::string c = one(m, colored()).text;
  CHECK(c ==
        "\033[2m[22:13]\033[0m \033[" + std::string(user_color(kBob)) + "mbob\033[0m: hi alice");
}

TEST_CASE("cli render: names, not ids, a short id only for a shared name", "[cli]") {
  json::Value p =
      ev("presence",
         {{"user_id", kBob}, {"display_name", "bob"}, {"server_id", kServer}, {"online", true}});
  Line l = one(p);
  CHECK(l.stream == Stream::Err);
  CHECK(l.text == "* bob is online");
  p.as_object()["online"] = false;
  CHECK(one(p).text == "* bob went offline");

  RenderContext two = plain();
  two.users.push_back({kBob2, "bob"});
  p.as_object()["online"] = true;
  CHECK(one(p, two).text == "* bob (b0b00000\xe2\x80\xa6) is online");

  // Our own name is bold; status lines are dim.
  json::Value me =
      ev("logged_in", {{"user_id", kAlice}, {"display_name", "alice"}, {"server_id", kServer}});
  CHECK(one(me).text == "* logged in as alice");
  CHECK(one(me, colored()).text == "\033[2m* logged in as \033[1malice\033[0m\033[2m\033[0m");
  RenderContext at_prompt = plain();
  at_prompt.interactive = true;
  CHECK(one(me, at_prompt).text ==
        "* logged in as alice - /help lists the commands, Tab completes");
}

TEST_CASE("cli render: key change warning", "[cli]") {
  json::Value k = ev("key_changed", {{"user_id", kBob},
                                     {"display_name", "bob"},
                                     {"pinned_fingerprint", kFp},
                                     {"offered_fingerprint", std::string(64, 'f')},
                                     {"source", "advertise"}});
  Line l = one(k);
  CHECK(l.stream == Stream::Err);
  // A framed block that cannot scroll by unnoticed: every line starts with "!!".
  const std::string rule = "!! " + std::string(66, '=');
  CHECK(l.text.rfind(rule + "\n!! WARNING: the key of bob CHANGED \xe2\x80\x94 it may be an "
                            "impostor\n",
                     0) == 0);
  CHECK(l.text.find("!!   still pinned: 80b3 e32d") != std::string::npos);
  CHECK(l.text.find("!!   offered:      ffff ffff") != std::string::npos);
  CHECK(l.text.find("Compare fingerprints with /verify bob ") != std::string::npos);
  CHECK(l.text.size() > rule.size());
  CHECK(l.text.substr(l.text.size() - rule.size()) == rule);
  for (std::size_t pos = 0; pos != std::string::npos;) {
    CHECK(l.text.compare(pos, 2, "!!") == 0);
    pos = l.text.find('\n', pos);
    if (pos != std::string::npos) ++pos;
  }
  // Bold red when coloured.
  CHECK(one(k, colored()).text.rfind("\033[1;31m!! ===", 0) == 0);
  // A name shared by two users: /verify needs the id.
  RenderContext two = plain();
  two.users.push_back({kBob2, "bob"});
  CHECK(one(k, two).text.find("/verify " + kBob + " ") != std::string::npos);
  // When it was pinned, if known.
  UtcZone utc;
  json::Value dated = k;
  dated.as_object()["pinned_since"] = kTs;
  CHECK(one(dated).text.find("(since 2023-11-14 22:13)") != std::string::npos);
}

TEST_CASE("cli render: a changed server key says how to accept it deliberately", "[cli]") {
  json::Value k = ev("key_changed", {{"kind", "server"},
                                     {"user_id", kServer},
                                     {"display_name", "127.0.0.1:8765"},
                                     {"server", "127.0.0.1:8765"},
                                     {"pinned_fingerprint", kFp},
                                     {"pinned_since", std::int64_t{0}},
                                     {"offered_fingerprint", std::string(64, 'f')},
                                     {"source", "pinned"}});
  RenderContext c = plain();
  c.identity = "alice";
  Line l = one(k, c);
  CHECK(l.stream == Stream::Err);
  CHECK(l.text.find("!! WARNING: the server at 127.0.0.1:8765 presents a DIFFERENT KEY than the "
                    "one pinned for it") != std::string::npos);
  CHECK(l.text.find("!!   expected: 80b3 e32d") != std::string::npos);
  CHECK(l.text.find("!!   offered:  ffff ffff") != std::string::npos);
  CHECK(l.text.find("refuses to log in") != std::string::npos);
  CHECK(l.text.find("!!     socp-cli forget-server 127.0.0.1:8765 --name alice") !=
        std::string::npos);
  CHECK(l.text.find("--accept-new-server-key") != std::string::npos);
  // Against --server-key there is nothing to forget.
  k.as_object()["source"] = "option";
  Line o = one(k, c);
  CHECK(o.text.find("than the one given with --server-key") != std::string::npos);
  CHECK(o.text.find("forget-server") == std::string::npos);
  // The error that ends the session shows its detail as is.
  CHECK(err_text("SERVER_KEY_CHANGED", "the server at x presents a different key") ==
        "the server at x presents a different key");
  // forget-server's own event.
  CHECK(one(ev("server_forgotten", {{"server", "h:1"}, {"forgotten", true}, {"fingerprint", kFp}}))
            .text.find("* forgot the key pinned for the server at h:1 (80b3 e32d") == 0);
  CHECK(one(ev("server_forgotten", {{"server", "h:1"}, {"forgotten", false}})).text ==
        "* no key was pinned for the server at h:1");
}

TEST_CASE("cli render: /verify and /whoami fingerprints in groups of four", "[cli]") {
  Line f =
      one(ev("fingerprint", {{"user_id", kBob}, {"display_name", "bob"}, {"fingerprint", kFp}}));
  CHECK(f.stream == Stream::Out);
  CHECK(f.text ==
        "fingerprint of bob:\n"
        "  80b3 e32d c28b 0883 f078 2032 7500 0837\n"
        "  4c95 2d52 1161 d30b 5596 40c1 2e25 fb60\n"
        "compare it with what bob sees in /whoami (in person or over another channel)");
  Line w = one(ev("whoami", {{"user_id", kAlice},
                             {"display_name", "alice"},
                             {"server_id", kServer},
                             {"fingerprint", kFp}}));
  CHECK(w.text ==
        "you are alice\n"
        "  user id:     " +
            kAlice +
            "\n"
            "  server:      " +
            kServer +
            "\n"
            "  fingerprint: 80b3 e32d c28b 0883 f078 2032 7500 0837\n"
            "               4c95 2d52 1161 d30b 5596 40c1 2e25 fb60");
}

TEST_CASE("cli render: /list", "[cli]") {
  const auto entry = [](const std::string& id, const char* name, bool online) {
    json::Object o;  // built member by member (GCC 12 warns on nested initializer lists)
    o["user_id"] = id;
    o["display_name"] = name;
    o["server_id"] = kServer;
    o["online"] = online;
    return json::Value(std::move(o));
  };
  json::Array users;
  users.push_back(entry(kAlice, "alice", true));
  users.push_back(entry(kBob, "bob", false));
  Line l = one(ev("list", {{"users", users}}));
  CHECK(l.stream == Stream::Out);
  CHECK(l.text ==
        "2 users, 1 online:\n"
        "  alice  online   " +
            kAlice +
            "  @5e4e4000  (you)\n"
            "  bob    offline  " +
            kBob + "  @5e4e4000");
  CHECK(one(ev("list", {{"users", json::Array{}}})).text == "0 users, 0 online");
}

TEST_CASE("cli render: sent, sent_all, rejected, warning, closed, help", "[cli]") {
  CHECK(one(ev("sent", {{"to", kBob}, {"to_name", "bob"}, {"bytes", 2}, {"pieces", 1}})).text ==
        "* sent to bob");
  CHECK(one(ev("sent", {{"to", kBob}, {"to_name", "bob"}, {"bytes", 900}, {"pieces", 3}})).text ==
        "* sent to bob (in 3 pieces)");
  CHECK(one(ev("sent_all", {{"recipients", 1}, {"bytes", 2}, {"skipped", 0}})).text ==
        "* sent to 1 online user");
  CHECK(one(ev("sent_all", {{"recipients", 3}, {"bytes", 2}, {"skipped", 1}})).text ==
        "* sent to 3 online users; 1 skipped (no key yet)");
  CHECK(one(ev("sent_all", {{"recipients", 0}, {"bytes", 2}, {"skipped", 0}})).text ==
        "* nobody else is online: nothing sent");
  CHECK(one(ev("sent_all", {{"recipients", 2},
                            {"bytes", 2},
                            {"skipped", 1},
                            {"channel", "public"},
                            {"members", 3}}))
            .text == "* posted to /all (3 members); 1 without a key cannot read it");
  CHECK(one(ev("sent_all", {{"recipients", 0},
                            {"bytes", 2},
                            {"skipped", 0},
                            {"channel", "public"},
                            {"members", 0}}))
            .text == "* posted to /all (nobody else is in the channel yet)");
  CHECK(one(ev("rejected", {{"reason", "no channel key"},
                            {"from", kBob},
                            {"from_name", "bob"},
                            {"ts", kTs},
                            {"channel", "public"}}))
            .text == "!! rejected an /all post claiming to be from bob: no channel key");
  Line rej = one(
      ev("rejected",
         {{"reason", "bad content signature"}, {"from", kBob}, {"from_name", "bob"}, {"ts", kTs}}));
  CHECK(rej.stream == Stream::Err);
  CHECK(rej.text == "!! rejected a message claiming to be from bob: bad content signature");
  CHECK(one(ev("rejected", {{"reason", "x"}, {"from", kBob}, {"from_name", "bob"}, {"ts", kTs}}),
            colored())
            .text.rfind("\033[31m", 0) == 0);
  Line w = one(ev("warning", {{"detail", "directory refresh timed out"}}), colored());
  CHECK(w.stream == Stream::Err);
  CHECK(w.text == "\033[33mwarning: directory refresh timed out\033[0m");
  CHECK(one(ev("closed", {{"outcome", "done"}, {"code", ""}})).text == "* disconnected");
  CHECK(one(ev("closed", {{"outcome", "connect_failed"}, {"code", ""}})).text ==
        "error: cannot connect to the server");
  CHECK(one(ev("closed", {{"outcome", "connection_lost"}, {"code", ""}})).text ==
        "error: connection lost");
  CHECK(one(ev("closed", {{"outcome", "auth_failed"}, {"code", "BAD_KEY"}})).text ==
        "* connection closed (auth_failed)");
  CHECK(one(ev("connected", {{"server", "127.0.0.1:8765"}})).text ==
        "* connected to 127.0.0.1:8765");
  Line h = one(ev("help", {{"text", "commands:\n  /list   users"}}), colored());
  CHECK(h.text == "commands:\n  /list   users");  // our text, verbatim
  RenderContext at_prompt = plain();
  at_prompt.interactive = true;  // the prompt's keys are added at the prompt only
  CHECK(one(ev("help", {{"text", "commands:"}}), at_prompt).text ==
        "commands:\nkeys: Tab completes commands, users and file paths; Up/Down recall earlier "
        "lines; Ctrl-D leaves");
  // An event this version does not know: shown as JSON, still without control characters.
  CHECK(one(ev("future_thing", {{"x", "\x1b"}})).text ==
        "{\"event\":\"future_thing\",\"x\":\"\\u001b\"}");
}

TEST_CASE("cli render: one clear line per error code", "[cli]") {
  CHECK(err_text("USER_NOT_FOUND", "no known user 'bob'") == "no such user (or not online): bob");
  CHECK(err_text("USER_NOT_FOUND", "user " + kBob + " is offline", "MSG_DIRECT") ==
        "no such user (or not online): bob");  // the id is named from the known users
  CHECK(err_text("USER_NOT_FOUND", "unknown user " + kBob2, "MSG_DIRECT") ==
        "no such user (or not online): " + kBob2);
  CHECK(err_text("OFFLINE", "user " + kBob + " is offline") == "bob is offline");
  CHECK(err_text("NAME_IN_USE", "display name taken") ==
        "that display name is already taken; pick another --name (display name taken)");
  CHECK(err_text("BAD_KEY", "not RSA-4096") == "the key was refused (not RSA-4096)");
  CHECK(err_text("INVALID_SIG", "hello signature") ==
        "a signature did not verify (hello signature)");
  CHECK(err_text("BAD_PASSWORD", "wrong password for alice") == "wrong password");
  CHECK(err_text("TIMEOUT", "no answer from the server") == "timed out: no answer from the server");
  CHECK(err_text("TIMEOUT", "") == "timed out: no answer in time");
  CHECK(err_text("UNKNOWN_TYPE", "", "FILE_START") == "the server does not support FILE_START");
  CHECK(err_text("BUSY", "") == "the server is busy; try again in a moment");
  CHECK(err_text("TOO_LARGE", "frame over 1 MiB") == "too large: frame over 1 MiB");
  CHECK(err_text("BAD_FRAME", "missing field", "MSG_DIRECT") ==
        "the server refused a malformed MSG_DIRECT (missing field)");
  CHECK(err_text("NOT_AUTHENTICATED", "") == "not logged in (yet)");
  CHECK(err_text("NO_KEY", "no key pinned yet for " + kBob) == "no key known yet for bob");
  CHECK(err_text("USAGE", "usage: /tell <user> <text>") == "usage: /tell <user> <text>");
  CHECK(err_text("UNKNOWN_COMMAND", "unknown command /foo (try /help)") ==
        "unknown command /foo (try /help)");
  CHECK(err_text("SOMETHING_NEW", "as received") == "SOMETHING_NEW: as received");
  CHECK(err_text("SOMETHING_NEW", "") == "SOMETHING_NEW");
  CHECK(err_text("INTERNAL", "oops") == "INTERNAL: oops");

  json::Value amb =
      ev("error", {{"code", "AMBIGUOUS"},
                   {"detail", "display name 'bob' matches several users; use a user id"},
                   {"msg_ref", ""},
                   {"candidates", json::Array{kBob, kBob2}}});
  Line l = one(amb);
  CHECK(l.stream == Stream::Err);
  CHECK(l.text == "error: 'bob' matches several users; use an id:\n  " + kBob + "\n  " + kBob2);
  // Red when coloured; detail from the network made printable.
  CHECK(one(ev("error", {{"code", "BUSY"}, {"detail", ""}, {"msg_ref", ""}}), colored()).text ==
        "\033[31merror: the server is busy; try again in a moment\033[0m");
  CHECK(err_text("X", "a\x1b[2Jb") == "X: a?[2Jb");
}

TEST_CASE("cli render: colour per stream", "[cli]") {
  RenderContext c = plain();
  c.color_out = true;  // stdout a terminal, stderr redirected
  CHECK(one(ev("warning", {{"detail", "x"}}), c).text == "warning: x");
  UtcZone utc;
  json::Value m =
      ev("message",
         {{"from", kBob}, {"from_name", "bob"}, {"to", kAlice}, {"text", "t"}, {"ts", kTs}});
  CHECK(one(m, c).text.find("\033[") != std::string::npos);
}

TEST_CASE("cli render: file transfers", "[cli]") {
  RenderContext c = plain();
  c.progress = true;
  c.width = 81;
  json::Value p = ev("file_progress", {{"file_id", "f1"},
                                       {"name", "report.pdf"},
                                       {"direction", "send"},
                                       {"bytes", 1216349},
                                       {"total", 2097152}});
  Rendered r = render_event(p, c);
  CHECK(r.lines.empty());
  REQUIRE(r.progress);
  CHECK(r.progress->key == "f1");
  CHECK_FALSE(r.progress->done);
  CHECK(r.progress->text == "^ report.pdf  [#################.............]  58%  1.2 MiB/2.0 MiB");
  CHECK(visible_width(r.progress->text) < 81);
  // Not a terminal: no bars at all.
  r = render_event(p, plain());
  CHECK(r.lines.empty());
  CHECK_FALSE(r.progress);

  json::Value sent = ev("file_sent", {{"file_id", "f1"},
                                      {"name", "report.pdf"},
                                      {"to", kBob},
                                      {"to_name", "bob"},
                                      {"size", 2097152}});
  r = render_event(sent, c);
  REQUIRE(r.progress);
  CHECK(r.progress->done);
  REQUIRE(r.lines.size() == 1);
  CHECK(r.lines[0].stream == Stream::Err);
  CHECK(r.lines[0].text == "* sent report.pdf (2.0 MiB) to bob");
  json::Value pub = ev(
      "file_sent",
      {{"file_id", "f2"}, {"name", "a.txt"}, {"to", "public"}, {"to_name", "public"}, {"size", 5}});
  CHECK(one(pub).text == "* sent a.txt (5 B) to everyone");

  json::Value got = ev("file_received", {{"file_id", "f3"},
                                         {"name", "report.pdf"},
                                         {"path", "/home/alice/.socp/alice/downloads/report.pdf"},
                                         {"from", kBob},
                                         {"from_name", "bob"},
                                         {"size", 2097152},
                                         {"sha256", std::string(64, 'a')},
                                         {"mode", "dm"}});
  Line l = one(got);
  CHECK(l.stream == Stream::Out);
  CHECK(l.text ==
        "received report.pdf (2.0 MiB) from bob, saved as "
        "/home/alice/.socp/alice/downloads/report.pdf");

  json::Value failed = ev("file_failed", {{"file_id", "f4"},
                                          {"name", "report.pdf"},
                                          {"direction", "receive"},
                                          {"reason", "SHA-256 mismatch"},
                                          {"from", kBob},
                                          {"from_name", "bob"}});
  l = one(failed);
  CHECK(l.stream == Stream::Err);
  CHECK(l.text == "error: receiving report.pdf from bob failed: SHA-256 mismatch");
  json::Value failed_send = ev("file_failed", {{"file_id", "f5"},
                                               {"name", "x.bin"},
                                               {"direction", "send"},
                                               {"reason", "USER_NOT_FOUND"},
                                               {"to", kBob},
                                               {"to_name", "bob"}});
  CHECK(one(failed_send).text == "error: sending x.bin to bob failed: USER_NOT_FOUND");
  CHECK(one(failed_send, colored()).text.rfind("\033[31merror: sending x.bin to ", 0) == 0);

  json::Value incoming = ev("file_incoming", {{"file_id", "f6"},
                                              {"name", "a.txt"},
                                              {"from", kBob},
                                              {"from_name", "bob"},
                                              {"size", 3000},
                                              {"mode", "dm"}});
  CHECK(one(incoming).text == "* bob is sending you a.txt (2.9 KiB)");
}
