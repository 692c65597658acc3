// ServerCore::Impl — the state of one server, and the narrow operations handlers use.
//
// Shape: handlers decide, one applier acts. Handlers (handle_*.cpp, one file per message
// family) are free functions taking (Impl&, Conn&, const Envelope&). They read state through
// the members below and change the world only through `s.out` (core::Applier: frames, errors,
// closes, dials, jobs, frame limits) and through the directory and the store, whose writes the
// applier commits once per loop turn. Policies live in the applier: what an ERROR may say and
// whether it closes, which signatures a connection is charged for, when a turn's writes commit.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/server/admission.h"
#include "core/server/applier.h"
#include "core/server/dialect.h"
#include "core/server/file_relay.h"
#include "core/server/login_guard.h"
#include "core/server/mail_queues.h"
#include "core/server/receipts.h"
#include "core/server/sign_book.h"
#include "core/server/sign_budget.h"
#include "socp/crypto.h"
#include "socp/directory.h"
#include "socp/envelope.h"
#include "socp/messages.h"
#include "socp/seen_cache.h"
#include "socp/server_core.h"
#include "socp/server_counters.h"
#include "store/batching_store.h"

namespace socp {

namespace core {

enum class Role {
  Unknown,      ///< accepted, nothing proven yet (may be mid-registration or mid-challenge)
  User,         ///< logged-in user session
  Server,       ///< authenticated server link (incoming or outgoing)
  Joining,      ///< outgoing connection to an introducer, waiting for SERVER_WELCOME
  Dialing,      ///< outgoing connection to a known peer (not yet open, or waiting for its
                ///< answering hello: see LinkHandshake)
  LinkPending,  ///< accepted server connection whose hello checked out; waiting for the
                ///< dialer's proof (SERVER_ANNOUNCE with our nonce)
};

struct OutFrame {
  std::shared_ptr<SignedPayload> sp;
  Envelope header;  ///< type/from/to/ts/extra; payload+sig come from sp
  /// File traffic: a bulk frame still waiting for its signature never holds back the non-bulk
  /// frames queued behind it (bulk frames keep their own order). See Applier::flush.
  bool bulk = false;
  std::uint64_t lane = 0;  ///< SendOpts::lane: order is kept per lane on server links
  /// Leaves once the store epoch it was created in is committed (commit_off_loop; else 0).
  std::uint64_t need_epoch = 0;
};

/// The challenge-response that makes a server link count as up (docs/protocol-notes.md,
/// "Links"): each side sends a fresh nonce, and each side's signed hello/announce carries the
/// other's nonce together with both server ids (signed context from/to).
struct LinkHandshake {
  std::string peer_id;     ///< the server we expect on this connection
  std::string my_nonce;    ///< the nonce we sent; the peer must sign it back as peer_nonce
  std::string host;        ///< the peer's address and key as its hello stated them
  std::uint16_t port = 0;  ///<
  std::string pubkey;      ///<
  bool socp = false;       ///< the peer announced socp/1
  bool join = false;       ///< introducer side of a SERVER_HELLO_JOIN
  std::string introduced_by;
  std::int64_t started = 0;
};

struct Conn {
  ConnId id = 0;
  Role role = Role::Unknown;
  bool outgoing = false;
  bool closing = false;        ///< close requested: no new frames, close once the outbox drains
  bool close_emitted = false;  ///< the Close action went out
  int close_code = 1000;
  std::string close_reason;
  std::string user_id;    ///< Role::User
  std::string server_id;  ///< Role::Server / Joining / Dialing / LinkPending (expected peer)
  std::int64_t opened_at = 0;
  std::int64_t last_rx = 0;
  std::int64_t last_sig_error = -1'000'000'000;
  int bad_frames = 0;
  int recover_attempts = 0;
  bool auth_in_flight = false;       ///< a register/recover job is running for this connection
  std::size_t introducer_index = 0;  ///< Role::Joining
  std::deque<OutFrame> outbox;
  std::size_t bulk_queued = 0;  ///< how many frames in `outbox` are bulk
  /// Non-bulk frames in `outbox` per lane (OutFrame::lane): flush() stops scanning once
  /// every lane present has a frame waiting.
  std::unordered_map<std::uint64_t, std::size_t> lane_frames;
  /// Bulk transfers this user is sending (file_id -> chunks relayed, chunks its recipient
  /// acknowledged): the sender's server enforces the flow-control window, so a client that
  /// ignores FILE_BULK_ACK cannot fill queues along the path (handle_file_bulk.cpp).
  struct BulkWindow {
    std::int64_t sent = 0, received = 0;
  };
  std::map<std::string, BulkWindow> bulk_out;
  SignBudget budget;
  int errors_in_window = 0;  ///< ERRORs sent to this user in the current window
  std::int64_t error_window_start = 0;
  std::string challenge;  ///< USER_CHALLENGE nonce issued on this connection (single use)
  /// Role::User: the client announced socp/1 (it takes receipts and batches and acknowledges
  /// deliveries); others get plain USER_DELIVERs, counted delivered once handed over.
  bool acks = false;
  LinkHandshake link;
  /// A connection a server without socp/1 opened to us: its frames are received (each still
  /// verified), but socp sends to that server only on a connection socp dialed.
  bool receive_only = false;
  /// A server hello from a server not introduced yet: held until its introduction arrives
  /// (SERVER_INTRODUCE from a trusted introducer) or the connection times out.
  std::optional<Envelope> awaiting_intro;
  /// Still unidentified, taken as the socket this server (a dialect that dials back, G43)
  /// opened in answer to our hello: not closed as idle while our link to it is up.
  std::string back_socket_of;
  /// Role::User with acks (delivery_coalescing.h): the last delivery frame handed to the
  /// signer, and the DMs parked while it waits for its signature.
  std::shared_ptr<SignedPayload> delivery_signing;
  std::vector<msg::DeliveredMessage> parked_deliveries;
  /// A socp/1 server link whose peer announced deliver-batch/1 (takes SERVER_DELIVER_BATCH).
  bool deliver_batch = false;
  /// Such a link: per lane, the last SERVER_DELIVER(_BATCH) handed to the signer and the
  /// SERVER_DELIVER payloads parked while it waits (delivery_coalescing.h).
  struct ParkedForwards {
    std::shared_ptr<SignedPayload> signing;
    std::vector<json::Value> deliveries;
    std::size_t unacked = 0;  ///< sent on this link, not acknowledged by the peer yet
  };
  std::map<std::uint64_t, ParkedForwards> parked_forwards;
};

struct Peer {
  std::string server_id, host;
  std::uint16_t port = 0;
  std::string pubkey;  ///< base64url DER, pinned
  std::optional<PublicKey> key;
  bool socp_caps = false;
  std::string introduced_by;
  ConnId link = 0;             ///< live authenticated link, 0 if none
  ConnId dialing = 0;          ///< outgoing attempt in progress
  std::int64_t next_dial = 0;  ///< earliest next reconnect attempt
  std::int64_t backoff = kReconnectMinMs;
  std::int64_t last_hb_sent = 0;
  std::int64_t last_seen = 0;         ///< last time a link was up (persisted)
  std::int64_t last_snapshot_ts = 0;  ///< ts of the newest DIRECTORY_SNAPSHOT applied
  /// A paged snapshot being received: its id, pages seen, entries so far (bounded).
  struct PendingSnapshot {
    std::int64_t id = 0, pages = 0;
    std::set<std::int64_t> seen;
    std::vector<msg::DirectoryEntry> users;
    bool refused = false;  ///< over the user cap: this id never completes
  } pending_snapshot;
  core::Dialect dialect = core::Dialect::Plain;  ///< Socp once it announced socp/1
  bool dialect_set_by_operator = false;
  /// dials_back(dialect): until when the socket it opens in answer to our hello is expected,
  /// and the one taken as such (dialect.h).
  std::int64_t back_socket_until = 0;
  ConnId back_socket = 0;
  /// socp/1: the servers this peer said it is linked to, in its last HEARTBEAT (`links`).
  /// Presence from one of them is not forwarded to it: the origin sent it directly
  /// (forward_servers). Empty until its first heartbeat, and cleared when our link drops.
  std::set<std::string> links;
};

/// A frame signed once, lazily (on its first recipient), then resent as is: the current
/// USER_ADVERTISE of each online user, which every user who logs in later receives too.
struct SharedFrame {
  MessageType type = MessageType::UserAdvertise;
  std::string to;
  std::int64_t ts = 0;
  json::Value payload;  ///< without its signed context (added when signed)
  std::shared_ptr<SignedPayload> sp;
};

struct PublicState;  ///< public channel state (public_channel.h, handle_public.cpp)

}  // namespace core

struct ServerCore::Impl {
  Impl(ServerConfig cfg, std::string id, PublicKey pub, Store& store,
       std::function<std::int64_t()> clock);

