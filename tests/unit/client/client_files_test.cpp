// ClientCore file transfer (/file): two real clients, alice sending and bob receiving, with the
// test relaying frames the way a server would (payload + `sender`, signed by server_a, ts
// kept). Hostile and broken transfers are crafted frame by frame.
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "client_fake_server.h"
#include "core/client/client_commands.h"
#include "mesh_sim.h"

using namespace socp;
using namespace socp::test;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kPiece = 446;

struct TempDir {
  std::string path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "socp-files-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string test_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

void write_file(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f << data;
  REQUIRE(f.good());
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

std::vector<std::string> dir_entries(const std::string& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::int64_t num(const json::Value& e, const std::string& key) {
  const std::int64_t* v = json::get_int(e, key);
  return v ? *v : -1;
}

std::vector<json::Value> events_named(const std::vector<json::Value>& events,
                                      const std::string& name) {
  std::vector<json::Value> out;
  for (const json::Value& e : events) {
    const std::string* n = json::get_string(e, "event");
    if (n && *n == name) out.push_back(e);
  }
  return out;
}

// Signs server frames on both cores: the relay signs one frame per chunk (~3 ms each).
std::vector<std::string> sign_all(const std::vector<Envelope>& envs) {
  std::vector<std::string> out(envs.size());
  auto work = [&](std::size_t from, std::size_t step) {
    for (std::size_t i = from; i < envs.size(); i += step) {
      Envelope e = envs[i];
      e.sig = sign_payload(fixture_key("server_a"), e.payload).value();
      out[i] = serialize(e);
    }
  };
  std::thread t(work, 1, 2);
  work(0, 2);
  t.join();
  return out;
}

// What server_a sends a local recipient for a user's file frame: same type and ts, payload
// plus `sender`, `to` = the recipient.
Envelope as_delivered(const Envelope& from_user, const std::string& to) {
  Envelope e = make_envelope(*from_user.type, kServerA, to, from_user.ts, from_user.payload);
  e.payload.as_object()["sender"] = from_user.from;
  return e;
}

ClientConfig bob_login_config(FakeClock& clock) {
  ClientConfig cfg = alice_login_config(clock);
  cfg.user_id = kBob;
  cfg.display_name = "bob";
  cfg.key = fixture_key("bob");
  return cfg;
}

// Alice and bob logged in to server_a, each knowing the other (adverts with keys).
struct Pair {
  FakeClock clock;
  TempDir tmp;
  std::string src, dl;
  std::unique_ptr<ClientCore> alice, bob;
  std::vector<json::Value> alice_events, bob_events;

  explicit Pair(std::function<void(ClientConfig&)> tweak_alice = {},
                std::function<void(ClientConfig&)> tweak_bob = {}) {
    src = tmp.path + "/src";
    dl = tmp.path + "/downloads";
    fs::create_directories(src);
    ClientConfig a = alice_login_config(clock);
    a.download_dir = tmp.path + "/alice-downloads";
    a.file_chunks_per_second = 0;
    if (tweak_alice) tweak_alice(a);
    ClientConfig b = bob_login_config(clock);
    b.download_dir = dl;
    if (tweak_bob) tweak_bob(b);
    alice = std::make_unique<ClientCore>(std::move(a));
    bob = std::make_unique<ClientCore>(std::move(b));
    log_in(*alice, clock);
    bob->on_connected();
    (void)bob->take_frames();
    bob->on_frame(ack_hello(kBob, clock.ms));
    REQUIRE(bob->logged_in());
    alice->on_frame(advertise(kAlice, kBob, "bob", fixture_key("bob"), clock.ms));
    bob->on_frame(advertise(kBob, kAlice, "alice", fixture_key("alice"), clock.ms));
    (void)alice->take_events();
    (void)bob->take_events();
  }

  std::string put(const std::string& name, const std::string& data) {
    const std::string p = src + "/" + name;
    write_file(p, data);
    return p;
  }

  // Alice's FILE_* frames so far, as bob's server would deliver them.
  std::vector<std::string> relay_to_bob() {
    std::vector<Envelope> out;
    for (const Envelope& e : parse_all(alice->take_frames())) {
      REQUIRE(e.type);
      if (*e.type != MessageType::FileStart && *e.type != MessageType::FileChunk &&
          *e.type != MessageType::FileEnd) {
        continue;
      }
      CHECK(e.to == kBob);
      CHECK(e.from == kAlice);
      out.push_back(as_delivered(e, kBob));
    }
    return sign_all(out);
  }

  void feed_bob(const std::vector<std::string>& frames) {
    for (const std::string& f : frames) bob->on_frame(f);
    auto ev = bob->take_events();
    bob_events.insert(bob_events.end(), ev.begin(), ev.end());
  }

  void take_alice_events() {
    auto ev = alice->take_events();
    alice_events.insert(alice_events.end(), ev.begin(), ev.end());
  }
};

// A file transfer crafted by the test (an independent sender implementation): manifest
// content-signed by `sender_key`, chunks of 446 bytes RSA-OAEP to `to_key`.
struct Crafted {
  std::string file_id = new_uuid_v4();
  std::string name, data, sha;
  std::int64_t ts = 0;
  Envelope start;
  std::vector<Envelope> chunks;
  Envelope end;
};

std::string manifest(const Crafted& c, const std::string& from, const std::string& to,
                     std::int64_t size, const std::string& mode = "dm") {
  return json::canonical(json::Object{{"file_id", c.file_id},
                                      {"from", from},
                                      {"mode", mode},
                                      {"name", c.name},
                                      {"sha256", c.sha},
                                      {"size", size},
                                      {"to", to}});
}

Crafted craft(const std::string& name, const std::string& data, std::int64_t ts,
              const PrivateKey& sender_key = fixture_key("alice"),
              const std::string& sender = kAlice, const PublicKey* to_key = nullptr,
              std::optional<std::int64_t> declared_size = std::nullopt) {
  Crafted c;
  c.name = name;
  c.data = data;
  c.ts = ts;
  c.sha = hex_encode(sha256(data));
  const std::int64_t size = declared_size.value_or(static_cast<std::int64_t>(data.size()));
  const PublicKey& rk = to_key ? *to_key : fixture_key("bob").public_key();
  json::Object start{
      {"file_id", c.file_id},
      {"name", name},
      {"size", size},
      {"sha256", c.sha},
      {"mode", "dm"},
      {"sender_pub", sender_key.public_key().b64url()},
      {"content_sig", b64url_encode(sender_key.sign(manifest(c, sender, kBob, size)).value())},
      {"sender", sender}};
  c.start = make_envelope(MessageType::FileStart, kServerA, kBob, ts, json::Value(start));
  std::int64_t index = 0;
  for (std::size_t off = 0; off < data.size(); off += kPiece, ++index) {
    const std::string piece = data.substr(off, kPiece);
    json::Object p{{"file_id", c.file_id},
                   {"index", index},
                   {"ciphertext", b64url_encode(rk.encrypt(piece).value())},
                   {"sender", sender}};
    c.chunks.push_back(make_envelope(MessageType::FileChunk, kServerA, kBob, ts, json::Value(p)));
  }
  json::Object e{{"file_id", c.file_id}, {"chunks", index}, {"sender", sender}};
  c.end = make_envelope(MessageType::FileEnd, kServerA, kBob, ts, json::Value(e));
  return c;
}

std::vector<std::string> frames_of(const Crafted& c) {
  std::vector<Envelope> all{c.start};
  all.insert(all.end(), c.chunks.begin(), c.chunks.end());
  all.push_back(c.end);
  return sign_all(all);
}

}  // namespace

TEST_CASE("files: round trips of 0, 1, 446, 447 bytes and 1 MiB between two clients",
          "[client][files]") {
  for (std::size_t size :
       {std::size_t{0}, std::size_t{1}, kPiece, kPiece + 1, std::size_t{1} << 20}) {
    DYNAMIC_SECTION("size " << size) {
      Pair t;
      const std::string data = test_bytes(size, static_cast<std::uint32_t>(size) + 7);
      const std::string path = t.put("report.bin", data);
      t.alice->command("/file bob " + path);
      t.take_alice_events();
      const std::vector<std::string> frames = t.relay_to_bob();
      const std::size_t chunks = (size + kPiece - 1) / kPiece;
      REQUIRE(frames.size() == chunks + 2);  // FILE_START, chunks, FILE_END

      // Sender: progress ends at 100 %, then file_sent; at most every 5 % in between.
      auto sent = events_named(t.alice_events, "file_sent");
      REQUIRE(sent.size() == 1);
      CHECK(str(sent[0], "to") == kBob);
      CHECK(str(sent[0], "to_name") == "bob");
      CHECK(str(sent[0], "name") == "report.bin");
      CHECK(num(sent[0], "size") == static_cast<std::int64_t>(size));
      auto sp = events_named(t.alice_events, "file_progress");
      REQUIRE_FALSE(sp.empty());
      CHECK(sp.size() <= 22);
      CHECK(num(sp.back(), "bytes") == static_cast<std::int64_t>(size));
      CHECK(num(sp.back(), "total") == static_cast<std::int64_t>(size));
      CHECK(str(sp.back(), "direction") == "send");

      t.feed_bob(frames);
      auto inc = events_named(t.bob_events, "file_incoming");
      REQUIRE(inc.size() == 1);
      CHECK(str(inc[0], "from") == kAlice);
      CHECK(str(inc[0], "from_name") == "alice");
      auto rec = events_named(t.bob_events, "file_received");
      REQUIRE(rec.size() == 1);
      CHECK(events_named(t.bob_events, "file_failed").empty());
      CHECK(str(rec[0], "file_id") == str(sent[0], "file_id"));
      CHECK(str(rec[0], "from") == kAlice);
      CHECK(str(rec[0], "from_name") == "alice");
      CHECK(str(rec[0], "sha256") == hex_encode(sha256(data)));
      CHECK(num(rec[0], "size") == static_cast<std::int64_t>(size));
      const std::string out = str(rec[0], "path");
      CHECK(out == t.dl + "/report.bin");
      CHECK(read_file(out) == data);
      struct stat st {};
      REQUIRE(::stat(out.c_str(), &st) == 0);
      CHECK((st.st_mode & 0777) == 0600);
      auto rp = events_named(t.bob_events, "file_progress");
      REQUIRE_FALSE(rp.empty());
      CHECK(rp.size() <= 22);
      CHECK(str(rp.back(), "direction") == "receive");
      CHECK(num(rp.back(), "bytes") == static_cast<std::int64_t>(size));
    }
  }
}

TEST_CASE("files: the wire form of a sent file", "[client][files]") {
  Pair t;
  const std::string data = test_bytes(1000, 1);
  t.alice->command("/file bob " + t.put("a b.txt", data));  // a path with a blank
  auto frames = parse_all(t.alice->take_frames());
  REQUIRE(frames.size() == 5);  // start, 3 chunks, end
  const Envelope& s = frames[0];
  CHECK(s.type == MessageType::FileStart);
  CHECK(s.from == kAlice);
  CHECK(s.to == kBob);
  const PublicKey& apub = fixture_key("alice").public_key();
  CHECK(verify_payload(apub, s.payload, s.sig) != SigForm::None);  // signed like MSG_DIRECT
  CHECK(str(s.payload, "name") == "a b.txt");
  CHECK(str(s.payload, "mode") == "dm");
  CHECK(str(s.payload, "sha256") == hex_encode(sha256(data)));
  CHECK(*json::get_int(s.payload, "size") == 1000);
  CHECK(str(s.payload, "sender_pub") == apub.b64url());
  // content_sig: PSS over canonical {file_id, from, mode, name, sha256, size, to}.
  const std::string m = json::canonical(json::Object{{"file_id", str(s.payload, "file_id")},
                                                     {"from", kAlice},
                                                     {"mode", "dm"},
                                                     {"name", "a b.txt"},
                                                     {"sha256", hex_encode(sha256(data))},
                                                     {"size", 1000},
                                                     {"to", kBob}});
  CHECK(apub.verify(m, b64_decode(str(s.payload, "content_sig")).value()));
  CHECK(is_uuid(str(s.payload, "file_id")));
  for (int i = 0; i < 3; ++i) {
    const Envelope& c = frames[1 + i];
    CHECK(c.type == MessageType::FileChunk);
    CHECK(*json::get_int(c.payload, "index") == i);
    auto pt = fixture_key("bob").decrypt(b64_decode(str(c.payload, "ciphertext")).value());
    REQUIRE(pt.ok());
    CHECK(std::string(pt->view()) == data.substr(i * kPiece, kPiece));
  }
  CHECK(frames[4].type == MessageType::FileEnd);
  CHECK(*json::get_int(frames[4].payload, "chunks") == 3);
}

TEST_CASE("files: hostile names land as plain files inside the download folder",
          "[client][files]") {
  struct Case {
    std::string sent, expected;
  };
  Pair t;
  std::vector<Case> cases = {{"../../etc/passwd", "passwd"},
                             {"/etc/shadow", "shadow"},
                             {"..\\..\\windows\\win.ini", "win.ini"},
                             {".bashrc", "bashrc"},
                             {"a\x01\x1b[31mred\x7f.txt", "a[31mred.txt"},
                             {"evil\xe2\x80\xaetxt.exe", "eviltxt.exe"}};
  for (const Case& c : cases) {
    Crafted f = craft(c.sent, "data of " + c.sent, t.clock.ms);
    t.feed_bob(frames_of(f));
    auto rec = events_named(t.bob_events, "file_received");
    REQUIRE_FALSE(rec.empty());
    CHECK(str(rec.back(), "path") == t.dl + "/" + c.expected);
    CHECK(str(rec.back(), "name") == c.expected);
    CHECK(read_file(t.dl + "/" + c.expected) == "data of " + c.sent);
  }
  for (const std::string bad : {"..", ".", "", "/", "...", "dir/"}) {
    Crafted f = craft(bad, "x", t.clock.ms);
    t.feed_bob(frames_of(f));
    auto rec = events_named(t.bob_events, "file_received");
    REQUIRE_FALSE(rec.empty());
    CHECK(str(rec.back(), "path") == t.dl + "/file-" + f.file_id);
  }
  // Nothing was written anywhere but in the download folder.
  CHECK(dir_entries(t.tmp.path) == std::vector<std::string>{"downloads", "src"});
  CHECK_FALSE(fs::exists(t.tmp.path + "/etc"));
  CHECK(events_named(t.bob_events, "file_failed").empty());
}

TEST_CASE("files: an existing name is never overwritten", "[client][files]") {
  Pair t;
  fs::create_directories(t.dl);
  write_file(t.dl + "/notes.txt", "mine");
  for (int i = 1; i <= 2; ++i) {
    Crafted f = craft("notes.txt", "theirs " + std::to_string(i), t.clock.ms);
    t.feed_bob(frames_of(f));
  }
  Crafted g = craft("README", "no extension", t.clock.ms);
  t.feed_bob(frames_of(g));
  Crafted h = craft("README", "again", t.clock.ms);
  t.feed_bob(frames_of(h));
  CHECK(read_file(t.dl + "/notes.txt") == "mine");
  CHECK(read_file(t.dl + "/notes (1).txt") == "theirs 1");
  CHECK(read_file(t.dl + "/notes (2).txt") == "theirs 2");
  CHECK(read_file(t.dl + "/README (1)") == "again");
  CHECK(events_named(t.bob_events, "file_received").size() == 4);
}

TEST_CASE("files: a corrupted chunk is a sha256 mismatch and nothing is kept", "[client][files]") {
  Pair t;
  const std::string data = test_bytes(2000, 3);
  Crafted f = craft("x.bin", data, t.clock.ms);
  // Chunk 2 replaced by a well-encrypted piece of other bytes (what a malicious server could
  // do: it knows bob's public key). Only the manifest's SHA-256 can catch it.
  std::string other = data.substr(2 * kPiece, kPiece);
  other[0] = static_cast<char>(other[0] ^ 1);
  f.chunks[2].payload.as_object()["ciphertext"] =
      b64url_encode(fixture_key("bob").public_key().encrypt(other).value());
  t.feed_bob(frames_of(f));
  auto failed = events_named(t.bob_events, "file_failed");
  REQUIRE(failed.size() == 1);
  CHECK(str(failed[0], "reason") == "sha256 mismatch");
  CHECK(str(failed[0], "file_id") == f.file_id);
  CHECK(str(failed[0], "direction") == "receive");
  CHECK(str(failed[0], "from") == kAlice);
  CHECK(events_named(t.bob_events, "file_received").empty());
  CHECK(dir_entries(t.dl).empty());

  // Ciphertext that does not decrypt fails the file at once, with its index.
  Crafted g = craft("y.bin", data, t.clock.ms);
  g.chunks[1].payload.as_object()["ciphertext"] = b64url_encode(test_bytes(512, 9));
  t.bob_events.clear();
  t.feed_bob(frames_of(g));
  failed = events_named(t.bob_events, "file_failed");
  REQUIRE(failed.size() == 1);
  CHECK(str(failed[0], "reason") == "cannot decrypt chunk 1");
  CHECK(dir_entries(t.dl).empty());
}

TEST_CASE("files: a missing chunk times out with the missing indices", "[client][files]") {
  Pair t(nullptr, [](ClientConfig& c) { c.file_timeout_ms = 30'000; });
  Crafted f = craft("gap.bin", test_bytes(5 * kPiece, 4), t.clock.ms);
  f.chunks.erase(f.chunks.begin() + 2);
  t.feed_bob(frames_of(f));
  CHECK(events_named(t.bob_events, "file_received").empty());
  CHECK(events_named(t.bob_events, "file_failed").empty());
  t.clock.ms += 29'000;
  t.bob->on_tick();
  CHECK(events_named(t.bob->take_events(), "file_failed").empty());
  t.clock.ms += 2'000;
  t.bob->on_tick();
  auto failed = events_named(t.bob->take_events(), "file_failed");
  REQUIRE(failed.size() == 1);
  CHECK(str(failed[0], "reason") == "timeout: missing chunks 2 (1 of 5)");
  CHECK(str(failed[0], "name") == "gap.bin");
  CHECK(dir_entries(t.dl).empty());
  // The chunk arriving late changes nothing.
  t.feed_bob(sign_all({craft("gap.bin", "", t.clock.ms).start}));
  t.bob_events.clear();
  t.bob->on_tick();
  CHECK(t.bob->take_events().empty());

  // Without FILE_END, the indices missing from a socp layout are listed too.
  Crafted g = craft("tail.bin", test_bytes(4 * kPiece + 10, 5), t.clock.ms);
  std::vector<Envelope> part{g.start, g.chunks[0], g.chunks[3]};
  t.feed_bob(sign_all(part));
  t.clock.ms += 31'000;
  t.bob->on_tick();
  failed = events_named(t.bob->take_events(), "file_failed");
  REQUIRE(failed.size() == 1);
  CHECK(str(failed[0], "reason") == "timeout: missing chunks 1-2, 4 (3 of 5)");
}

TEST_CASE("files: out-of-order and duplicated chunks are reassembled", "[client][files]") {
  Pair t;
  const std::string data = test_bytes(10 * kPiece + 17, 6);
  Crafted f = craft("shuffled.bin", data, t.clock.ms);
  std::vector<Envelope> order{f.start, f.end};  // FILE_END before any chunk
  std::vector<Envelope> chunks = f.chunks;
  std::reverse(chunks.begin(), chunks.end());
  for (const Envelope& c : chunks) {
    order.push_back(c);
    order.push_back(c);  // every chunk twice
  }
  t.feed_bob(sign_all(order));
  auto rec = events_named(t.bob_events, "file_received");
  REQUIRE(rec.size() == 1);
  CHECK(read_file(str(rec[0], "path")) == data);
  CHECK(events_named(t.bob_events, "file_failed").empty());
  // A replay of the whole transfer afterwards is ignored (not a second file).
  t.bob_events.clear();
  t.feed_bob(frames_of(f));
  CHECK(events_named(t.bob_events, "file_received").empty());
  CHECK(events_named(t.bob_events, "file_incoming").empty());
  CHECK(dir_entries(t.dl).size() == 1);
}

TEST_CASE("files: size limits on both sides", "[client][files]") {
  Pair t([](ClientConfig& c) { c.max_file_size = 1000; },
         [](ClientConfig& c) { c.max_file_size = 1000; });
  // Sender refuses before sending anything.
  t.alice->command("/file bob " + t.put("big.bin", test_bytes(1001, 7)));
  auto ev = t.alice->take_events();
  REQUIRE(find_event(ev, "error"));
  CHECK(str(*find_event(ev, "error"), "code") == "TOO_LARGE");
  CHECK(t.alice->take_frames().empty());
  t.alice->command("/file bob " + t.put("ok.bin", test_bytes(1000, 7)));
  CHECK(events_named(t.alice->take_events(), "file_sent").size() == 1);

  // Receiver refuses a manifest over its limit, and a sender sending more than declared.
  Crafted big = craft("big.bin", test_bytes(1001, 8), t.clock.ms);
  t.feed_bob(frames_of(big));
  auto failed = events_named(t.bob_events, "file_failed");
  REQUIRE(failed.size() == 1);
  CHECK(str(failed[0], "reason") == "too large: 1001 bytes (limit 1000)");
  CHECK(events_named(t.bob_events, "file_incoming").empty());

  t.bob_events.clear();
  Crafted liar =
      craft("liar.bin", test_bytes(900, 9), t.clock.ms, fixture_key("alice"), kAlice, nullptr, 500);
  t.feed_bob(frames_of(liar));
  failed = events_named(t.bob_events, "file_failed");
  REQUIRE(failed.size() == 1);
  CHECK(str(failed[0], "reason") == "more data than the declared size of 500 bytes");
  CHECK(dir_entries(t.dl).empty());
}

TEST_CASE("files: the manifest must be signed by the sender's pinned key", "[client][files]") {
  Pair t;
  const PrivateKey& carol = any_fixture_key("carol");
  auto expect_refused = [&](const Crafted& f, const std::string& reason) {
    t.bob_events.clear();
    t.feed_bob(frames_of(f));
    auto failed = events_named(t.bob_events, "file_failed");
    REQUIRE(failed.size() == 1);
    CHECK(str(failed[0], "reason") == reason);
    CHECK(events_named(t.bob_events, "file_incoming").empty());
    CHECK(events_named(t.bob_events, "file_received").empty());
  };
  // Another key than the one pinned for alice.
  expect_refused(craft("x.txt", "hello", t.clock.ms, carol, kAlice), "sender key mismatch");
  // alice's key announced, but the manifest signed by someone else.
  Crafted forged = craft("x.txt", "hello", t.clock.ms, carol, kAlice);
  forged.start.payload.as_object()["sender_pub"] = fixture_key("alice").public_key().b64url();
  expect_refused(forged, "bad content signature");
  // A field changed after signing.
  Crafted renamed = craft("x.txt", "hello", t.clock.ms);
  renamed.start.payload.as_object()["name"] = "y.txt";
  expect_refused(renamed, "bad content signature");
  // Signed for someone else (the manifest names the recipient).
  Crafted other = craft("x.txt", "hello", t.clock.ms);
  other.start.payload.as_object()["content_sig"] =
      b64url_encode(fixture_key("alice").sign(manifest(other, kAlice, kCarol, 5)).value());
  expect_refused(other, "bad content signature");
  CHECK(dir_entries(t.dl).empty());

  // First contact: carol's key is pinned by her first valid file, then held to.
  t.bob_events.clear();
  t.feed_bob(frames_of(craft("c.txt", "from carol", t.clock.ms, carol, kCarol)));
  REQUIRE(events_named(t.bob_events, "file_received").size() == 1);
  expect_refused(craft("d.txt", "not carol", t.clock.ms, fixture_key("server_b"), kCarol),
                 "sender key mismatch");
}

TEST_CASE("files: chunks from someone other than the sender are ignored", "[client][files]") {
  Pair t;
  const std::string data = test_bytes(3 * kPiece, 10);
  Crafted f = craft("x.bin", data, t.clock.ms);
  Envelope intruder = f.chunks[1];
  intruder.payload.as_object()["sender"] = kCarol;
  intruder.payload.as_object()["ciphertext"] =
      b64url_encode(fixture_key("bob").public_key().encrypt("evil").value());
  std::vector<Envelope> order{f.start, intruder, f.chunks[0], f.chunks[1], f.chunks[2], f.end};
  t.feed_bob(sign_all(order));
  auto rec = events_named(t.bob_events, "file_received");
  REQUIRE(rec.size() == 1);
  CHECK(read_file(str(rec[0], "path")) == data);
  CHECK(find_event(t.bob_events, "warning"));
}

TEST_CASE("files: chunks are paced and chat goes out between them", "[client][files]") {
  Pair t([](ClientConfig& c) { c.file_chunks_per_second = 10; });
  const std::string data = test_bytes(25 * kPiece, 11);
  t.alice->command("/file bob " + t.put("slow.bin", data));
  auto frames = parse_all(t.alice->take_frames());
  REQUIRE(frames.size() == 11);  // FILE_START + one second's worth of chunks
  t.alice->command("/tell bob hi");
  frames = parse_all(t.alice->take_frames());
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].type == MessageType::MsgDirect);
  t.clock.ms += 500;
  t.alice->on_tick();
  CHECK(parse_all(t.alice->take_frames()).size() == 5);
  t.clock.ms += 60'000;  // the bucket holds at most one second
  t.alice->on_tick();
  frames = parse_all(t.alice->take_frames());
  REQUIRE(frames.size() == 10);
  CHECK(*json::get_int(frames.back().payload, "index") == 24);
  CHECK(events_named(t.alice->take_events(), "file_sent").empty());
  t.clock.ms += 100;
  t.alice->on_tick();
  frames = parse_all(t.alice->take_frames());
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].type == MessageType::FileEnd);
  CHECK(events_named(t.alice->take_events(), "file_sent").size() == 1);
}

