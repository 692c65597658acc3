// Trust across sessions: the TrustStore file, and ClientCores that share a store (one
// session after another) keeping the server key and contact keys pinned.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "client_fake_server.h"
#include "socp/client_trust.h"

using namespace socp;
using namespace socp::test;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "socp-trust-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

unsigned mode_of(const std::string& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

// An ACK of USER_HELLO from a server presenting `key` (signed by it, as an impostor could).
std::string ack_with_key(const PrivateKey& key, std::int64_t ts,
                         const std::string& server_id = kServerA) {
  msg::Ack a;
  a.msg_ref = "USER_HELLO";
  a.server_id = server_id;
  a.server_pub = key.public_key().b64url();
  return server_frame(MessageType::Ack, kAlice, ts, a.to_json(), &key, server_id);
}

ClientConfig with_store(FakeClock& clock, std::shared_ptr<TrustStore> store) {
  ClientConfig cfg = alice_login_config(clock);
  cfg.trust = std::move(store);
  return cfg;
}

// One session: connect, ACK (signed by `server`), optional extra frames; returns the events.
std::vector<json::Value> session(ClientCore& c, const PrivateKey& server, std::int64_t ts,
                                 const std::vector<std::string>& frames = {}) {
  c.on_connected();
  (void)c.take_frames();
  c.on_frame(ack_with_key(server, ts));
  for (const std::string& f : frames) c.on_frame(f);
  return c.take_events();
}

}  // namespace

TEST_CASE("trust store: saved atomically (0600), loaded again, forget", "[client][trust]") {
  TempDir tmp;
  const std::string path = tmp.path + "/alice/trust.json";  // the folder does not exist yet
  auto s = TrustStore::open(path);
  REQUIRE(s.ok());
  CHECK(s.value()->servers().empty());
  CHECK(s.value()->contacts().empty());
  CHECK_FALSE(s.value()->dirty());
  s.value()->pin_server(
      "127.0.0.1:8765",
      ServerPin{kServerA, fixture_key("server_a").public_key().b64url(), {"socp/1"}, 1234});
  CHECK(
      s.value()->pin_contact(kBob, ContactPin{fixture_key("bob").public_key().b64url(), "bob", 7}));
  // A contact key is never replaced here.
  CHECK_FALSE(
      s.value()->pin_contact(kBob, ContactPin{fixture_key("alice").public_key().b64url(), "x", 8}));
  CHECK(s.value()->dirty());
  REQUIRE(s.value()->save().ok());
  CHECK_FALSE(s.value()->dirty());
  CHECK(mode_of(path) == 0600);
  CHECK(mode_of(tmp.path + "/alice") == 0700);
  CHECK(fs::directory_iterator(tmp.path + "/alice")->path().filename() == "trust.json");

  auto again = TrustStore::open(path);
  REQUIRE(again.ok());
  const ServerPin* pin = again.value()->server("127.0.0.1:8765");
  REQUIRE(pin);
  CHECK(pin->server_id == kServerA);
  CHECK(pin->pubkey == fixture_key("server_a").public_key().b64url());
  CHECK(pin->caps == std::vector<std::string>{"socp/1"});
  CHECK(pin->since == 1234);
  const ContactPin* bob = again.value()->contact(kBob);
  REQUIRE(bob);
  CHECK(bob->pubkey == fixture_key("bob").public_key().b64url());
  CHECK(bob->display_name == "bob");
  CHECK(bob->since == 7);

  CHECK(again.value()->forget_server("127.0.0.1:8765"));
  CHECK_FALSE(again.value()->forget_server("127.0.0.1:8765"));
  REQUIRE(again.value()->save().ok());
  CHECK(TrustStore::open(path).value()->server("127.0.0.1:8765") == nullptr);
  CHECK(TrustStore::open(path).value()->contact(kBob) != nullptr);
}

TEST_CASE("trust store: an unreadable file is an error, never silently replaced",
          "[client][trust]") {
  TempDir tmp;
  const std::string path = tmp.path + "/trust.json";
  for (const char* text : {"not json", "[]", "{\"v\":2}", "{\"v\":1,\"servers\":[]}",
                           "{\"v\":1,\"contacts\":{\"x\":{}}}"}) {
    CAPTURE(text);
    std::ofstream(path) << text;
    auto s = TrustStore::open(path);
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == Errc::Corrupt);
  }
}

