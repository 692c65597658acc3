// MemoryStore: std::map per table with LmdbStore's semantics (same key rules and validation,
// same byte-wise key order in lists, NotFound for missing keys, StoreFull via set_full()).
// A mutex makes it as thread-safe as LmdbStore.
#include <sodium.h>

#include <map>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "socp/store.h"
#include "store/record_codec.h"

namespace socp {

namespace {

Error not_found(const char* what) {
  return make_error(Errc::NotFound, std::string(what) + ": not found");
}
Error store_full() {
  return make_error(Errc::StoreFull, "database full: raise --db-map-size (memory store)");
}

template <typename T>
Result<T> find(const std::map<std::string, T>& m, const std::string& key, const char* what) {
  auto it = m.find(key);
  if (it == m.end()) return not_found(what);
  return it->second;
}

template <typename T>
std::vector<T> values(const std::map<std::string, T>& m) {
  std::vector<T> out;
  out.reserve(m.size());
  for (const auto& kv : m) out.push_back(kv.second);
  return out;
}

}  // namespace

struct MemoryStore::State {
  std::mutex mu;
  bool full = false;
  std::map<std::string, UserRecord> users;
  std::map<std::string, DirectoryRecord> directory;
  std::map<std::string, ServerRecord> servers;
  std::map<std::string, GroupRecord> groups;
  std::map<std::string, GroupMemberRecord> members;  // key: store::member_key()
  std::optional<ServerIdentity> identity;
  std::map<std::string, std::string> settings;
  std::map<std::string, QueuedMessage> queued;  // key: store::queued_key()

  ~State() {
    if (identity)
      sodium_memzero(identity->private_key_pem.data(), identity->private_key_pem.size());
  }