TEST_CASE("files: a server error about a file stops it", "[client][files]") {
  Pair t([](ClientConfig& c) { c.file_chunks_per_second = 10; });
  t.alice->command("/file bob " + t.put("x.bin", test_bytes(40 * kPiece, 12)));
  auto frames = parse_all(t.alice->take_frames());
  const std::string file_id = str(frames[0].payload, "file_id");
  (void)t.alice->take_events();
  json::Object err{{"code", "USER_NOT_FOUND"},
                   {"detail", "user " + kBob + " is offline"},
                   {"msg_ref", "FILE_START"},
                   {"file_id", file_id}};
  t.alice->on_frame(server_frame(MessageType::Error, kAlice, t.clock.ms, json::Value(err)));
  auto ev = t.alice->take_events();
  auto failed = events_named(ev, "file_failed");
  REQUIRE(failed.size() == 1);
  CHECK(str(failed[0], "file_id") == file_id);
  CHECK(str(failed[0], "direction") == "send");
  CHECK(str(failed[0], "to") == kBob);
  CHECK(str(failed[0], "reason") == "USER_NOT_FOUND: user " + kBob + " is offline");
  CHECK_FALSE(find_event(ev, "error"));
  t.clock.ms += 5'000;
  t.alice->on_tick();
  CHECK(t.alice->take_frames().empty());
  // With nothing left to send, the end of input closes the session.
  t.alice->input_closed();
  CHECK(t.alice->wants_close());
}

