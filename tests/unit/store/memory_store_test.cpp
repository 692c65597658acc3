// MemoryStore specifics: the set_full() hook standing in for MDB_MAP_FULL.
#include <catch2/catch.hpp>

#include "store_test_util.h"

using namespace socp;
using namespace socp::test;

TEST_CASE("MemoryStore set_full makes every write fail with StoreFull, reads still work",
          "[store]") {
  MemoryStore s;
  REQUIRE(s.put_user(user("alice", 1)).ok());
  REQUIRE(s.put_server(server("s1")).ok());
  s.set_full(true);

  auto st = s.put_user(user("bob"));
  REQUIRE_FALSE(st.ok());
  CHECK(st.code() == Errc::StoreFull);
  CHECK_THAT(st.error().detail, Catch::Contains("database full"));
  CHECK(s.put_user(user("alice", 2)).code() == Errc::StoreFull);
  CHECK(s.put_directory(dir_entry("a")).code() == Errc::StoreFull);
  CHECK(s.put_server(server("s2")).code() == Errc::StoreFull);
  CHECK(s.delete_server("s1").code() == Errc::StoreFull);
  CHECK(s.put_group(group("g")).code() == Errc::StoreFull);
  CHECK(s.put_group_member(member("g", "m")).code() == Errc::StoreFull);
  CHECK(s.put_identity(ServerIdentity{"id", "pem"}).code() == Errc::StoreFull);

  // Earlier data is intact and nothing refused was stored.
  CHECK(same(*s.get_user("alice"), user("alice", 1)));
  CHECK(s.get_user("bob").code() == Errc::NotFound);
  CHECK(s.list_users()->size() == 1);
  CHECK(s.get_server("s1").ok());
  CHECK(s.get_identity().code() == Errc::NotFound);

  s.set_full(false);
  REQUIRE(s.put_user(user("bob")).ok());
  CHECK(s.list_users()->size() == 2);
}