  // Validates and stores `rec` under `key` in `table` unless the store is "full".
  template <typename T>
  Status put(std::map<std::string, T>& table, std::string key, const T& rec) {
    SOCP_TRY(store::validate(rec));
    if (full) return store_full();
    table[std::move(key)] = rec;
    return ok_status();
  }
};

namespace {

template <typename T>
Status erase_from(std::map<std::string, T>& table, const std::string& key, bool full,
                  const char* what) {
  auto it = table.find(key);
  if (it == table.end()) return not_found(what);
  // LMDB needs room for a new page even to delete, so a full store refuses deletes too.
  if (full) return store_full();
  table.erase(it);
  return ok_status();
}

}  // namespace

MemoryStore::MemoryStore() : st_(std::make_unique<State>()) {}

Status MemoryStore::apply(const WriteBatch& batch) {
  using Kind = WriteBatch::Op::Kind;
  std::lock_guard<std::mutex> lock(st_->mu);
  if (batch.empty()) return ok_status();
  if (st_->full) return store_full();
  // All or nothing: once every record validated and the store is not full, no write below
  // can fail.
  for (const WriteBatch::Op& op : batch.ops()) {
    Status st = std::visit(
        [&op](const auto& r) -> Status {
          using R = std::decay_t<decltype(r)>;
          if constexpr (std::is_same_v<R, std::monostate>) {
            return ok_status();
          } else if constexpr (std::is_same_v<R, std::string>) {
            return store::validate_setting(op.key, r);
          } else if constexpr (std::is_same_v<R, QueuedMessage>) {
            return op.kind == WriteBatch::Op::Kind::PutQueued ? store::validate(r) : ok_status();
          } else {
            return store::validate(r);
          }
        },
        op.rec);
    SOCP_TRY(st);
  }
  for (const WriteBatch::Op& op : batch.ops()) {
    switch (op.kind) {
      case Kind::PutUser:
        st_->users[op.key] = std::get<UserRecord>(op.rec);
        break;
      case Kind::DeleteUser:
        st_->users.erase(op.key);
        break;
      case Kind::PutDirectory:
        st_->directory[op.key] = std::get<DirectoryRecord>(op.rec);
        break;
      case Kind::DeleteDirectory:
        st_->directory.erase(op.key);
        break;
      case Kind::PutServer:
        st_->servers[op.key] = std::get<ServerRecord>(op.rec);
        break;
      case Kind::DeleteServer:
        st_->servers.erase(op.key);
        break;
      case Kind::PutGroup:
        st_->groups[op.key] = std::get<GroupRecord>(op.rec);
        break;
      case Kind::PutGroupMember: {
        const auto& r = std::get<GroupMemberRecord>(op.rec);
        st_->members[store::member_key(r.group_id, r.member_id)] = r;
        break;
      }
      case Kind::PutSetting:
        st_->settings[op.key] = std::get<std::string>(op.rec);
        break;
      case Kind::DeleteSetting:
        st_->settings.erase(op.key);
        break;
      case Kind::PutQueued: {
        const auto& m = std::get<QueuedMessage>(op.rec);
        st_->queued[store::queued_key(m.queue, m.seq)] = m;
        break;
      }
      case Kind::DeleteQueued: {
        const auto& m = std::get<QueuedMessage>(op.rec);
        st_->queued.erase(store::queued_key(m.queue, m.seq));
        break;
      }
    }
  }
  return ok_status();
}
MemoryStore::~MemoryStore() = default;

void MemoryStore::set_full(bool is_full) noexcept {
  std::lock_guard<std::mutex> lock(st_->mu);
  st_->full = is_full;
}

Status MemoryStore::put_user(const UserRecord& rec) {
  std::lock_guard<std::mutex> lock(st_->mu);
  return st_->put(st_->users, rec.user_id, rec);
}
Result<UserRecord> MemoryStore::get_user(const std::string& user_id) {
  std::lock_guard<std::mutex> lock(st_->mu);
  return find(st_->users, user_id, "user");
}
Result<std::vector<UserRecord>> MemoryStore::list_users() {
  std::lock_guard<std::mutex> lock(st_->mu);
  return values(st_->users);
}

Status MemoryStore::delete_user(const std::string& user_id) {
  std::lock_guard<std::mutex> lock(st_->mu);
  return erase_from(st_->users, user_id, st_->full, "user");
}

Status MemoryStore::put_directory(const DirectoryRecord& rec) {
  std::lock_guard<std::mutex> lock(st_->mu);
  return st_->put(st_->directory, rec.user_id, rec);
}
Result<DirectoryRecord> MemoryStore::get_directory(const std::string& user_id) {
  std::lock_guard<std::mutex> lock(st_->mu);
  return find(st_->directory, user_id, "directory entry");
}
Result<std::vector<DirectoryRecord>> MemoryStore::list_directory() {
  std::lock_guard<std::mutex> lock(st_->mu);
  return values(st_->directory);
}

Status MemoryStore::delete_directory(const std::string& user_id) {
  std::lock_guard<std::mutex> lock(st_->mu);
  return erase_from(st_->directory, user_id, st_->full, "directory entry");
}

Status MemoryStore::put_server(const ServerRecord& rec) {
  std::lock_guard<std::mutex> lock(st_->mu);
  return st_->put(st_->servers, rec.server_id, rec);
}
Result<ServerRecord> MemoryStore::get_server(const std::string& server_id) {
  std::lock_guard<std::mutex> lock(st_->mu);
  return find(st_->servers, server_id, "server");
}
Result<std::vector<ServerRecord>> MemoryStore::list_servers() {
  std::lock_guard<std::mutex> lock(st_->mu);
  return values(st_->servers);
}
Status MemoryStore::delete_server(const std::string& server_id) {
  std::lock_guard<std::mutex> lock(st_->mu);
  return erase_from(st_->servers, server_id, st_->full, "server");
}

Status MemoryStore::put_group(const GroupRecord& rec) {
  std::lock_guard<std::mutex> lock(st_->mu);
  return st_->put(st_->groups, rec.group_id, rec);
}
Result<GroupRecord> MemoryStore::get_group(const std::string& group_id) {
  std::lock_guard<std::mutex> lock(st_->mu);
  return find(st_->groups, group_id, "group");
}
Status MemoryStore::put_group_member(const GroupMemberRecord& rec) {
  std::lock_guard<std::mutex> lock(st_->mu);
  return st_->put(st_->members, store::member_key(rec.group_id, rec.member_id), rec);
}
Result<std::vector<GroupMemberRecord>> MemoryStore::list_group_members(
    const std::string& group_id) {
  std::lock_guard<std::mutex> lock(st_->mu);
  std::vector<GroupMemberRecord> out;
  if (!store::valid_key(group_id) || group_id.find('\0') != std::string::npos) return out;
  const std::string prefix = store::member_prefix(group_id);
  for (auto it = st_->members.lower_bound(prefix);
       it != st_->members.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
    out.push_back(it->second);
  return out;
}

Status MemoryStore::put_identity(const ServerIdentity& id) {
  std::lock_guard<std::mutex> lock(st_->mu);
  SOCP_TRY(store::validate(id));
  if (st_->full) return store_full();
  if (st_->identity)
    sodium_memzero(st_->identity->private_key_pem.data(), st_->identity->private_key_pem.size());
  st_->identity = id;
  return ok_status();
}
Status MemoryStore::put_queued(const QueuedMessage& m) {
  std::lock_guard<std::mutex> lock(st_->mu);
  SOCP_TRY(store::validate(m));
  if (st_->full) return store_full();
  st_->queued[store::queued_key(m.queue, m.seq)] = m;
  return ok_status();
}
Status MemoryStore::delete_queued(const std::string& queue, std::uint64_t seq) {
  std::lock_guard<std::mutex> lock(st_->mu);
  return erase_from(st_->queued, store::queued_key(queue, seq), st_->full, "queued message");
}
Result<std::vector<QueuedMessage>> MemoryStore::list_queued(const std::string& queue_prefix) {
  std::lock_guard<std::mutex> lock(st_->mu);
  std::vector<QueuedMessage> out;
  for (auto it = st_->queued.lower_bound(queue_prefix);
       it != st_->queued.end() && it->first.compare(0, queue_prefix.size(), queue_prefix) == 0;
       ++it) {
    out.push_back(it->second);
  }
  return out;
}

Status MemoryStore::put_setting(const std::string& key, const std::string& value) {
  std::lock_guard<std::mutex> lock(st_->mu);
  SOCP_TRY(store::validate_setting(key, value));
  if (st_->full) return store_full();
  st_->settings[key] = value;
  return ok_status();
}
Result<std::string> MemoryStore::get_setting(const std::string& key) {
  std::lock_guard<std::mutex> lock(st_->mu);
  return find(st_->settings, key, "setting");
}
Status MemoryStore::delete_setting(const std::string& key) {
  std::lock_guard<std::mutex> lock(st_->mu);
  return erase_from(st_->settings, key, st_->full, "setting");
}
Result<std::vector<std::pair<std::string, std::string>>> MemoryStore::list_settings(
    const std::string& prefix) {
  std::lock_guard<std::mutex> lock(st_->mu);
  std::vector<std::pair<std::string, std::string>> out;
  for (auto it = st_->settings.lower_bound(prefix);
       it != st_->settings.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    out.emplace_back(it->first, it->second);
  }
  return out;
}

Result<ServerIdentity> MemoryStore::get_identity() {
  std::lock_guard<std::mutex> lock(st_->mu);
  if (!st_->identity) return not_found("identity");
  return *st_->identity;
}

}  // namespace socp