TEST_CASE("files: the end of input waits for outgoing files", "[client][files]") {
  Pair t([](ClientConfig& c) { c.file_chunks_per_second = 10; });
  t.alice->command("/file bob " + t.put("x.bin", test_bytes(15 * kPiece, 13)));
  t.alice->input_closed();
  CHECK_FALSE(t.alice->wants_close());
  t.clock.ms += 1'000;
  t.alice->on_tick();
  CHECK(t.alice->wants_close());
  CHECK(events_named(t.alice->take_events(), "file_sent").size() == 1);
}

TEST_CASE("files: local errors of /file", "[client][files]") {
  Pair t;
  auto error_of = [&](const std::string& line) {
    t.alice->command(line);
    auto ev = t.alice->take_events();
    CHECK(t.alice->take_frames().empty());
    const json::Value* e = find_event(ev, "error");
    return e ? str(*e, "code") + " " + str(*e, "detail") : std::string("none");
  };
  CHECK(error_of("/file bob " + t.src + "/missing.txt").rfind("IO cannot read", 0) == 0);
  CHECK(error_of("/file bob " + t.src) == "IO " + t.src + " is a directory, not a file");
  CHECK(error_of("/file bob /dev/null") == "IO /dev/null is not a regular file");
  CHECK(error_of("/file bob").rfind("USAGE", 0) == 0);
  // An unknown user: the directory is refreshed once, then the user is told.
  t.alice->command("/file nobody " + t.put("a", "x"));
  auto frames = parse_all(t.alice->take_frames());
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].type == MessageType::ListRequest);
  msg::ListResponse lr;
  t.alice->on_frame(server_frame(MessageType::ListResponse, kAlice, t.clock.ms, lr.to_json()));
  auto ev = t.alice->take_events();
  REQUIRE(find_event(ev, "error"));
  CHECK(str(*find_event(ev, "error"), "code") == "USER_NOT_FOUND");
  CHECK(t.alice->take_frames().empty());
}

