// LmdbStore: one LMDB environment with a named database per table (docs/protocol.md §8).
//
// Every public call runs in its own short transaction: writes commit durably (no MDB_NOSYNC),
// reads use a read-only transaction and decode (i.e. copy) each value before it ends. The
// Impl is immutable after open() and the env uses MDB_NOTLS, so calls may come from several
// threads at once; LMDB's writer lock serializes the writes.
#include <sodium.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>
#include <utility>

#include "socp/store.h"
#include "store/lmdb_env.h"
#include "store/record_codec.h"

namespace socp {

using store::Env;
using store::from_val;
using store::lmdb_error;
using store::to_val;
using store::Txn;

namespace {

constexpr std::string_view kSchemaKey = "schema";
constexpr std::string_view kIdentityKey = "identity";

struct CursorCloser {
  void operator()(MDB_cursor* c) const noexcept { mdb_cursor_close(c); }
};
using Cursor = std::unique_ptr<MDB_cursor, CursorCloser>;

// Creates `path` (and missing parents) with mode 0700 on the leaf; an existing entry is left
// for mdb_env_open to judge (a file there gives ENOTDIR).
Status make_dir(const std::string& path) {
  std::filesystem::path p(path);
  std::error_code ec;
  if (p.has_parent_path() && !p.parent_path().empty())
    std::filesystem::create_directories(p.parent_path(), ec);  // failure surfaces below
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
    return make_error(Errc::Io, "mkdir " + path + ": " + std::strerror(errno));
  return ok_status();
}

}  // namespace

struct LmdbStore::Impl {
  std::string path;
  bool read_only = false;
  Env env;
  MDB_dbi users = 0, directory = 0, servers = 0, groups = 0, members = 0, meta = 0, queue = 0;

  Status writable() const {
    if (read_only) return make_error(Errc::Io, "store at " + path + " is opened read-only");
    return ok_status();
  }

  Status put(MDB_dbi dbi, std::string_view key, std::string_view value) {
    SOCP_TRY(writable());
    auto txn = Txn::begin(env.get(), false, path);
    if (!txn.ok()) return txn.error();
    MDB_val k = to_val(key), v = to_val(value);
    int rc = mdb_put(txn->get(), dbi, &k, &v, 0);
    if (rc != MDB_SUCCESS) return lmdb_error(rc, "mdb_put", path);
    return txn->commit(path);
  }

  // One write of a batch inside `txn`.
  Status batch_op(MDB_txn* txn, const WriteBatch::Op& op) {
    using Kind = WriteBatch::Op::Kind;
    auto put_in = [&](MDB_dbi dbi, std::string_view key, const std::string& value) -> Status {
      MDB_val k = to_val(key), v = to_val(value);
      int rc = mdb_put(txn, dbi, &k, &v, 0);
      return rc == MDB_SUCCESS ? ok_status() : Status(lmdb_error(rc, "mdb_put", path));
    };
    auto del_in = [&](MDB_dbi dbi, std::string_view key) -> Status {
      if (!store::valid_key(key)) return ok_status();
      MDB_val k = to_val(key);
      int rc = mdb_del(txn, dbi, &k, nullptr);
      if (rc == MDB_NOTFOUND) return ok_status();  // deleting what is not there is not an error
      return rc == MDB_SUCCESS ? ok_status() : Status(lmdb_error(rc, "mdb_del", path));
    };
    switch (op.kind) {
      case Kind::PutUser: {
        const auto& r = std::get<UserRecord>(op.rec);
        SOCP_TRY(store::validate(r));
        return put_in(users, r.user_id, store::encode(r));
      }
      case Kind::DeleteUser:
        return del_in(users, op.key);
      case Kind::PutDirectory: {
        const auto& r = std::get<DirectoryRecord>(op.rec);
        SOCP_TRY(store::validate(r));
        return put_in(directory, r.user_id, store::encode(r));
      }
      case Kind::DeleteDirectory:
        return del_in(directory, op.key);
      case Kind::PutServer: {
        const auto& r = std::get<ServerRecord>(op.rec);
        SOCP_TRY(store::validate(r));
        return put_in(servers, r.server_id, store::encode(r));
      }
      case Kind::DeleteServer:
        return del_in(servers, op.key);
      case Kind::PutGroup: {
        const auto& r = std::get<GroupRecord>(op.rec);
        SOCP_TRY(store::validate(r));
        return put_in(groups, r.group_id, store::encode(r));
      }
      case Kind::PutGroupMember: {
        const auto& r = std::get<GroupMemberRecord>(op.rec);
        SOCP_TRY(store::validate(r));
        return put_in(members, store::member_key(r.group_id, r.member_id), store::encode(r));
      }
      case Kind::PutSetting: {
        const auto& v = std::get<std::string>(op.rec);
        SOCP_TRY(store::validate_setting(op.key, v));
        return put_in(meta, store::setting_key(op.key), v);
      }
      case Kind::DeleteSetting:
        return del_in(meta, store::setting_key(op.key));
      case Kind::PutQueued: {
        const auto& m = std::get<QueuedMessage>(op.rec);
        SOCP_TRY(store::validate(m));
        return put_in(queue, store::queued_key(m.queue, m.seq), store::encode(m));
      }
      case Kind::DeleteQueued: {
        const auto& m = std::get<QueuedMessage>(op.rec);
        return del_in(queue, store::queued_key(m.queue, m.seq));
      }
    }
    return make_error(Errc::Internal, "unknown batch operation");
  }

