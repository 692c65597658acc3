// LmdbStore specifics: persistence, the directory it creates, map full, corrupt and foreign
// files, schema check, read-only opens, and concurrent reads while writing.
#include <lmdb.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "store_test_util.h"

using namespace socp;
using namespace socp::test;

namespace {

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  REQUIRE(f.good());
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}

// Writes a raw value into a named database with the LMDB C API (to fake corruption or an old
// schema that the store API itself never produces). The store must be closed.
void raw_put(const std::string& path, const char* table, const std::string& key,
             const std::string& value) {
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  REQUIRE(mdb_env_set_maxdbs(env, 16) == 0);
  REQUIRE(mdb_env_open(env, path.c_str(), 0, 0600) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
  MDB_dbi dbi = 0;
  REQUIRE(mdb_dbi_open(txn, table, 0, &dbi) == 0);
  MDB_val k{key.size(), const_cast<char*>(key.data())};
  MDB_val v{value.size(), const_cast<char*>(value.data())};
  REQUIRE(mdb_put(txn, dbi, &k, &v, 0) == 0);
  REQUIRE(mdb_txn_commit(txn) == 0);
  mdb_env_close(env);
}

std::string user_id(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "u%04d", i);
  return buf;
}

}  // namespace

TEST_CASE("LmdbStore creates its directory with mode 0700 and data file 0600", "[store]") {
  TempDir tmp;
  const std::string path = tmp.path() + "/nested/db";  // parents are created too
  { auto s = open_lmdb(path); }
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(S_ISDIR(st.st_mode));
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(::stat((path + "/data.mdb").c_str(), &st) == 0);
  CHECK((st.st_mode & 0077) == 0);
}

