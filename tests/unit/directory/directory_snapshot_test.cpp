// DirectoryService: DIRECTORY_SNAPSHOT / SERVER_WELCOME.users (R7, third-party entries, R1
// inside a snapshot).
#include <catch2/catch.hpp>

#include "directory_test_util.h"
#include "socp/directory.h"

using namespace socp;
using namespace socp::test;

TEST_CASE("R7: snapshot of a server that lost users", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  REQUIRE(
      d.apply_snapshot(kB, {entry("bob", kB, kKeyBob, true), entry("carol", kB, kKeyCarol, true),
                            entry("dave", kB, "KEY-dave", true)})
          .ok());
  REQUIRE(d.apply_advertise(advert("erin", kC, "KEY-erin", 1), kC).ok());
  Recorder rec(d);

  // B restarted: bob is still there, carol is listed offline, dave is not listed at all.
  REQUIRE(
      d.apply_snapshot(kB, {entry("bob", kB, kKeyBob, true), entry("carol", kB, kKeyCarol, false)})
          .ok());
  CHECK(rec.take() == Events{"Offline carol@srv-b", "Offline dave@srv-b"});
  CHECK(where(d, "bob") == "bob@srv-b:on");
  CHECK(where(d, "carol") == "carol@srv-b:off");
  CHECK(where(d, "dave") == "dave@srv-b:off");
  CHECK(d.find("dave")->pubkey == "KEY-dave");  // keys stay pinned
  CHECK(where(d, "erin") == "erin@srv-c:on");   // other servers' users untouched

  SECTION("an empty snapshot takes everyone of B offline") {
    REQUIRE(d.apply_snapshot(kB, {}).ok());
    CHECK(rec.take() == Events{"Offline bob@srv-b"});
  }
  SECTION("the same snapshot again changes nothing") {
    REQUIRE(d.apply_snapshot(
                 kB, {entry("bob", kB, kKeyBob, true), entry("carol", kB, kKeyCarol, false)})
                .ok());
    CHECK(rec.take().empty());
  }
}

TEST_CASE("snapshot: new users pinned, online ones announced, offline ones silent", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  Recorder rec(d);
  REQUIRE(d.apply_snapshot(kB, {entry("bob", kB, kKeyBob, true, display("Bob")),
                                entry("carol", kB, kKeyCarol, false, display("Carol"))})
              .ok());
  CHECK(rec.take() == Events{"Online bob@srv-b"});
  CHECK(where(d, "bob") == "bob@srv-b:on");
  CHECK(d.find("bob")->since == 0);  // snapshots carry no login time
  CHECK(d.find("bob")->meta == display("Bob"));
  CHECK(where(d, "carol") == "carol@srv-b:off");
  CHECK(d.find("carol")->pubkey == kKeyCarol);
  CHECK(d.find("carol")->meta == display("Carol"));
}

TEST_CASE("snapshot keeps the login time learnt from an earlier advert", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  const LoginStamp st = stamp(55);
  REQUIRE(d.apply_advertise(advert("bob", kB, kKeyBob), kB, &st).ok());
  REQUIRE(d.apply_snapshot(kB, {entry("bob", kB, kKeyBob, true)}).ok());
  CHECK(d.find("bob")->since == 55);
}

TEST_CASE("snapshot: an offline entry for a user last seen elsewhere changes nothing",
          "[directory]") {
  DirectoryService d(kSelf, nullptr);
  REQUIRE(d.register_local("alice", kKeyAlice, json::Object{}).ok());
  REQUIRE(d.apply_advertise(advert("carol", kC, kKeyCarol, 1), kC).ok());
  Recorder rec(d);
  REQUIRE(d.apply_snapshot(
               kB, {entry("alice", kB, kKeyAlice, false), entry("carol", kB, kKeyCarol, false)})
              .ok());
  CHECK(rec.take().empty());
  CHECK(where(d, "alice") == "alice@srv-a:off");
  CHECK(where(d, "carol") == "carol@srv-c:on");
}

