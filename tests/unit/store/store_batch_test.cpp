// Write batches (one transaction, all or nothing), deletes, the fields added to schema "1",
// and the BatchingStore overlay the server core commits once per loop turn.
#include <catch2/catch.hpp>

#include "store/batching_store.h"
#include "store/record_codec.h"
#include "store_test_util.h"

using namespace socp;
using namespace socp::test;

#define STORE_TEST(name) TEMPLATE_TEST_CASE(name, "[store]", LmdbFixture, MemoryFixture)

STORE_TEST("batch: every kind of write lands together") {
  TestType fx;
  Store& s = fx.store();
  REQUIRE(s.put_server(server("gone", 3)).ok());
  WriteBatch b;
  b.put_user(user("alice", 1));
  b.put_directory(dir_entry("alice", 2));
  b.put_server(server("s1", 4));
  b.delete_server("gone");
  b.put_group(group("public"));
  b.put_group_member(member("public", "alice"));
  b.delete_directory("nobody");  // deleting what is not there is fine in a batch
  REQUIRE(s.apply(b).ok());
  CHECK(same(*s.get_user("alice"), user("alice", 1)));
  CHECK(same(*s.get_directory("alice"), dir_entry("alice", 2)));
  CHECK(same(*s.get_server("s1"), server("s1", 4)));
  CHECK(s.get_server("gone").code() == Errc::NotFound);
  CHECK(s.list_group_members("public")->size() == 1);
  WriteBatch d;
  d.delete_user("alice");
  d.delete_directory("alice");
  REQUIRE(s.apply(d).ok());
  CHECK(s.get_user("alice").code() == Errc::NotFound);
  CHECK(s.get_directory("alice").code() == Errc::NotFound);
}

STORE_TEST("batch: one invalid record fails the whole batch, nothing written") {
  TestType fx;
  Store& s = fx.store();
  WriteBatch b;
  b.put_user(user("alice", 1));
  UserRecord bad = user("", 2);  // empty key
  b.put_user(bad);
  CHECK_FALSE(s.apply(b).ok());
  CHECK(s.get_user("alice").code() == Errc::NotFound);
}

STORE_TEST("settings: put, get, list by prefix, delete, in batches too") {
  TestType fx;
  Store& s = fx.store();
  CHECK(s.get_setting("registration").code() == Errc::NotFound);
  REQUIRE(s.put_setting("registration", "invite").ok());
  REQUIRE(s.put_setting("invite/abc", "1").ok());
  REQUIRE(s.put_setting("invite/abd", "1").ok());
  REQUIRE(s.put_setting("command/1", "forget-server x").ok());
  CHECK(*s.get_setting("registration") == "invite");
  auto inv = s.list_settings("invite/");
  REQUIRE(inv.ok());
  REQUIRE(inv->size() == 2);
  CHECK((*inv)[0].first == "invite/abc");
  WriteBatch b;
  b.delete_setting("invite/abc");
  b.put_setting("registration", "closed");
  REQUIRE(s.apply(b).ok());
  CHECK(s.list_settings("invite/")->size() == 1);
  CHECK(*s.get_setting("registration") == "closed");
  CHECK(s.delete_setting("nope").code() == Errc::NotFound);
  CHECK(s.put_setting("", "x").code() == Errc::InvalidArgument);
  // Settings never show up as the identity or the schema.
  CHECK(s.get_identity().code() == Errc::NotFound);
}

STORE_TEST("queued messages: ordered by queue then seq, listed by prefix, in batches") {
  TestType fx;
  Store& s = fx.store();
  REQUIRE(s.put_queued({"mbox/bob", 2, R"({"m":2})", 20}).ok());
  REQUIRE(s.put_queued({"mbox/bob", 1, R"({"m":1})", 10}).ok());
  REQUIRE(s.put_queued({"mbox/bo", 9, "x", 1}).ok());
  REQUIRE(s.put_queued({"out/s1", 300, "y", 3}).ok());
  auto bob = s.list_queued("mbox/bob");
  REQUIRE(bob.ok());
  REQUIRE(bob->size() == 2);
  CHECK((*bob)[0].seq == 1);
  CHECK((*bob)[0].body == R"({"m":1})");
  CHECK((*bob)[1].at == 20);
  CHECK(s.list_queued("mbox/")->size() == 3);
  CHECK(s.list_queued("")->size() == 4);
  WriteBatch b;
  b.delete_queued("mbox/bob", 1);
  b.put_queued({"out/s1", 301, "z", 4});
  REQUIRE(s.apply(b).ok());
  CHECK(s.list_queued("mbox/bob")->size() == 1);
  CHECK(s.list_queued("out/")->back().seq == 301);
  CHECK(s.delete_queued("mbox/bob", 1).code() == Errc::NotFound);
  CHECK(s.put_queued({"", 1, "x", 1}).code() == Errc::InvalidArgument);
}

