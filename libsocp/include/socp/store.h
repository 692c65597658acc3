// socp/store.h — persistent server state (docs/protocol.md §8) behind a narrow interface.
//
// Tables: users (accounts registered here), directory (every user key this server has pinned,
// local or remote, with last known home server), servers (pinned server keys), groups,
// group_members, and this server's identity. Records are typed; values are copied out of the
// database before a call returns.
//
// Implementations: LmdbStore (durable, LMDB) and MemoryStore (tests; same semantics).
// Thread-safety: LmdbStore and MemoryStore methods may be called from several threads at once.
// Each LmdbStore call runs in its own short LMDB transaction (env opened with MDB_NOTLS), so
// reads from any thread proceed concurrently and see a consistent snapshot, while writes are
// serialized by LMDB's writer lock; MemoryStore uses a mutex. LMDB forbids opening one path
// twice in a process: share one LmdbStore; other processes may open it with read_only.
// Errors: NotFound for missing keys, StoreFull for MDB_MAP_FULL, Corrupt for undecodable
// records or a database file that is not LMDB, Io for other failures.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "socp/result.h"

namespace socp {

/// An account registered on this server.
struct UserRecord {
  std::string user_id;
  std::string pubkey;         ///< base64url DER
  std::string privkey_store;  ///< client-sealed private key blob (opaque to the server)
  std::string pake_hash;      ///< Argon2id string hash of the client's password verifier
  std::string meta_json;      ///< canonical JSON of meta ({"display_name":...})
  std::uint64_t version = 1;
  std::int64_t created_at = 0;
  /// Created by trust on first use (an unsigned USER_HELLO in compatibility mode). Only such
  /// accounts may log in with unsigned hellos; an account registered with a signed key never.
  bool tofu = false;
};

/// A pinned user key and where the user was last seen (local and remote users).
struct DirectoryRecord {
  std::string user_id;
  std::string pubkey;     ///< pinned; never silently replaced
  std::string server_id;  ///< last known home server
  std::string meta_json;
  std::uint64_t version = 1;
  /// Signed time (ms) of the newest login of this user seen anywhere (0 = none). A hello
  /// without a server challenge must be newer than this, so a captured one cannot be replayed.
  std::int64_t last_login = 0;
};

/// A pinned peer server.
struct ServerRecord {
  std::string server_id;
  std::string host;
  std::uint16_t port = 0;
  std::string pubkey;          ///< base64url DER
  std::int64_t last_seen = 0;  ///< last time a link to it was up (ms); forgotten long after
  bool socp = false;           ///< announced socp/1: its frames must carry a signed context
  std::string introduced_by;   ///< the server that vouched for it ("" = configured or self)
  std::string dialect;         ///< how it speaks when it is not socp ("" = not known)
};

struct GroupRecord {
  std::string group_id, creator_id, meta_json;
  std::int64_t created_at = 0;
  std::uint64_t version = 1;
};

struct GroupMemberRecord {
  std::string group_id, member_id, role;
  std::string wrapped_key;  ///< group key RSA-OAEP-wrapped to the member (opaque to the server)
  std::int64_t added_at = 0;
};

/// A message kept for later, in a named queue: a recipient's mailbox ("mbox/<user_id>") or
/// an outbox towards a server ("out/<server_id>"). `seq` orders a queue (increasing); `body`
/// is opaque to the store (the core keeps canonical JSON there: ciphertext only, servers
/// never hold plaintext).
struct QueuedMessage {
  std::string queue;
  std::uint64_t seq = 0;
  std::string body;
  std::int64_t at = 0;  ///< when it was queued (ms)
};

/// This server's identity: its UUID and PKCS#8 PEM private key (file mode 0600 on disk).
struct ServerIdentity {
  std::string server_id;
  std::string private_key_pem;
};

/// Writes committed together, all or nothing (one LMDB transaction). Records are validated
/// when the batch is applied; the first invalid record fails the whole batch.
class WriteBatch {
 public:
  struct Op {
    enum class Kind {
      PutUser,
      DeleteUser,
      PutDirectory,
      DeleteDirectory,
      PutServer,
      DeleteServer,
      PutGroup,
      PutGroupMember,
      PutSetting,
      DeleteSetting,
      PutQueued,
      DeleteQueued
    };
    Kind kind;
    std::string key;  ///< id of the record (Delete*: the only field used)
    std::variant<std::monostate, UserRecord, DirectoryRecord, ServerRecord, GroupRecord,
                 GroupMemberRecord, std::string, QueuedMessage>
        rec;  ///< PutSetting: the value (std::string); DeleteQueued: a QueuedMessage (queue, seq)
  };
  void put_user(UserRecord r);
  void delete_user(std::string user_id);
  void put_directory(DirectoryRecord r);
  void delete_directory(std::string user_id);
  void put_server(ServerRecord r);
  void delete_server(std::string server_id);
  void put_group(GroupRecord r);
  void put_group_member(GroupMemberRecord r);
  void put_setting(std::string key, std::string value);
  void delete_setting(std::string key);
  void put_queued(QueuedMessage m);
  void delete_queued(std::string queue, std::uint64_t seq);

  const std::vector<Op>& ops() const noexcept { return ops_; }
  bool empty() const noexcept { return ops_.empty(); }
  std::size_t size() const noexcept { return ops_.size(); }
  void clear() noexcept { ops_.clear(); }
  /// Appends the operations of `later` (applied after this batch's own).
  void append(const WriteBatch& later) {
    ops_.insert(ops_.end(), later.ops_.begin(), later.ops_.end());
  }

