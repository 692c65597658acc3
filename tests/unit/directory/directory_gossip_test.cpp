// DirectoryService, remote side: USER_ADVERTISE (R1, R2, R4, R5), USER_REMOVE (R3),
// server_down (R6).
#include <catch2/catch.hpp>

#include "directory_test_util.h"
#include "socp/directory.h"

using namespace socp;
using namespace socp::test;

TEST_CASE("advert of an unknown user pins key and location, online, one Online", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  Recorder rec(d);
  json::Value meta = json::Object{{"display_name", "Bob"}, {"pubkey", kKeyBob}};
  REQUIRE(d.apply_advertise(advert("bob", kB, kKeyBob, 42, meta), kB).ok());
  CHECK(rec.take() == Events{"Online bob@srv-b"});
  const UserInfo* u = d.find("bob");
  REQUIRE(u != nullptr);
  CHECK(u->pubkey == kKeyBob);
  CHECK(u->server_id == kB);
  CHECK(u->online);
  CHECK(u->since == 42);
  CHECK(u->meta == display("Bob"));
  CHECK(u->version == 1);
  CHECK(d.stats().adverts == 1);
}

TEST_CASE("advert without since records since 0 (unknown)", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  REQUIRE(d.apply_advertise(advert("bob", kB, kKeyBob), kB).ok());
  CHECK(d.find("bob")->since == 0);
}

TEST_CASE("R2: an advert or remove for another server's user is rejected", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  Recorder rec(d);
  REQUIRE(d.apply_advertise(advert("bob", kB, kKeyBob, 1), kB).ok());
  rec.take();

  auto s = d.apply_advertise(advert("carol", kB, kKeyCarol, 1), kC);  // C speaks for B
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == Errc::InvalidArgument);
  CHECK(d.find("carol") == nullptr);

  auto r = d.apply_remove(removal("bob", kB), kC);  // C removes B's user
  REQUIRE_FALSE(r.ok());
  CHECK(r.code() == Errc::InvalidArgument);
  CHECK(where(d, "bob") == "bob@srv-b:on");

  CHECK(rec.take().empty());
  CHECK(d.stats().rejected_authority == 2);
  CHECK(d.stats().adverts == 1);
  CHECK(d.stats().removes == 0);
}

TEST_CASE("R2: malformed adverts and removes are InvalidArgument", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  CHECK(d.apply_advertise(advert("", kB, kKeyBob, 1), kB).code() == Errc::InvalidArgument);
  CHECK(d.apply_advertise(advert("bob", kB, "", 1), kB).code() == Errc::InvalidArgument);
  CHECK(d.apply_advertise(advert("bob", "", kKeyBob, 1), "").code() == Errc::InvalidArgument);
  CHECK(d.apply_remove(removal("", kB), kB).code() == Errc::InvalidArgument);
  CHECK(d.size() == 0);
  CHECK(d.stats().rejected_authority == 0);  // these were not authority violations
}

TEST_CASE("R1: a different key for a pinned user is rejected, record unchanged", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  Recorder rec(d, /*with_detail=*/true);
  REQUIRE(d.register_local("alice", kKeyAlice, display("Alice")).ok());
  REQUIRE(d.apply_advertise(advert("bob", kB, kKeyBob, 5), kB).ok());
  d.server_down(kB);
  rec.take();
  const UserInfo before_alice = *d.find("alice");
  const UserInfo before_bob = *d.find("bob");

  SECTION("local user, key offered by a remote server") {
    auto s = d.apply_advertise(advert("alice", kC, kKeyMallory, 9, display("M")), kC);
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == Errc::BadKey);
    CHECK(rec.take() == Events{"KeyConflict alice@srv-a<srv-c"});
    const UserInfo* u = d.find("alice");
    CHECK(u->pubkey == kKeyAlice);
    CHECK(u->server_id == kSelf);
    CHECK_FALSE(u->online);
    CHECK(u->meta == before_alice.meta);
    CHECK(u->version == before_alice.version);
  }
  SECTION("remote user, new key from its own server") {
    auto s = d.apply_advertise(advert("bob", kB, kKeyMallory, 9), kB);
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == Errc::BadKey);
    CHECK(rec.take() == Events{"KeyConflict bob@srv-b<srv-b"});
    CHECK(d.find("bob")->pubkey == kKeyBob);
    CHECK_FALSE(d.find("bob")->online);
    CHECK(d.find("bob")->version == before_bob.version);
  }
  CHECK(d.stats().key_conflicts == 1);
  CHECK(d.stats().adverts == 1);
}

