// ServerCore::Impl — the state of one server and the narrow operations handlers use.
//
// Handlers (handle_*.cpp) are free functions taking (Impl&, Conn&, const Envelope&). They read
// state through the members below and act only through the helpers (send_signed, forward,
// send_error, close_conn, submit_job, ...), which turn into Actions.
#pragma once

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

#include "core/server/file_relay.h"
#include "core/server/sign_book.h"
#include "socp/crypto.h"
#include "socp/directory.h"
#include "socp/envelope.h"
#include "socp/messages.h"
#include "socp/seen_cache.h"
#include "socp/server_core.h"

namespace socp {

namespace core {

enum class Role {
  Unknown,  ///< accepted, nothing identified yet (may be mid-registration)
  User,     ///< logged-in user session
  Server,   ///< authenticated server link (incoming or outgoing)
  Joining,  ///< outgoing connection to an introducer, waiting for SERVER_WELCOME
  Dialing,  ///< outgoing connection to a known peer, not yet open
};

struct OutFrame {
  std::shared_ptr<SignedPayload> sp;
  Envelope header;  ///< type/from/to/ts/extra; payload+sig come from sp
  /// File traffic: a bulk frame still waiting for its signature never holds back the non-bulk
  /// frames queued behind it (bulk frames keep their own order). See Impl::flush.
  bool bulk = false;
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
  std::string server_id;  ///< Role::Server / Joining / Dialing (expected peer)
  std::int64_t opened_at = 0;
  std::int64_t last_rx = 0;
  std::int64_t last_sig_error = -1'000'000'000;
  int bad_frames = 0;
  int recover_attempts = 0;
  bool auth_in_flight = false;       ///< a register/recover job is running for this connection
  std::size_t introducer_index = 0;  ///< Role::Joining
  std::deque<OutFrame> outbox;
  std::size_t bulk_queued = 0;  ///< how many frames in `outbox` are bulk
};

struct Peer {
  std::string server_id, host;
  std::uint16_t port = 0;
  std::string pubkey;  ///< base64url DER, pinned
  std::optional<PublicKey> key;
  bool socp_caps = false;
  ConnId link = 0;             ///< live authenticated link, 0 if none
  ConnId dialing = 0;          ///< outgoing attempt in progress
  std::int64_t next_dial = 0;  ///< earliest next reconnect attempt
  std::int64_t backoff = kReconnectMinMs;
  std::int64_t last_hb_sent = 0;
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
  Store& store;
  std::function<std::int64_t()> clock;
  DirectoryService dir;
  SeenCache seen;
  PublicKeyCache keys;
  core::SignBook signer;
  core::FileFailures file_failures;  ///< handle_file.cpp
  /// Public channel state, created on first use (handle_public.cpp; shared_ptr because the
  /// type is incomplete here).
  std::shared_ptr<core::PublicState> public_channel;

  // ---- state ----
  std::map<ConnId, core::Conn> conns;
  std::map<std::string, ConnId> sessions;  ///< user id -> connection
  std::map<std::string, core::Peer> peers;
  std::vector<Action> actions;
  std::map<std::string, std::uint64_t> counters;
  std::unordered_map<std::uint64_t, std::function<void(JobResult&&)>> job_conts;
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
  std::mt19937_64 rng;

  // ---- helpers used by handlers ----
  std::int64_t now() const { return clock(); }
  /// A timestamp for a frame this server originates: the clock, but strictly increasing, so
  /// two frames with identical payloads (a re-login within one millisecond) never share a
  /// seen-cache key.
  std::int64_t next_ts() {
    last_ts = std::max(now(), last_ts + 1);
    return last_ts;
  }
  std::int64_t last_ts = 0;
  void count(const std::string& name, std::uint64_t n = 1) { counters[name] += n; }
  void log(LogLevel lvl, const std::string& text) const {
    if (cfg.log) cfg.log(lvl, text);
  }
  core::Conn* conn(ConnId id);

  /// Queues a frame socp originates: payload signed (once) by this server.
  /// `bulk`: file traffic (OutFrame::bulk, Job::bulk).
  void send_signed(ConnId to_conn, MessageType type, const std::string& to, json::Value payload,
                   std::optional<std::int64_t> ts = std::nullopt, bool bulk = false);
  /// The same with a payload already handed to the SignBook: a fan-out calls sign() once and
  /// queues the shared payload to every recipient (one canonical form, one hash, one job).
  void send_signed(ConnId to_conn, MessageType type, const std::string& to,
                   std::shared_ptr<core::SignedPayload> sp,
                   std::optional<std::int64_t> ts = std::nullopt, bool bulk = false);
  /// Hands `payload` to the SignBook (signed once, shared with identical payloads).
  std::shared_ptr<core::SignedPayload> sign(json::Value payload, bool bulk = false) {
    return signer.get(std::move(payload), bulk);
  }
  /// Queues a frame as received (forwarding unchanged: original from/ts/sig/extra).
  void forward(ConnId to_conn, const Envelope& env);
  /// ERROR {code, detail, msg_ref} to a connection (signed).
  void send_error(ConnId to_conn, Errc code, const std::string& detail,
                  const std::string& msg_ref = {}, const std::string& to = {});
  void close_conn(ConnId id, int code = 1000, const std::string& reason = {});
  /// Writes every ready frame at the head of each outbox.
  void flush(ConnId id);
  void flush_all();
  /// Runs a job off the loop; `cont` runs with its result on the loop thread.
  void submit_job(Job job, std::function<void(JobResult&&)> cont);
  /// SignBook's way to hand out a Sign job (continuation completes the book).
  std::uint64_t submit_sign(Job job);
  void pump_password_jobs();

