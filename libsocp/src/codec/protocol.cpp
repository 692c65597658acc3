// MessageType names and aliases (docs/protocol.md §5, §6).
#include "socp/protocol.h"

#include <array>
#include <utility>

namespace socp {
namespace {

using Entry = std::pair<MessageType, std::string_view>;

// Canonical names, in enum order (to_string indexes this table by the enum value).
constexpr std::array<Entry, 39> kNames{{
    {MessageType::ServerHelloJoin, "SERVER_HELLO_JOIN"},
    {MessageType::ServerWelcome, "SERVER_WELCOME"},
    {MessageType::ServerAnnounce, "SERVER_ANNOUNCE"},
    {MessageType::ServerHelloLink, "SERVER_HELLO_LINK"},
    {MessageType::UserAdvertise, "USER_ADVERTISE"},
    {MessageType::UserRemove, "USER_REMOVE"},
    {MessageType::ServerDeliver, "SERVER_DELIVER"},
    {MessageType::Heartbeat, "HEARTBEAT"},
    {MessageType::DirectorySnapshot, "DIRECTORY_SNAPSHOT"},
    {MessageType::ServerIntroduce, "SERVER_INTRODUCE"},
    {MessageType::ServerDeliverBatch, "SERVER_DELIVER_BATCH"},
    {MessageType::UserHello, "USER_HELLO"},
    {MessageType::UserRegister, "USER_REGISTER"},
    {MessageType::KeyRecover, "KEY_RECOVER"},
    {MessageType::KeyRecoverResponse, "KEY_RECOVER_RESPONSE"},
    {MessageType::UserChallengeRequest, "USER_CHALLENGE_REQUEST"},
    {MessageType::UserChallenge, "USER_CHALLENGE"},
    {MessageType::PubkeyRequest, "PUBKEY_REQUEST"},
    {MessageType::PubkeyResponse, "PUBKEY_RESPONSE"},
    {MessageType::ListRequest, "LIST_REQUEST"},
    {MessageType::ListResponse, "LIST_RESPONSE"},
    {MessageType::MsgDirect, "MSG_DIRECT"},
    {MessageType::UserDeliver, "USER_DELIVER"},
    {MessageType::UserDeliverBatch, "USER_DELIVER_BATCH"},
    {MessageType::DeliveryAck, "DELIVERY_ACK"},
    {MessageType::Receipts, "RECEIPTS"},
    {MessageType::DeliveryReceipts, "DELIVERY_RECEIPTS"},
    {MessageType::MsgPublicChannel, "MSG_PUBLIC_CHANNEL"},
    {MessageType::PublicChannelAdd, "PUBLIC_CHANNEL_ADD"},
    {MessageType::PublicChannelUpdated, "PUBLIC_CHANNEL_UPDATED"},
    {MessageType::PublicChannelKeyShare, "PUBLIC_CHANNEL_KEY_SHARE"},
    {MessageType::FileStart, "FILE_START"},
    {MessageType::FileChunk, "FILE_CHUNK"},
    {MessageType::FileEnd, "FILE_END"},
    {MessageType::FileBulkStart, "FILE_BULK_START"},
    {MessageType::FileBulkChunk, "FILE_BULK_CHUNK"},
    {MessageType::FileBulkAck, "FILE_BULK_ACK"},
    {MessageType::Ack, "ACK"},
    {MessageType::Error, "ERROR"},
}};

// Names other implementations send for the same messages. Accepted, never emitted.
constexpr std::array<Entry, 8> kAliases{{
    {MessageType::ListRequest, "CMD_LIST"},
    {MessageType::ListRequest, "USER_LIST_REQ"},
    {MessageType::ListRequest, "CTRL_LIST"},
    {MessageType::ListRequest, "LIST"},
    {MessageType::MsgDirect, "MSG_PRIVATE"},
    {MessageType::FileStart, "USER_FILE_START"},
    {MessageType::FileChunk, "USER_FILE_CHUNK"},
    {MessageType::FileEnd, "USER_FILE_END"},
}};

constexpr bool table_in_enum_order() {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (static_cast<std::size_t>(kNames[i].first) != i) return false;
  }
  return true;
}
static_assert(table_in_enum_order(), "kNames must list MessageType values in enum order");
static_assert(static_cast<std::size_t>(MessageType::Error) + 1 == kNames.size(),
              "kNames must cover every MessageType");

}  // namespace

std::string_view to_string(MessageType t) noexcept {
  const auto i = static_cast<std::size_t>(t);
  return i < kNames.size() ? kNames[i].second : std::string_view("UNKNOWN");
}

std::optional<MessageType> message_type_from_string(std::string_view name) noexcept {
  for (const auto& [t, n] : kNames) {
    if (n == name) return t;
  }
  for (const auto& [t, n] : kAliases) {
    if (n == name) return t;
  }
  return std::nullopt;
}

bool is_server_type(MessageType t) noexcept {
  switch (t) {
    case MessageType::ServerHelloJoin:
    case MessageType::ServerWelcome:
    case MessageType::ServerAnnounce:
    case MessageType::ServerHelloLink:
    case MessageType::ServerDeliver:
    case MessageType::ServerDeliverBatch:
    case MessageType::UserAdvertise:
    case MessageType::UserRemove:
    case MessageType::Heartbeat:
    case MessageType::DirectorySnapshot:
    case MessageType::ServerIntroduce:
    case MessageType::DeliveryReceipts:
      return true;
    default:
      return false;
  }
}

}  // namespace socp
