// Private: ClientCore's state. The behaviour is split by job:
//   client_core.cpp      dispatch of frames/commands, queue, timeouts, close/outcome
//   client_session.cpp   register / recover / hello / ACK / ERROR (getting logged in)
//   client_presence.cpp  USER_ADVERTISE, USER_REMOVE, LIST_RESPONSE, PUBKEY_RESPONSE
//   client_messages.cpp  /tell (encrypt + sign) and USER_DELIVER (verify + decrypt)
//   client_public.cpp    /all and the public channel (sender keys, key shares, posts)
//   client_commands.cpp  command-line parsing; client_directory.cpp pinned keys;
//   client_events.cpp    event JSON builders
//   client_delivery.cpp  receipts, USER_DELIVER_BATCH, DELIVERY_ACK, long texts, resends,
//                        /wait (with client_outgoing.h, client_incoming.h)
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/client/client_commands.h"
#include "core/client/client_directory.h"
#include "core/client/client_files.h"
#include "core/client/client_incoming.h"
#include "core/client/client_outgoing.h"
#include "core/client/client_public.h"
#include "socp/client_core.h"
#include "socp/envelope.h"
#include "socp/messages.h"

namespace socp {

struct ClientCore::Impl {
  enum class Phase { Idle, Registering, Recovering, Challenging, LoggingIn, Ready, Closed };
  /// What running a command needs next.
  enum class Step { Done, NeedList };

  explicit Impl(ClientConfig c) : cfg(std::move(c)) {}

  ClientConfig cfg;
  Phase phase = Phase::Idle;
  std::int64_t phase_since = 0;
  bool connected = false;
  bool want_close = false;
  bool input_done = false;
  ClientOutcome outcome = ClientOutcome::Running;
  std::optional<ClientOutcome> fatal;  ///< set by fail(); becomes the outcome on close
  std::string failure_code;
  std::string recovered_vault;
  std::int64_t last_ts = 0;
  std::int64_t finish_since = 0;  ///< input ended and nothing else pending: since when

  // Server identity, pinned from the ACK of USER_HELLO.
  std::string server_id;
  std::optional<PublicKey> server_pub;

  client::ClientDirectory dir;

  // Commands waiting for login or for a directory refresh, in order, with their ids.
  struct Queued {
    std::string line;
    std::uint64_t cmd = 0;
  };
  std::deque<Queued> queue;
  // LIST_REQUESTs in flight, oldest first: visible = the user asked (/list, whose command id
  // is cmd), else a silent refresh on behalf of a queued command.
  struct ListAsk {
    bool visible = false;
    std::uint64_t cmd = 0;
  };
  std::deque<ListAsk> lists_in_flight;
  /// Ids of the pages received so far of a paged LIST_RESPONSE (the list event waits for the
  /// last page).
  std::vector<std::string> list_pages;
  /// Learns the users of one LIST_RESPONSE page (names, homes, keys) and appends their ids.
  void learn_list_page(const std::vector<msg::ListEntry>& entries, std::vector<std::string>& ids);
  bool list_blocking = false;  ///< the queue waits for the refresh
  std::int64_t list_since = 0;
  bool list_received = false;  ///< a LIST_RESPONSE arrived since login (or timed out)

  // /tell texts waiting for a PUBKEY_RESPONSE, by recipient id.
  struct AwaitKey {
    std::vector<std::pair<std::string, std::uint64_t>> texts;  ///< (text, command id)
    std::int64_t since = 0;
  };
  std::map<std::string, AwaitKey> await_key;

  std::vector<std::string> frames;
  std::vector<json::Value> events;

  client::FileTransfers files;   ///< client_files_send.cpp / client_files_recv.cpp
  client::ChannelState channel;  ///< public channel (client_public.cpp)

