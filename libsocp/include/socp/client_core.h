// socp/client_core.h — the SOCP user client as a sans-I/O state machine (socp-cli's engine).
//
// Input: the connection came up (on_connected), a text frame arrived (on_frame), the
// connection went away (on_closed), the user typed a command line (command), stdin ended
// (input_closed), time passed (on_tick). Output: frames to send (take_frames), events for the
// user interface (take_events), and whether the client wants its connection closed
// (wants_close). The core owns no socket, thread or clock (the clock is injected), so tests
// drive it against a scripted fake server.
//
// Unlike the server, the client does its RSA work inline (sign USER_HELLO/USER_REGISTER and
// MSG_DIRECT, content_sig, OAEP encrypt/decrypt, ~3 ms each) and opens the recovered key vault
// inline (Argon2id, ~50 ms): it is an interactive program with one connection.
//
// Flows (docs/protocol-notes.md, docs/protocol.md §6):
//   Register  USER_REGISTER (signed by the new key) → ACK{msg_ref:USER_REGISTER} → "registered"
//             event → [challenge] → USER_HELLO → ACK{msg_ref:USER_HELLO} → "logged_in".
//   Login     [challenge] → USER_HELLO (signed) → ACK → "logged_in".
//   Recover   KEY_RECOVER {user_id (or display name), proof} → KEY_RECOVER_RESPONSE → vault
//             opened with the password → "recovered" event → [challenge] → USER_HELLO → ACK.
//   [challenge] only when the server is known to speak socp/1 (caps of the pinned server, or
//             of this session's USER_REGISTER ACK): USER_CHALLENGE_REQUEST {} (to = the pinned
//             server id, else "*") → USER_CHALLENGE {nonce, server_id} (unsigned) → the signed
//             USER_HELLO payload carries that nonce and server_id, so it is good for this
//             connection only. Otherwise (first contact, other implementations) a plain signed
//             hello. A socp/1 server that refuses the challenge ends the session (no silent
//             downgrade). An ACK with msg_ref USER_HELLO_OK is taken as the hello's ACK.
// Frames before the server id is known are addressed to "*", never to "".
// The ACK of USER_HELLO pins `server_pub` (its own `sig` must verify with it); from then on
// every server frame must carry a `sig` that verifies with the pinned key, otherwise it is
// dropped with a "warning" event (or a "rejected" event for USER_DELIVER). User keys are
// pinned by user id on first sight (LIST_RESPONSE, USER_ADVERTISE, PUBKEY_RESPONSE, or the
// `sender_pub` of a first USER_DELIVER): a different key later is reported as "key_changed"
// and the OLD key is kept — never silently replaced.
//
// Trust across sessions (ClientConfig::trust): contact keys pinned in earlier sessions are
// loaded at construction (a different key is a "key_changed" as above), and the server key is
// pinned per address (`server_label`). A server that later presents another key is refused:
// "key_changed" with kind "server", then the session ends as AuthFailed with code
// SERVER_KEY_CHANGED (unless accept_new_server_key). New pins are written as they are learned
// (at most once a second for contacts, at once for the server, and at the end).
//
// Commands (one line each): /list, /tell <user> <text> (alias /msg), /all <text>,
// /file <user> <path>, /file all <path>, /whoami, /verify <user>, /wait ..., /help, /quit.
// <user> is a user id or an exact (case-sensitive) display name. Lines typed before login,
// while a directory refresh is pending, or during /wait, are queued and run in order
// afterwards. A command may carry an id (command(line, id)): every event answering it, now or
// later (sent, list, queued/delivered/failed receipts, errors), carries it as "cmd".
//
// Nothing lost (docs/protocol-notes.md "Nothing lost"): the hello announces caps ["socp/1"].
// Every DM piece carries a fresh msg_id; a text over one OAEP block (446 bytes) goes as pieces
// sharing parts {id, index, count}, each encrypted and content-signed on its own, and the
// receiver shows them as one message. RECEIPTS become "queued" / "delivered" / "failed"
// events per DM. USER_DELIVER_BATCH and USER_DELIVER are verified, shown once per
// (sender, msg_id) and acknowledged with DELIVERY_ACK. DMs without a receipt yet are kept;
// after a reconnect (on_disconnected, then on_connected again: the key stays in memory, the
// login needs no password) they are sent again with the same msg_id and a fresh ts.
//
// Events are json::Value objects with an "event" member; the schema is stable and documented
// in client/README-json.md (socp-cli --json prints them one per line).
//
// Thread-safety: not thread-safe; call everything from one thread (socp-cli: the WsHost loop).
// Errors: nothing here throws on bad input. Server errors and local failures become "error"
// events; failures that end the session set outcome() and wants_close().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "socp/bytes.h"
#include "socp/client_trust.h"
#include "socp/crypto.h"
#include "socp/json.h"