TEST_CASE("files: refused without a download folder, aborted when the connection closes",
          "[client][files]") {
  Pair t(nullptr, [](ClientConfig& c) { c.download_dir.clear(); });
  t.feed_bob(frames_of(craft("x.txt", "hi", t.clock.ms)));
  auto failed = events_named(t.bob_events, "file_failed");
  REQUIRE(failed.size() == 1);
  CHECK(str(failed[0], "reason") == "no download folder configured");

  // Half a transfer each way, then the connection goes.
  Pair u([](ClientConfig& c) { c.file_chunks_per_second = 5; });
  u.alice->command("/file bob " + u.put("x.bin", test_bytes(20 * kPiece, 14)));
  u.feed_bob(u.relay_to_bob());  // FILE_START + 5 chunks
  u.bob->on_closed();
  auto ev = u.bob->take_events();
  failed = events_named(ev, "file_failed");
  REQUIRE(failed.size() == 1);
  CHECK(str(failed[0], "reason") == "connection closed");
  CHECK(str(ev.back(), "event") == "closed");
  u.alice->on_closed();
  ev = u.alice->take_events();
  failed = events_named(ev, "file_failed");
  REQUIRE(failed.size() == 1);
  CHECK(str(failed[0], "direction") == "send");
  CHECK(dir_entries(u.dl).empty());
}