TEST_CASE("trust: a second session keeps the server key and refuses a new one", "[client][trust]") {
  FakeClock clock;
  auto store = std::make_shared<TrustStore>();
  {
    ClientCore c(with_store(clock, store));
    auto ev = session(c, fixture_key("server_a"), clock.ms);
    REQUIRE(c.logged_in());
    c.on_closed();
  }
  const ServerPin* pin = store->server("127.0.0.1:8765");
  REQUIRE(pin);
  CHECK(pin->server_id == kServerA);
  CHECK(pin->pubkey == fixture_key("server_a").public_key().b64url());
  CHECK(pin->since == clock.ms);

  SECTION("the same key: logged in") {
    clock.ms += 1000;
    ClientCore c(with_store(clock, store));
    (void)session(c, fixture_key("server_a"), clock.ms);
    CHECK(c.logged_in());
    CHECK(store->server("127.0.0.1:8765")->since == pin->since);
  }
  SECTION("another key (a validly self-signed ACK): refused loudly, AuthFailed") {
    clock.ms += 1000;
    ClientCore c(with_store(clock, store));
    auto ev = session(c, fixture_key("server_b"), clock.ms);
    CHECK_FALSE(c.logged_in());
    const json::Value* kc = find_event(ev, "key_changed");
    REQUIRE(kc);
    CHECK(str(*kc, "kind") == "server");
    CHECK(str(*kc, "server") == "127.0.0.1:8765");
    CHECK(str(*kc, "pinned_fingerprint") == fixture_key("server_a").public_key().fingerprint_hex());
    CHECK(str(*kc, "offered_fingerprint") ==
          fixture_key("server_b").public_key().fingerprint_hex());
    CHECK(*json::get_int(*kc, "pinned_since") == clock.ms - 1000);
    const json::Value* err = find_event(ev, "error");
    REQUIRE(err);
    CHECK(str(*err, "code") == "SERVER_KEY_CHANGED");
    CHECK(str(*err, "detail").find("socp-cli forget-server 127.0.0.1:8765") != std::string::npos);
    CHECK(c.wants_close());
    CHECK_FALSE(find_event(ev, "logged_in"));
    c.on_closed();
    CHECK(c.outcome() == ClientOutcome::AuthFailed);
    CHECK(c.failure_code() == "SERVER_KEY_CHANGED");
    // The pin is unchanged.
    CHECK(store->server("127.0.0.1:8765")->pubkey == fixture_key("server_a").public_key().b64url());
  }
  SECTION("another key with accept_new_server_key: a warning, and the new key is pinned") {
    clock.ms += 1000;
    ClientConfig cfg = with_store(clock, store);
    cfg.accept_new_server_key = true;
    ClientCore c(std::move(cfg));
    auto ev = session(c, fixture_key("server_b"), clock.ms);
    CHECK(c.logged_in());
    const json::Value* w = find_event(ev, "warning");
    REQUIRE(w);
    CHECK(str(*w, "detail").find("accepted a NEW key") != std::string::npos);
    CHECK(store->server("127.0.0.1:8765")->pubkey == fixture_key("server_b").public_key().b64url());
    CHECK(store->server("127.0.0.1:8765")->since == clock.ms);
  }
  SECTION("another address is another pin") {
    ClientConfig cfg = with_store(clock, store);
    cfg.server_label = "10.0.0.2:8765";
    ClientCore c(std::move(cfg));
    (void)session(c, fixture_key("server_b"), clock.ms);
    CHECK(c.logged_in());
    REQUIRE(store->server("10.0.0.2:8765"));
  }
}