STORE_TEST("delete_user / delete_directory: NotFound when absent") {
  TestType fx;
  Store& s = fx.store();
  CHECK(s.delete_user("x").code() == Errc::NotFound);
  CHECK(s.delete_directory("x").code() == Errc::NotFound);
  REQUIRE(s.put_user(user("x")).ok());
  REQUIRE(s.delete_user("x").ok());
  CHECK(s.get_user("x").code() == Errc::NotFound);
}

TEST_CASE("records written before the new fields existed still decode", "[store]") {
  auto u = store::decode_user(
      R"({"created_at":1,"meta_json":"{}","pake_hash":"h","privkey_store":"p","pubkey":"k","user_id":"u","version":1})");
  REQUIRE(u.ok());
  CHECK_FALSE(u->tofu);
  auto d = store::decode_directory(
      R"({"meta_json":"{}","pubkey":"k","server_id":"s","user_id":"u","version":1})");
  REQUIRE(d.ok());
  CHECK(d->last_login == 0);
  auto sv =
      store::decode_server(R"({"host":"h","last_seen":1,"port":1,"pubkey":"k","server_id":"s"})");
  REQUIRE(sv.ok());
  CHECK_FALSE(sv->socp);
  CHECK(sv->introduced_by.empty());
  CHECK_FALSE(store::decode_server(
                  R"({"host":"h","last_seen":1,"port":1,"pubkey":"k","server_id":"s","socp":1})")
                  .ok());
}

namespace {
/// Counts how many transactions reach the backing store.
class CountingStore final : public Store {
 public:
  MemoryStore mem;
  int applies = 0;
  Status apply(const WriteBatch& b) override {
    ++applies;
    return mem.apply(b);
  }
  Status put_user(const UserRecord& r) override { return mem.put_user(r); }
  Result<UserRecord> get_user(const std::string& id) override { return mem.get_user(id); }
  Result<std::vector<UserRecord>> list_users() override { return mem.list_users(); }
  Status delete_user(const std::string& id) override { return mem.delete_user(id); }
  Status put_directory(const DirectoryRecord& r) override { return mem.put_directory(r); }
  Result<DirectoryRecord> get_directory(const std::string& id) override {
    return mem.get_directory(id);
  }
  Result<std::vector<DirectoryRecord>> list_directory() override { return mem.list_directory(); }
  Status delete_directory(const std::string& id) override { return mem.delete_directory(id); }
  Status put_server(const ServerRecord& r) override { return mem.put_server(r); }
  Result<ServerRecord> get_server(const std::string& id) override { return mem.get_server(id); }
  Result<std::vector<ServerRecord>> list_servers() override { return mem.list_servers(); }
  Status delete_server(const std::string& id) override { return mem.delete_server(id); }
  Status put_group(const GroupRecord& r) override { return mem.put_group(r); }
  Result<GroupRecord> get_group(const std::string& id) override { return mem.get_group(id); }
  Status put_group_member(const GroupMemberRecord& r) override { return mem.put_group_member(r); }
  Result<std::vector<GroupMemberRecord>> list_group_members(const std::string& g) override {
    return mem.list_group_members(g);
  }
  Status put_identity(const ServerIdentity& id) override { return mem.put_identity(id); }
  Result<ServerIdentity> get_identity() override { return mem.get_identity(); }
  Status put_setting(const std::string& k, const std::string& v) override {
    return mem.put_setting(k, v);
  }
  Result<std::string> get_setting(const std::string& k) override { return mem.get_setting(k); }
  Status delete_setting(const std::string& k) override { return mem.delete_setting(k); }
  Result<std::vector<std::pair<std::string, std::string>>> list_settings(
      const std::string& p) override {
    return mem.list_settings(p);
  }
  Status put_queued(const QueuedMessage& m) override { return mem.put_queued(m); }
  Status delete_queued(const std::string& q, std::uint64_t seq) override {
    return mem.delete_queued(q, seq);
  }
  Result<std::vector<QueuedMessage>> list_queued(const std::string& p) override {
    return mem.list_queued(p);
  }
};
}  // namespace