TEST_CASE("LmdbStore persists every table across close and reopen", "[store]") {
  TempDir tmp;
  ServerIdentity id{"sid-1", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"};
  {
    auto s = open_lmdb(tmp.db());
    for (int i = 0; i < 20; ++i) REQUIRE(s->put_user(user(user_id(i), i)).ok());
    REQUIRE(s->put_directory(dir_entry("alice", 1)).ok());
    REQUIRE(s->put_directory(dir_entry("remote", 2)).ok());
    REQUIRE(s->put_server(server("s1", 1)).ok());
    REQUIRE(s->put_server(server("s2", 2)).ok());
    REQUIRE(s->delete_server("s2").ok());
    REQUIRE(s->put_group(group("pub", 1)).ok());
    REQUIRE(s->put_group_member(member("pub", "alice", 0)).ok());
    REQUIRE(s->put_group_member(member("pub", "bob", 1)).ok());
    REQUIRE(s->put_identity(id).ok());
  }
  auto s = open_lmdb(tmp.db());
  auto users = s->list_users();
  REQUIRE(users.ok());
  REQUIRE(users->size() == 20);
  for (int i = 0; i < 20; ++i) CHECK(same((*users)[static_cast<size_t>(i)], user(user_id(i), i)));
  CHECK(same(*s->get_directory("alice"), dir_entry("alice", 1)));
  CHECK(same(*s->get_directory("remote"), dir_entry("remote", 2)));
  CHECK(s->list_directory()->size() == 2);
  CHECK(same(*s->get_server("s1"), server("s1", 1)));
  CHECK(s->get_server("s2").code() == Errc::NotFound);
  CHECK(s->list_servers()->size() == 1);
  CHECK(same(*s->get_group("pub"), group("pub", 1)));
  auto members = s->list_group_members("pub");
  REQUIRE(members->size() == 2);
  CHECK(same((*members)[1], member("pub", "bob", 1)));
  CHECK(same(*s->get_identity(), id));
}

TEST_CASE("LmdbStore map full is StoreFull, keeps earlier records, and a bigger map fixes it",
          "[store]") {
  TempDir tmp;
  LmdbOptions small;
  small.map_size = 64 * 1024;  // 16 pages of 4 KiB
  int written = 0;
  Status last;
  {
    auto s = open_lmdb(tmp.db(), small);
    for (int i = 0; i < 1000; ++i) {
      UserRecord u = user(user_id(i), i);
      u.privkey_store.assign(1500, 'k');  // fills the map in a few dozen writes
      last = s->put_user(u);
      if (!last.ok()) break;
      ++written;
    }
    REQUIRE_FALSE(last.ok());
    CHECK(last.code() == Errc::StoreFull);
    CHECK_THAT(last.error().detail, Catch::Contains("database full"));
    CHECK_THAT(last.error().detail, Catch::Contains("--db-map-size"));
    REQUIRE(written > 0);
    REQUIRE(written < 1000);

    // Everything committed before the failure is intact; the failed write left nothing.
    auto all = s->list_users();
    REQUIRE(all.ok());
    CHECK(all->size() == static_cast<size_t>(written));
    auto first = s->get_user(user_id(0));
    REQUIRE(first.ok());
    CHECK(first->privkey_store == std::string(1500, 'k'));
    CHECK(s->get_user(user_id(written)).code() == Errc::NotFound);
    // Still full for the next write, and reads keep working.
    UserRecord big = user("zz", 0);
    big.privkey_store.assign(20000, 'k');
    CHECK(s->put_user(big).code() == Errc::StoreFull);
  }
  // Reopening with a larger map (the operator's remedy) makes room.
  LmdbOptions bigger;
  bigger.map_size = 4 * 1024 * 1024;
  auto s = open_lmdb(tmp.db(), bigger);
  CHECK(s->list_users()->size() == static_cast<size_t>(written));
  UserRecord u = user(user_id(written), written);
  u.privkey_store.assign(1500, 'k');
  CHECK(s->put_user(u).ok());
}

TEST_CASE("LmdbStore: garbage data.mdb is Corrupt, not a crash", "[store]") {
  TempDir tmp;
  REQUIRE(::mkdir(tmp.db().c_str(), 0700) == 0);
  std::string garbage;
  for (int i = 0; i < 3 * 4096; ++i) garbage.push_back(static_cast<char>((i * 131 + 7) & 0xff));
  write_file(tmp.db() + "/data.mdb", garbage);
  auto r = LmdbStore::open(tmp.db());
  REQUIRE_FALSE(r.ok());
  CHECK(r.code() == Errc::Corrupt);
  CHECK_THAT(r.error().detail, Catch::Contains(tmp.db()));

  // A short non-LMDB file (a text file put there by mistake) too.
  write_file(tmp.db() + "/data.mdb", "this is not a database\n");
  r = LmdbStore::open(tmp.db());
  REQUIRE_FALSE(r.ok());
  CHECK(r.code() == Errc::Corrupt);

  LmdbOptions ro;
  ro.read_only = true;
  r = LmdbStore::open(tmp.db(), ro);
  REQUIRE_FALSE(r.ok());
  CHECK(r.code() == Errc::Corrupt);
}

TEST_CASE("LmdbStore: an undecodable record is Corrupt", "[store]") {
  TempDir tmp;
  {
    auto s = open_lmdb(tmp.db());
    REQUIRE(s->put_user(user("alice")).ok());
    REQUIRE(s->put_server(server("s1")).ok());
    REQUIRE(s->put_group_member(member("g", "m")).ok());
  }
  raw_put(tmp.db(), "users", "bob", "\x01\x02 not json");
  raw_put(tmp.db(), "servers", "s1", R"({"server_id":"s1","host":"h","port":70000})");
  raw_put(tmp.db(), "group_members", std::string("g\0n", 3), "[1,2]");
  raw_put(tmp.db(), "meta", "identity", R"({"server_id":"x"})");
  raw_put(tmp.db(), "directory", "d", R"({"user_id":"d","pubkey":5})");
  auto s = open_lmdb(tmp.db());
  CHECK(s->get_user("alice").ok());
  auto bob = s->get_user("bob");
  REQUIRE_FALSE(bob.ok());
  CHECK(bob.code() == Errc::Corrupt);
  CHECK_THAT(bob.error().detail, Catch::Contains("users"));
  CHECK(s->list_users().code() == Errc::Corrupt);
  CHECK(s->get_server("s1").code() == Errc::Corrupt);  // port out of range
  CHECK(s->list_servers().code() == Errc::Corrupt);
  CHECK(s->list_group_members("g").code() == Errc::Corrupt);
  CHECK(s->get_identity().code() == Errc::Corrupt);
  CHECK(s->get_directory("d").code() == Errc::Corrupt);
  // Overwriting the bad record repairs it.
  REQUIRE(s->put_user(user("bob")).ok());
  CHECK(s->list_users()->size() == 2);
}

TEST_CASE("LmdbStore: schema version is written on creation and checked on open", "[store]") {
  TempDir tmp;
  { auto s = open_lmdb(tmp.db()); }
  { auto s = open_lmdb(tmp.db()); }  // "1" reopens fine
  raw_put(tmp.db(), "meta", "schema", "2");
  auto r = LmdbStore::open(tmp.db());
  REQUIRE_FALSE(r.ok());
  CHECK(r.code() == Errc::Corrupt);
  CHECK_THAT(r.error().detail, Catch::Contains("schema"));
}

TEST_CASE("LmdbStore: an LMDB environment of someone else is Corrupt", "[store]") {
  TempDir tmp;
  // A plain LMDB env whose main database holds a key "users" that is not a table.
  REQUIRE(::mkdir(tmp.db().c_str(), 0700) == 0);
  {
    MDB_env* env = nullptr;
    REQUIRE(mdb_env_create(&env) == 0);
    REQUIRE(mdb_env_open(env, tmp.db().c_str(), 0, 0600) == 0);
    MDB_txn* txn = nullptr;
    REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
    MDB_dbi dbi = 0;
    REQUIRE(mdb_dbi_open(txn, nullptr, 0, &dbi) == 0);
    std::string key = "users", value = "plain value";
    MDB_val k{key.size(), key.data()}, v{value.size(), value.data()};
    REQUIRE(mdb_put(txn, dbi, &k, &v, 0) == 0);
    REQUIRE(mdb_txn_commit(txn) == 0);
    mdb_env_close(env);
  }
  auto r = LmdbStore::open(tmp.db());
  REQUIRE_FALSE(r.ok());
  CHECK(r.code() == Errc::Corrupt);
}

TEST_CASE("LmdbStore: unusable paths are Io", "[store]") {
  TempDir tmp;
  write_file(tmp.path() + "/file", "x");
  // The path is a regular file.
  auto r = LmdbStore::open(tmp.path() + "/file");
  REQUIRE_FALSE(r.ok());
  CHECK(r.code() == Errc::Io);
  // A parent is a regular file.
  r = LmdbStore::open(tmp.path() + "/file/db");
  REQUIRE_FALSE(r.ok());
  CHECK(r.code() == Errc::Io);
  // Read-only open of a missing database neither succeeds nor creates anything.
  LmdbOptions ro;
  ro.read_only = true;
  r = LmdbStore::open(tmp.path() + "/missing", ro);
  REQUIRE_FALSE(r.ok());
  CHECK(r.code() == Errc::Io);
  CHECK_FALSE(std::filesystem::exists(tmp.path() + "/missing"));

  if (::geteuid() == 0) {
    WARN("running as root: skipping the unreadable-directory case (root ignores mode 000)");
    return;
  }
  REQUIRE(::mkdir(tmp.db().c_str(), 0700) == 0);
  REQUIRE(::chmod(tmp.db().c_str(), 0) == 0);
  r = LmdbStore::open(tmp.db());
  REQUIRE(::chmod(tmp.db().c_str(), 0700) == 0);  // so TempDir can remove it
  REQUIRE_FALSE(r.ok());
  CHECK(r.code() == Errc::Io);
}

TEST_CASE("LmdbStore read_only: reads work, writes are refused", "[store]") {
  TempDir tmp;
  { REQUIRE(open_lmdb(tmp.db())->put_user(user("alice", 1)).ok()); }
  LmdbOptions ro;
  ro.read_only = true;
  auto s = open_lmdb(tmp.db(), ro);
  CHECK(same(*s->get_user("alice"), user("alice", 1)));
  CHECK(s->get_identity().code() == Errc::NotFound);
  auto st = s->put_user(user("bob"));
  REQUIRE_FALSE(st.ok());
  CHECK(st.code() == Errc::Io);
  CHECK(s->delete_server("x").code() != Errc::StoreFull);
  CHECK(s->get_user("bob").code() == Errc::NotFound);
}

TEST_CASE("LmdbStore: another process can read while this one has the store open", "[store]") {
  TempDir tmp;
  auto s = open_lmdb(tmp.db());
  for (int i = 0; i < 10; ++i) REQUIRE(s->put_user(user(user_id(i), i)).ok());
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Child: no Catch assertions here; the exit code reports the outcome.
    LmdbOptions ro;
    ro.read_only = true;
    auto r = LmdbStore::open(tmp.db(), ro);
    if (!r.ok()) ::_exit(2);
    auto all = r.value()->list_users();
    if (!all.ok() || all->size() != 10) ::_exit(3);
    if (r.value()->put_user(user("child")).ok()) ::_exit(4);
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(s->list_users()->size() == 10);
}

TEST_CASE("LmdbStore: concurrent lists while another thread writes see consistent prefixes",
          "[store]") {
  TempDir tmp;
  auto s = open_lmdb(tmp.db());
  constexpr int kUsers = 500;
  std::atomic<bool> done{false};
  std::atomic<int> errors{0}, inconsistent{0}, decreases{0}, lists{0};

  std::thread reader([&] {
    size_t prev = 0;
    // Bounded: stops when the writer is done, or after many lists whatever happens.
    for (int iter = 0; iter < 1000000; ++iter) {
      bool finished = done.load();
      auto all = s->list_users();
      lists.fetch_add(1);
      if (!all.ok()) {
        errors.fetch_add(1);
      } else {
        if (all->size() < prev) decreases.fetch_add(1);
        prev = all->size();
        for (size_t i = 0; i < all->size(); ++i) {
          if (!same((*all)[i], user(user_id(static_cast<int>(i)), static_cast<int>(i))))
            inconsistent.fetch_add(1);
        }
      }
      if (finished) break;
    }
  });

  int failed_writes = 0;
  for (int i = 0; i < kUsers; ++i) {
    if (!s->put_user(user(user_id(i), i)).ok()) ++failed_writes;
  }
  done.store(true);
  reader.join();

  CHECK(failed_writes == 0);
  CHECK(errors.load() == 0);
  CHECK(inconsistent.load() == 0);
  CHECK(decreases.load() == 0);
  CHECK(lists.load() >= 1);
  CHECK(s->list_users()->size() == static_cast<size_t>(kUsers));
}

TEST_CASE("LmdbStore: concurrent writers from two threads are serialized", "[store]") {
  TempDir tmp;
  auto s = open_lmdb(tmp.db());
  std::atomic<int> failed{0};
  auto writer = [&](const std::string& gid) {
    for (int i = 0; i < 50; ++i) {
      if (!s->put_group_member(member(gid, user_id(i), i)).ok()) failed.fetch_add(1);
    }
  };
  std::thread a(writer, "ga"), b(writer, "gb");
  a.join();
  b.join();
  CHECK(failed.load() == 0);
  CHECK(s->list_group_members("ga")->size() == 50);
  CHECK(s->list_group_members("gb")->size() == 50);
}