TEST_CASE("trust: --server-key pins up front", "[client][trust]") {
  FakeClock clock;
  auto store = std::make_shared<TrustStore>();
  SECTION("the expected key: logged in and pinned") {
    ClientConfig cfg = with_store(clock, store);
    cfg.server_key = fixture_key("server_a").public_key().b64url();
    ClientCore c(std::move(cfg));
    (void)session(c, fixture_key("server_a"), clock.ms);
    CHECK(c.logged_in());
    REQUIRE(store->server("127.0.0.1:8765"));
  }
  SECTION("another key: refused even on first contact") {
    ClientConfig cfg = with_store(clock, store);
    cfg.server_key = fixture_key("server_a").public_key().b64url();
    ClientCore c(std::move(cfg));
    auto ev = session(c, fixture_key("server_b"), clock.ms);
    CHECK_FALSE(c.logged_in());
    const json::Value* kc = find_event(ev, "key_changed");
    REQUIRE(kc);
    CHECK(str(*kc, "source") == "option");
    CHECK(str(*find_event(ev, "error"), "code") == "SERVER_KEY_CHANGED");
    CHECK(store->server("127.0.0.1:8765") == nullptr);
  }
  SECTION("it wins over a stored pin (a deliberate choice), and re-pins") {
    store->pin_server("127.0.0.1:8765",
                      ServerPin{kServerA, fixture_key("server_a").public_key().b64url(), {}, 1});
    ClientConfig cfg = with_store(clock, store);
    cfg.server_key = fixture_key("server_b").public_key().b64url();
    ClientCore c(std::move(cfg));
    (void)session(c, fixture_key("server_b"), clock.ms);
    CHECK(c.logged_in());
    CHECK(store->server("127.0.0.1:8765")->pubkey == fixture_key("server_b").public_key().b64url());
  }
  SECTION("an unusable key ends the session before anything is sent") {
    ClientConfig cfg = with_store(clock, store);
    cfg.server_key = "not a key";
    ClientCore c(std::move(cfg));
    c.on_connected();
    CHECK(c.take_frames().empty());
    CHECK(c.wants_close());
    c.on_closed();
    CHECK(c.failure_code() == "BAD_KEY");
  }
}