  Status apply(const WriteBatch& batch) {
    if (batch.empty()) return ok_status();
    SOCP_TRY(writable());
    auto txn = Txn::begin(env.get(), false, path);
    if (!txn.ok()) return txn.error();
    for (const WriteBatch::Op& op : batch.ops()) SOCP_TRY(batch_op(txn->get(), op));
    return txn->commit(path);  // a failed op above aborts the whole batch (Txn destructor)
  }

  Status del(MDB_dbi dbi, std::string_view key) {
    SOCP_TRY(writable());
    auto txn = Txn::begin(env.get(), false, path);
    if (!txn.ok()) return txn.error();
    MDB_val k = to_val(key);
    int rc = mdb_del(txn->get(), dbi, &k, nullptr);
    if (rc != MDB_SUCCESS) return lmdb_error(rc, "mdb_del", path);
    return txn->commit(path);
  }

  // Looks up `key` and decodes the value while the read transaction is still open.
  template <typename Decode>
  auto get(MDB_dbi dbi, std::string_view key, Decode decode) -> decltype(decode({})) {
    if (!store::valid_key(key)) return make_error(Errc::NotFound, "no such key");
    auto txn = Txn::begin(env.get(), true, path);
    if (!txn.ok()) return txn.error();
    MDB_val k = to_val(key), v{0, nullptr};
    int rc = mdb_get(txn->get(), dbi, &k, &v);
    if (rc != MDB_SUCCESS) return lmdb_error(rc, "mdb_get", path);
    return decode(from_val(v));
  }

  // Decodes every value whose key starts with `prefix` (all values for an empty prefix).
  template <typename T, typename Decode>
  Result<std::vector<T>> list(MDB_dbi dbi, std::string_view prefix, Decode decode) {
    auto txn = Txn::begin(env.get(), true, path);
    if (!txn.ok()) return txn.error();
    MDB_cursor* raw = nullptr;
    int rc = mdb_cursor_open(txn->get(), dbi, &raw);
    if (rc != MDB_SUCCESS) return lmdb_error(rc, "mdb_cursor_open", path);
    Cursor cur(raw);  // closed before txn is aborted (declared after it)
    std::vector<T> out;
    MDB_val k = to_val(prefix), v{0, nullptr};
    rc = mdb_cursor_get(cur.get(), &k, &v, prefix.empty() ? MDB_FIRST : MDB_SET_RANGE);
    while (rc == MDB_SUCCESS) {
      if (from_val(k).substr(0, prefix.size()) != prefix) break;
      auto rec = decode(from_val(v));
      if (!rec.ok()) return rec.error();
      out.push_back(std::move(rec).value());
      rc = mdb_cursor_get(cur.get(), &k, &v, MDB_NEXT);
    }
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) return lmdb_error(rc, "mdb_cursor_get", path);
    return out;
  }