namespace socp {

enum class ClientMode { Register, Login, Recover };

/// How a session ended (or Running). socp-cli maps these to exit codes 0/2/2/3/4.
enum class ClientOutcome {
  Running,         ///< not closed yet
  Done,            ///< closed after /quit, end of input or a requested close
  ConnectFailed,   ///< closed before the connection ever came up
  ConnectionLost,  ///< closed by the peer or the network without an error
  AuthFailed,      ///< login/register/recover refused (BAD_KEY, INVALID_SIG, NAME_IN_USE,
                   ///< USER_NOT_FOUND, BAD_PASSWORD) or the server's ACK did not verify
  ProtocolError,   ///< any other fatal error (e.g. BUSY, TIMEOUT, malformed server answers)
};

struct ClientConfig {
  ClientMode mode = ClientMode::Login;
  /// Our user id (Register, Login). Recover: the id if known, else empty and
  /// `recover_name` is sent instead.
  std::string user_id;
  /// Display name sent in meta.display_name (Register/Login/Recover).
  std::string display_name;
  /// Our private key (Register, Login). Empty for Recover (it comes from the vault).
  std::optional<PrivateKey> key;
  /// Register: the sealed private key (KeyVault::seal) and the password verifier
  /// (derive_password_verifier(password, user_id)), both prepared by the caller.
  std::string privkey_store;
  std::string pake_password;
  /// Recover: identifier sent as KEY_RECOVER.user_id when `user_id` is empty, the proof
  /// (password verifier) and the password that opens the returned vault (wiped when done).
  std::string recover_name;
  std::string recover_proof;
  SecretBytes password;
  /// Sent as USER_HELLO.client.
  std::string client_name = "socp-cli/0.1.0";
  /// "host:port", reported in the "connected" event only.
  std::string server_label;
  /// Unix milliseconds. Required.
  std::function<std::int64_t()> clock;
  /// Timeouts (ms): login/register/recover answer, a directory refresh, a PUBKEY_RESPONSE.
  std::int64_t login_timeout_ms = 30'000;
  std::int64_t request_timeout_ms = 10'000;
  /// Files (/file, docs/protocol-notes.md "Files"). Received files are written only inside
  /// `download_dir` (created 0700 if missing; empty = receiving files is refused). Files over
  /// `max_file_size` bytes are neither sent nor accepted. An incoming file fails when no frame
  /// of it arrived for `file_timeout_ms`. Outgoing chunks are paced at
  /// `file_chunks_per_second` (0 = as fast as possible) so the servers' signing keeps up.
  std::string download_dir;
  std::uint64_t max_file_size = 64u << 20;
  std::int64_t file_timeout_ms = 30'000;
  std::uint32_t file_chunks_per_second = 256;
  /// Incoming files reassembled at the same time (each buffered in memory until verified).
  std::size_t max_incoming_files = 4;
  /// Bulk files (socp extension, docs/protocol.md "Bulk files"): announce "file-bulk/1" in
  /// the hello meta, and send DM files as FILE_BULK_* (XChaCha20-Poly1305 in 256 KiB chunks,
  /// not paced) to recipients whose LIST_RESPONSE entry lists that capability. Off: neither
  /// announced nor used (every file takes the RSA chunks of docs/protocol.md §6).
  bool file_bulk = true;
  /// Largest frame accepted from the server (bytes); larger ones are dropped with a warning.
  /// A LIST_RESPONSE carries every user's RSA-4096 key (~0.9 KB per user, 10,000 users
  /// ~ 9 MB), so this is well above the 1 MiB a server accepts from a user. The transport in
  /// front of the core must accept frames of this size too (socp-cli: --max-frame-size sets
  /// both).
  std::size_t max_frame_bytes = 64u << 20;
  /// Trust across sessions (socp/client_trust.h): the server key pinned for `server_label`
  /// and every contact key pinned before. nullptr = pins last for this session only.
  std::shared_ptr<TrustStore> trust;
  /// The server key expected in the ACK of USER_HELLO (any form PublicKey::parse accepts;
  /// socp-cli --server-key); it overrides the stored pin and is pinned once it matched.
  /// Empty = the stored pin, or the first key seen.
  std::string server_key;
  /// Accept (and re-pin) a server key that differs from the stored pin, with a warning
  /// (socp-cli --accept-new-server-key). Never applies to --server-key or contact keys.
  bool accept_new_server_key = false;
};

class ClientCore {
 public:
  explicit ClientCore(ClientConfig cfg);
  ~ClientCore();
  ClientCore(const ClientCore&) = delete;
  ClientCore& operator=(const ClientCore&) = delete;

