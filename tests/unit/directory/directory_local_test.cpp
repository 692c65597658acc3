// DirectoryService, local side: register, check_login, login/logout, events, queries.
#include <catch2/catch.hpp>

#include "directory_test_util.h"
#include "socp/directory.h"
#include "socp/store.h"

using namespace socp;
using namespace socp::test;

TEST_CASE("register_local pins the key, located here, offline", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  Recorder rec(d);
  REQUIRE(d.register_local("alice", kKeyAlice, display("Alice")).ok());
  const UserInfo* u = d.find("alice");
  REQUIRE(u != nullptr);
  CHECK(u->pubkey == kKeyAlice);
  CHECK(u->server_id == kSelf);
  CHECK_FALSE(u->online);
  CHECK(u->version == 1);
  CHECK(u->meta == display("Alice"));
  CHECK(d.size() == 1);
  CHECK(rec.take().empty());  // registration is not presence
}

TEST_CASE("register_local rejects a known id with any key, and empty arguments", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  REQUIRE(d.register_local("alice", kKeyAlice, json::Object{}).ok());
  SECTION("same key") {
    auto s = d.register_local("alice", kKeyAlice, json::Object{});
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == Errc::NameInUse);
  }
  SECTION("other key") {
    auto s = d.register_local("alice", kKeyMallory, json::Object{});
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == Errc::NameInUse);
    CHECK(d.find("alice")->pubkey == kKeyAlice);
  }
  SECTION("id known from gossip (remote user)") {
    REQUIRE(d.apply_advertise(advert("bob", kB, kKeyBob, 10), kB).ok());
    auto s = d.register_local("bob", kKeyBob, json::Object{});
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == Errc::NameInUse);
  }
  SECTION("empty id or key") {
    CHECK(d.register_local("", kKeyBob, json::Object{}).code() == Errc::InvalidArgument);
    CHECK(d.register_local("bob", "", json::Object{}).code() == Errc::InvalidArgument);
    CHECK(d.find("bob") == nullptr);
  }
}

TEST_CASE("check_login: table of outcomes", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  REQUIRE(d.register_local("alice", kKeyAlice, json::Object{}).ok());
  REQUIRE(d.register_local("dave", "KEY-dave", json::Object{}).ok());
  d.login_local("dave", json::Object{}, stamp(5));
  REQUIRE(d.apply_advertise(advert("bob", kB, kKeyBob, 10), kB).ok());         // online remotely
  REQUIRE(d.apply_snapshot(kC, {entry("carol", kC, kKeyCarol, false)}).ok());  // known, offline

  struct Row {
    const char* user;
    std::string key;
    bool ok;
    Errc code;
  };
  const Row rows[] = {
      {"alice", kKeyAlice, true, Errc::Internal},       // registered, offline
      {"alice", kKeyMallory, false, Errc::BadKey},      // pinned key differs
      {"alice", kKeyAlice + " ", false, Errc::BadKey},  // exact string comparison
      {"zed", kKeyAlice, false, Errc::UserNotFound},    // unknown
      {"dave", "KEY-dave", false, Errc::NameInUse},     // online here
      {"bob", kKeyBob, false, Errc::NameInUse},         // online at another server
      {"bob", kKeyMallory, false, Errc::BadKey},        // key checked before presence
      {"carol", kKeyCarol, true, Errc::Internal},       // known remote user, offline: roams
  };
  for (const auto& r : rows) {
    INFO(r.user << " with " << r.key);
    auto s = d.check_login(r.user, r.key);
    CHECK(s.ok() == r.ok);
    if (!r.ok && !s.ok()) CHECK(s.code() == r.code);
  }
}

TEST_CASE("login_local / logout_local: state and exact events", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  Recorder rec(d);
  REQUIRE(d.register_local("alice", kKeyAlice, display("Alice")).ok());

  d.login_local("alice", json::Object{}, stamp(1000));
  CHECK(rec.take() == Events{"Online alice@srv-a"});
  const UserInfo* u = d.find("alice");
  CHECK(u->online);
  CHECK(u->since == 1000);
  CHECK(u->server_id == kSelf);
  CHECK(u->meta == display("Alice"));  // empty meta keeps the old one
  CHECK(u->version == 2);

  SECTION("logout") {
    d.logout_local("alice");
    CHECK(rec.take() == Events{"Offline alice@srv-a"});
    CHECK_FALSE(d.find("alice")->online);
    CHECK(d.find("alice")->version == 3);
    d.logout_local("alice");  // not online: no-op
    d.logout_local("nobody");
    CHECK(rec.take().empty());
    CHECK(d.find("alice")->version == 3);
  }
  SECTION("meta replaced by a non-empty object; meta.pubkey is not stored") {
    d.logout_local("alice");
    rec.take();
    d.login_local("alice", json::Object{{"display_name", "Al"}, {"pubkey", "junk"}}, stamp(2000));
    CHECK(rec.take() == Events{"Online alice@srv-a"});
    CHECK(d.find("alice")->meta == display("Al"));
  }
  SECTION("a repeated login here emits nothing more") {
    d.login_local("alice", json::Object{}, stamp(1000));
    CHECK(rec.take().empty());
    CHECK(d.find("alice")->version == 2);
  }
  SECTION("logout_local does not touch a user now online elsewhere") {
    // R5 moved alice away (a proven newer login at B); the closing local session must not
    // mark her offline.
    const LoginStamp newer = stamp(1500);
    REQUIRE(d.apply_advertise(advert("alice", kB, kKeyAlice), kB, &newer).ok());
    rec.take();
    d.logout_local("alice");
    CHECK(rec.take().empty());
    CHECK(where(d, "alice") == "alice@srv-b:on");
  }
}