  // Like list(), with the key: decode(key, value).
  template <typename T, typename Decode>
  Result<std::vector<T>> list_kv(MDB_dbi dbi, std::string_view prefix, Decode decode) {
    auto txn = Txn::begin(env.get(), true, path);
    if (!txn.ok()) return txn.error();
    MDB_cursor* raw = nullptr;
    int rc = mdb_cursor_open(txn->get(), dbi, &raw);
    if (rc != MDB_SUCCESS) return lmdb_error(rc, "mdb_cursor_open", path);
    Cursor cur(raw);
    std::vector<T> out;
    MDB_val k = to_val(prefix), v{0, nullptr};
    rc = mdb_cursor_get(cur.get(), &k, &v, prefix.empty() ? MDB_FIRST : MDB_SET_RANGE);
    while (rc == MDB_SUCCESS) {
      if (from_val(k).substr(0, prefix.size()) != prefix) break;
      auto rec = decode(from_val(k), from_val(v));
      if (!rec.ok()) return rec.error();
      out.push_back(std::move(rec).value());
      rc = mdb_cursor_get(cur.get(), &k, &v, MDB_NEXT);
    }
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) return lmdb_error(rc, "mdb_cursor_get", path);
    return out;
  }

  // Opens (or, when writable, creates) the named databases and checks the schema version.
  Status init() {
    auto txn = Txn::begin(env.get(), read_only, path);
    if (!txn.ok()) return txn.error();
    const unsigned flags = read_only ? 0u : static_cast<unsigned>(MDB_CREATE);
    struct {
      const char* name;
      MDB_dbi* dbi;
    } tables[] = {{"users", &users},   {"directory", &directory},   {"servers", &servers},
                  {"groups", &groups}, {"group_members", &members}, {"meta", &meta},
                  {"queue", &queue}};
    for (auto& t : tables) {
      int rc = mdb_dbi_open(txn->get(), t.name, flags, t.dbi);
      if (rc == MDB_NOTFOUND)
        return make_error(Errc::Corrupt, "database at " + path + " has no '" + t.name +
                                             "' table (not a socp database?)");
      // MDB_INCOMPATIBLE: the main database has a key of that name that is not a table.
      if (rc == MDB_INCOMPATIBLE)
        return make_error(Errc::Corrupt, "database at " + path + ": '" + t.name +
                                             "' is not a table (not a socp database?)");
      if (rc != MDB_SUCCESS) return lmdb_error(rc, "mdb_dbi_open", path);
    }
    MDB_val k = to_val(kSchemaKey), v{0, nullptr};
    int rc = mdb_get(txn->get(), meta, &k, &v);
    if (rc == MDB_NOTFOUND && !read_only) {
      MDB_val nv = to_val(store::kSchemaVersion);
      rc = mdb_put(txn->get(), meta, &k, &nv, 0);
      if (rc != MDB_SUCCESS) return lmdb_error(rc, "mdb_put schema", path);
    } else if (rc == MDB_NOTFOUND) {
      return make_error(Errc::Corrupt, "database at " + path + " has no schema version");
    } else if (rc != MDB_SUCCESS) {
      return lmdb_error(rc, "mdb_get schema", path);
    } else if (from_val(v) != store::kSchemaVersion) {
      return make_error(Errc::Corrupt, "database at " + path + " has unknown schema version '" +
                                           std::string(from_val(v)) + "'");
    }
    // Commit (not abort) even when read-only: dbi handles outlive only a committed txn.
    return txn->commit(path);
  }
};

Result<std::unique_ptr<LmdbStore>> LmdbStore::open(const std::string& path, LmdbOptions opt) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->read_only = opt.read_only;
  if (!opt.read_only) SOCP_TRY(make_dir(path));

  MDB_env* raw = nullptr;
  int rc = mdb_env_create(&raw);
  if (rc != MDB_SUCCESS) return lmdb_error(rc, "mdb_env_create", path);
  impl->env = Env(raw);
  if (opt.map_size != 0) {
    rc = mdb_env_set_mapsize(raw, opt.map_size);
    if (rc != MDB_SUCCESS) return lmdb_error(rc, "mdb_env_set_mapsize", path);
  }
  rc = mdb_env_set_maxdbs(raw, 16);
  if (rc != MDB_SUCCESS) return lmdb_error(rc, "mdb_env_set_maxdbs", path);
  // MDB_NOTLS: read txns are not tied to a thread, so several threads may read at once.
  unsigned flags = MDB_NOTLS | (opt.read_only ? static_cast<unsigned>(MDB_RDONLY) : 0u);
  rc = mdb_env_open(raw, path.c_str(), flags, 0600);
  if (rc != MDB_SUCCESS) return lmdb_error(rc, "mdb_env_open", path);
  SOCP_TRY(impl->init());
  return std::unique_ptr<LmdbStore>(new LmdbStore(std::move(impl)));
}

LmdbStore::LmdbStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LmdbStore::~LmdbStore() = default;

Status LmdbStore::apply(const WriteBatch& batch) {
  return impl_->apply(batch);
}

Status LmdbStore::put_user(const UserRecord& rec) {
  SOCP_TRY(store::validate(rec));
  return impl_->put(impl_->users, rec.user_id, store::encode(rec));
}
Result<UserRecord> LmdbStore::get_user(const std::string& user_id) {
  return impl_->get(impl_->users, user_id, store::decode_user);
}
Result<std::vector<UserRecord>> LmdbStore::list_users() {
  return impl_->list<UserRecord>(impl_->users, {}, store::decode_user);
}

Status LmdbStore::delete_user(const std::string& user_id) {
  if (!store::valid_key(user_id)) return make_error(Errc::NotFound, "no such user");
  return impl_->del(impl_->users, user_id);
}