TEST_CASE("snapshot: an online entry moves an offline user (R4)", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  REQUIRE(d.register_local("alice", kKeyAlice, json::Object{}).ok());
  Recorder rec(d);
  REQUIRE(d.apply_snapshot(kB, {entry("alice", kB, kKeyAlice, true)}).ok());
  CHECK(rec.take() == Events{"Moved alice@srv-b", "Online alice@srv-b"});
  CHECK(where(d, "alice") == "alice@srv-b:on");
}

TEST_CASE("snapshot: key conflict in one entry does not stop the others", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  REQUIRE(d.apply_advertise(advert("bob", kB, kKeyBob, 1), kB).ok());
  REQUIRE(d.apply_advertise(advert("carol", kB, kKeyCarol, 1), kB).ok());
  Recorder rec(d, /*with_detail=*/true);

  auto s = d.apply_snapshot(kB, {entry("bob", kB, kKeyMallory, false),    // conflict
                                 entry("carol", kB, kKeyMallory, true),   // conflict
                                 entry("dave", kB, "KEY-dave", true),     // new
                                 entry("erin", kB, "KEY-erin", false)});  // new, offline
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == Errc::BadKey);
  CHECK(s.error().detail.find("bob") != std::string::npos);  // the first error is returned
  CHECK(rec.take() == Events{"KeyConflict bob@srv-b<srv-b", "KeyConflict carol@srv-b<srv-b",
                             "Online dave@srv-b<"});
  CHECK(d.stats().key_conflicts == 2);
  CHECK(d.find("bob")->pubkey == kKeyBob);
  CHECK(where(d, "bob") == "bob@srv-b:on");  // listed (even with a bad key): R7 not applied
  CHECK(d.find("carol")->pubkey == kKeyCarol);
  CHECK(where(d, "dave") == "dave@srv-b:on");
  CHECK(where(d, "erin") == "erin@srv-b:off");
}

TEST_CASE("snapshot: malformed entries are skipped and reported", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  auto s = d.apply_snapshot(kB, {entry("", kB, kKeyBob, true), entry("bob", kB, "", true),
                                 entry("carol", kB, kKeyCarol, true)});
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == Errc::InvalidArgument);
  CHECK(d.size() == 1);
  CHECK(where(d, "carol") == "carol@srv-b:on");
  CHECK(d.apply_snapshot("", {}).code() == Errc::InvalidArgument);
}

