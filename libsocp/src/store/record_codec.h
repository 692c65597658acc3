// Private: the byte encoding of each store record and the key rules shared by all stores.
//
// Encoding (schema "1"): one compact canonical JSON object per record holding every field under
// its C++ member name; strings as JSON strings, integers as JSON integers (uint64 `version` is
// stored bit-for-bit as int64 so every value round-trips). Decoding is strict: a value that is
// not such an object, lacks a field or has a field of the wrong type is Corrupt.
//
// Keys: ids are non-empty, at most kMaxKeyBytes bytes (LMDB's key limit, also enforced by
// MemoryStore so both stores accept the same records), and a group member's composite key is
// group_id + '\0' + member_id, so group_id may not contain '\0'. String fields must be UTF-8
// (they are stored as JSON strings).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "socp/result.h"
#include "socp/store.h"

namespace socp::store {

/// LMDB's compiled-in maximum key size (MDB_MAXKEYSIZE default).
inline constexpr std::size_t kMaxKeyBytes = 511;

/// The schema version this code reads and writes (meta key "schema").
inline constexpr std::string_view kSchemaVersion = "1";

/// Checks a record before it is written: InvalidArgument naming the bad field.
Status validate(const UserRecord& rec);
Status validate(const DirectoryRecord& rec);
Status validate(const ServerRecord& rec);
Status validate(const GroupRecord& rec);
Status validate(const GroupMemberRecord& rec);
Status validate(const ServerIdentity& id);

/// Settings: key 1..200 bytes of UTF-8, value at most 64 KiB of UTF-8.
Status validate_setting(std::string_view key, std::string_view value);
/// The meta-table key of a setting ("setting/" + key).
std::string setting_key(std::string_view key);

/// Queued messages: queue name 1..400 bytes, no NUL, UTF-8; body at most 4 MiB.
Status validate(const QueuedMessage& m);
/// queue + '\0' + big-endian seq (so keys sort by queue, then seq).
std::string queued_key(std::string_view queue, std::uint64_t seq);
/// The prefix of every key of queues whose names start with `queue_prefix`.
inline std::string queued_prefix(std::string_view queue_prefix) {
  return std::string(queue_prefix);
}
std::string encode(const QueuedMessage& m);
Result<QueuedMessage> decode_queued(std::string_view key, std::string_view bytes);

/// True if `id` could be a stored key (used by lookups: an impossible key is simply NotFound).
bool valid_key(std::string_view id) noexcept;

/// group_id + '\0' + member_id.
std::string member_key(std::string_view group_id, std::string_view member_id);
/// The prefix shared by every member key of `group_id`: group_id + '\0'.
std::string member_prefix(std::string_view group_id);

std::string encode(const UserRecord& rec);
std::string encode(const DirectoryRecord& rec);
std::string encode(const ServerRecord& rec);
std::string encode(const GroupRecord& rec);
std::string encode(const GroupMemberRecord& rec);
/// Holds a private key: callers wipe the returned buffer when done with it.
std::string encode(const ServerIdentity& id);

Result<UserRecord> decode_user(std::string_view bytes);
Result<DirectoryRecord> decode_directory(std::string_view bytes);
Result<ServerRecord> decode_server(std::string_view bytes);
Result<GroupRecord> decode_group(std::string_view bytes);
Result<GroupMemberRecord> decode_group_member(std::string_view bytes);
Result<ServerIdentity> decode_identity(std::string_view bytes);

}  // namespace socp::store