  // ---- client_core.cpp
  std::int64_t now() const { return cfg.clock ? cfg.clock() : 0; }
  std::int64_t next_ts();
  /// The command being answered (0 = none): emit() adds it to events as "cmd".
  std::uint64_t cur_cmd = 0;
  void emit(json::Value e);
  void set_phase(Phase p);
  /// Serializes and queues a frame; signs the payload with our key when `sign`.
  bool send(MessageType type, const std::string& to, std::int64_t ts, json::Value payload,
            bool sign);
  /// Ends the session: error event, wants_close, outcome on close.
  void fail(ClientOutcome o, const std::string& code, const std::string& detail,
            const std::string& msg_ref);
  void drain();
  void maybe_finish();
  Step run_command(const client::Command& c);
  void request_list(bool user_visible);
  /// Keeps the session for a reconnect (ClientCore::on_disconnected).
  void disconnect();
  const std::string& me() const { return cfg.user_id; }
  /// `to` of frames for the server: its id once known, else "*" (never "": other
  /// implementations close the connection on an empty `to`).
  std::string server_to() const { return server_id.empty() ? std::string("*") : server_id; }

  // ---- client_pins.cpp: trust across sessions (cfg.trust)
  std::optional<PublicKey> expected_server_key;  ///< cfg.server_key, parsed
  std::int64_t last_save = 0;
  bool save_warned = false;
  /// Parses cfg.server_key and loads the trust store's contact pins (constructor).
  void load_trust();
  /// Writes new pins to the trust store: now if `force`, else at most once a second.
  void persist(bool force);
  /// The trust store's pin for our server address, or nullptr.
  const ServerPin* server_pin() const;
  /// Checks the key in the ACK of USER_HELLO against --server-key and the stored pin, then
  /// pins it with the server id and caps. False when refused (key_changed emitted, failed).
  bool accept_server_key(const std::string& id, const PublicKey& offered,
                         std::vector<std::string> caps);

  // ---- client_session.cpp
  /// Capabilities the ACK of USER_REGISTER announced in this session.
  std::vector<std::string> session_caps;
  /// The hello went out bound to a server challenge (reported in "logged_in").
  bool hello_challenged = false;
  void start_session();
  /// Logs in: USER_CHALLENGE_REQUEST first when the server is known to speak socp/1
  /// (pinned caps, or the caps of this session's register ACK), else a plain signed hello.
  void begin_login();
  /// A signed USER_HELLO; with a challenge, its nonce and server_id go inside the payload.
  void send_hello(const std::string& nonce = {}, const std::string& challenge_server = {});
  void on_challenge(const Envelope& env);
  void on_prelogin_frame(const Envelope& env);
  void on_ack_hello(const Envelope& env);
  void on_recover_response(const Envelope& env);
  void on_error_frame(const Envelope& env, bool prelogin);

  // ---- client_presence.cpp
  void on_advertise(const Envelope& env);
  void on_remove(const Envelope& env);
  void on_list_response(const Envelope& env);
  void on_pubkey_response(const Envelope& env);
  /// Offers a key for a user; emits key_changed when it differs from the pinned one.
  void offer_key(const std::string& user_id, const std::string& key_text,
                 const std::string& source);

  // ---- client_messages.cpp
  Step cmd_tell(const std::string& target, const std::string& text);
  /// /all: a public channel post (implemented in client_public.cpp).
  Step cmd_all(const std::string& text);
  /// Encrypts and sends `text` to `u` (pinned key required), emits "sent" or "error".
  void send_text(const client::KnownUser& u, const std::string& text);
  /// One MSG_DIRECT of an encrypted piece (content_sig over a fresh ts); false (with an
  /// error event) on a crypto failure.
  /// /all towards members on servers without socp/1 (they do not relay the channel): one
  /// MSG_DIRECT {public: true} per such member (client_public_foreign.cpp). Returns how many.
  std::size_t send_public_to_foreign(const std::string& text);
  bool send_piece(const std::string& to, const std::string& ciphertext_b64,
                  const std::string& msg_id, const json::Value& parts);
  void on_user_deliver(const Envelope& env);

