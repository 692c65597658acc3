// DirectoryService persistence (MemoryStore): load, what is written when, store failures,
// set_self_id.
#include <catch2/catch.hpp>

#include "directory_test_util.h"
#include "socp/directory.h"
#include "socp/json.h"
#include "socp/store.h"

using namespace socp;
using namespace socp::test;

namespace {
std::uint64_t stored_version(MemoryStore& store, const std::string& user) {
  auto r = store.get_directory(user);
  REQUIRE(r.ok());
  return r->version;
}
}  // namespace

TEST_CASE("persistence: keys and locations come back, everyone offline", "[directory]") {
  MemoryStore store;
  {
    DirectoryService d(kSelf, &store);
    REQUIRE(d.load().ok());
    REQUIRE(d.register_local("alice", kKeyAlice, display("Alice")).ok());
    d.login_local("alice", json::Object{}, stamp(10));
    REQUIRE(d.apply_advertise(advert("bob", kB, kKeyBob, 11, display("Bob")), kB).ok());
    REQUIRE(d.apply_snapshot(kC, {entry("carol", kC, kKeyCarol, false)}).ok());
  }
  DirectoryService d(kSelf, &store);
  Recorder rec(d);
  REQUIRE(d.load().ok());
  CHECK(rec.take().empty());  // loading is not presence
  REQUIRE(d.size() == 3);
  CHECK(where(d, "alice") == "alice@srv-a:off");
  CHECK(where(d, "bob") == "bob@srv-b:off");
  CHECK(where(d, "carol") == "carol@srv-c:off");
  CHECK(d.find("alice")->pubkey == kKeyAlice);
  CHECK(d.find("bob")->pubkey == kKeyBob);
  CHECK(d.find("carol")->pubkey == kKeyCarol);
  CHECK(d.find("alice")->meta == display("Alice"));
  CHECK(d.find("bob")->meta == display("Bob"));
  CHECK(d.find("bob")->since == 0);

  // Pinned keys survive the restart: R1 still rejects a new key, register still says taken.
  CHECK(d.apply_advertise(advert("bob", kB, kKeyMallory, 1), kB).code() == Errc::BadKey);
  CHECK(d.register_local("carol", kKeyCarol, json::Object{}).code() == Errc::NameInUse);
  CHECK(d.check_login("alice", kKeyAlice).ok());
}

TEST_CASE("persistence: the directory table stores canonical meta JSON", "[directory]") {
  MemoryStore store;
  DirectoryService d(kSelf, &store);
  REQUIRE(d.register_local("alice", kKeyAlice, json::Object{{"z", 1}, {"display_name", "A"}}).ok());
  auto r = store.get_directory("alice");
  REQUIRE(r.ok());
  CHECK(r->pubkey == kKeyAlice);
  CHECK(r->server_id == kSelf);
  CHECK(r->meta_json == R"({"display_name":"A","z":1})");
}

TEST_CASE("persistence: written on pin, move, meta change and a newer login, not on presence",
          "[directory]") {
  MemoryStore store;
  DirectoryService d(kSelf, &store);
  REQUIRE(d.register_local("alice", kKeyAlice, json::Object{}).ok());

  d.login_local("alice", json::Object{}, stamp(1));  // the newest login time is kept
  CHECK(store.get_directory("alice")->last_login == 1);
  const auto v0 = stored_version(store, "alice");
  d.logout_local("alice");  // presence only
  CHECK(stored_version(store, "alice") == v0);

  d.login_local("alice", display("Al"), stamp(2));  // meta change
  CHECK(stored_version(store, "alice") == d.find("alice")->version);
  d.logout_local("alice");

  REQUIRE(d.apply_advertise(advert("alice", kB, kKeyAlice, 3), kB).ok());  // move
  auto r = store.get_directory("alice");
  REQUIRE(r.ok());
  CHECK(r->server_id == kB);
  const auto v1 = r->version;

  REQUIRE(d.apply_remove(removal("alice", kB), kB).ok());
  d.server_down(kB);
  CHECK(stored_version(store, "alice") == v1);

  CHECK_FALSE(store.get_directory("nobody").ok());
}