TEST_CASE("login_local of a user last seen elsewhere emits Moved then Online", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  Recorder rec(d, /*with_detail=*/true);
  REQUIRE(d.apply_advertise(advert("bob", kB, kKeyBob, 10), kB).ok());
  d.server_down(kB);
  rec.take();
  REQUIRE(d.check_login("bob", kKeyBob).ok());
  d.login_local("bob", json::Object{}, stamp(20));
  CHECK(rec.take() == Events{"Moved bob@srv-a<srv-b", "Online bob@srv-a<"});
  CHECK(where(d, "bob") == "bob@srv-a:on");
  CHECK(d.local_entries().size() == 1);
}

TEST_CASE("login_local of an unknown user is a no-op", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  Recorder rec(d);
  d.login_local("ghost", json::Object{}, stamp(1));
  CHECK(d.find("ghost") == nullptr);
  CHECK(rec.take().empty());
}

TEST_CASE("queries: list sorted, local_entries, all_entries", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  REQUIRE(d.register_local("carol", kKeyCarol, display("Carol")).ok());
  REQUIRE(d.register_local("alice", kKeyAlice, json::Object{}).ok());
  d.login_local("alice", json::Object{}, stamp(7));
  REQUIRE(d.apply_advertise(advert("bob", kB, kKeyBob, 8, display("Bob")), kB).ok());

  auto all = d.list();
  REQUIRE(all.size() == 3);
  CHECK(all[0].user_id == "alice");
  CHECK(all[1].user_id == "bob");
  CHECK(all[2].user_id == "carol");

  auto local = d.local_entries();
  REQUIRE(local.size() == 2);
  CHECK(local[0].user_id == "alice");
  CHECK(local[0].server_id == kSelf);
  CHECK(local[0].pubkey == kKeyAlice);
  CHECK(local[0].online);
  CHECK(local[1].user_id == "carol");
  CHECK_FALSE(local[1].online);
  CHECK(local[1].meta == display("Carol"));

  auto every = d.all_entries();
  REQUIRE(every.size() == 3);
  CHECK(every[1].user_id == "bob");
  CHECK(every[1].server_id == kB);
  CHECK(every[1].online);
  CHECK(every[1].meta == display("Bob"));  // the advert's meta.pubkey is not kept
}

TEST_CASE("listeners: subscription order, unsubscribe, const queries inside", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  REQUIRE(d.register_local("alice", kKeyAlice, json::Object{}).ok());
  std::vector<std::string> calls;
  int t1 = d.subscribe([&](const DirectoryEvent& e) {
    // State is already changed when a listener runs.
    calls.push_back("1:" + ev_str(e) + (d.find(e.user_id)->online ? ":on" : ":off"));
  });
  int t2 = d.subscribe([&](const DirectoryEvent& e) { calls.push_back("2:" + ev_str(e)); });
  CHECK(t1 != t2);
  d.login_local("alice", json::Object{}, stamp(1));
  CHECK(calls == std::vector<std::string>{"1:Online alice@srv-a:on", "2:Online alice@srv-a"});
  calls.clear();
  d.unsubscribe(t1);
  d.logout_local("alice");
  CHECK(calls == std::vector<std::string>{"2:Offline alice@srv-a"});
  d.unsubscribe(t2);
  d.unsubscribe(12345);  // unknown token: no-op
  calls.clear();
  d.login_local("alice", json::Object{}, stamp(2));
  CHECK(calls.empty());
}

TEST_CASE("a listener may unsubscribe itself while being called", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  REQUIRE(d.register_local("alice", kKeyAlice, json::Object{}).ok());
  int calls = 0;
  int token = 0;
  token = d.subscribe([&](const DirectoryEvent&) {
    ++calls;
    d.unsubscribe(token);
  });
  d.login_local("alice", json::Object{}, stamp(1));
  d.logout_local("alice");
  CHECK(calls == 1);
}
