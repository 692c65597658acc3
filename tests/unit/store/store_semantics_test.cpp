// Behaviour every Store must share, run against LmdbStore and MemoryStore alike.
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>

#include "store_test_util.h"

using namespace socp;
using namespace socp::test;

#define STORE_TEST(name) TEMPLATE_TEST_CASE(name, "[store]", LmdbFixture, MemoryFixture)

STORE_TEST("users: put, get, list, overwrite, NotFound") {
  TestType fx;
  Store& s = fx.store();
  CHECK(s.get_user("alice").code() == Errc::NotFound);
  REQUIRE(s.list_users().ok());
  CHECK(s.list_users()->empty());

  REQUIRE(s.put_user(user("bob", 2)).ok());
  REQUIRE(s.put_user(user("alice", 1)).ok());
  auto got = s.get_user("alice");
  REQUIRE(got.ok());
  CHECK(same(*got, user("alice", 1)));

  auto all = s.list_users();
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  CHECK(same((*all)[0], user("alice", 1)));  // key order
  CHECK(same((*all)[1], user("bob", 2)));

  REQUIRE(s.put_user(user("alice", 5)).ok());
  CHECK(same(*s.get_user("alice"), user("alice", 5)));
  CHECK(s.list_users()->size() == 2);
  CHECK(s.get_user("carol").code() == Errc::NotFound);
}

STORE_TEST("directory: put, get, list, overwrite, NotFound") {
  TestType fx;
  Store& s = fx.store();
  CHECK(s.get_directory("alice").code() == Errc::NotFound);
  CHECK(s.list_directory()->empty());
  REQUIRE(s.put_directory(dir_entry("alice", 1)).ok());
  REQUIRE(s.put_directory(dir_entry("zed", 2)).ok());
  CHECK(same(*s.get_directory("alice"), dir_entry("alice", 1)));
  REQUIRE(s.put_directory(dir_entry("alice", 3)).ok());
  CHECK(same(*s.get_directory("alice"), dir_entry("alice", 3)));
  auto all = s.list_directory();
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  CHECK(same((*all)[0], dir_entry("alice", 3)));
  CHECK(same((*all)[1], dir_entry("zed", 2)));
  CHECK(s.get_directory("bob").code() == Errc::NotFound);
}

STORE_TEST("servers: put, get, list, overwrite, delete, NotFound") {
  TestType fx;
  Store& s = fx.store();
  CHECK(s.get_server("s1").code() == Errc::NotFound);
  REQUIRE(s.put_server(server("s2", 2)).ok());
  REQUIRE(s.put_server(server("s1", 1)).ok());
  CHECK(same(*s.get_server("s1"), server("s1", 1)));
  REQUIRE(s.put_server(server("s1", 4)).ok());
  CHECK(same(*s.get_server("s1"), server("s1", 4)));
  auto all = s.list_servers();
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  CHECK(same((*all)[0], server("s1", 4)));
  CHECK(same((*all)[1], server("s2", 2)));

  REQUIRE(s.delete_server("s1").ok());
  CHECK(s.get_server("s1").code() == Errc::NotFound);
  CHECK(s.list_servers()->size() == 1);
  CHECK(s.delete_server("s1").code() == Errc::NotFound);
  CHECK(s.delete_server("").code() == Errc::NotFound);
  CHECK(same(*s.get_server("s2"), server("s2", 2)));
}

STORE_TEST("groups: put, get, overwrite, NotFound") {
  TestType fx;
  Store& s = fx.store();
  CHECK(s.get_group("g").code() == Errc::NotFound);
  REQUIRE(s.put_group(group("g", 1)).ok());
  CHECK(same(*s.get_group("g"), group("g", 1)));
  REQUIRE(s.put_group(group("g", 2)).ok());
  CHECK(same(*s.get_group("g"), group("g", 2)));
  CHECK(s.get_group("h").code() == Errc::NotFound);
}

STORE_TEST("group members: listed per group, no cross-talk between prefix ids") {
  TestType fx;
  Store& s = fx.store();
  CHECK(s.list_group_members("pub")->empty());
  // "pub" is a byte prefix of "public": the '\0' separator keeps their members apart.
  REQUIRE(s.put_group_member(member("pub", "bob", 1)).ok());
  REQUIRE(s.put_group_member(member("public", "alice", 0)).ok());
  REQUIRE(s.put_group_member(member("pub", "alice", 0)).ok());
  REQUIRE(s.put_group_member(member("public", "carol", 2)).ok());
  REQUIRE(s.put_group_member(member("publicity", "dave", 3)).ok());
  REQUIRE(s.put_group_member(member("pu", "erin", 4)).ok());

  auto pub = s.list_group_members("pub");
  REQUIRE(pub.ok());
  REQUIRE(pub->size() == 2);
  CHECK(same((*pub)[0], member("pub", "alice", 0)));
  CHECK(same((*pub)[1], member("pub", "bob", 1)));

  auto pub2 = s.list_group_members("public");
  REQUIRE(pub2.ok());
  REQUIRE(pub2->size() == 2);
  CHECK(same((*pub2)[0], member("public", "alice", 0)));
  CHECK(same((*pub2)[1], member("public", "carol", 2)));

  CHECK(s.list_group_members("publicity")->size() == 1);
  CHECK(s.list_group_members("pu")->size() == 1);
  CHECK(s.list_group_members("p")->empty());
  CHECK(s.list_group_members("")->empty());
  CHECK(s.list_group_members(std::string("pub\0bob", 7))->empty());

  // Overwrite one membership (e.g. a re-wrapped key): still one entry, new value.
  REQUIRE(s.put_group_member(member("pub", "bob", 9)).ok());
  pub = s.list_group_members("pub");
  REQUIRE(pub->size() == 2);
  CHECK(same((*pub)[1], member("pub", "bob", 9)));
}

