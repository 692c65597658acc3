// Errc wire names and MessageType names/aliases.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "socp/protocol.h"
#include "socp/result.h"

using namespace socp;

TEST_CASE("wire codes round-trip for every wire Errc", "[codec]") {
  const std::vector<std::pair<Errc, std::string>> table{
      {Errc::UserNotFound, "USER_NOT_FOUND"},
      {Errc::InvalidSig, "INVALID_SIG"},
      {Errc::BadKey, "BAD_KEY"},
      {Errc::Timeout, "TIMEOUT"},
      {Errc::UnknownType, "UNKNOWN_TYPE"},
      {Errc::NameInUse, "NAME_IN_USE"},
      {Errc::BadFrame, "BAD_FRAME"},
      {Errc::TooLarge, "TOO_LARGE"},
      {Errc::TooDeep, "TOO_DEEP"},
      {Errc::NotAuthenticated, "NOT_AUTHENTICATED"},
      {Errc::BadPassword, "BAD_PASSWORD"},
      {Errc::Busy, "BUSY"},
      {Errc::Offline, "OFFLINE"},
      {Errc::Internal, "INTERNAL"},
  };
  for (const auto& [code, name] : table) {
    CAPTURE(name);
    CHECK(wire_code(code) == name);
    bool known = false;
    CHECK(errc_from_wire(name, &known) == code);
    CHECK(known);
  }
}

TEST_CASE("local-only Errc values go on the wire as INTERNAL", "[codec]") {
  for (Errc c : {Errc::Io, Errc::StoreFull, Errc::Corrupt, Errc::Crypto, Errc::NotFound,
                 Errc::InvalidArgument}) {
    CHECK(wire_code(c) == "INTERNAL");
  }
}

TEST_CASE("unknown wire code names map to Internal with known=false", "[codec]") {
  bool known = true;
  CHECK(errc_from_wire("SOMETHING_ELSE", &known) == Errc::Internal);
  CHECK_FALSE(known);
  known = true;
  CHECK(errc_from_wire("", &known) == Errc::Internal);
  CHECK_FALSE(known);
  CHECK(errc_from_wire("user_not_found") == Errc::Internal);  // case-sensitive
  CHECK(errc_from_wire("IO") == Errc::Internal);              // local-only names are not wire names
}

TEST_CASE("every MessageType has its canonical name and parses back", "[codec]") {
  const std::vector<std::pair<MessageType, std::string>> table{
      {MessageType::ServerHelloJoin, "SERVER_HELLO_JOIN"},
      {MessageType::ServerWelcome, "SERVER_WELCOME"},
      {MessageType::ServerAnnounce, "SERVER_ANNOUNCE"},
      {MessageType::ServerHelloLink, "SERVER_HELLO_LINK"},
      {MessageType::UserAdvertise, "USER_ADVERTISE"},
      {MessageType::UserRemove, "USER_REMOVE"},
      {MessageType::ServerDeliver, "SERVER_DELIVER"},
      {MessageType::Heartbeat, "HEARTBEAT"},
      {MessageType::DirectorySnapshot, "DIRECTORY_SNAPSHOT"},
      {MessageType::UserHello, "USER_HELLO"},
      {MessageType::UserRegister, "USER_REGISTER"},
      {MessageType::KeyRecover, "KEY_RECOVER"},
      {MessageType::KeyRecoverResponse, "KEY_RECOVER_RESPONSE"},
      {MessageType::PubkeyRequest, "PUBKEY_REQUEST"},
      {MessageType::PubkeyResponse, "PUBKEY_RESPONSE"},
      {MessageType::ListRequest, "LIST_REQUEST"},
      {MessageType::ListResponse, "LIST_RESPONSE"},
      {MessageType::MsgDirect, "MSG_DIRECT"},
      {MessageType::UserDeliver, "USER_DELIVER"},
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
      {MessageType::ServerIntroduce, "SERVER_INTRODUCE"},
      {MessageType::ServerDeliverBatch, "SERVER_DELIVER_BATCH"},
      {MessageType::UserChallengeRequest, "USER_CHALLENGE_REQUEST"},
      {MessageType::UserChallenge, "USER_CHALLENGE"},
      {MessageType::UserDeliverBatch, "USER_DELIVER_BATCH"},
      {MessageType::DeliveryAck, "DELIVERY_ACK"},
      {MessageType::Receipts, "RECEIPTS"},
      {MessageType::DeliveryReceipts, "DELIVERY_RECEIPTS"},
  };
  REQUIRE(table.size() == static_cast<std::size_t>(MessageType::Error) + 1);
  for (const auto& [t, name] : table) {
    CAPTURE(name);
    CHECK(to_string(t) == name);
    auto parsed = message_type_from_string(name);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == t);
  }
}

TEST_CASE("type aliases of other implementations are accepted", "[codec]") {
  const std::vector<std::pair<std::string, MessageType>> aliases{
      {"CMD_LIST", MessageType::ListRequest},      {"USER_LIST_REQ", MessageType::ListRequest},
      {"CTRL_LIST", MessageType::ListRequest},     {"LIST", MessageType::ListRequest},
      {"MSG_PRIVATE", MessageType::MsgDirect},     {"USER_FILE_START", MessageType::FileStart},
      {"USER_FILE_CHUNK", MessageType::FileChunk}, {"USER_FILE_END", MessageType::FileEnd},
  };
  for (const auto& [name, t] : aliases) {
    CAPTURE(name);
    auto parsed = message_type_from_string(name);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == t);
    CHECK(to_string(t) != name);  // aliases are accepted, never emitted
  }
}

TEST_CASE("unknown type names are not an error but give nullopt", "[codec]") {
  CHECK_FALSE(message_type_from_string("").has_value());
  CHECK_FALSE(message_type_from_string("NOPE").has_value());
  CHECK_FALSE(message_type_from_string("user_hello").has_value());
  CHECK_FALSE(message_type_from_string("USER_HELLO ").has_value());
}

TEST_CASE("is_server_type classifies server-to-server types", "[codec]") {
  for (auto t :
       {MessageType::ServerHelloJoin, MessageType::ServerWelcome, MessageType::ServerAnnounce,
        MessageType::ServerHelloLink, MessageType::ServerDeliver, MessageType::UserAdvertise,
        MessageType::UserRemove, MessageType::Heartbeat, MessageType::DirectorySnapshot}) {
    CAPTURE(to_string(t));
    CHECK(is_server_type(t));
  }
  for (auto t : {MessageType::UserHello, MessageType::UserRegister, MessageType::KeyRecover,
                 MessageType::KeyRecoverResponse, MessageType::PubkeyRequest,
                 MessageType::PubkeyResponse, MessageType::ListRequest, MessageType::ListResponse,
                 MessageType::MsgDirect, MessageType::UserDeliver, MessageType::MsgPublicChannel,
                 MessageType::PublicChannelAdd, MessageType::PublicChannelUpdated,
                 MessageType::PublicChannelKeyShare, MessageType::FileStart, MessageType::FileChunk,
                 MessageType::FileEnd, MessageType::Ack, MessageType::Error}) {
    CAPTURE(to_string(t));
    CHECK_FALSE(is_server_type(t));
  }
}