 private:
  std::vector<Op> ops_;
};

class Store {
 public:
  virtual ~Store() = default;

  /// Applies every write of `batch` atomically: all of them or (on error) none.
  virtual Status apply(const WriteBatch& batch) = 0;

  virtual Status put_user(const UserRecord& rec) = 0;
  virtual Result<UserRecord> get_user(const std::string& user_id) = 0;
  virtual Result<std::vector<UserRecord>> list_users() = 0;
  /// NotFound if there is no such account.
  virtual Status delete_user(const std::string& user_id) = 0;

  virtual Status put_directory(const DirectoryRecord& rec) = 0;
  virtual Result<DirectoryRecord> get_directory(const std::string& user_id) = 0;
  virtual Result<std::vector<DirectoryRecord>> list_directory() = 0;
  /// NotFound if there is no such record.
  virtual Status delete_directory(const std::string& user_id) = 0;

  virtual Status put_server(const ServerRecord& rec) = 0;
  virtual Result<ServerRecord> get_server(const std::string& server_id) = 0;
  virtual Result<std::vector<ServerRecord>> list_servers() = 0;
  virtual Status delete_server(const std::string& server_id) = 0;

  virtual Status put_group(const GroupRecord& rec) = 0;
  virtual Result<GroupRecord> get_group(const std::string& group_id) = 0;
  virtual Status put_group_member(const GroupMemberRecord& rec) = 0;
  virtual Result<std::vector<GroupMemberRecord>> list_group_members(
      const std::string& group_id) = 0;

  virtual Status put_identity(const ServerIdentity& id) = 0;
  /// NotFound on a fresh database.
  virtual Result<ServerIdentity> get_identity() = 0;

  /// Small named settings and queued operator commands (kept next to the identity): the
  /// operator tools write them, a running server reads them (docs/deploy.md, "Admin").
  /// Keys are 1..200 bytes of UTF-8, values at most 64 KiB.
  virtual Status put_setting(const std::string& key, const std::string& value) = 0;
  /// NotFound if unset.
  virtual Result<std::string> get_setting(const std::string& key) = 0;
  /// NotFound if unset.
  virtual Status delete_setting(const std::string& key) = 0;
  /// Every setting whose key starts with `prefix`, in key order.
  virtual Result<std::vector<std::pair<std::string, std::string>>> list_settings(
      const std::string& prefix) = 0;

  /// Queued messages (mailboxes, outboxes). Queue names 1..400 bytes without NUL, bodies at
  /// most 4 MiB.
  virtual Status put_queued(const QueuedMessage& m) = 0;
  /// NotFound if absent.
  virtual Status delete_queued(const std::string& queue, std::uint64_t seq) = 0;
  /// Every message of every queue whose name starts with `queue_prefix`, ordered by queue name
  /// then seq.
  virtual Result<std::vector<QueuedMessage>> list_queued(const std::string& queue_prefix) = 0;
};

struct LmdbOptions {
  std::size_t map_size = std::size_t{1} << 30;  ///< 1 GiB (LMDB's default is only 10 MiB)
  bool read_only = false;
};

/// Durable store in an LMDB environment at directory `path` (created if missing, mode 0700).
class LmdbStore final : public Store {
 public:
  static Result<std::unique_ptr<LmdbStore>> open(const std::string& path, LmdbOptions opt = {});
  ~LmdbStore() override;
  LmdbStore(const LmdbStore&) = delete;
  LmdbStore& operator=(const LmdbStore&) = delete;

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
  Status put_identity(const ServerIdentity& id) override;
  Result<ServerIdentity> get_identity() override;
  Status put_setting(const std::string& key, const std::string& value) override;
  Result<std::string> get_setting(const std::string& key) override;
  Status delete_setting(const std::string& key) override;
  Result<std::vector<std::pair<std::string, std::string>>> list_settings(
      const std::string& prefix) override;
  Status put_queued(const QueuedMessage& m) override;
  Status delete_queued(const std::string& queue, std::uint64_t seq) override;
  Result<std::vector<QueuedMessage>> list_queued(const std::string& queue_prefix) override;

  struct Impl;

 private:
  explicit LmdbStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// In-memory store with the same semantics (tests, embedders that need no persistence).
class MemoryStore final : public Store {
 public:
  MemoryStore();
  ~MemoryStore() override;
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
  Status put_identity(const ServerIdentity& id) override;
  Result<ServerIdentity> get_identity() override;
  Status put_setting(const std::string& key, const std::string& value) override;
  Result<std::string> get_setting(const std::string& key) override;
  Status delete_setting(const std::string& key) override;
  Result<std::vector<std::pair<std::string, std::string>>> list_settings(
      const std::string& prefix) override;
  Status put_queued(const QueuedMessage& m) override;
  Status delete_queued(const std::string& queue, std::uint64_t seq) override;
  Result<std::vector<QueuedMessage>> list_queued(const std::string& queue_prefix) override;

  /// Test hook: make every following write fail with StoreFull (simulates MDB_MAP_FULL).
  void set_full(bool full) noexcept;

 private:
  struct State;
  std::unique_ptr<State> st_;
};

}  // namespace socp