  // ---- configuration and collaborators ----
  ServerConfig cfg;
  std::string self_id;
  PublicKey self_pub;
  /// Every write of a loop turn goes here; the applier commits them together.
  store::BatchingStore store;
  std::function<std::int64_t()> clock;
  DirectoryService dir;
  SeenCache seen;
  PublicKeyCache keys;
  core::SignBook signer;
  core::Applier out;
  core::Admission admission;
  core::LoginGuard logins;
  core::FileFailures file_failures;  ///< handle_file.cpp
  core::MailQueues queues;           ///< mailboxes and outboxes (handle_deliver.cpp)
  core::ReceiptBatches receipts;
  /// (recipient|sender|msg_id) of messages delivered and forgotten lately: a resend whose hop
  /// acknowledgement got lost is acknowledged again, not delivered twice.
  SeenCache delivered_recently{100'000, 24LL * 3600 * 1000};
  std::int64_t last_expiry_scan = 0;
  /// Public channel state, created on first use (handle_public.cpp; shared_ptr because the
  /// type is incomplete here).
  std::shared_ptr<core::PublicState> public_channel;

  // ---- state ----
  std::map<ConnId, core::Conn> conns;
  std::map<std::string, ConnId> sessions;  ///< user id -> connection
  std::set<ConnId> parked_delivery_conns;  ///< connections with parked deliveries
  std::map<std::string, core::Peer> peers;
  /// Adverts without a key (location only), waiting for the PUBKEY_RESPONSE of their home
  /// server: user id -> (origin, advert).
  std::map<std::string, std::pair<std::string, Envelope>> keyless_adverts;
  /// dials_back peers whose socket back to us is expected now (Peer::back_socket_until).
  std::set<std::string> back_sockets_expected;
  /// The current USER_ADVERTISE (to users) of every online user, signed on first use.
  std::unordered_map<std::string, core::SharedFrame> user_adverts;
  std::array<std::uint64_t, kCounterCount> counter_values{};
  std::map<std::string, std::uint64_t> counter_map;  ///< counters() view, rebuilt on demand
  std::unordered_map<std::uint64_t, std::function<void(JobResult&&)>> job_conts;
  std::unordered_map<std::uint64_t, ConnId> job_owner;  ///< job id -> connection it serves
  std::deque<Job> password_queue;
  std::size_t password_in_flight = 0;
  std::uint64_t next_job_id = 1;
  ConnId next_out_conn = kOutgoingBit | 1;
  bool joined = false;  ///< got a SERVER_WELCOME in this run (or no introducers)
  std::int64_t next_join_attempt = 0;
  std::int64_t join_backoff = kReconnectMinMs;
  std::size_t join_index = 0;
  ConnId join_conn = 0;
  bool stopping = false;
  std::int64_t last_forget_scan = 0;
  std::int64_t last_admin_poll = 0;
  std::int64_t started_at = 0;
  bool store_ok = true;
  /// Frames by wire type in and out, ERRORs by code (for /metrics).
  std::map<std::string, std::uint64_t, std::less<>> frames_in_by_type, frames_out_by_type,
      errors_by_code;
  std::uint64_t commit_count = 0;  ///< store commits attempted (for /metrics)
  double commit_seconds = 0;       ///< their total wall time
  // Commits off the loop (ServerConfig::commit_off_loop): frames wait for committed_epoch.
  std::uint64_t committed_epoch = 0;
  std::shared_ptr<const WriteBatch> commit_in_flight;  ///< null: none
  std::uint64_t commit_epoch = 0;                      ///< epoch of commit_in_flight
  std::int64_t commit_retry_at = 0;  ///< after a failed commit, the next try (clock ms)
  std::chrono::steady_clock::time_point commit_started{};
  std::mt19937_64 rng;

  // ---- helpers used by handlers ----
  std::int64_t now() const { return clock(); }
  /// A timestamp for a frame this server originates: the clock, but strictly increasing, so
  /// two frames this server signs never share a signed context.
  std::int64_t next_ts() {
    last_ts = std::max(now(), last_ts + 1);
    return last_ts;
  }
  std::int64_t last_ts = 0;
  void count(Counter c, std::uint64_t n = 1) { counter_values[static_cast<std::size_t>(c)] += n; }
  void log(LogLevel lvl, const std::string& text) const {
    if (cfg.log) cfg.log(lvl, text);
  }
  core::Conn* conn(ConnId id);
  /// "connection 12 from 203.0.113.5:51234" (the address when the runtime knows it).
  std::string who(ConnId id) const;
  /// A fresh random nonce (base64url of 32 bytes).
  std::string new_nonce();

  /// Runs a job off the loop; `cont` runs with its result on the loop thread, in a turn
  /// charged to `owner` (0 = the server itself).
  void submit_job(Job job, std::function<void(JobResult&&)> cont, ConnId owner = 0);
  /// SignBook's way to hand out a Sign job (continuation completes the book).
  std::uint64_t submit_sign(Job job);
  void pump_password_jobs();

  /// Live links to servers that announced socp/1 (the only ones sent extension frames).
  std::vector<ConnId> socp_links() const;
  /// Live server links (peer id -> conn).
  std::vector<std::pair<std::string, ConnId>> live_links() const;
  /// Sends a signed gossip frame to every linked server (one payload, one ts, to "*").
  void broadcast_servers(MessageType type, const json::Value& payload,
                         const std::string& except_server = {});
  /// Forwards a received frame unchanged to every linked server except `except_server` and
  /// the origin.
  void forward_servers(const Envelope& env, const std::string& except_server);
  /// Sends a signed frame to every logged-in local user (one payload, to "*").
  void broadcast_users(MessageType type, const json::Value& payload,
                       const std::string& except_user = {});
  /// Queues a SharedFrame on a connection (signing it on first use).
  void send_shared(ConnId conn, core::SharedFrame& f);
  /// Every online user's current advert to a user who just logged in (no new signatures
  /// for adverts already signed).
  void send_presence(ConnId conn, const std::string& user_id);

  /// Pinned key of a server (nullptr if unknown).
  const PublicKey* server_key(const std::string& server_id);
  /// True if `server_id` announced socp/1 (so its frames must carry a signed context).
  bool is_socp_server(const std::string& server_id) const;
  /// The dialect socp uses towards the other end of `c` (Socp for users and unknown peers).
  core::Dialect dialect_of(const core::Conn& c) const;
  /// The dialect of a known peer server (Plain for one we do not know, Socp for socp/1).
  core::Dialect dialect_of_server(const std::string& server_id) const;
  /// A frame a server of a dialect that posts in clear (dialect.h, posts_in_clear: G56) sent
  /// on link `c` for one of its users, with the user's id in `from`: returned as that
  /// server's own frame (`from` = the server, payload `sender` = the user, `key_id` = "") if
  /// its signature verifies with the pinned key of the server `c` belongs to and the
  /// directory places the user at that server. nullopt for every other frame (cheap: one
  /// type test), which then goes through the usual checks.
  std::optional<Envelope> adopt_user_frame(const core::Conn& c, const Envelope& env);
  /// What we learned about a server's dialect (an operator's setting wins; only a more
  /// specific guess replaces Plain; socp/1 wins over any guess). Persisted.
  void note_dialect(const std::string& server_id, core::Dialect d);
  /// dials_back peers (G43): we just sent `p` our hello, it opens a socket back to us now.
  void expect_back_socket(core::Peer& p);
  /// An accepted connection, still unidentified: the socket a dials_back peer opens in answer
  /// to our hello, if one is expected (from its host). Such a peer writes nothing there until
  /// it has a frame of its own, so it is not closed as idle while our link to that peer is up.
  void claim_back_socket(core::Conn& c);
  /// True if `c` is such a socket and our link to its server is still up.
  bool keeps_back_socket(const core::Conn& c) const;
  /// The operator's dialect for a server (by id or host:port), if any.
  std::optional<core::Dialect> configured_dialect(const std::string& server_id,
                                                  const std::string& host,
                                                  std::uint16_t port) const;
  /// Registers/pins a peer; BadKey if a different key is pinned. Persists it. `address_ok`:
  /// the host/port may replace the known ones (only on the peer's own authenticated link or
  /// when the peer is new).
  Status pin_peer(const std::string& server_id, const std::string& host, std::uint16_t port,
                  const std::string& pubkey_any, bool socp_caps, bool address_ok,
                  const std::string& introduced_by = {});
  /// A link to `server_id` became authenticated on `c`.
  void link_up(core::Conn& c, const std::string& server_id);
  /// The active link of a peer went away.
  void link_down(const std::string& server_id);
  /// Forgets a server: its pin, its address and the users last seen there (offline).
  void forget_peer(const std::string& server_id, const std::string& why);
  /// Capped exponential backoff with jitter: returns the delay to wait now and doubles
  /// `backoff` (up to cfg.reconnect_max_ms).
  std::int64_t next_backoff(std::int64_t& backoff);
  /// Registers an outgoing connection in `role` and emits the Connect action for it.
  core::Conn& open_outgoing(core::Role role, const std::string& host, std::uint16_t port);
  /// Dials a known peer.
  void dial_peer(core::Peer& p);
  /// Payload socp puts in HELLO_JOIN/HELLO_LINK/ANNOUNCE (plus nonces by the caller).
  json::Value hello_payload() const;
  /// Full sync of local users to one server link.
  void send_sync(ConnId link, bool socp_caps);
  /// The USER_ADVERTISE payload for a directory record (with its login proof, if any).
  json::Value advert_payload(const UserInfo& u) const;
  void on_directory_event(const DirectoryEvent& ev);
  /// True the first time a frame is seen (and remembers it); counts duplicates. The key is
  /// the signed bytes and the signature (socp/1 frames carry their envelope in the signed
  /// context), so a replay under a fresh envelope is still a duplicate.
  bool first_time(const Envelope& env);
  /// The session user's record if `sender_pub` (any accepted key form) is their pinned key,
  /// else nullptr: users may only send under their own registered key.
  const UserInfo* local_sender(const core::Conn& c, const std::string& sender_pub);
  /// A user named as the sender of a frame relayed by server `origin`: their directory record
  /// if they are located at `origin` and `sender_pub` is their pinned key; else nullptr (a peer
  /// server must not speak for users it does not host, nor swap their keys).
  const UserInfo* remote_sender(const std::string& sender, const std::string& sender_pub,
                                const std::string& origin);
  void drop_user_session(core::Conn& c);
  /// Deletes a local account (operator command). False if there is none.
  bool delete_account(const std::string& user_id);
  /// Carries out operator commands found in the store (every cfg.admin_poll_ms).
  void poll_admin();
  /// Sends the receipt batches that are due (all of them when `force`).
  void flush_receipts(bool force);
};

namespace core {
/// One payload fanned out to many recipients with one envelope (type, to, ts): handed to the
/// SignBook on first use only (no recipient, no signature) and then shared by every frame
/// (one signed context, one canonical form, one job).
class FanOut {
 public:
  FanOut(ServerCore::Impl& s, MessageType type, std::string to, json::Value payload,
         std::optional<std::int64_t> ts = std::nullopt, bool bulk = false)
      : s_(s),
        type_(type),
        to_(std::move(to)),
        ts_(ts ? *ts : s.next_ts()),
        payload_(std::move(payload)),
        bulk_(bulk) {}
  /// Queues the shared frame on `conn` (one signature per dialect of the recipients).
  void send(ConnId conn);

