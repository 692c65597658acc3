// Rule R5 across servers: two DirectoryService instances (servers A and B, plus an observer C)
// with the same user logging in at both before either advert arrives. Delivered crosswise,
// every server must agree on the winner and exactly one Evicted must be emitted overall.
#include <catch2/catch.hpp>

#include "directory/directory_rules.h"
#include "directory_test_util.h"
#include "socp/directory.h"

using namespace socp;
using namespace socp::test;

namespace {

struct Node {
  explicit Node(const std::string& id) : dir(id, nullptr), rec(dir, true) {}
  DirectoryService dir;
  Recorder rec;
};

/// alice is known (same key) on every node, offline, last seen at A.
void seed(Node& a, std::initializer_list<Node*> others) {
  REQUIRE(a.dir.register_local("alice", kKeyAlice, json::Object{}).ok());
  for (Node* n : others) {
    REQUIRE(
        n->dir.apply_snapshot(a.dir.self_id(), {entry("alice", a.dir.self_id(), kKeyAlice, false)})
            .ok());
  }
}

/// The advert a node sends when alice logs in there (what the server core would build); the
/// login proof travels with it (verified by the receiving core, here given as its stamp).
msg::UserAdvertise login_advert(Node& n) {
  return advert("alice", n.dir.self_id(), kKeyAlice);
}

/// The stamp a receiving core would derive from the node's current login proof of alice.
LoginStamp proof_of(const Node& n) {
  const UserInfo* u = n.dir.find("alice");
  return stamp(u->since, u->login_digest);
}

}  // namespace

TEST_CASE("R5: proven adverts delivered crosswise, both servers agree, one Evicted",
          "[directory]") {
  struct Row {
    const char* name;
    std::int64_t ts_a, ts_b;
    const char* winner;
  };
  const Row rows[] = {
      {"A logged in first: B's newer login wins", 100, 200, "srv-b"},
      {"B logged in first: A's newer login wins", 300, 200, "srv-a"},
      {"same millisecond: larger id wins", 100, 100, "srv-b"},
  };
  for (const auto& r : rows) {
    for (bool a_first : {true, false}) {
      DYNAMIC_SECTION(r.name << (a_first ? ", A's advert delivered first" : ", B's first")) {
        Node a(kSelf), b(kB), c(kC);
        seed(a, {&b, &c});
        a.rec.take();
        b.rec.take();
        c.rec.take();

        // Both logins happen before any advert arrives (a race the check_login can't see).
        REQUIRE(a.dir.check_login("alice", kKeyAlice).ok());
        REQUIRE(b.dir.check_login("alice", kKeyAlice).ok());
        a.dir.login_local("alice", json::Object{}, stamp(r.ts_a, "login-a"));
        b.dir.login_local("alice", json::Object{}, stamp(r.ts_b, "login-b"));
        const auto ad_a = login_advert(a);
        const auto ad_b = login_advert(b);
        const LoginStamp pa = proof_of(a), pb = proof_of(b);

        auto deliver_a = [&] {
          (void)b.dir.apply_advertise(ad_a, kSelf, &pa);
          (void)c.dir.apply_advertise(ad_a, kSelf, &pa);
        };
        auto deliver_b = [&] {
          (void)a.dir.apply_advertise(ad_b, kB, &pb);
          (void)c.dir.apply_advertise(ad_b, kB, &pb);
        };
        if (a_first) {
          deliver_a();
          deliver_b();
        } else {
          deliver_b();
          deliver_a();
        }

        const std::string want = std::string("alice@") + r.winner + ":on";
        CHECK(where(a.dir, "alice") == want);
        CHECK(where(b.dir, "alice") == want);
        CHECK(where(c.dir, "alice") == want);
        const auto evicted = a.rec.count(DirectoryEventKind::Evicted) +
                             b.rec.count(DirectoryEventKind::Evicted) +
                             c.rec.count(DirectoryEventKind::Evicted);
        CHECK(evicted == 1);
        Node& loser = std::string(r.winner) == kSelf ? b : a;
        CHECK(loser.rec.count(DirectoryEventKind::Evicted) == 1);
        // The evicted session then closes: its logout must not undo the move.
        loser.dir.logout_local("alice");
        CHECK(where(loser.dir, "alice") == want);
      }
    }
  }
}

