// socp/messages.h — typed payloads for every SOCP message socp sends or reads.
//
// Each struct has `static Result<T> from_json(const json::Value& payload)` (strict: BadFrame
// naming the missing/mistyped field; TooLarge is left to the envelope parser) and
// `json::Value to_json() const` (the payload object socp emits). Unknown payload fields are
// ignored by from_json; forwarding code keeps the original json::Value instead.
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "socp/json.h"
#include "socp/result.h"

namespace socp::msg {

/// A server as listed in SERVER_WELCOME.servers / .clients.
struct ServerEntry {
  std::string server_id, host;
  std::int64_t port = 0;
  std::string pubkey;
  std::vector<std::string> caps;  ///< socp: the server's announced capabilities, if known
  static Result<ServerEntry> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// A directory entry (SERVER_WELCOME.users, DIRECTORY_SNAPSHOT.users).
struct DirectoryEntry {
  std::string user_id, server_id, pubkey;
  json::Value meta = json::Object{};  ///< display_name etc.; routing never depends on it
  bool online = false;
  std::optional<std::int64_t> since;  ///< socp: login time (ms) of an online user, for rule R5
  /// socp: the user's signed login proof {hello, sig} (null = none), see UserAdvertise.
  json::Value proof;
  static Result<DirectoryEntry> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// SERVER_HELLO_JOIN, SERVER_HELLO_LINK and SERVER_ANNOUNCE share this payload.
struct ServerHello {
  std::string host;
  std::int64_t port = 0;
  std::string pubkey;
  std::vector<std::string> caps;  ///< "socp/1" from socp servers; absent from others
  /// socp link proof (docs/protocol-notes.md "Links"): a fresh nonce of the sender and the
  /// nonce it answers (the other side's), both base64url; empty when absent.
  std::string nonce, peer_nonce;
  static Result<ServerHello> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// SERVER_WELCOME. Reads `servers` or `clients` (peers send one or the other); emits both.
struct ServerWelcome {
  std::string assigned_id;
  std::vector<ServerEntry> servers;
  std::vector<DirectoryEntry> users;  ///< socp: directory snapshot (absent from other peers)
  std::vector<std::string> caps;
  /// The introducer's own id and key (some peers learn the introducer only from these).
  std::string server_id, server_pub;
  /// socp link proof: the introducer's fresh nonce and the joiner's nonce it answers.
  std::string nonce, peer_nonce;
  static Result<ServerWelcome> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// USER_ADVERTISE. pubkey read from top-level or meta.pubkey; emitted in both places. An advert
/// without any key (some implementations send location only) parses with an empty pubkey.
struct UserAdvertise {
  std::string user_id, server_id, pubkey;
  json::Value meta = json::Object{};
  std::optional<std::int64_t> since;  ///< socp: login time (ms) for the two-logins tie-break
  /// socp: the user's login proof {"hello": <signed USER_HELLO payload>, "sig": <its
  /// signature>} (null = none). Only a proven login may displace a user online elsewhere.
  json::Value proof;
  static Result<UserAdvertise> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// SERVER_INTRODUCE (socp extension): an introducer vouches for a server it admitted, so the
/// servers that trust that introducer accept the newcomer's links.
struct ServerIntroduce {
  std::string server_id, host;
  std::int64_t port = 0;
  std::string pubkey;
  std::vector<std::string> caps;
  static Result<ServerIntroduce> from_json(const json::Value& v);
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
  /// socp paging (docs/protocol-notes.md "Paged answers"): a snapshot too large for one frame
  /// travels as `pages` frames sharing the id `snapshot` (increasing per origin), `page` from 0.
  /// All three 0 = one frame.
  std::int64_t snapshot = 0, page = 0, pages = 0;
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
  std::string msg_id;      ///< socp: see MsgDirect
  json::Value parts;       ///< socp: see MsgDirect
  bool is_public = false;  ///< see MsgDirect (`public`, emitted only when true)
  json::Object extra;      ///< other fields, passed through to the inner frame
  static Result<ServerDeliver> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// USER_HELLO {client, pubkey, enc_pubkey, meta}.
struct UserHello {
  std::string client, pubkey, enc_pubkey;
  json::Value meta = json::Object{};
  /// socp: the envelope `ts`, repeated inside the signed payload so a captured hello cannot be
  /// replayed later with a fresh envelope `ts` (required on signed hellos).
  std::optional<std::int64_t> ts;
  /// socp: with a USER_CHALLENGE, the server id and nonce the signed hello is bound to.
  std::string server_id, nonce;
  /// socp: what the client understands ("socp/1": receipts, USER_DELIVER_BATCH, and it
  /// acknowledges deliveries with DELIVERY_ACK).
  std::vector<std::string> caps;
  static Result<UserHello> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// USER_REGISTER {user_id, pubkey, privkey_store, pake_password, meta} (socp extension).
struct UserRegister {
  std::string user_id, pubkey, privkey_store, pake_password;
  json::Value meta = json::Object{};
  std::optional<std::int64_t> ts;  ///< socp: envelope `ts` inside the signed payload
  std::string invite;              ///< socp: an invitation token, when the server requires one
  static Result<UserRegister> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// USER_CHALLENGE {nonce, server_id} (socp extension; unsigned, answers
/// USER_CHALLENGE_REQUEST {}).
struct UserChallenge {
  std::string nonce, server_id;
  static Result<UserChallenge> from_json(const json::Value& v);
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
  /// socp: the dialect of the user's home server when it is not a socp server ("g43",
  /// "g56", "g17", "plain"; empty = socp). Clients pick the content signature that server's
  /// clients verify, and send /all there as direct messages (docs/interop.md).
  std::string server_dialect;
  /// socp: client capabilities of the user (e.g. kFileBulkCapability), listed only when the
  /// user's home server speaks socp/1 (so every hop can carry socp's extension frames).
  std::vector<std::string> caps;
  static Result<ListEntry> from_json(const json::Value& v);
  json::Value to_json() const;
};
/// LIST_REQUEST {} or, socp paging, {after, limit}: the users sorted after `after` ("" = from
/// the first), at most `limit` of them (0 = as many as fit in one frame).
struct ListRequest {
  std::string after;
  std::int64_t limit = 0;
  static Result<ListRequest> from_json(const json::Value& v);
  json::Value to_json() const;
};

struct ListResponse {
  std::vector<ListEntry> users;           ///< sorted by user_id
  std::vector<std::string> online_users;  ///< sorted
  /// socp paging: non-empty when more users follow; ask again with {after: next}.
  std::string next;
  static Result<ListResponse> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// MSG_DIRECT {ciphertext, sender_pub, content_sig}.
struct MsgDirect {
  std::string ciphertext, sender_pub, content_sig;
  /// socp: the sender's id for this message (receipts and duplicate suppression key on it;
  /// empty from clients that send none), and for a piece of a longer text its place in it
  /// ({id, index, count}; null for a whole message).
  std::string msg_id;
  json::Value parts;
  /// A copy of a /all post sent as a direct message (to users whose servers have no socp
  /// public channel; some implementations mark their /all this way).
  bool is_public = false;
  static Result<MsgDirect> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// USER_DELIVER {ciphertext, sender, sender_pub, content_sig}.
struct UserDeliver {
  std::string ciphertext, sender, sender_pub, content_sig;
  std::string msg_id;      ///< socp: see MsgDirect
  json::Value parts;       ///< socp: see MsgDirect
  bool is_public = false;  ///< see MsgDirect
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

// ---- bulk files (socp extension, docs/protocol.md "Bulk files") ---------------------------
// Limits every FILE_BULK_* decoder enforces (untrusted input: BadFrame, never a throw).
inline constexpr std::int64_t kBulkMinChunkBytes = 1024;
inline constexpr std::int64_t kBulkMaxChunkBytes = 512 * 1024;
inline constexpr std::int64_t kBulkMaxChunks = 4096;
inline constexpr std::size_t kBulkMaxFileId = 128;
inline constexpr std::size_t kBulkMaxName = 1024;

/// FILE_BULK_START {file_id, name, size, chunk_size, chunks, chunk_sha256:[hex...], sha256,
/// wrapped_key, sender_pub, content_sig} (+ `sender` when relayed). from_json checks the shape
/// and the internal consistency: file_id 1..128 chars, chunk_size in [kBulkMinChunkBytes,
/// kBulkMaxChunkBytes], chunks == max(1, ceil(size / chunk_size)) <= kBulkMaxChunks, one
/// 64-hex digest per chunk, sha256 64 hex (digests are lowercased). Signatures are the
/// caller's business (the receiving client checks content_sig against the pinned key).
struct FileBulkStart {
  std::string file_id, name, sha256, wrapped_key, sender_pub, content_sig;
  std::int64_t size = 0, chunk_size = 0, chunks = 0;
  std::vector<std::string> chunk_sha256;
  static Result<FileBulkStart> from_json(const json::Value& v);
  json::Value to_json() const;
};
/// FILE_BULK_CHUNK {file_id, index, last, ciphertext} (+ `sender` when relayed). ciphertext is
/// base64url of the AEAD output (ciphertext || 16-byte tag), at most kBulkMaxChunkBytes + 16
/// bytes once decoded (checked on the encoded length here).
struct FileBulkChunk {
  std::string file_id, ciphertext;
  std::int64_t index = 0;
  bool last = false;
  static Result<FileBulkChunk> from_json(const json::Value& v);
  json::Value to_json() const&;
  /// The same, moving the (large) ciphertext into the result instead of copying it.
  json::Value to_json() &&;
};
/// FILE_BULK_ACK {file_id, received, status, reason}: `received` chunks (0..received-1) were
/// verified and written; status "ok" (keep going), "done" (file complete and verified) or
/// "failed" (the receiver dropped the transfer; reason says why, at most 200 bytes).
struct FileBulkAck {
  std::string file_id, status, reason;
  std::int64_t received = 0;
  static Result<FileBulkAck> from_json(const json::Value& v);
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

/// BadFrame naming the first field of the object `payload` that is not in `allowed` (strict
/// parsing of frames that change the directory or a server's address).
Status require_only_fields(const json::Value& payload,
                           std::initializer_list<std::string_view> allowed,
                           const char* what = "payload");

// ---- delivery: store and forward, receipts (docs/protocol-notes.md "Nothing lost") ----------

/// A stored message as it is handed to its recipient in USER_DELIVER_BATCH.
struct DeliveredMessage {
  std::string msg_id, sender, sender_pub, ciphertext, content_sig;
  std::int64_t ts = 0;  ///< the original message's ts (content_sig covers it)
  json::Value parts;    ///< null or {id, index, count}
  static Result<DeliveredMessage> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// USER_DELIVER_BATCH {messages:[...]} (server -> socp client): stored messages at login, in
/// order, at most 64 per frame (one server signature for all of them).
struct UserDeliverBatch {
  std::vector<DeliveredMessage> messages;
  static Result<UserDeliverBatch> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// DELIVERY_ACK {ids:[msg_id...]} (socp client -> server, unsigned): these messages reached
/// the client; the server may forget them and tells their senders "delivered".
struct DeliveryAck {
  std::vector<std::string> ids;
  static Result<DeliveryAck> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// One failed message in a receipt.
struct FailedReceipt {
  std::string msg_id, sender, code, reason;  ///< sender: only between servers
  static Result<FailedReceipt> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// RECEIPTS {queued:[ids], delivered:[ids], failed:[{msg_id, code, reason}]} (server -> the
/// sender's client), batched.
struct Receipts {
  std::vector<std::string> queued, delivered;
  std::vector<FailedReceipt> failed;
  static Result<Receipts> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// A message named between servers: {sender, msg_id}.
struct MessageRef {
  std::string sender, msg_id;
  static Result<MessageRef> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// DELIVERY_RECEIPTS {acked:[refs], delivered:[refs], failed:[{sender, msg_id, code, reason}]}
/// (server -> server, socp/1): `acked` = the recipient's server holds it durably (the sender's
/// server may drop it from its outbox); `delivered` = the recipient's client has it.
struct DeliveryReceipts {
  std::vector<MessageRef> acked, delivered;
  std::vector<FailedReceipt> failed;
  static Result<DeliveryReceipts> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// meta.display_name if a non-empty string, else meta.username (another implementation's
/// name for it), else the id.
std::string display_name_of(const json::Value& meta, const std::string& id);

// ---- public channel (docs/protocol.md §6, docs/protocol-notes.md "Public channel")
// --------------- Sender keys: every member has its own channel key K (32 bytes,
// XChaCha20-Poly1305) and hands it to each other member RSA-OAEP-wrapped (KEY_SHARE). Servers relay
// and store only wrapped keys; they never hold a K.

/// MSG_PUBLIC_CHANNEL. From a client: {ciphertext, key_id, sender_pub, content_sig} (the
/// sender is the envelope's `from`). From a server: the same plus `sender`.
/// ciphertext = base64url(nonce(24) || XChaCha20-Poly1305-IETF ciphertext); content_sig as for
/// DMs in its public form (ciphertext bytes || sender || decimal ts).
struct MsgPublicChannel {
  std::string sender;  ///< empty (omitted) in client frames
  std::string ciphertext, key_id, sender_pub, content_sig;
  static Result<MsgPublicChannel> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// One wrapped copy of a sender's channel key: wrapped = base64url(RSA-OAEP(member key, K)),
/// sig = base64url PSS(sender key) over share_sig_message(sender, member, key_id, wrapped).
struct ChannelShare {
  std::string member, wrapped, sig;
  static Result<ChannelShare> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// PUBLIC_CHANNEL_KEY_SHARE, live form: {sender, key_id, shares, creator_pub, content_sig}
/// (`sender` omitted by clients: it is the envelope's `from`). content_sig = PSS(sender key)
/// over key_share_content(sender, key_id, shares); creator_pub = the sender's public key.
struct PublicChannelKeyShare {
  std::string sender;  ///< empty (omitted) in client frames
  std::string key_id, creator_pub, content_sig;
  std::vector<ChannelShare> shares;
  static Result<PublicChannelKeyShare> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// One share a server kept for a member (stored form, sent to the member at login).
struct StoredChannelShare {
  std::string sender, key_id, wrapped, sig, creator_pub;
  static Result<StoredChannelShare> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// PUBLIC_CHANNEL_KEY_SHARE, stored form: {shares:[{sender, key_id, wrapped, sig,
/// creator_pub}]} — no top-level key_id (that is how the two forms are told apart).
struct PublicChannelStoredShares {
  std::vector<StoredChannelShare> shares;
  static Result<PublicChannelStoredShares> from_json(const json::Value& v);
  json::Value to_json() const;
  /// True if `payload` is in the stored form (an object without a top-level "key_id").
  static bool is_stored_form(const json::Value& payload);
};

/// PUBLIC_CHANNEL_UPDATED {version, members:[ids sorted], wraps:[]}. socp always sends
/// `wraps` empty (keys travel in KEY_SHARE) and ignores a received one.
struct PublicChannelUpdated {
  std::int64_t version = 0;
  std::vector<std::string> members;
  static Result<PublicChannelUpdated> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// PUBLIC_CHANNEL_ADD {user_id, version} (server to server; informational).
struct PublicChannelAdd {
  std::string user_id;
  std::int64_t version = 0;
  static Result<PublicChannelAdd> from_json(const json::Value& v);
  json::Value to_json() const;
};

/// The UTF-8 bytes a per-share `sig` covers:
/// "socp-share-v1|" + sender + "|" + member + "|" + key_id + "|" + wrapped.
std::string share_sig_message(const std::string& sender, const std::string& member,
                              const std::string& key_id, const std::string& wrapped);
/// The bytes a KEY_SHARE content_sig covers: json::canonical of
/// {"key_id", "sender", "shares":[{member, wrapped, sig}...]} (shares in the order sent).
std::string key_share_content(const std::string& sender, const std::string& key_id,
                              const std::vector<ChannelShare>& shares);

}  // namespace socp::msg