TEST_CASE("load: local accounts without a directory record are located here", "[directory]") {
  MemoryStore store;
  UserRecord acc;
  acc.user_id = "alice";
  acc.pubkey = kKeyAlice;
  acc.meta_json = R"({"display_name":"Alice"})";
  REQUIRE(store.put_user(acc).ok());
  // bob has an account and a directory record saying he roamed to B: the record wins.
  UserRecord bob_acc;
  bob_acc.user_id = "bob";
  bob_acc.pubkey = kKeyBob;
  REQUIRE(store.put_user(bob_acc).ok());
  REQUIRE(store.put_directory(DirectoryRecord{"bob", kKeyBob, kB, "{}", 4}).ok());
  // A record with meta that does not parse still loads.
  REQUIRE(store.put_directory(DirectoryRecord{"carol", kKeyCarol, kC, "{oops", 2}).ok());

  DirectoryService d(kSelf, &store);
  REQUIRE(d.load().ok());
  CHECK(where(d, "alice") == "alice@srv-a:off");
  CHECK(d.find("alice")->meta == display("Alice"));
  CHECK(where(d, "bob") == "bob@srv-b:off");
  CHECK(d.find("bob")->version == 4);
  CHECK(where(d, "carol") == "carol@srv-c:off");
  CHECK(d.find("carol")->meta == json::Value(json::Object{}));
  // alice got her directory record written.
  auto r = store.get_directory("alice");
  REQUIRE(r.ok());
  CHECK(r->server_id == kSelf);
  CHECK(r->pubkey == kKeyAlice);
}

TEST_CASE("load without a store, and load twice, are harmless", "[directory]") {
  DirectoryService none(kSelf, nullptr);
  CHECK(none.load().ok());
  CHECK(none.register_local("alice", kKeyAlice, json::Object{}).ok());

  MemoryStore store;
  DirectoryService d(kSelf, &store);
  REQUIRE(d.register_local("alice", kKeyAlice, json::Object{}).ok());
  d.login_local("alice", json::Object{}, stamp(1));
  REQUIRE(d.load().ok());
  CHECK(where(d, "alice") == "alice@srv-a:on");  // in-memory records are kept
  CHECK(d.size() == 1);
}

TEST_CASE("persistence failure keeps the in-memory change and is retried", "[directory]") {
  MemoryStore store;
  DirectoryService d(kSelf, &store);
  store.set_full(true);
  auto s = d.register_local("alice", kKeyAlice, json::Object{});
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == Errc::StoreFull);
  CHECK(where(d, "alice") == "alice@srv-a:off");  // registered in memory
  CHECK(d.register_local("alice", kKeyAlice, json::Object{}).code() == Errc::NameInUse);

  auto a = d.apply_advertise(advert("bob", kB, kKeyBob, 1), kB);
  CHECK(a.code() == Errc::StoreFull);
  CHECK(where(d, "bob") == "bob@srv-b:on");
  CHECK(d.stats().adverts == 1);

  store.set_full(false);
  CHECK_FALSE(store.get_directory("alice").ok());
  REQUIRE(d.apply_advertise(advert("carol", kC, kKeyCarol, 1), kC).ok());
  // The next successful write flushed the earlier failures.
  CHECK(store.get_directory("alice").ok());
  CHECK(store.get_directory("bob").ok());
  CHECK(store.get_directory("carol").ok());
}

TEST_CASE("set_self_id moves local records and persists them", "[directory]") {
  MemoryStore store;
  const std::string kNew = "srv-new";
  {
    DirectoryService d(kSelf, &store);
    REQUIRE(d.register_local("alice", kKeyAlice, json::Object{}).ok());
    REQUIRE(d.register_local("dave", "KEY-dave", json::Object{}).ok());
    d.login_local("alice", json::Object{}, stamp(1));
    REQUIRE(d.apply_advertise(advert("bob", kB, kKeyBob, 1), kB).ok());
    Recorder rec(d);

    d.set_self_id(kNew);
    CHECK(d.self_id() == kNew);
    CHECK(rec.take().empty());  // a rename is not presence
    CHECK(where(d, "alice") == "alice@srv-new:on");
    CHECK(where(d, "dave") == "dave@srv-new:off");
    CHECK(where(d, "bob") == "bob@srv-b:on");
    CHECK(d.local_entries().size() == 2);
    // Local presence is now under the new id.
    d.logout_local("alice");
    CHECK(rec.take() == Events{"Offline alice@srv-new"});
    // Gossip about the old id no longer concerns local users.
    REQUIRE(d.apply_remove(removal("dave", kSelf), kSelf).ok());
    d.set_self_id(kNew);  // same id: no-op
    d.set_self_id("");    // empty: ignored
    CHECK(d.self_id() == kNew);
  }
  DirectoryService d(kNew, &store);
  REQUIRE(d.load().ok());
  CHECK(where(d, "alice") == "alice@srv-new:off");
  CHECK(where(d, "dave") == "dave@srv-new:off");
  CHECK(where(d, "bob") == "bob@srv-b:off");
}
