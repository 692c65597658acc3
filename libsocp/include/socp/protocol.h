// socp/protocol.h — wire constants of SOCP v1.3 as socp speaks it (docs/protocol.md).
//
// One enum for every message type socp knows, the aliases other implementations send, the
// default limits and the protocol timers. Pure constants and pure functions: thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace socp {

enum class MessageType : std::uint8_t {
  // server <-> server (docs/protocol.md §5)
  ServerHelloJoin,
  ServerWelcome,
  ServerAnnounce,
  ServerHelloLink,
  UserAdvertise,
  UserRemove,
  ServerDeliver,
  Heartbeat,
  DirectorySnapshot,   ///< socp extension (caps "socp/1")
  ServerIntroduce,     ///< socp extension: an introducer vouches for a server it admitted
  ServerDeliverBatch,  ///< socp extension (caps "deliver-batch/1"): SERVER_DELIVERs, one signature
  // user <-> server (docs/protocol.md §6)
  UserHello,
  UserRegister,          ///< socp extension
  KeyRecover,            ///< socp extension
  KeyRecoverResponse,    ///< socp extension: carries privkey_store back
  UserChallengeRequest,  ///< socp extension: a client asks for a login nonce
  UserChallenge,         ///< socp extension: the (unsigned) nonce a signed hello must carry
  PubkeyRequest,
  PubkeyResponse,
  ListRequest,
  ListResponse,
  MsgDirect,
  UserDeliver,
  UserDeliverBatch,  ///< socp extension: stored messages at login
  DeliveryAck,       ///< socp extension: client -> server
  Receipts,          ///< socp extension: server -> sender's client
  DeliveryReceipts,  ///< socp extension: server -> server
  MsgPublicChannel,
  PublicChannelAdd,
  PublicChannelUpdated,
  PublicChannelKeyShare,
  FileStart,
  FileChunk,
  FileEnd,
  FileBulkStart,  ///< socp extension: bulk file manifest (docs/protocol.md "Bulk files")
  FileBulkChunk,  ///< socp extension: bulk file chunk, relayed without a server signature
  FileBulkAck,    ///< socp extension: receiver -> sender flow control / outcome
  Ack,
  Error,
};

/// Canonical (emitted) name, e.g. "SERVER_HELLO_JOIN".
std::string_view to_string(MessageType t) noexcept;
/// Parses a type name, accepting the aliases of docs/protocol.md (CMD_LIST, USER_LIST_REQ,
/// CTRL_LIST, LIST -> ListRequest; MSG_PRIVATE -> MsgDirect; USER_FILE_START/CHUNK/END -> File*).
std::optional<MessageType> message_type_from_string(std::string_view name) noexcept;
/// True for types a server sends to servers (used to classify the first frame of a link).
bool is_server_type(MessageType t) noexcept;

/// The socp capability string announced in HELLO/ANNOUNCE payloads ("caps").
inline constexpr std::string_view kSocpCapability = "socp/1";
/// Announced next to socp/1 by servers that take SERVER_DELIVER_BATCH.
inline constexpr std::string_view kDeliverBatchCapability = "deliver-batch/1";
/// The client capability a socp client announces in its USER_HELLO meta ("caps": [...]):
/// it takes bulk files (FILE_BULK_*). Servers report it in LIST_RESPONSE entries ("caps")
/// only for users whose home server speaks socp/1.
inline constexpr std::string_view kFileBulkCapability = "file-bulk/1";
/// Public channel group id and creator.
inline constexpr std::string_view kPublicGroupId = "public";
inline constexpr std::string_view kPublicGroupCreator = "system";

/// Default limits (all configurable).
struct Limits {
  std::size_t max_user_frame = 1u << 20;    ///< 1 MiB
  std::size_t max_server_frame = 8u << 20;  ///< 8 MiB
  std::size_t max_json_depth = 32;
  std::size_t max_string = 1u << 20;      ///< 1 MiB per JSON string
  std::size_t max_file_size = 64u << 20;  ///< 64 MiB
};

/// RSA constants.
inline constexpr int kRsaBits = 4096;
inline constexpr std::size_t kOaepMaxPlaintext = 446;
inline constexpr std::size_t kRsaBytes = 512;

/// Timers (milliseconds).
inline constexpr std::int64_t kHeartbeatIntervalMs = 15'000;
inline constexpr std::int64_t kLinkDeadAfterMs = 45'000;
inline constexpr std::int64_t kReconnectMinMs = 1'000;
inline constexpr std::int64_t kReconnectMaxMs = 60'000;
inline constexpr std::int64_t kHelloClockSkewMs = 5 * 60'000;
inline constexpr std::int64_t kSeenCacheTtlMs = 10 * 60'000;
inline constexpr std::size_t kSeenCacheCapacity = 100'000;

/// Default listening port of socp-server.
inline constexpr std::uint16_t kDefaultPort = 8765;

}  // namespace socp