  /// Live links to servers that announced socp/1 (the only ones sent extension frames).
  std::vector<ConnId> socp_links() const;
  /// Live server links (peer id -> conn).
  std::vector<std::pair<std::string, ConnId>> live_links() const;
  /// Sends a signed gossip frame to every linked server.
  void broadcast_servers(MessageType type, const json::Value& payload,
                         const std::string& except_server = {});
  /// Forwards a received frame unchanged to every linked server except `except_server` and
  /// the origin.
  void forward_servers(const Envelope& env, const std::string& except_server);
  /// Sends a signed frame to every logged-in local user (to = each user).
  void broadcast_users(MessageType type, const json::Value& payload,
                       const std::string& except_user = {});

  /// Pinned key of a server (nullptr if unknown).
  const PublicKey* server_key(const std::string& server_id);
  /// Registers/pins a peer; BadKey if a different key is pinned. Persists it.
  Status pin_peer(const std::string& server_id, const std::string& host, std::uint16_t port,
                  const std::string& pubkey_any, bool socp_caps);
  /// A link to `server_id` became authenticated on `c`.
  void link_up(core::Conn& c, const std::string& server_id);
  /// The active link of a peer went away.
  void link_down(const std::string& server_id);
  /// Capped exponential backoff with jitter: returns the delay to wait now and doubles
  /// `backoff` (up to cfg.reconnect_max_ms).
  std::int64_t next_backoff(std::int64_t& backoff);
  /// Registers an outgoing connection in `role` and emits the Connect action for it.
  core::Conn& open_outgoing(core::Role role, const std::string& host, std::uint16_t port);
  /// Dials a known peer.
  void dial_peer(core::Peer& p);
  /// Payload socp puts in HELLO_JOIN/HELLO_LINK/ANNOUNCE.
  json::Value hello_payload() const;
  /// Full sync of local users to one server link.
  void send_sync(ConnId link, bool socp_caps);
  /// The USER_ADVERTISE payload for a directory record.
  json::Value advert_payload(const UserInfo& u) const;
  void on_directory_event(const DirectoryEvent& ev);
  /// A user named as the sender of a frame relayed by server `origin`: their directory record
  /// if they are located at `origin` and `sender_pub` is their pinned key; else nullptr (a peer
  /// server must not speak for users it does not host, nor swap their keys).
  /// True the first time a frame is seen (and remembers it); counts duplicates.
  bool first_time(const Envelope& env);
  /// The session user's record if `sender_pub` (any accepted key form) is their pinned key,
  /// else nullptr: users may only send under their own registered key.
  const UserInfo* local_sender(const core::Conn& c, const std::string& sender_pub);
  const UserInfo* remote_sender(const std::string& sender, const std::string& sender_pub,
                                const std::string& origin);
  void drop_user_session(core::Conn& c);
};

namespace core {
/// One payload fanned out to many recipients: handed to the SignBook on first use only (no
/// recipient, no signature) and then shared by every frame (one canonical form, one job).
class SharedPayload {
 public:
  SharedPayload(ServerCore::Impl& s, json::Value payload, bool bulk = false)
      : s_(s), payload_(std::move(payload)), bulk_(bulk) {}
  const std::shared_ptr<SignedPayload>& get();

 private:
  ServerCore::Impl& s_;
  json::Value payload_;
  bool bulk_;
  std::shared_ptr<SignedPayload> sp_;
};
}  // namespace core

// ---- handler entry points (one file per message family) ------------------------------------
namespace core {
// handle_bootstrap.cpp
void handle_hello_join(ServerCore::Impl& s, Conn& c, const Envelope& env);
void handle_welcome(ServerCore::Impl& s, Conn& c, const Envelope& env);
void handle_hello_link(ServerCore::Impl& s, Conn& c, const Envelope& env);
void start_join(ServerCore::Impl& s);
void on_join_failed(ServerCore::Impl& s, Conn& c);
// handle_presence.cpp
void handle_user_advertise(ServerCore::Impl& s, Conn& c, const Envelope& env);
void handle_user_remove(ServerCore::Impl& s, Conn& c, const Envelope& env);
void handle_directory_snapshot(ServerCore::Impl& s, Conn& c, const Envelope& env);
// handle_user_session.cpp
void handle_user_hello(ServerCore::Impl& s, Conn& c, const Envelope& env);
void handle_user_register(ServerCore::Impl& s, Conn& c, const Envelope& env);
void handle_key_recover(ServerCore::Impl& s, Conn& c, const Envelope& env);
void handle_pubkey_request(ServerCore::Impl& s, Conn& c, const Envelope& env);
// handle_list.cpp
void handle_list_request(ServerCore::Impl& s, Conn& c, const Envelope& env);
// handle_deliver.cpp
void handle_msg_direct(ServerCore::Impl& s, Conn& c, const Envelope& env);
void handle_server_deliver(ServerCore::Impl& s, Conn& c, const Envelope& env);
// handle_file.cpp
void handle_user_file(ServerCore::Impl& s, Conn& c, const Envelope& env);
/// SERVER_DELIVER whose inner_type is FILE_*: handles it and returns true; false otherwise.
bool handle_file_server_deliver(ServerCore::Impl& s, Conn& c, const Envelope& env);
/// Public-mode FILE_* (to = "public") from a socp server: to every local user.
void handle_server_file(ServerCore::Impl& s, Conn& c, const Envelope& env);
// handle_control.cpp
void handle_server_error(ServerCore::Impl& s, Conn& c, const Envelope& env);
// handle_health.cpp
void tick_health(ServerCore::Impl& s);
}  // namespace core

}  // namespace socp
