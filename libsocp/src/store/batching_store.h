// Private: BatchingStore — a Store that collects writes and commits them together.
//
// The server core makes every write of one loop turn through a BatchingStore and commits the
// turn's writes in one transaction before any frame of that turn leaves (so nothing is
// acknowledged before it is durable). Reads see the pending writes (an overlay in front of the
// backing store), so code never notices that a write is not committed yet.
// A failed commit keeps the pending writes (they are retried by the next commit) and returns
// the error; records are validated when written, so a commit fails only for storage reasons
// (StoreFull, Io).
// Commits off the loop thread (ServerConfig::commit_off_loop): take() hands the pending writes
// over as one batch, tagged with an epoch, while reads keep seeing them; committed(epoch)
// then forgets the overlay entries that batch made durable (unless written again since), and
// requeue() puts a failed batch back in front of the writes made meanwhile.
// Identity writes go straight to the backing store (start-up only).
// Thread-safety: none; owned by the server's service thread (the backing store is shared
// safely).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "socp/store.h"

namespace socp::store {

class BatchingStore final : public Store {
 public:
  explicit BatchingStore(Store& backing) : b_(backing) {}

  /// Commits every pending write in one transaction (no-op when nothing is pending).
  Status commit();
  /// The epoch the pending writes belong to (writes made now are committed as this epoch).
  std::uint64_t open_epoch() const noexcept { return open_epoch_; }
  /// Hands the pending writes over (null when none) with their epoch; a new epoch opens.
  std::pair<std::shared_ptr<const WriteBatch>, std::uint64_t> take();
  /// Opens a new epoch when nothing is pending (the open one is then trivially committed).
  void skip_epoch();
  /// The writes of `epoch` and every earlier one are durable: reads go to the backing store.
  void committed(std::uint64_t epoch);
  /// A taken batch failed to commit: its writes go back in front of the pending ones.
  void requeue(const WriteBatch& failed);
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

  template <typename T>
  struct Tagged {
    std::optional<T> v;  ///< nullopt = deleted
    std::uint64_t epoch = 0;
  };
  template <typename T>
  using Overlay = std::map<std::string, Tagged<T>>;

 private:
  template <typename T, typename V>
  void set(Overlay<T>& o, const std::string& key, V&& v) {
    o[key] = Tagged<T>{std::optional<T>(std::forward<V>(v)), open_epoch_};
  }

  Store& b_;
  WriteBatch batch_;
  std::uint64_t open_epoch_ = 1;
  Overlay<UserRecord> users_;
  Overlay<DirectoryRecord> directory_;
  Overlay<ServerRecord> servers_;
  Overlay<GroupRecord> groups_;
  Overlay<GroupMemberRecord> members_;  // key: member_key(group, member)
  Overlay<std::string> settings_;
  Overlay<QueuedMessage> queued_;  // key: queued_key(queue, seq)
};

}  // namespace socp::store