  // ---- client_delivery.cpp (docs/protocol-notes.md "Nothing lost")
  /// The server announced socp/1 in the ACK of USER_HELLO: it sends receipts and keeps
  /// messages until we acknowledge them.
  bool server_socp = false;
  bool was_logged_in = false;  ///< a login succeeded before (a reconnect is a re-login)
  client::OutgoingDms outgoing;
  client::SeenIds seen;
  client::Reassembly reassembly;
  std::vector<std::string> pending_acks;  ///< sent as one DELIVERY_ACK after each frame
  std::uint64_t messages_received = 0;    ///< DMs shown (a long text counts once)
  std::int64_t parts_timeout_ms = 60'000;
  /// One incoming DM (from USER_DELIVER or a USER_DELIVER_BATCH entry), server sig checked.
  struct Incoming {
    std::string msg_id, sender, sender_pub, ciphertext, content_sig;
    std::int64_t ts = 0;
    json::Value parts;
  };
  void on_incoming(const Incoming& m);
  void on_deliver_batch(const Envelope& env);
  void on_receipts(const Envelope& env);
  void flush_acks();
  /// After a re-login: sends every DM without a receipt again (same msg_id, fresh ts).
  void resend_unacknowledged();
  void tick_delivery();
  // /wait: the queue stops until the condition holds or the deadline passes.
  struct Wait {
    bool active = false;
    std::uint64_t cmd = 0;
    bool receipts = false;       ///< every DM at least queued
    bool delivered = false;      ///< every DM delivered or failed
    std::uint64_t messages = 0;  ///< this many messages received in the session
    std::int64_t deadline = 0;
  } wait;
  Step cmd_wait(const std::string& args);
  /// Ends the wait if its condition holds (ok) or its deadline passed.
  void check_wait();

  // ---- client_files_send.cpp
  /// /file <target> <path>; target "all" = public mode.
  Step cmd_file(const std::string& target, const std::string& path);
  /// Sends the chunks due now (pacing), FILE_END and file_sent when a file is through.
  void pump_files();
  /// An ERROR naming one of our outgoing files (file_id): cancels it. True if it was one.
  bool on_file_error(const Envelope& env);
  /// Sends a DM file with the RSA chunks of docs/protocol.md §6 (also the fallback of bulk).
  void send_file_rsa(const client::KnownUser& recipient, const std::string& path);
  // ---- client_files_bulk_send.cpp (docs/protocol.md "Bulk files")
  /// Hashes and seals `path` chunk by chunk, sends the signed FILE_BULK_START. False (an
  /// event emitted) if it could not start.
  bool start_bulk(const client::KnownUser& recipient, const std::string& path);
  /// Sends the chunks each bulk transfer's window allows.
  void pump_bulk();
  /// FILE_BULK_ACK from a recipient (flow control and outcome).
  void on_bulk_ack(const Envelope& env);
  /// An ERROR naming one of our bulk sends: before any chunk was confirmed the file falls
  /// back to RSA chunks, else it fails. True if it was about a bulk frame.
  bool on_bulk_error(const Envelope& env);
  // ---- client_files_bulk_recv.cpp
  /// FILE_BULK_START / FILE_BULK_CHUNK from the server (a chunk carries no server signature;
  /// the signed manifest covers it).
  void on_bulk_frame(const Envelope& env);
  /// FILE_BULK_ACK {status} for a transfer we receive.
  void send_bulk_ack(const std::string& to, const std::string& file_id, std::int64_t received,
                     const std::string& status, const std::string& reason = {});
  /// Bulk transfers silent for cfg.file_timeout_ms fail (both directions).
  void tick_bulk();
  // ---- client_files_recv.cpp
  /// FILE_START / FILE_CHUNK / FILE_END from the server (its signature already verified).
  void on_file_frame(const Envelope& env);
  /// Incoming files silent for cfg.file_timeout_ms fail; then pump_files().
  void tick_files();
  /// The connection is gone: every transfer in progress fails with `reason`.
  void abort_files(const std::string& reason);
};

}  // namespace socp