Status LmdbStore::put_directory(const DirectoryRecord& rec) {
  SOCP_TRY(store::validate(rec));
  return impl_->put(impl_->directory, rec.user_id, store::encode(rec));
}
Result<DirectoryRecord> LmdbStore::get_directory(const std::string& user_id) {
  return impl_->get(impl_->directory, user_id, store::decode_directory);
}
Result<std::vector<DirectoryRecord>> LmdbStore::list_directory() {
  return impl_->list<DirectoryRecord>(impl_->directory, {}, store::decode_directory);
}

Status LmdbStore::delete_directory(const std::string& user_id) {
  if (!store::valid_key(user_id)) return make_error(Errc::NotFound, "no such user");
  return impl_->del(impl_->directory, user_id);
}

Status LmdbStore::put_server(const ServerRecord& rec) {
  SOCP_TRY(store::validate(rec));
  return impl_->put(impl_->servers, rec.server_id, store::encode(rec));
}
Result<ServerRecord> LmdbStore::get_server(const std::string& server_id) {
  return impl_->get(impl_->servers, server_id, store::decode_server);
}
Result<std::vector<ServerRecord>> LmdbStore::list_servers() {
  return impl_->list<ServerRecord>(impl_->servers, {}, store::decode_server);
}
Status LmdbStore::delete_server(const std::string& server_id) {
  if (!store::valid_key(server_id)) return make_error(Errc::NotFound, "no such server");
  return impl_->del(impl_->servers, server_id);
}

Status LmdbStore::put_group(const GroupRecord& rec) {
  SOCP_TRY(store::validate(rec));
  return impl_->put(impl_->groups, rec.group_id, store::encode(rec));
}
Result<GroupRecord> LmdbStore::get_group(const std::string& group_id) {
  return impl_->get(impl_->groups, group_id, store::decode_group);
}
Status LmdbStore::put_group_member(const GroupMemberRecord& rec) {
  SOCP_TRY(store::validate(rec));
  return impl_->put(impl_->members, store::member_key(rec.group_id, rec.member_id),
                    store::encode(rec));
}
Result<std::vector<GroupMemberRecord>> LmdbStore::list_group_members(const std::string& group_id) {
  // An id that could never be stored has no members (and must not match other groups).
  if (!store::valid_key(group_id) || group_id.find('\0') != std::string::npos)
    return std::vector<GroupMemberRecord>{};
  return impl_->list<GroupMemberRecord>(impl_->members, store::member_prefix(group_id),
                                        store::decode_group_member);
}

Status LmdbStore::put_identity(const ServerIdentity& id) {
  SOCP_TRY(store::validate(id));
  std::string bytes = store::encode(id);
  Status st = impl_->put(impl_->meta, kIdentityKey, bytes);
  sodium_memzero(bytes.data(), bytes.size());  // holds the private key
  return st;
}
Result<ServerIdentity> LmdbStore::get_identity() {
  return impl_->get(impl_->meta, kIdentityKey, store::decode_identity);
}

Status LmdbStore::put_queued(const QueuedMessage& m) {
  SOCP_TRY(store::validate(m));
  return impl_->put(impl_->queue, store::queued_key(m.queue, m.seq), store::encode(m));
}
Status LmdbStore::delete_queued(const std::string& queue, std::uint64_t seq) {
  return impl_->del(impl_->queue, store::queued_key(queue, seq));
}
Result<std::vector<QueuedMessage>> LmdbStore::list_queued(const std::string& queue_prefix) {
  return impl_->list_kv<QueuedMessage>(impl_->queue, queue_prefix, store::decode_queued);
}

Status LmdbStore::put_setting(const std::string& key, const std::string& value) {
  SOCP_TRY(store::validate_setting(key, value));
  return impl_->put(impl_->meta, store::setting_key(key), value);
}
Result<std::string> LmdbStore::get_setting(const std::string& key) {
  return impl_->get(impl_->meta, store::setting_key(key),
                    [](std::string_view v) -> Result<std::string> { return std::string(v); });
}
Status LmdbStore::delete_setting(const std::string& key) {
  return impl_->del(impl_->meta, store::setting_key(key));
}
Result<std::vector<std::pair<std::string, std::string>>> LmdbStore::list_settings(
    const std::string& prefix) {
  using Pair = std::pair<std::string, std::string>;
  const std::string full = store::setting_key(prefix);
  const std::size_t skip = store::setting_key("").size();
  return impl_->list_kv<Pair>(impl_->meta, full, [skip](std::string_view k, std::string_view v) {
    return Result<Pair>(Pair{std::string(k.substr(skip)), std::string(v)});
  });
}

}  // namespace socp
