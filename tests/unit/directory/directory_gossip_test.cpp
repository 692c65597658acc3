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
  const LoginStamp st = stamp(42);
  REQUIRE(d.apply_advertise(advert("bob", kB, kKeyBob, 42, meta), kB, &st).ok());
  CHECK(rec.take() == Events{"Online bob@srv-b"});
  const UserInfo* u = d.find("bob");
  REQUIRE(u != nullptr);
  CHECK(u->pubkey == kKeyBob);
  CHECK(u->server_id == kB);
  CHECK(u->online);
  CHECK(u->since == 42);  // the proven login time
  CHECK(u->last_login == 42);
  CHECK(u->meta == display("Bob"));
  CHECK(u->version == 1);
  CHECK(d.stats().adverts == 1);
}

TEST_CASE("an advert without a login proof records login time 0 (a bare since proves nothing)",
          "[directory]") {
  DirectoryService d(kSelf, nullptr);
  REQUIRE(d.apply_advertise(advert("bob", kB, kKeyBob, 12345), kB).ok());
  CHECK(d.find("bob")->since == 0);
  CHECK(d.find("bob")->last_login == 0);
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
  const LoginStamp st = stamp(77);
  REQUIRE(d.apply_advertise(ad, kB, &st).ok());
  const auto v = d.find("bob")->version;
  REQUIRE(d.apply_advertise(ad, kB, &st).ok());
  REQUIRE(d.apply_advertise(ad, kB, &st).ok());
  CHECK(rec.take() == Events{"Online bob@srv-b"});
  CHECK(d.find("bob")->version == v);
  CHECK(d.stats().adverts == 3);  // accepted, even if nothing changed

  SECTION("a re-advert without a proof keeps the known login time") {
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
    const LoginStamp st = stamp(4);
    REQUIRE(d.apply_advertise(advert("bob", kC, kKeyBob, 4), kC, &st).ok());
    CHECK(rec.take() == Events{"Moved bob@srv-c<srv-b", "Online bob@srv-c<"});
    CHECK(where(d, "bob") == "bob@srv-c:on");
    CHECK(d.find("bob")->since == 4);
  }
}

// R5 from the point of view of one server: the user is online (here, or at kB) with a
// current login (cur_ts; 0 = not proven); an advert from ad_server carries a proof of a login
// at ad_ts (0 = no proof). Only a proof of a newer login, by (time, server id), moves the user;
// a bare advert, an older proof or the same login (a replay) never does.
TEST_CASE("R5: proven logins, table", "[directory]") {
  struct Row {
    const char* name;
    bool local;  ///< current login is here (kSelf = "srv-a"), else at kB ("srv-b")
    std::int64_t cur_ts;
    std::string ad_server;
    std::int64_t ad_ts;  ///< 0 = advert without a proof
    bool same_login;     ///< the advert's proof is the current login itself (a replay)
    bool advert_wins;
  };
  const Row rows[] = {
      {"local, bare advert (even since 1) ignored", true, 100, kB, 0, false, false},
      {"local, proof of an older login ignored", true, 100, kB, 50, false, false},
      {"local, proof of a newer login evicts", true, 100, kB, 200, false, true},
      {"local, the current login replayed ignored", true, 100, kB, 100, true, false},
      {"local, same time, larger server id wins", true, 100, kB, 100, false, true},
      {"remote, bare advert ignored", false, 100, kC, 0, false, false},
      {"remote, proof of a newer login moves", false, 100, kC, 200, false, true},
      {"remote, proof of an older login ignored", false, 300, kC, 200, false, false},
      {"remote, unproven current login, proof moves", false, 0, kC, 50, false, true},
      {"remote, same time: srv-c > srv-b wins", false, 100, kC, 100, false, true},
      {"remote, same time: srv-0 < srv-b loses", false, 100, "srv-0", 100, false, false},
  };
  for (const auto& r : rows) {
    DYNAMIC_SECTION(r.name) {
      DirectoryService d(kSelf, nullptr);
      const std::string cur = r.local ? kSelf : kB;
      const LoginStamp cur_stamp = stamp(r.cur_ts, "current");
      if (r.local) {
        REQUIRE(d.register_local("alice", kKeyAlice, json::Object{}).ok());
        d.login_local("alice", json::Object{}, cur_stamp);
      } else {
        REQUIRE(
            d.apply_advertise(advert("alice", kB, kKeyAlice), kB, r.cur_ts ? &cur_stamp : nullptr)
                .ok());
      }
      Recorder rec(d, /*with_detail=*/true);
      const LoginStamp ad_stamp = stamp(r.ad_ts, r.same_login ? "current" : "candidate");
      auto s = d.apply_advertise(advert("alice", r.ad_server, kKeyAlice, 1), r.ad_server,
                                 r.ad_ts ? &ad_stamp : nullptr);
      const UserInfo* u = d.find("alice");
      CHECK(u->online);
      if (r.advert_wins) {
        CHECK(s.ok());
        CHECK(u->server_id == r.ad_server);
        CHECK(u->since == r.ad_ts);
        Events want;
        if (r.local) want.push_back("Evicted alice@srv-a<" + r.ad_server);
        want.push_back("Moved alice@" + r.ad_server + "<" + cur);
        want.push_back("Online alice@" + r.ad_server + "<");
        CHECK(rec.take() == want);
      } else {
        REQUIRE_FALSE(s.ok());
        CHECK(s.code() == Errc::NameInUse);
        CHECK(u->server_id == cur);
        CHECK(u->since == r.cur_ts);
        CHECK(rec.take().empty());
      }
    }
  }
}

