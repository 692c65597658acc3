// BatchingStore: pending writes in an overlay, committed with Store::apply in one transaction.
#include "store/batching_store.h"

#include <utility>

#include "store/record_codec.h"

namespace socp::store {

namespace {

template <typename T, typename Get>
Result<T> read_through(const BatchingStore::Overlay<T>& overlay, const std::string& key,
                       const char* what, Get get) {
  auto it = overlay.find(key);
  if (it == overlay.end()) return get();
  if (!it->second.v) return make_error(Errc::NotFound, std::string(what) + ": not found");
  return *it->second.v;
}

template <typename T>
void prune(BatchingStore::Overlay<T>& overlay, std::uint64_t epoch) {
  for (auto it = overlay.begin(); it != overlay.end();) {
    it = it->second.epoch <= epoch ? overlay.erase(it) : std::next(it);
  }
}

/// The backing list with the overlay applied (entries whose key starts with `prefix`), in
/// key order like the stores themselves.
template <typename T, typename KeyOf>
Result<std::vector<T>> merged(Result<std::vector<T>> base, const BatchingStore::Overlay<T>& overlay,
                              const std::string& prefix, KeyOf key_of) {
  if (!base.ok()) return base.error();
  if (overlay.empty()) return base;
  std::map<std::string, T> all;
  for (T& r : base.value()) {
    std::string k = key_of(r);
    all.emplace(std::move(k), std::move(r));
  }
  for (auto it = overlay.lower_bound(prefix);
       it != overlay.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    if (it->second.v) {
      all[it->first] = *it->second.v;
    } else {
      all.erase(it->first);
    }
  }
  std::vector<T> out;
  out.reserve(all.size());
  for (auto& [k, r] : all) out.push_back(std::move(r));
  return out;
}

}  // namespace

Status BatchingStore::commit() {
  if (batch_.empty()) return ok_status();
  SOCP_TRY(b_.apply(batch_));
  batch_.clear();
  committed(open_epoch_++);
  return ok_status();
}

std::pair<std::shared_ptr<const WriteBatch>, std::uint64_t> BatchingStore::take() {
  if (batch_.empty()) return {nullptr, 0};
  auto b = std::make_shared<const WriteBatch>(std::move(batch_));
  batch_.clear();
  return {std::move(b), open_epoch_++};
}

void BatchingStore::skip_epoch() {
  if (batch_.empty()) ++open_epoch_;
}

void BatchingStore::committed(std::uint64_t epoch) {
  prune(users_, epoch);
  prune(directory_, epoch);
  prune(servers_, epoch);
  prune(groups_, epoch);
  prune(members_, epoch);
  prune(settings_, epoch);
  prune(queued_, epoch);
}

void BatchingStore::requeue(const WriteBatch& failed) {
  WriteBatch all = failed;
  all.append(batch_);
  batch_ = std::move(all);
}

Status BatchingStore::apply(const WriteBatch& batch) {
  using Kind = WriteBatch::Op::Kind;
  for (const WriteBatch::Op& op : batch.ops()) {
    Status st;
    switch (op.kind) {
      case Kind::PutUser:
        st = put_user(std::get<UserRecord>(op.rec));
        break;
      case Kind::DeleteUser:
        st = delete_user(op.key);
        break;
      case Kind::PutDirectory:
        st = put_directory(std::get<DirectoryRecord>(op.rec));
        break;
      case Kind::DeleteDirectory:
        st = delete_directory(op.key);
        break;
      case Kind::PutServer:
        st = put_server(std::get<ServerRecord>(op.rec));
        break;
      case Kind::DeleteServer:
        st = delete_server(op.key);
        break;
      case Kind::PutGroup:
        st = put_group(std::get<GroupRecord>(op.rec));
        break;
      case Kind::PutGroupMember:
        st = put_group_member(std::get<GroupMemberRecord>(op.rec));
        break;
      case Kind::PutSetting:
        st = put_setting(op.key, std::get<std::string>(op.rec));
        break;
      case Kind::DeleteSetting:
        st = delete_setting(op.key);
        break;
      case Kind::PutQueued:
        st = put_queued(std::get<QueuedMessage>(op.rec));
        break;
      case Kind::DeleteQueued: {
        const auto& m = std::get<QueuedMessage>(op.rec);
        st = delete_queued(m.queue, m.seq);
        break;
      }
    }
    if (!st.ok() && st.code() != Errc::NotFound) return st;
  }
  return ok_status();
}

Status BatchingStore::put_user(const UserRecord& rec) {
  SOCP_TRY(validate(rec));
  set(users_, rec.user_id, rec);
  batch_.put_user(rec);
  return ok_status();
}
Result<UserRecord> BatchingStore::get_user(const std::string& id) {
  return read_through(users_, id, "user", [&] { return b_.get_user(id); });
}
Result<std::vector<UserRecord>> BatchingStore::list_users() {
  return merged(b_.list_users(), users_, "", [](const UserRecord& r) { return r.user_id; });
}
Status BatchingStore::delete_user(const std::string& id) {
  set(users_, id, std::nullopt);
  batch_.delete_user(id);
  return ok_status();
}

Status BatchingStore::put_directory(const DirectoryRecord& rec) {
  SOCP_TRY(validate(rec));
  set(directory_, rec.user_id, rec);
  batch_.put_directory(rec);
  return ok_status();
}
Result<DirectoryRecord> BatchingStore::get_directory(const std::string& id) {
  return read_through(directory_, id, "directory entry", [&] { return b_.get_directory(id); });
}
Result<std::vector<DirectoryRecord>> BatchingStore::list_directory() {
  return merged(b_.list_directory(), directory_, "",
                [](const DirectoryRecord& r) { return r.user_id; });
}
Status BatchingStore::delete_directory(const std::string& id) {
  set(directory_, id, std::nullopt);
  batch_.delete_directory(id);
  return ok_status();
}

Status BatchingStore::put_server(const ServerRecord& rec) {
  SOCP_TRY(validate(rec));
  set(servers_, rec.server_id, rec);
  batch_.put_server(rec);
  return ok_status();
}
Result<ServerRecord> BatchingStore::get_server(const std::string& id) {
  return read_through(servers_, id, "server", [&] { return b_.get_server(id); });
}
Result<std::vector<ServerRecord>> BatchingStore::list_servers() {
  return merged(b_.list_servers(), servers_, "", [](const ServerRecord& r) { return r.server_id; });
}
Status BatchingStore::delete_server(const std::string& id) {
  set(servers_, id, std::nullopt);
  batch_.delete_server(id);
  return ok_status();
}

Status BatchingStore::put_group(const GroupRecord& rec) {
  SOCP_TRY(validate(rec));
  set(groups_, rec.group_id, rec);
  batch_.put_group(rec);
  return ok_status();
}
Result<GroupRecord> BatchingStore::get_group(const std::string& id) {
  return read_through(groups_, id, "group", [&] { return b_.get_group(id); });
}
Status BatchingStore::put_group_member(const GroupMemberRecord& rec) {
  SOCP_TRY(validate(rec));
  set(members_, member_key(rec.group_id, rec.member_id), rec);
  batch_.put_group_member(rec);
  return ok_status();
}
Result<std::vector<GroupMemberRecord>> BatchingStore::list_group_members(
    const std::string& group_id) {
  if (!valid_key(group_id) || group_id.find('\0') != std::string::npos) {
    return std::vector<GroupMemberRecord>{};
  }
  return merged(b_.list_group_members(group_id), members_, member_prefix(group_id),
                [](const GroupMemberRecord& r) { return member_key(r.group_id, r.member_id); });
}

Status BatchingStore::put_setting(const std::string& key, const std::string& value) {
  SOCP_TRY(validate_setting(key, value));
  set(settings_, key, value);
  batch_.put_setting(key, value);
  return ok_status();
}
Result<std::string> BatchingStore::get_setting(const std::string& key) {
  return read_through(settings_, key, "setting", [&] { return b_.get_setting(key); });
}
Status BatchingStore::delete_setting(const std::string& key) {
  set(settings_, key, std::nullopt);
  batch_.delete_setting(key);
  return ok_status();
}
Result<std::vector<std::pair<std::string, std::string>>> BatchingStore::list_settings(
    const std::string& prefix) {
  auto base = b_.list_settings(prefix);
  if (!base.ok() || settings_.empty()) return base;
  std::map<std::string, std::string> all(base->begin(), base->end());
  for (auto it = settings_.lower_bound(prefix);
       it != settings_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    if (it->second.v) {
      all[it->first] = *it->second.v;
    } else {
      all.erase(it->first);
    }
  }
  return std::vector<std::pair<std::string, std::string>>(all.begin(), all.end());
}

Status BatchingStore::put_queued(const QueuedMessage& m) {
  SOCP_TRY(validate(m));
  set(queued_, queued_key(m.queue, m.seq), m);
  batch_.put_queued(m);
  return ok_status();
}
Status BatchingStore::delete_queued(const std::string& queue, std::uint64_t seq) {
  set(queued_, queued_key(queue, seq), std::nullopt);
  batch_.delete_queued(queue, seq);
  return ok_status();
}
Result<std::vector<QueuedMessage>> BatchingStore::list_queued(const std::string& queue_prefix) {
  return merged(b_.list_queued(queue_prefix), queued_, queue_prefix,
                [](const QueuedMessage& m) { return queued_key(m.queue, m.seq); });
}

}  // namespace socp::store