 private:
  ServerCore::Impl& s_;
  MessageType type_;
  std::string to_;
  std::int64_t ts_;
  json::Value payload_;
  bool bulk_;
  std::map<Dialect, std::shared_ptr<SignedPayload>> sp_;
};
}  // namespace core

// ---- handler entry points (one file per message family) ------------------------------------
namespace core {
// handle_bootstrap.cpp
void handle_hello_join(ServerCore::Impl& s, Conn& c, const Envelope& env);
void handle_welcome(ServerCore::Impl& s, Conn& c, const Envelope& env);
void handle_hello_link(ServerCore::Impl& s, Conn& c, const Envelope& env);
void handle_introduce(ServerCore::Impl& s, Conn& c, const Envelope& env);
/// An outgoing connection came up: a join starts with HELLO_JOIN, a dial with HELLO_LINK.
void on_outgoing_open(ServerCore::Impl& s, Conn& c);
void start_join(ServerCore::Impl& s);
void on_join_failed(ServerCore::Impl& s, Conn& c);
// handle_presence.cpp
void handle_user_advertise(ServerCore::Impl& s, Conn& c, const Envelope& env);
void handle_user_remove(ServerCore::Impl& s, Conn& c, const Envelope& env);
void handle_directory_snapshot(ServerCore::Impl& s, Conn& c, const Envelope& env);
/// PUBKEY_REQUEST / PUBKEY_RESPONSE between servers (implementations that advertise users
/// without their key).
void handle_server_pubkey_request(ServerCore::Impl& s, Conn& c, const Envelope& env);
void handle_server_pubkey_response(ServerCore::Impl& s, Conn& c, const Envelope& env);
// handle_user_session.cpp
void handle_challenge_request(ServerCore::Impl& s, Conn& c, const Envelope& env);
void handle_user_hello(ServerCore::Impl& s, Conn& c, const Envelope& env);
void handle_user_register(ServerCore::Impl& s, Conn& c, const Envelope& env);
void handle_key_recover(ServerCore::Impl& s, Conn& c, const Envelope& env);
void handle_pubkey_request(ServerCore::Impl& s, Conn& c, const Envelope& env);
// handle_list.cpp
void handle_list_request(ServerCore::Impl& s, Conn& c, const Envelope& env);
// handle_deliver.cpp
void handle_msg_direct(ServerCore::Impl& s, Conn& c, const Envelope& env);
void handle_server_deliver(ServerCore::Impl& s, Conn& c, const Envelope& env);
/// SERVER_DELIVER_BATCH {deliveries: [SERVER_DELIVER payload, ...]} (socp/1, at most 64): each
/// entry as a SERVER_DELIVER under the batch's one signature and signed context.
void handle_server_deliver_batch(ServerCore::Impl& s, Conn& c, const Envelope& env);
void handle_delivery_ack(ServerCore::Impl& s, Conn& c, const Envelope& env);
void handle_delivery_receipts(ServerCore::Impl& s, Conn& c, const Envelope& env);
/// The user's mailbox, in order, to a client that just logged in.
void deliver_mailbox(ServerCore::Impl& s, Conn& c);
/// Paged answers (docs/protocol-notes.md "Paged answers"): the bytes of entries one frame of
/// limit `frame_limit` carries (half of it, at least 64 KiB), and an upper bound of the
/// encoded size of one directory entry.
inline std::size_t page_budget(std::size_t frame_limit) {
  return std::max<std::size_t>(frame_limit / 2, std::size_t{64} << 10);
}
std::size_t entry_bytes(const msg::DirectoryEntry& e);
/// Receipts due for a user who is offline: kept (bounded) and sent at their next login.
void keep_receipts(ServerCore::Impl& s, const std::string& user, msg::Receipts r);
void send_kept_receipts(ServerCore::Impl& s, Conn& c);
/// Everything in the outbox towards a socp/1 server whose link just came up.
void resend_outbox(ServerCore::Impl& s, const std::string& server_id);
/// Expiry of kept messages, and every receipt batch out.
void tick_mail(ServerCore::Impl& s);
// handle_file.cpp
void handle_user_file(ServerCore::Impl& s, Conn& c, const Envelope& env);
/// SERVER_DELIVER whose inner_type is FILE_*: handles it and returns true; false otherwise.
bool handle_file_server_deliver(ServerCore::Impl& s, Conn& c, const Envelope& env);
/// Public-mode FILE_* (to = "public") from a socp server: to every local user.
void handle_server_file(ServerCore::Impl& s, Conn& c, const Envelope& env);
// handle_file_bulk.cpp (socp extension, docs/protocol.md "Bulk files")
/// FILE_BULK_START / FILE_BULK_CHUNK / FILE_BULK_ACK from a local user.
void handle_user_file_bulk(ServerCore::Impl& s, Conn& c, const Envelope& env);
/// SERVER_DELIVER whose inner_type is FILE_BULK_START / FILE_BULK_ACK: handles it and returns
/// true; false otherwise.
bool handle_file_bulk_server_deliver(ServerCore::Impl& s, Conn& c, const Envelope& env);
/// FILE_BULK_CHUNK on a server link. Called BEFORE any signature check: the frame carries
/// none. Taken only from an authenticated socp/1 link whose peer is the envelope's `from`;
/// refused (counted, logged, dropped) from anything else.
void handle_server_file_bulk_chunk(ServerCore::Impl& s, Conn& c, const Envelope& env);
/// True if `c` may be sent FILE_BULK_* frames: a socp client session (it announced socp/1)
/// or an authenticated link to a socp/1 server.
bool takes_bulk(const ServerCore::Impl& s, const Conn& c);
// handle_control.cpp
void handle_server_error(ServerCore::Impl& s, Conn& c, const Envelope& env);
// handle_health.cpp
void tick_health(ServerCore::Impl& s);
/// HEARTBEAT from a server: a socp/1 peer's `links` (handle_health.cpp).
void handle_server_heartbeat(ServerCore::Impl& s, Conn& c, const Envelope& env);
}  // namespace core

}  // namespace socp

namespace socp::core {
/// ERROR to the user on `c`, answering a frame of type `ref` (through the applier's policy).
inline void user_error(ServerCore::Impl& s, const Conn& c, Errc code, const std::string& detail,
                       const std::string& ref) {
  ErrorOpts o;
  o.msg_ref = ref;
  o.to = c.user_id;
  s.out.error(c.id, code, detail, std::move(o));
}
}  // namespace socp::core
