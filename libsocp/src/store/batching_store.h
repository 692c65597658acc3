// Private: BatchingStore — a Store that collects writes and commits them together.
//
// The server core makes every write of one loop turn through a BatchingStore and commits the
// turn's writes in one transaction before any frame of that turn leaves (so nothing is
// acknowledged before it is durable). Reads see the pending writes (an overlay in front of the
// backing store), so code never notices that a write is not committed yet.
// A failed commit keeps the pending writes (they are retried by the next commit) and returns
// the error; records are validated when written, so a commit fails only for storage reasons
// (StoreFull, Io).
// Identity writes go straight to the backing store (start-up only).
// Thread-safety: none; owned by the server's service thread (the backing store is shared
// safely).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "socp/store.h"

namespace socp::store {

class BatchingStore final : public Store {
 public:
  explicit BatchingStore(Store& backing) : b_(backing) {}

  /// Commits every pending write in one transaction (no-op when nothing is pending).
  Status commit();
  std::size_t pending() const noexcept { return batch_.size(); }
  Store& backing() noexcept { return b_; }

  Status apply(const WriteBatch& batch) override;
  Status put_user(const UserRecord& rec) override;
  Result<UserRecord> get_user(const std::string& user_id) override;
  Result<std::vector<UserRecord>> list_users() override;
  Status delete_user(const std::string& user_id) override;
  Status put_directory(const DirectoryRecord& rec) override;
  Result<DirectoryRecord> get_directory(const std::string& user_id) override;
  Result<std::vector<DirectoryRecord>> list_directory() override;
  Status delete_directory(const std::string& user_id) override;
  Status put_server(const ServerRecord& rec) override;
  Result<ServerRecord> get_server(const std::string& server_id) override;
  Result<std::vector<ServerRecord>> list_servers() override;
  Status delete_server(const std::string& server_id) override;
  Status put_group(const GroupRecord& rec) override;
  Result<GroupRecord> get_group(const std::string& group_id) override;
  Status put_group_member(const GroupMemberRecord& rec) override;
  Result<std::vector<GroupMemberRecord>> list_group_members(const std::string& group_id) override;
  Status put_identity(const ServerIdentity& id) override { return b_.put_identity(id); }
  Result<ServerIdentity> get_identity() override { return b_.get_identity(); }
  Status put_setting(const std::string& key, const std::string& value) override;
  Result<std::string> get_setting(const std::string& key) override;
  Status delete_setting(const std::string& key) override;
  Result<std::vector<std::pair<std::string, std::string>>> list_settings(
      const std::string& prefix) override;
  Status put_queued(const QueuedMessage& m) override;
  Status delete_queued(const std::string& queue, std::uint64_t seq) override;
  Result<std::vector<QueuedMessage>> list_queued(const std::string& queue_prefix) override;

 private:
  template <typename T>
  using Overlay = std::map<std::string, std::optional<T>>;  // nullopt = deleted

  Store& b_;
  WriteBatch batch_;
  Overlay<UserRecord> users_;
  Overlay<DirectoryRecord> directory_;
  Overlay<ServerRecord> servers_;
  Overlay<GroupRecord> groups_;
  Overlay<GroupMemberRecord> members_;  // key: member_key(group, member)
  Overlay<std::string> settings_;
  Overlay<QueuedMessage> queued_;  // key: queued_key(queue, seq)
};

}  // namespace socp::store