TEST_CASE("idempotency: the same advert twice gives one Online", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  Recorder rec(d);
  auto ad = advert("bob", kB, kKeyBob, 77, display("Bob"));
  REQUIRE(d.apply_advertise(ad, kB).ok());
  const auto v = d.find("bob")->version;
  REQUIRE(d.apply_advertise(ad, kB).ok());
  REQUIRE(d.apply_advertise(ad, kB).ok());
  CHECK(rec.take() == Events{"Online bob@srv-b"});
  CHECK(d.find("bob")->version == v);
  CHECK(d.stats().adverts == 3);  // accepted, even if nothing changed

  SECTION("a re-advert without since keeps the known login time") {
    REQUIRE(d.apply_advertise(advert("bob", kB, kKeyBob), kB).ok());
    CHECK(d.find("bob")->since == 77);
    CHECK(d.find("bob")->version == v);
  }
  SECTION("a re-advert with new meta updates it silently") {
    REQUIRE(d.apply_advertise(advert("bob", kB, kKeyBob, 77, display("Robert")), kB).ok());
    CHECK(rec.take().empty());
    CHECK(d.find("bob")->meta == display("Robert"));
    CHECK(d.find("bob")->version == v + 1);
  }
}

TEST_CASE("R4: an advert moves an offline user to the advertising server", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  Recorder rec(d, /*with_detail=*/true);
  SECTION("from here") {
    REQUIRE(d.register_local("alice", kKeyAlice, json::Object{}).ok());
    REQUIRE(d.apply_advertise(advert("alice", kB, kKeyAlice, 3), kB).ok());
    CHECK(rec.take() == Events{"Moved alice@srv-b<srv-a", "Online alice@srv-b<"});
    CHECK(where(d, "alice") == "alice@srv-b:on");
    CHECK(d.local_entries().empty());
  }
  SECTION("from another remote server") {
    REQUIRE(d.apply_advertise(advert("bob", kB, kKeyBob, 3), kB).ok());
    REQUIRE(d.apply_remove(removal("bob", kB), kB).ok());
    rec.take();
    REQUIRE(d.apply_advertise(advert("bob", kC, kKeyBob, 4), kC).ok());
    CHECK(rec.take() == Events{"Moved bob@srv-c<srv-b", "Online bob@srv-c<"});
    CHECK(where(d, "bob") == "bob@srv-c:on");
    CHECK(d.find("bob")->since == 4);
  }
}

// R5 from the point of view of one server. Current login (since_cur at cur) vs advert
// (since_ad from kC or kB). The larger (since, server_id) loses when both times are known;
// with an unknown time (0) the larger server id loses.
TEST_CASE("R5: two logins at once, table", "[directory]") {
  struct Row {
    const char* name;
    bool local;  ///< current login is here (kSelf = "srv-a"), else at kB ("srv-b")
    std::int64_t since_cur;
    std::string ad_server;
    std::int64_t since_ad;  ///< 0 = advert without since
    bool advert_wins;
  };
  const Row rows[] = {
      {"local older keeps", true, 100, kB, 200, false},
      {"local newer evicted", true, 300, kB, 200, true},
      {"local same time, smaller id keeps", true, 100, kB, 100, false},
      {"local, advert time unknown: ids decide", true, 100, kB, 0, false},
      {"local, advert time unknown: smaller id wins", true, 100, "srv-0", 0, true},
      {"remote older keeps", false, 100, kC, 200, false},
      {"remote newer moves", false, 300, kC, 200, true},
      {"remote same time: srv-b < srv-c keeps", false, 100, kC, 100, false},
      {"remote, time unknown: srv-b < srv-c keeps", false, 100, kC, 0, false},
      {"remote current time unknown: ids decide", false, 0, kC, 50, false},
      {"remote current time unknown: smaller id wins", false, 0, "srv-0", 900, true},
  };
  for (const auto& r : rows) {
    DYNAMIC_SECTION(r.name) {
      DirectoryService d(kSelf, nullptr);
      const std::string cur = r.local ? kSelf : kB;
      if (r.local) {
        REQUIRE(d.register_local("alice", kKeyAlice, json::Object{}).ok());
        d.login_local("alice", json::Object{}, r.since_cur);
      } else {
        REQUIRE(d.apply_advertise(advert("alice", kB, kKeyAlice, r.since_cur), kB).ok());
      }
      Recorder rec(d, /*with_detail=*/true);
      std::optional<std::int64_t> since;
      if (r.since_ad != 0) since = r.since_ad;
      auto s = d.apply_advertise(advert("alice", r.ad_server, kKeyAlice, since), r.ad_server);
      const UserInfo* u = d.find("alice");
      CHECK(u->online);
      if (r.advert_wins) {
        CHECK(s.ok());
        CHECK(u->server_id == r.ad_server);
        CHECK(u->since == r.since_ad);
        Events want;
        if (r.local) want.push_back("Evicted alice@srv-a<" + r.ad_server);
        want.push_back("Moved alice@" + r.ad_server + "<" + cur);
        want.push_back("Online alice@" + r.ad_server + "<");
        CHECK(rec.take() == want);
      } else {
        REQUIRE_FALSE(s.ok());
        CHECK(s.code() == Errc::NameInUse);
        CHECK(u->server_id == cur);
        CHECK(u->since == r.since_cur);
        CHECK(rec.take().empty());
      }
    }
  }
}