TEST_CASE("files: /file parsing", "[client][files]") {
  using socp::client::Command;
  using socp::client::parse_command;
  Command c = parse_command("/file bob  my notes.txt  ");
  CHECK(c.kind == Command::Kind::File);
  CHECK(c.target == "bob");
  CHECK(c.text == "my notes.txt");
  Command a = parse_command("/file all /tmp/x");
  CHECK(a.kind == Command::Kind::File);
  CHECK(a.target == "all");
  CHECK(parse_command("/file bob").kind == Command::Kind::Usage);
  CHECK(parse_command("/file").kind == Command::Kind::Usage);
  CHECK(parse_command("/file bob   ").kind == Command::Kind::Usage);
}

TEST_CASE("files: a server refusing file frames without naming the file stops the transfer once",
          "[client][files]") {
  // e.g. a server of another implementation answering every FILE_CHUNK with UNKNOWN_TYPE.
  Pair t([](ClientConfig& c) { c.file_chunks_per_second = 10; });
  t.alice->command("/file bob " + t.put("x.bin", test_bytes(40 * kPiece, 15)));
  (void)t.alice->take_frames();
  (void)t.alice->take_events();
  json::Object err{{"code", "UNKNOWN_TYPE"},
                   {"detail", "type FILE_CHUNK is not accepted from users"},
                   {"msg_ref", "FILE_CHUNK"}};
  for (int i = 0; i < 5; ++i) {
    t.alice->on_frame(server_frame(MessageType::Error, kAlice, t.clock.ms, json::Value(err)));
  }
  auto ev = t.alice->take_events();
  auto failed = events_named(ev, "file_failed");
  REQUIRE(failed.size() == 1);
  CHECK(str(failed[0], "reason") == "UNKNOWN_TYPE: type FILE_CHUNK is not accepted from users");
  CHECK(events_named(ev, "error").empty());
  t.clock.ms += 5'000;
  t.alice->on_tick();
  CHECK(t.alice->take_frames().empty());
  // Later, an unrelated error is shown again.
  t.clock.ms += 10'000;
  t.alice->on_frame(server_frame(MessageType::Error, kAlice, t.clock.ms, json::Value(err)));
  CHECK(events_named(t.alice->take_events(), "error").size() == 1);
}

