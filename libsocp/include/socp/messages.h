// socp/messages.h — typed payloads for every SOCP message socp sends or reads.
//
// Each struct has `static Result<T> from_json(const json::Value& payload)` (strict: BadFrame
// naming the missing/mistyped field; TooLarge is left to the envelope parser) and
// `json::Value to_json() const` (the payload object socp emits). Unknown payload fields are
// ignored by from_json; forwarding code keeps the original json::Value instead.
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "socp/json.h"
#include "socp/result.h"

namespace socp::msg {

/// A server as listed in SERVER_WELCOME.servers / .clients.
struct ServerEntry {
  std::string server_id, host;
  std::int64_t port = 0;
  std::string pubkey;
  static Result<ServerEntry> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// A directory entry (SERVER_WELCOME.users, DIRECTORY_SNAPSHOT.users).
struct DirectoryEntry {
  std::string user_id, server_id, pubkey;
  json::Value meta = json::Object{};  ///< display_name etc.; routing never depends on it
  bool online = false;
  std::optional<std::int64_t> since;  ///< socp: login time (ms) of an online user, for rule R5
  static Result<DirectoryEntry> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// SERVER_HELLO_JOIN, SERVER_HELLO_LINK and SERVER_ANNOUNCE share this payload.
struct ServerHello {
  std::string host;
  std::int64_t port = 0;
  std::string pubkey;
  std::vector<std::string> caps;  ///< "socp/1" from socp servers; absent from others
  static Result<ServerHello> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// SERVER_WELCOME. Reads `servers` or `clients` (peers send one or the other); emits both.
struct ServerWelcome {
  std::string assigned_id;
  std::vector<ServerEntry> servers;
  std::vector<DirectoryEntry> users;  ///< socp: directory snapshot (absent from other peers)
  std::vector<std::string> caps;
  static Result<ServerWelcome> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// USER_ADVERTISE. pubkey read from top-level or meta.pubkey; emitted in both places.
struct UserAdvertise {
  std::string user_id, server_id, pubkey;
  json::Value meta = json::Object{};
  std::optional<std::int64_t> since;  ///< socp: login time (ms) for the two-logins tie-break
  static Result<UserAdvertise> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// USER_REMOVE.
struct UserRemove {
  std::string user_id, server_id;
  static Result<UserRemove> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// DIRECTORY_SNAPSHOT (socp extension): every local user of `server_id`.
struct DirectorySnapshot {
  std::string server_id;
  std::vector<DirectoryEntry> users;
  static Result<DirectorySnapshot> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// SERVER_DELIVER {user_id, ciphertext, sender, sender_pub, content_sig, orig_ts} plus socp's
/// `inner_type` (default "USER_DELIVER") and any further fields of the inner frame (`extra`,
/// e.g. file_id/index for files) carried alongside.
struct ServerDeliver {
  std::string user_id, sender, ciphertext, sender_pub, content_sig;
  std::optional<std::int64_t> orig_ts;
  std::string inner_type;  ///< empty = a direct message
  json::Object extra;      ///< other fields, passed through to the inner frame
  static Result<ServerDeliver> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// USER_HELLO {client, pubkey, enc_pubkey, meta}.
struct UserHello {
  std::string client, pubkey, enc_pubkey;
  json::Value meta = json::Object{};
  static Result<UserHello> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// USER_REGISTER {user_id, pubkey, privkey_store, pake_password, meta} (socp extension).
struct UserRegister {
  std::string user_id, pubkey, privkey_store, pake_password;
  json::Value meta = json::Object{};
  static Result<UserRegister> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// KEY_RECOVER {user_id, proof} and its answer KEY_RECOVER_RESPONSE {user_id, privkey_store}.
struct KeyRecover {
  std::string user_id, proof;
  static Result<KeyRecover> from_json(const json::Value& v);
  json::Value to_json() const;
};
struct KeyRecoverResponse {
  std::string user_id, privkey_store;
  static Result<KeyRecoverResponse> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// PUBKEY_REQUEST {user_id} / PUBKEY_RESPONSE {user_id, pubkey, server_id, dir_sig}.
struct PubkeyRequest {
  std::string user_id;
  static Result<PubkeyRequest> from_json(const json::Value& v);
  json::Value to_json() const;
};
struct PubkeyResponse {
  std::string user_id, pubkey, server_id, dir_sig;
  static Result<PubkeyResponse> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// LIST_RESPONSE {users:[{user_id, display_name, server_id, online, pubkey}], online_users}.
struct ListEntry {
  std::string user_id, display_name, server_id, pubkey;
  bool online = false;
  static Result<ListEntry> from_json(const json::Value& v);
  json::Value to_json() const;
};
struct ListResponse {
  std::vector<ListEntry> users;          ///< sorted by user_id
  std::vector<std::string> online_users; ///< sorted
  static Result<ListResponse> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// MSG_DIRECT {ciphertext, sender_pub, content_sig}.
struct MsgDirect {
  std::string ciphertext, sender_pub, content_sig;
  static Result<MsgDirect> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// USER_DELIVER {ciphertext, sender, sender_pub, content_sig}.
struct UserDeliver {
  std::string ciphertext, sender, sender_pub, content_sig;
  static Result<UserDeliver> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// FILE_START {file_id, name, size, sha256, mode}; FILE_CHUNK {file_id, index, ciphertext};
/// FILE_END {file_id}. mode is "dm" or "public".
struct FileStart {
  std::string file_id, name, sha256, mode;
  std::int64_t size = 0;
  static Result<FileStart> from_json(const json::Value& v);
  json::Value to_json() const;
};
struct FileChunk {
  std::string file_id, ciphertext;
  std::int64_t index = 0;
  static Result<FileChunk> from_json(const json::Value& v);
  json::Value to_json() const;
};
struct FileEnd {
  std::string file_id;
  static Result<FileEnd> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// ACK {msg_ref} (+ server_id, server_pub when acknowledging USER_HELLO).
struct Ack {
  std::string msg_ref, server_id, server_pub;
  static Result<Ack> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// ERROR {code, detail} (+ socp's optional msg_ref naming the frame type that failed).
struct ErrorMsg {
  std::string code, detail, msg_ref;
  static Result<ErrorMsg> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// meta.display_name if a non-empty string, else the id.
std::string display_name_of(const json::Value& meta, const std::string& id);

}  // namespace socp::msg