STORE_TEST("identity: NotFound on a fresh store, then round trip and overwrite") {
  TestType fx;
  Store& s = fx.store();
  CHECK(s.get_identity().code() == Errc::NotFound);
  ServerIdentity id{"3f1c2a9e-0000-4000-8000-000000000001",
                    "-----BEGIN PRIVATE KEY-----\nMIIJQgIBADANBg...\n-----END PRIVATE KEY-----\n"};
  REQUIRE(s.put_identity(id).ok());
  auto got = s.get_identity();
  REQUIRE(got.ok());
  CHECK(same(*got, id));
  id.server_id = "other";
  REQUIRE(s.put_identity(id).ok());
  CHECK(same(*s.get_identity(), id));
}

STORE_TEST("field values survive exactly: extremes, empty, unicode, escapes") {
  TestType fx;
  Store& s = fx.store();
  UserRecord u = user("\xc3\xa9milie \xf0\x9f\x98\x80", 0);  // "émilie 😀"
  u.pubkey = "";
  u.privkey_store = std::string("nul\0inside", 10) + "\"quote\\ \n\t\x01";
  u.meta_json = R"({"display_name":"\u00e9"})";
  u.version = std::numeric_limits<std::uint64_t>::max();
  u.created_at = std::numeric_limits<std::int64_t>::min();
  REQUIRE(s.put_user(u).ok());
  auto got = s.get_user(u.user_id);
  REQUIRE(got.ok());
  CHECK(same(*got, u));

  ServerRecord sv = server("s", 0);
  sv.port = 65535;
  sv.last_seen = std::numeric_limits<std::int64_t>::max();
  REQUIRE(s.put_server(sv).ok());
  CHECK(same(*s.get_server("s"), sv));
  sv.port = 0;
  REQUIRE(s.put_server(sv).ok());
  CHECK(same(*s.get_server("s"), sv));
}

STORE_TEST("keys: empty, too long, NUL in group id and non-UTF-8 are rejected") {
  TestType fx;
  Store& s = fx.store();
  CHECK(s.put_user(user("")).code() == Errc::InvalidArgument);
  CHECK(s.put_user(user(std::string(512, 'x'))).code() == Errc::InvalidArgument);
  REQUIRE(s.put_user(user(std::string(511, 'x'))).ok());
  CHECK(s.get_user(std::string(511, 'x')).ok());
  CHECK(s.get_user("").code() == Errc::NotFound);
  CHECK(s.get_user(std::string(600, 'x')).code() == Errc::NotFound);

  UserRecord bad = user("u");
  bad.pake_hash = "\xff\xfe";
  CHECK(s.put_user(bad).code() == Errc::InvalidArgument);
  CHECK(s.put_directory(dir_entry("")).code() == Errc::InvalidArgument);
  CHECK(s.put_server(server("")).code() == Errc::InvalidArgument);
  CHECK(s.put_group(group("")).code() == Errc::InvalidArgument);
  CHECK(s.put_group_member(member("", "m")).code() == Errc::InvalidArgument);
  CHECK(s.put_group_member(member("g", "")).code() == Errc::InvalidArgument);
  CHECK(s.put_group_member(member(std::string("g\0h", 3), "m")).code() == Errc::InvalidArgument);
  // The composite key group_id + '\0' + member_id must fit LMDB's 511-byte key limit.
  CHECK(s.put_group_member(member(std::string(300, 'g'), std::string(300, 'm'))).code() ==
        Errc::InvalidArgument);
  REQUIRE(s.put_group_member(member(std::string(255, 'g'), std::string(255, 'm'))).ok());
  CHECK(s.list_group_members(std::string(255, 'g'))->size() == 1);
  ServerIdentity id{"x", "\xc0\x80"};  // overlong encoding
  CHECK(s.put_identity(id).code() == Errc::InvalidArgument);
  // Nothing rejected was stored.
  CHECK(s.list_users()->size() == 1);
  CHECK(s.get_identity().code() == Errc::NotFound);
}