TEST_CASE("files: a public-mode file needs the sender's channel key", "[client][files]") {
  Pair t;
  Crafted f = craft("x.txt", "hello", t.clock.ms);
  json::Object& p = f.start.payload.as_object();
  p["mode"] = "public";
  p["key_id"] = "no-such-key";
  p["content_sig"] =
      b64url_encode(fixture_key("alice").sign(manifest(f, kAlice, "public", 5, "public")).value());
  t.feed_bob(sign_all({f.start}));
  auto failed = events_named(t.bob_events, "file_failed");
  REQUIRE(failed.size() == 1);
  CHECK(str(failed[0], "reason") == "no channel key");
  // Signed for the public channel but announced as a DM to bob: the signature does not match.
  Crafted g = craft("y.txt", "hello", t.clock.ms);
  g.start.payload.as_object()["content_sig"] =
      b64url_encode(fixture_key("alice").sign(manifest(g, kAlice, "public", 5, "public")).value());
  t.bob_events.clear();
  t.feed_bob(sign_all({g.start}));
  failed = events_named(t.bob_events, "file_failed");
  REQUIRE(failed.size() == 1);
  CHECK(str(failed[0], "reason") == "bad content signature");
}

TEST_CASE("files: at most max_incoming_files arrive at once", "[client][files]") {
  Pair t(nullptr, [](ClientConfig& c) { c.max_incoming_files = 1; });
  Crafted a = craft("a.txt", "first", t.clock.ms);
  Crafted b = craft("b.txt", "second", t.clock.ms);
  t.feed_bob(sign_all({a.start, b.start}));
  auto failed = events_named(t.bob_events, "file_failed");
  REQUIRE(failed.size() == 1);
  CHECK(str(failed[0], "file_id") == b.file_id);
  CHECK(str(failed[0], "reason") == "too many files arriving at once (limit 1)");
  t.feed_bob(frames_of(a));  // the first one completes (its START again is a duplicate)
  CHECK(events_named(t.bob_events, "file_received").size() == 1);
  t.bob_events.clear();
  Crafted c = craft("c.txt", "third", t.clock.ms);
  t.feed_bob(frames_of(c));  // room again
  CHECK(events_named(t.bob_events, "file_received").size() == 1);
}