TEST_CASE("one key belongs to one user, a server's users are capped", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  d.set_limits(DirectoryLimits{2});
  REQUIRE(d.register_local("alice", kKeyAlice, json::Object{}).ok());
  CHECK(d.register_local("alice2", kKeyAlice, json::Object{}).code() == Errc::BadKey);
  CHECK(d.apply_advertise(advert("eve", kB, kKeyAlice), kB).code() == Errc::BadKey);
  CHECK(d.apply_snapshot(kB, {entry("eve", kB, kKeyAlice, false)}).code() == Errc::BadKey);
  CHECK(d.find("eve") == nullptr);
  REQUIRE(d.apply_advertise(advert("bob", kB, kKeyBob), kB).ok());
  REQUIRE(d.apply_advertise(advert("carol", kB, kKeyCarol), kB).ok());
  CHECK(d.apply_advertise(advert("dave", kB, "KEY-dave"), kB).code() == Errc::TooLarge);
  CHECK(d.users_at(kB) == 2);
  CHECK(d.users_at(kSelf) == 1);
  CHECK(*d.owner_of_key(kKeyBob) == "bob");
}

TEST_CASE("forget_server drops the offline users last seen there", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  REQUIRE(d.apply_advertise(advert("bob", kB, kKeyBob), kB).ok());
  REQUIRE(d.apply_advertise(advert("carol", kB, kKeyCarol), kB).ok());
  REQUIRE(d.apply_advertise(advert("dave", kC, "KEY-dave"), kC).ok());
  CHECK(d.forget_server(kB) == 0);  // online: kept
  d.server_down(kB);
  CHECK(d.forget_server(kB) == 2);
  CHECK(d.find("bob") == nullptr);
  CHECK(d.owner_of_key(kKeyBob) == nullptr);
  CHECK(d.users_at(kB) == 0);
  CHECK(where(d, "dave") == "dave@srv-c:on");
  // bob may come back later, from anywhere, with the same key.
  REQUIRE(d.apply_advertise(advert("bob", kC, kKeyBob), kC).ok());
}

TEST_CASE("an advert from ourselves (echo) never changes local presence", "[directory]") {
  DirectoryService d(kSelf, nullptr);
  Recorder rec(d);
  REQUIRE(d.register_local("alice", kKeyAlice, json::Object{}).ok());
  REQUIRE(d.apply_advertise(advert("alice", kSelf, kKeyAlice, 5), kSelf).ok());
  REQUIRE(d.apply_remove(removal("alice", kSelf), kSelf).ok());
  CHECK(where(d, "alice") == "alice@srv-a:off");
  d.login_local("alice", json::Object{}, stamp(5));
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
    d.login_local("bob", json::Object{}, stamp(3));
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
  d.login_local("alice", json::Object{}, stamp(1));
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