  /// The WebSocket is open: emits "connected" and sends the first frame of the mode.
  void on_connected();
  /// One text frame from the server. Malformed or unverifiable frames become warnings.
  void on_frame(std::string_view text);
  /// The connection is gone (for any reason): emits "closed" and settles outcome().
  void on_closed();
  /// The connection is gone but the caller will connect again (only if can_reconnect()):
  /// transfers in progress fail, everything else is kept (queued commands, DMs without
  /// receipts, pins). The next on_connected() logs in again (Login mode, same key); once
  /// logged in, "reconnected" {resent} is emitted and the unacknowledged DMs go out again.
  void on_disconnected();
  /// True when a lost connection may be followed by a new one: a login succeeded before and
  /// the session did not end (no /quit, no fatal error, not closed).
  bool can_reconnect() const noexcept;
  /// DMs sent whose pieces are not all acknowledged by the server yet (no receipt).
  std::size_t unacknowledged() const noexcept;
  /// One command line from the user (no trailing newline needed); `cmd_id` (0 = none) is
  /// repeated as "cmd" in the events that answer it.
  void command(std::string_view line, std::uint64_t cmd_id = 0);
  /// No more commands will come: once every queued command has run (and nothing is pending),
  /// wants_close() becomes true.
  void input_closed();
  /// Drives timeouts; call about once a second.
  void on_tick();

  /// Serialized envelopes to send, in order, since the last call.
  std::vector<std::string> take_frames();
  /// Events since the last call, in order (objects with an "event" string member).
  std::vector<json::Value> take_events();
  /// True once the client wants the connection closed (after the frames already taken).
  bool wants_close() const noexcept;
  ClientOutcome outcome() const noexcept;
  /// Wire code of the error that ended the session ("" if none).
  const std::string& failure_code() const noexcept;

  /// After "registered"/"recovered"/"logged_in": our user id (the server's, after recovery).
  const std::string& user_id() const noexcept;
  /// After "recovered": the sealed private key the server returned (a KeyVault blob the
  /// caller may store as-is; it is sealed under the same password).
  const std::string& recovered_vault() const noexcept;
  /// True between the ACK of USER_HELLO and on_closed().
  bool logged_in() const noexcept;
  /// Every user the client knows of (directory, presence, messages; ourselves included once
  /// logged in) as (user id, display name) pairs, sorted by display name then id. For
  /// presentation (e.g. tab completion); like everything here, call it on the core's thread
  /// and hand other threads a copy.
  std::vector<std::pair<std::string, std::string>> known_users() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/// Splits UTF-8 text into pieces of at most `max_bytes` bytes, never inside a code point
/// (an ill-formed byte counts as one unit). Empty text gives no pieces. max_bytes >= 4.
std::vector<std::string> split_utf8(std::string_view text, std::size_t max_bytes);

/// "abcd ef01 ..." — a hex fingerprint in groups of four, for humans.
std::string format_fingerprint(std::string_view hex);

}  // namespace socp