TEST_CASE("an advert from ourselves (echo) never changes local presence", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  Recorder rec(d);
  REQUIRE(d.register_local("alice", kKeyAlice, json::Object{}).ok());
  REQUIRE(d.apply_advertise(advert("alice", kSelf, kKeyAlice, 5), kSelf).ok());
  REQUIRE(d.apply_remove(removal("alice", kSelf), kSelf).ok());
  CHECK(where(d, "alice") == "alice@srv-a:off");
  d.login_local("alice", json::Object{}, 5);
  REQUIRE(d.apply_remove(removal("alice", kSelf), kSelf).ok());
  CHECK(where(d, "alice") == "alice@srv-a:on");
  CHECK(rec.take() == Events{"Online alice@srv-a"});
}

TEST_CASE("R3: remove marks offline only if the user is still there", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  Recorder rec(d);
  REQUIRE(d.apply_advertise(advert("bob", kB, kKeyBob, 1), kB).ok());
  rec.take();

  SECTION("still there: offline, one Offline") {
    REQUIRE(d.apply_remove(removal("bob", kB), kB).ok());
    CHECK(rec.take() == Events{"Offline bob@srv-b"});
    CHECK(where(d, "bob") == "bob@srv-b:off");
    CHECK(d.find("bob")->pubkey == kKeyBob);               // key stays pinned
    REQUIRE(d.apply_remove(removal("bob", kB), kB).ok());  // twice: nothing more
    CHECK(rec.take().empty());
  }
  SECTION("moved to C meanwhile: a late remove from B is ignored") {
    REQUIRE(d.apply_remove(removal("bob", kB), kB).ok());
    REQUIRE(d.apply_advertise(advert("bob", kC, kKeyBob, 2), kC).ok());
    rec.take();
    REQUIRE(d.apply_remove(removal("bob", kB), kB).ok());
    CHECK(rec.take().empty());
    CHECK(where(d, "bob") == "bob@srv-c:on");
  }
  SECTION("moved here meanwhile: a remove from B does not log out the local session") {
    REQUIRE(d.apply_remove(removal("bob", kB), kB).ok());
    d.login_local("bob", json::Object{}, 3);
    rec.take();
    REQUIRE(d.apply_remove(removal("bob", kB), kB).ok());
    CHECK(rec.take().empty());
    CHECK(where(d, "bob") == "bob@srv-a:on");
  }
  SECTION("unknown user: Ok, nothing created") {
    REQUIRE(d.apply_remove(removal("ghost", kB), kB).ok());
    CHECK(d.find("ghost") == nullptr);
    CHECK(rec.take().empty());
  }
}

TEST_CASE("R6: server_down marks that server's online users offline, keys stay", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  REQUIRE(d.register_local("alice", kKeyAlice, json::Object{}).ok());
  d.login_local("alice", json::Object{}, 1);
  REQUIRE(d.apply_advertise(advert("bob", kB, kKeyBob, 1), kB).ok());
  REQUIRE(d.apply_advertise(advert("carol", kB, kKeyCarol, 1), kB).ok());
  REQUIRE(d.apply_advertise(advert("dave", kC, "KEY-dave", 1), kC).ok());
  REQUIRE(
      d.apply_snapshot(kB, {entry("bob", kB, kKeyBob, true), entry("carol", kB, kKeyCarol, true),
                            entry("erin", kB, "KEY-erin", false)})
          .ok());
  Recorder rec(d);

  d.server_down(kB);
  CHECK(rec.take() == Events{"Offline bob@srv-b", "Offline carol@srv-b"});  // erin was offline
  CHECK(where(d, "bob") == "bob@srv-b:off");
  CHECK(d.find("bob")->pubkey == kKeyBob);
  CHECK(where(d, "dave") == "dave@srv-c:on");
  CHECK(where(d, "alice") == "alice@srv-a:on");

  d.server_down(kB);     // twice: nothing more
  d.server_down(kSelf);  // our own sessions are not a link
  d.server_down("");
  CHECK(rec.take().empty());
  CHECK(where(d, "alice") == "alice@srv-a:on");

  // Keys stay pinned: a new key for bob is still a conflict after the link died.
  CHECK(d.apply_advertise(advert("bob", kB, kKeyMallory, 2), kB).code() == Errc::BadKey);
  // And bob may come back.
  REQUIRE(d.apply_advertise(advert("bob", kB, kKeyBob, 3), kB).ok());
  CHECK(where(d, "bob") == "bob@srv-b:on");
}