TEST_CASE("snapshot: third-party entries", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  REQUIRE(d.register_local("alice", kKeyAlice, json::Object{}).ok());
  d.login_local("alice", json::Object{}, stamp(10));
  REQUIRE(d.apply_advertise(advert("frank", kC, "KEY-frank", 1), kC).ok());
  Recorder rec(d, /*with_detail=*/true);

  // An introducer's welcome (origin B) listing its own user, users of C and of D, and alice
  // (located here) with her own key and with another key.
  const std::vector<msg::DirectoryEntry> welcome = {
      entry("bob", kB, kKeyBob, true),
      entry("carol", kC, kKeyCarol, true),
      entry("dave", "srv-d", "KEY-dave", false),
      entry("alice", kC, kKeyAlice, true),      // would move/evict our local user
      entry("alice", kSelf, kKeyAlice, false),  // would take our local user offline
      entry("frank", kC, "KEY-frank", false),   // C's user went offline (per B)
  };

  SECTION("ignored unless trusted") {
    REQUIRE(d.apply_snapshot(kB, welcome).ok());
    CHECK(rec.take() == Events{"Online bob@srv-b<"});
    CHECK(d.find("carol") == nullptr);
    CHECK(d.find("dave") == nullptr);
    CHECK(where(d, "alice") == "alice@srv-a:on");
    CHECK(where(d, "frank") == "frank@srv-c:on");
  }
  SECTION("trusted: applied as adverts / offline records of their own servers") {
    REQUIRE(d.apply_snapshot(kB, welcome, /*trust_third_party=*/true).ok());
    CHECK(rec.take() == Events{"Online bob@srv-b<", "Online carol@srv-c<", "Offline frank@srv-c<"});
    CHECK(where(d, "carol") == "carol@srv-c:on");
    CHECK(where(d, "dave") == "dave@srv-d:off");
    CHECK(d.find("dave")->pubkey == "KEY-dave");
    CHECK(where(d, "alice") == "alice@srv-a:on");  // never touched by third parties
    CHECK(d.find("alice")->since == 10);
  }
  SECTION("trusted, but R1 still applies") {
    auto s =
        d.apply_snapshot(kB,
                         {entry("alice", kC, kKeyMallory, true),
                          entry("frank", kC, kKeyMallory, true), entry("bob", kB, kKeyBob, true)},
                         /*trust_third_party=*/true);
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == Errc::BadKey);
    CHECK(rec.take() == Events{"KeyConflict alice@srv-a<srv-c", "KeyConflict frank@srv-c<srv-c",
                               "Online bob@srv-b<"});
    CHECK(d.find("alice")->pubkey == kKeyAlice);
    CHECK(d.find("frank")->pubkey == "KEY-frank");
  }
  SECTION("trusted third-party entries are not subject to R7 of the origin") {
    REQUIRE(d.apply_snapshot(kB, {entry("carol", kC, kKeyCarol, true)}, true).ok());
    rec.take();
    REQUIRE(d.apply_snapshot(kB, {}, true).ok());  // B lists nobody: C's users stay
    CHECK(rec.take().empty());
    CHECK(where(d, "carol") == "carol@srv-c:on");
  }
}

TEST_CASE("snapshot: an online entry against a local login follows R5", "[directory]") {
  SECTION("without a login proof: the local session stays, the snapshot is still accepted") {
    DirectoryService d("srv-z", nullptr);
    REQUIRE(d.register_local("alice", kKeyAlice, json::Object{}).ok());
    d.login_local("alice", json::Object{}, stamp(500));
    Recorder rec(d);
    REQUIRE(d.apply_snapshot(kB, {entry("alice", kB, kKeyAlice, true)}).ok());
    CHECK(rec.take().empty());
    CHECK(where(d, "alice") == "alice@srv-z:on");
  }
  SECTION("with a proof of an older login: the local session stays") {
    DirectoryService d(kSelf, nullptr);
    REQUIRE(d.register_local("alice", kKeyAlice, json::Object{}).ok());
    d.login_local("alice", json::Object{}, stamp(500));
    Recorder rec(d);
    REQUIRE(d.apply_snapshot(kB, {entry("alice", kB, kKeyAlice, true)}, false, {stamp(400)}).ok());
    CHECK(rec.take().empty());
    CHECK(where(d, "alice") == "alice@srv-a:on");
  }
  SECTION("with a proof of a newer login: local session evicted") {
    DirectoryService d(kSelf, nullptr);
    REQUIRE(d.register_local("alice", kKeyAlice, json::Object{}).ok());
    d.login_local("alice", json::Object{}, stamp(1));
    Recorder rec(d, /*with_detail=*/true);
    REQUIRE(d.apply_snapshot(kB, {entry("alice", kB, kKeyAlice, true)}, false, {stamp(2)}).ok());
    CHECK(rec.take() ==
          Events{"Evicted alice@srv-a<srv-b", "Moved alice@srv-b<srv-a", "Online alice@srv-b<"});
    CHECK(where(d, "alice") == "alice@srv-b:on");
  }
}

TEST_CASE("snapshot from ourselves is ignored", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  REQUIRE(d.register_local("alice", kKeyAlice, json::Object{}).ok());
  d.login_local("alice", json::Object{}, stamp(1));
  REQUIRE(d.apply_snapshot(kSelf, {}).ok());
  CHECK(where(d, "alice") == "alice@srv-a:on");
}