TEST_CASE("BatchingStore: reads see pending writes, one commit, one transaction", "[store]") {
  CountingStore backing;
  REQUIRE(backing.mem.put_directory(dir_entry("old", 1)).ok());
  REQUIRE(backing.mem.put_server(server("s0")).ok());
  store::BatchingStore b(backing);
  for (int i = 0; i < 100; ++i)
    REQUIRE(b.put_directory(dir_entry("u" + std::to_string(i), i)).ok());
  REQUIRE(b.delete_directory("old").ok());
  REQUIRE(b.put_server(server("s1")).ok());
  CHECK(b.pending() == 102);
  CHECK(same(*b.get_directory("u7"), dir_entry("u7", 7)));
  CHECK(b.get_directory("old").code() == Errc::NotFound);
  CHECK(b.list_directory()->size() == 100);
  CHECK(b.list_servers()->size() == 2);
  CHECK(backing.mem.get_directory("u7").code() == Errc::NotFound);  // not committed yet
  REQUIRE(b.commit().ok());
  CHECK(backing.applies == 1);
  CHECK(b.pending() == 0);
  CHECK(same(*backing.mem.get_directory("u7"), dir_entry("u7", 7)));
  CHECK(backing.mem.get_directory("old").code() == Errc::NotFound);
  REQUIRE(b.commit().ok());  // nothing pending: no transaction
  CHECK(backing.applies == 1);
  CHECK(b.put_user(user("")).code() == Errc::InvalidArgument);  // validated when written
}

TEST_CASE("BatchingStore: a failed commit keeps the writes for the next one", "[store]") {
  CountingStore backing;
  store::BatchingStore b(backing);
  REQUIRE(b.put_user(user("alice")).ok());
  backing.mem.set_full(true);
  CHECK(b.commit().code() == Errc::StoreFull);
  CHECK(b.pending() == 1);
  CHECK(b.get_user("alice").ok());  // still visible
  backing.mem.set_full(false);
  REQUIRE(b.commit().ok());
  CHECK(backing.mem.get_user("alice").ok());
}

STORE_TEST("overlay: taken writes stay visible until their epoch is committed") {
  TestType fx;
  store::BatchingStore b(fx.store());
  REQUIRE(b.put_user(user("alice", 1)).ok());
  const std::uint64_t first = b.open_epoch();
  auto [batch, epoch] = b.take();
  REQUIRE(batch);
  CHECK(epoch == first);
  CHECK(b.open_epoch() == first + 1);
  CHECK(b.pending() == 0);
  // Handed to a commit that has not run yet: reads still see alice, the backing store not.
  CHECK(b.get_user("alice").ok());
  CHECK(fx.store().get_user("alice").code() == Errc::NotFound);
  // Written again meanwhile: the newer value survives the older epoch's commit.
  REQUIRE(b.put_user(user("alice", 2)).ok());
  REQUIRE(fx.store().apply(*batch).ok());
  b.committed(epoch);
  CHECK(same(*b.get_user("alice"), user("alice", 2)));
  CHECK(b.list_users()->size() == 1);
  REQUIRE(b.commit().ok());
  CHECK(same(*fx.store().get_user("alice"), user("alice", 2)));
}

STORE_TEST("overlay: a failed batch goes back in front of the writes made since") {
  TestType fx;
  store::BatchingStore b(fx.store());
  REQUIRE(b.put_user(user("alice", 1)).ok());
  auto [failed, epoch] = b.take();
  REQUIRE(b.delete_user("alice").ok());
  b.requeue(*failed);  // the put, then the delete: alice ends deleted, as written
  CHECK(b.pending() == 2);
  REQUIRE(b.commit().ok());
  CHECK(b.get_user("alice").code() == Errc::NotFound);
  CHECK(fx.store().get_user("alice").code() == Errc::NotFound);
  (void)epoch;
}

STORE_TEST("overlay: nothing pending, nothing taken, skip_epoch opens a new epoch") {
  TestType fx;
  store::BatchingStore b(fx.store());
  auto [none, epoch] = b.take();
  CHECK_FALSE(none);
  const auto e = b.open_epoch();
  b.skip_epoch();
  CHECK(b.open_epoch() == e + 1);
  (void)epoch;
}