TEST_CASE("trust: contact keys pinned in one session are enforced in the next", "[client][trust]") {
  FakeClock clock;
  auto store = std::make_shared<TrustStore>();
  {
    ClientCore c(with_store(clock, store));
    (void)session(c, fixture_key("server_a"), clock.ms,
                  {advertise(kAlice, kBob, "bob", fixture_key("bob"), clock.ms)});
    c.on_closed();
  }
  const ContactPin* bob = store->contact(kBob);
  REQUIRE(bob);
  CHECK(bob->pubkey == fixture_key("bob").public_key().b64url());
  CHECK(bob->display_name == "bob");

  clock.ms += 60'000;
  ClientCore c(with_store(clock, store));
  (void)session(c, fixture_key("server_a"), clock.ms);
  // Known before any advert: /verify works offline, and the name resolves.
  c.command("/verify bob");
  auto ev = c.take_events();
  const json::Value* fp = find_event(ev, "fingerprint");
  REQUIRE(fp);
  CHECK(str(*fp, "fingerprint") == fixture_key("bob").public_key().fingerprint_hex());

  SECTION("an advert with another key: key_changed, the old key kept") {
    c.on_frame(advertise(kAlice, kBob, "bob", fixture_key("server_b"), clock.ms));
    ev = c.take_events();
    const json::Value* kc = find_event(ev, "key_changed");
    REQUIRE(kc);
    CHECK(str(*kc, "kind") == "user");
    CHECK(str(*kc, "source") == "advertise");
    CHECK(*json::get_int(*kc, "pinned_since") == clock.ms - 60'000);
    CHECK(str(*kc, "pinned_fingerprint") == fixture_key("bob").public_key().fingerprint_hex());
    CHECK(store->contact(kBob)->pubkey == fixture_key("bob").public_key().b64url());
  }
  SECTION("a message signed with another key: rejected") {
    const std::int64_t ts = clock.ms;
    DeliverParts p =
        make_dm(fixture_key("server_b"), kBob, fixture_key("alice").public_key(), kAlice, ts, "hi");
    c.on_frame(deliver_frame(kAlice, kBob, p, ts));
    ev = c.take_events();
    CHECK_FALSE(find_event(ev, "message"));
    const json::Value* r = find_event(ev, "rejected");
    REQUIRE(r);
    CHECK(str(*r, "reason") == "sender key mismatch");
  }
  SECTION("a message with the pinned key: not a first contact") {
    const std::int64_t ts = clock.ms;
    DeliverParts p =
        make_dm(fixture_key("bob"), kBob, fixture_key("alice").public_key(), kAlice, ts, "hi");
    c.on_frame(deliver_frame(kAlice, kBob, p, ts));
    ev = c.take_events();
    const json::Value* m = find_event(ev, "message");
    REQUIRE(m);
    CHECK(m->find("first_contact")->as_bool() == false);
  }
}

TEST_CASE("trust: two ClientCores over the same file, one after the other", "[client][trust]") {
  TempDir tmp;
  const std::string path = tmp.path + "/alice/trust.json";
  FakeClock clock;
  {
    ClientCore c(with_store(clock, TrustStore::open(path).value()));
    (void)session(c, fixture_key("server_a"), clock.ms,
                  {advertise(kAlice, kBob, "bob", fixture_key("bob"), clock.ms)});
    // The server pin is written at once (the process may be killed any time)...
    auto mid = TrustStore::open(path);
    REQUIRE(mid.ok());
    CHECK(mid.value()->server("127.0.0.1:8765") != nullptr);
    c.on_closed();  // ... contacts at the latest when the session ends.
  }
  CHECK(mode_of(path) == 0600);
  clock.ms += 1000;
  ClientCore c(with_store(clock, TrustStore::open(path).value()));
  auto ev = session(c, fixture_key("server_b"), clock.ms);
  CHECK_FALSE(c.logged_in());
  REQUIRE(find_event(ev, "key_changed"));
  c.on_closed();
  CHECK(c.outcome() == ClientOutcome::AuthFailed);
  auto last = TrustStore::open(path);
  REQUIRE(last.ok());
  REQUIRE(last.value()->contact(kBob));
  CHECK(last.value()->server("127.0.0.1:8765")->pubkey ==
        fixture_key("server_a").public_key().b64url());
}

TEST_CASE("trust: a store that cannot be written is one warning, not a failure",
          "[client][trust]") {
  TempDir tmp;
  const std::string folder = tmp.path + "/alice";
  auto store = TrustStore::open(folder + "/trust.json");  // missing: an empty store
  REQUIRE(store.ok());
  std::ofstream(folder) << "x";  // now the store's folder is a regular file: saves fail
  FakeClock clock;
  ClientCore c(with_store(clock, store.value()));
  auto ev = session(c, fixture_key("server_a"), clock.ms,
                    {advertise(kAlice, kBob, "bob", fixture_key("bob"), clock.ms)});
  CHECK(c.logged_in());
  CHECK(count_events(ev, "warning") == 1);
  clock.ms += 5000;
  c.on_frame(advertise(kAlice, kCarol, "carol", fixture_key("server_b"), clock.ms));
  c.on_tick();
  CHECK(count_events(c.take_events(), "warning") == 0);
}

TEST_CASE("trust: a stored key that does not parse still counts as pinned", "[client][trust]") {
  FakeClock clock;
  auto store = std::make_shared<TrustStore>();
  store->pin_contact(kBob, ContactPin{"not-a-key", "bob", 5});
  ClientCore c(with_store(clock, store));
  auto ev = session(c, fixture_key("server_a"), clock.ms,
                    {advertise(kAlice, kBob, "bob", fixture_key("bob"), clock.ms)});
  const json::Value* kc = find_event(ev, "key_changed");  // not silently re-pinned
  REQUIRE(kc);
  CHECK(str(*kc, "pinned_fingerprint").empty());
  c.command("/verify bob");
  auto events = c.take_events();
  CHECK_FALSE(find_event(events, "fingerprint"));  // no usable key: NO_KEY
  CHECK(store->contact(kBob)->pubkey == "not-a-key");
}

TEST_CASE("trust: 10,000 stored contacts load without parsing every key", "[client][trust]") {
  FakeClock clock;
  auto store = std::make_shared<TrustStore>();
  const std::string bob_key = fixture_key("bob").public_key().b64url();
  for (int i = 0; i < 10'000; ++i) {
    char id[40];
    std::snprintf(id, sizeof id, "10000000-0000-4000-8000-%012d", i);
    store->pin_contact(id, ContactPin{bob_key, "user" + std::to_string(i), 1});
  }
  ClientCore c(with_store(clock, store));
  CHECK(c.known_users().size() == 10'000);
  (void)session(c, fixture_key("server_a"), clock.ms);
  c.command("/verify user9999");
  auto events = c.take_events();
  const json::Value* fp = find_event(events, "fingerprint");
  REQUIRE(fp);
  CHECK(str(*fp, "fingerprint") == fixture_key("bob").public_key().fingerprint_hex());
}