TEST_CASE("R5: bare adverts crossing never evict anyone", "[directory]") {
  Node a(kSelf), b(kB);
  seed(a, {&b});
  a.dir.login_local("alice", json::Object{}, stamp(100, "login-a"));
  b.dir.login_local("alice", json::Object{}, stamp(200, "login-b"));
  a.rec.take();
  b.rec.take();
  CHECK(a.dir.apply_advertise(login_advert(b), kB).code() == Errc::NameInUse);
  CHECK(b.dir.apply_advertise(login_advert(a), kSelf).code() == Errc::NameInUse);
  CHECK(a.rec.count(DirectoryEventKind::Evicted) + b.rec.count(DirectoryEventKind::Evicted) == 0);
}

TEST_CASE("R5: snapshots crossing after a partition heal agree too", "[directory]") {
  // During a partition alice logged in at both A and B; when the link comes back each side
  // sends the other its local users, each online entry with its login proof.
  for (std::int64_t ts_b : {50, 5000}) {
    DYNAMIC_SECTION("B's login time " << ts_b) {
      Node a(kSelf), b(kB);
      seed(a, {&b});
      a.dir.login_local("alice", json::Object{}, stamp(1000, "login-a"));
      // Partition: B never heard of A's login.
      b.dir.login_local("alice", json::Object{}, stamp(ts_b, "login-b"));
      a.rec.take();
      b.rec.take();

      const auto snap_a = a.dir.local_entries();
      const auto snap_b = b.dir.local_entries();
      const std::vector<std::optional<LoginStamp>> proofs_a{proof_of(a)}, proofs_b{proof_of(b)};
      REQUIRE(b.dir.apply_snapshot(kSelf, snap_a, false, proofs_a).ok());
      REQUIRE(a.dir.apply_snapshot(kB, snap_b, false, proofs_b).ok());

      CHECK(where(a.dir, "alice") == where(b.dir, "alice"));
      CHECK(where(a.dir, "alice") == (ts_b > 1000 ? "alice@srv-b:on" : "alice@srv-a:on"));
      CHECK(a.rec.count(DirectoryEventKind::Evicted) + b.rec.count(DirectoryEventKind::Evicted) ==
            1);
    }
  }
}

TEST_CASE("R5 rule function: deterministic and antisymmetric", "[directory]") {
  using directory_rules::login_newer;
  struct Row {
    std::int64_t sa;
    const char* a;
    std::int64_t sb;
    const char* b;
    bool a_newer;
  };
  const Row rows[] = {
      {100, "srv-a", 200, "srv-b", false}, {200, "srv-a", 100, "srv-b", true},
      {100, "srv-b", 100, "srv-a", true},  {100, "srv-a", 100, "srv-b", false},
      {0, "srv-b", 100, "srv-a", false},   {100, "srv-b", 0, "srv-a", true},
      {5, "srv-z", 6, "srv-a", false},
  };
  for (const auto& r : rows) {
    INFO(r.sa << "@" << r.a << " vs " << r.sb << "@" << r.b);
    CHECK(login_newer(r.sa, r.a, r.sb, r.b) == r.a_newer);
    CHECK(login_newer(r.sb, r.b, r.sa, r.a) == !r.a_newer);  // exactly one is newer
  }
}

TEST_CASE("clean_meta drops pubkey and non-objects", "[directory]") {
  using directory_rules::clean_meta;
  CHECK(clean_meta(json::Object{{"pubkey", "k"}, {"display_name", "A"}}) == display("A"));
  CHECK(clean_meta(json::Value("text")) == json::Value(json::Object{}));
  CHECK(clean_meta(json::Value()) == json::Value(json::Object{}));
  CHECK(clean_meta(display("B")) == display("B"));
}
