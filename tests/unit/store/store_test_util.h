// Helpers shared by the store tests: a temporary directory per test, sample records, field-wise
// comparison, and fixtures that give the shared test bodies a LmdbStore or a MemoryStore.
#pragma once

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <tuple>

#include "socp/store.h"

namespace socp::test {

/// A fresh directory under /tmp, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/socp-store-XXXXXX";
    char* p = ::mkdtemp(tmpl);
    REQUIRE(p != nullptr);
    path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  /// Where the tests put the LMDB environment (a not-yet-existing subdirectory).
  std::string db() const { return path_ + "/db"; }

 private:
  std::string path_;
};

inline std::unique_ptr<LmdbStore> open_lmdb(const std::string& path, LmdbOptions opt = {}) {
  auto r = LmdbStore::open(path, opt);
  INFO((r.ok() ? std::string() : r.error().detail));
  REQUIRE(r.ok());
  return std::move(r).value();
}

// Sample records; `n` varies every field so mix-ups between records are caught.
inline UserRecord user(const std::string& id, int n = 0) {
  UserRecord r;
  r.user_id = id;
  r.pubkey = "pub-" + id + "-" + std::to_string(n);
  r.privkey_store = "sealed-" + std::to_string(n);
  r.pake_hash = "$argon2id$v=19$m=65536,t=2,p=1$" + std::to_string(n);
  r.meta_json = R"({"display_name":"User )" + std::to_string(n) + R"("})";
  r.version = 1 + static_cast<std::uint64_t>(n);
  r.created_at = 1700000000 + n;
  r.tofu = n % 2 == 1;
  return r;
}
inline DirectoryRecord dir_entry(const std::string& id, int n = 0) {
  DirectoryRecord r;
  r.user_id = id;
  r.pubkey = "dpub-" + id + "-" + std::to_string(n);
  r.server_id = "server-" + std::to_string(n);
  r.meta_json = "{}";
  r.version = 7 + static_cast<std::uint64_t>(n);
  r.last_login = 1700000050 + n;
  return r;
}
inline ServerRecord server(const std::string& id, int n = 0) {
  ServerRecord r;
  r.server_id = id;
  r.host = "127.0.0." + std::to_string(1 + n % 250);
  r.port = static_cast<std::uint16_t>(9000 + n);
  r.pubkey = "spub-" + id;
  r.last_seen = 1700000100 + n;
  r.socp = n % 2 == 0;
  r.introduced_by = n == 0 ? "" : "intro-" + std::to_string(n);
  return r;
}
inline GroupRecord group(const std::string& id, int n = 0) {
  GroupRecord r;
  r.group_id = id;
  r.creator_id = "creator-" + std::to_string(n);
  r.meta_json = R"({"title":"g"})";
  r.created_at = 1700000200 + n;
  r.version = 3 + static_cast<std::uint64_t>(n);
  return r;
}
inline GroupMemberRecord member(const std::string& gid, const std::string& mid, int n = 0) {
  GroupMemberRecord r;
  r.group_id = gid;
  r.member_id = mid;
  r.role = n == 0 ? "owner" : "member";
  r.wrapped_key = "wrapped-" + gid + "-" + mid + "-" + std::to_string(n);
  r.added_at = 1700000300 + n;
  return r;
}

// Field tuples, so records compare with == without adding operators to the library types.
inline auto fields(const UserRecord& r) {
  return std::tie(r.user_id, r.pubkey, r.privkey_store, r.pake_hash, r.meta_json, r.version,
                  r.created_at, r.tofu);
}
inline auto fields(const DirectoryRecord& r) {
  return std::tie(r.user_id, r.pubkey, r.server_id, r.meta_json, r.version, r.last_login);
}
inline auto fields(const ServerRecord& r) {
  return std::tie(r.server_id, r.host, r.port, r.pubkey, r.last_seen, r.socp, r.introduced_by);
}
inline auto fields(const GroupRecord& r) {
  return std::tie(r.group_id, r.creator_id, r.meta_json, r.created_at, r.version);
}
inline auto fields(const GroupMemberRecord& r) {
  return std::tie(r.group_id, r.member_id, r.role, r.wrapped_key, r.added_at);
}
inline auto fields(const ServerIdentity& r) {
  return std::tie(r.server_id, r.private_key_pem);
}

template <typename T>
bool same(const T& a, const T& b) {
  return fields(a) == fields(b);
}

/// Fixtures for TEMPLATE_TEST_CASE: `store()` is the Store under test.
struct LmdbFixture {
  static constexpr const char* kName = "LmdbStore";
  TempDir dir;
  std::unique_ptr<LmdbStore> lmdb = open_lmdb(dir.db());
  Store& store() { return *lmdb; }
};

struct MemoryFixture {
  static constexpr const char* kName = "MemoryStore";
  MemoryStore mem;
  Store& store() { return mem; }
};

}  // namespace socp::test
