// socp/server_core.h — the SOCP server as a sans-I/O state machine.
//
// Input events: connection opened/closed, frame received, timer tick, job (signature/password
// hash) done. Output: Actions the runtime performs — send a frame, close a connection, open an
// outgoing link, run a job on a worker thread. The core owns no sockets, threads or clocks (the
// clock is injected), so a whole mesh can be driven deterministically in one test process
// (tests/mesh), while socp::ServerRuntime (runtime.h) drives it with libwebsockets.
//
// Message families are handled in libsocp/src/core/server/handle_*.cpp; this class is the
// dispatcher plus the per-connection state and the ordered, sign-once outbox.
// Thread-safety: not thread-safe; every call on one thread (the service thread).
// Errors: bad input from peers never throws; it becomes an ERROR frame or a close
// (docs/protocol.md) and a counter increment (see counters()).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "socp/crypto.h"
#include "socp/directory.h"
#include "socp/jobs.h"
#include "socp/protocol.h"
#include "socp/result.h"
#include "socp/server_counters.h"
#include "socp/store.h"

namespace socp {

/// Connection id. Ids with kOutgoingBit set are allocated by the core for links it dials;
/// the runtime allocates the others for accepted connections.
using ConnId = std::uint64_t;
inline constexpr ConnId kOutgoingBit = ConnId{1} << 63;

enum class LogLevel { Debug, Info, Warn, Error };
using LogFn = std::function<void(LogLevel, std::string_view)>;

struct Action {
  enum class Kind {
    Send,     ///< send `text` on `conn`
    Close,    ///< close `conn` with `close_code` / `text` as reason (after queued sends)
    Connect,  ///< open an outgoing WebSocket to host:port; the runtime then calls on_open(conn)
              ///< when connected, or on_close(conn) if it fails
    RunJob,   ///< run `job` (run_job) off the loop, then call on_job_done
    SetFrameLimit,  ///< from now on, messages on `conn` may be at most `limit` bytes (the
                    ///< runtime closes with 1009 beyond it). Accepted connections start at
                    ///< the pre-authentication limit; the core raises it after a login or a
                    ///< server handshake.
    Commit,  ///< (ServerConfig::commit_off_loop only) call `store->apply(*batch)` on a thread
             ///< other than the loop's, then on_commit_done(epoch, status) on the loop
             ///< thread. At most one Commit is outstanding at a time.
  };
  Kind kind = Kind::Send;
  ConnId conn = 0;
  std::string text;
  int close_code = 1000;
  std::string host;
  std::uint16_t port = 0;
  Job job;
  std::size_t limit = 0;                    ///< SetFrameLimit
  std::shared_ptr<const WriteBatch> batch;  ///< Commit: the writes (shared, immutable)
  Store* store = nullptr;                   ///< Commit: the store the core was built on
  std::uint64_t epoch = 0;                  ///< Commit: hand back to on_commit_done
};

struct Introducer {
  std::string host;
  std::uint16_t port = 0;
  std::string pubkey;  ///< optional: pinned key of the introducer (empty = learn on first use)
};

/// Who may join the mesh through this server (SERVER_HELLO_JOIN).
enum class JoinPolicy {
  Open,       ///< any server (the zero-config default for servers listening on loopback)
  Allowlist,  ///< only servers whose key (or id) is in ServerConfig::allowed_servers
  Closed,     ///< nobody
};

struct ServerConfig {
  std::string host = "127.0.0.1";  ///< host we advertise to peers
  std::uint16_t port = kDefaultPort;
  std::vector<Introducer> introducers;
  Limits limits;
  /// Accept unsigned USER_HELLO and register unknown ids on first hello (TOFU), for other
  /// implementations' clients. Off by default.
  bool compat_unsigned_hello = false;
  std::size_t max_password_jobs_in_flight = 2;
  /// Store commits run off the loop thread as Commit actions (group commit: one commit in
  /// flight; everything written meanwhile goes into the next). A frame leaves only once every
  /// write made before it (and in its own turn) is durable, as with in-turn commits. false:
  /// each turn commits its writes before returning (simple embedders, tests). The store must
  /// then allow apply() from another thread while the loop thread reads (LmdbStore does).
  bool commit_off_loop = false;
  std::size_t max_password_jobs_queued = 64;
  PssSalt salt = PssSalt::Max;
  std::int64_t heartbeat_ms = kHeartbeatIntervalMs;
  std::int64_t link_dead_ms = kLinkDeadAfterMs;
  /// Reconnect backoff: 1 s doubling up to this cap, each delay jittered down by up to 25 %.
  /// docs/protocol.md suggests 60 s; socp caps at one heartbeat period (15 s) so a healed partition
  /// converges within one heartbeat period (docs/protocol-notes.md).
  std::int64_t reconnect_max_ms = kHeartbeatIntervalMs;
  LogFn log;  ///< may be empty
  /// The lowest level worth formatting: at Debug the core also logs every frame it handles.
  LogLevel log_level = LogLevel::Info;
  /// Remote address of a connection ("ip:port") for log lines; may be empty (no addresses).
  std::function<std::string(ConnId)> peer_address;
  /// Seed for reconnect jitter (deterministic tests).
  std::uint64_t jitter_seed = 0x50c9;

  // ---- admission (docs/protocol-notes.md "Admission") --------------------------------------
  JoinPolicy join_policy = JoinPolicy::Open;
  /// Servers (by key in any accepted form, or by id) that may join through us or link to us
  /// without being introduced.
  std::vector<std::string> allowed_servers;
  /// Servers (key or id) whose SERVER_INTRODUCE we accept, besides the introducers we joined
  /// through.
  std::vector<std::string> trusted_introducers;
  /// Peer servers this server keeps at most; further unknown servers are refused.
  std::size_t max_peers = 64;
  /// A server unreachable this long is forgotten (its pin, address and offline users).
  std::int64_t forget_after_ms = 7LL * 24 * 3600 * 1000;
  /// Users that may be located at one remote server.
  std::size_t max_users_per_server = 100'000;

  // ---- connections that have not proved who they are ------------------------------------
  std::size_t max_frame_unauthenticated = 64u << 10;  ///< 64 KiB
  std::int64_t unauth_idle_ms = 10'000;               ///< closed after this long without a frame
  std::int64_t unauth_max_ms = 60'000;                ///< ... and this long in all
  std::int64_t link_handshake_ms = 10'000;  ///< a server link must prove itself within this
  /// A USER_HELLO without a USER_CHALLENGE must be signed within this of our clock (with a
  /// challenge: kHelloClockSkewMs).
  std::int64_t hello_window_ms = 2 * 60'000;

  // ---- signatures a connection may cause (token buckets, per second / burst) -------------
  double user_sign_rate = 256, user_sign_burst = 1024;
  double bulk_sign_rate = 1024, bulk_sign_burst = 2048;
  double server_sign_rate = 2048, server_sign_burst = 8192;
  /// Frames dropped while a connection is over its budget before it is closed.
  int budget_drops_before_close = 64;
  /// Signatures waiting for the signing pool; beyond, new work is refused (BUSY / dropped).
  std::size_t max_sign_queue = 8192;
  /// Largest canonical `meta` stored per user (bytes); larger metas are refused.
  std::size_t max_meta_bytes = 2048;
  /// How often the core looks for operator commands and settings in the store (ms).
  std::int64_t admin_poll_ms = 1000;

  // ---- nothing lost (docs/protocol-notes.md "Nothing lost") -------------------------------
  /// A user's mailbox (messages kept for them until their client acknowledges them).
  std::size_t mailbox_max_messages = 1000;
  std::size_t mailbox_max_bytes = 16u << 20;
  /// The outbox towards one server (messages waiting for that server's hop acknowledgement).
  std::size_t outbox_max_messages = 100'000;
  std::size_t outbox_max_bytes = 256u << 20;
  /// Kept messages expire after this (the sender is told: failed, TIMEOUT).
  std::int64_t message_ttl_ms = 7LL * 24 * 3600 * 1000;
  /// Receipts wait at most this long to be sent in a batch.
  std::int64_t receipt_delay_ms = 100;

  // ---- other implementations (docs/interop.md) ----------------------------------------------
  /// The dialect of particular servers, as "SERVER_ID=dialect" or "HOST:PORT=dialect" with
  /// dialect one of socp, plain, g43, g56, g17 (otherwise detected from what they send).
  std::vector<std::string> peer_dialects;
};

/// Store settings the core reads (written by `socp-server admin`, see docs/deploy.md):
///   "registration"      "open" (default), "closed", or "invite" (USER_REGISTER must carry an
///                       `invite` token that exists as setting "invite/<token>"; used once)
///   "command/<id>"      an operator command for a running server: "delete-user <user_id>" or
///                       "forget-server <server_id>"; done within admin_poll_ms, then removed
inline constexpr const char* kSettingRegistration = "registration";
inline constexpr const char* kSettingInvitePrefix = "invite/";
inline constexpr const char* kSettingCommandPrefix = "command/";

class ServerCore {
 public:
  /// `store` must outlive the core. `server_pub` is this server's public key; the private half
  /// lives only in the runtime's signing pool. `clock` returns Unix milliseconds.
  ServerCore(ServerConfig cfg, std::string server_id, PublicKey server_pub, Store& store,
             std::function<std::int64_t()> clock);
  ~ServerCore();
  ServerCore(const ServerCore&) = delete;
  ServerCore& operator=(const ServerCore&) = delete;

  /// Loads the directory and pinned servers from the store and starts joining the mesh
  /// (Connect actions to the first introducer). Errors from the store are returned.
  Status start();

  void on_open(ConnId conn);
  void on_frame(ConnId conn, std::string_view frame);
  void on_close(ConnId conn);
  /// The transport saw the connection alive without a data frame (a WebSocket ping or pong):
  /// it counts as activity for the dead-link rule (the profile lets heartbeats rely on them).
  void on_activity(ConnId conn);
  /// Timers: heartbeats, dead-link detection, reconnects, timeouts. Call at least every second.
  void on_tick();
  void on_job_done(JobResult result);
  /// A Commit action finished (loop thread): frames waiting for it may leave. On failure the
  /// writes are kept and retried (after a second), and the frames leave anyway, as with an
  /// in-turn commit that fails (ServerCore::Stats::store_ok turns false).
  void on_commit_done(std::uint64_t epoch, Status status);
  /// Commits every write not committed yet on the calling thread (at shutdown, once the loop
  /// has stopped and no Commit action is running). A Commit that ran but whose result never
  /// reached the loop must be reported with on_commit_done first; one still outstanding is
  /// taken to have never run, and its writes are committed here. Returns the commit's status.
  Status commit_pending();
  /// Politely closes every connection (clean shutdown).
  void shutdown();

  /// Actions produced since the last call, in order.
  std::vector<Action> take_actions();

  // ---- introspection (tests, logs, embedders) ---------------------------------------------
  const std::string& server_id() const noexcept;
  const PublicKey& server_pub() const noexcept;
  DirectoryService& directory() noexcept;
  /// Server ids with an authenticated live link.
  std::vector<std::string> linked_servers() const;
  /// Named counters with a non-zero value (names of socp/server_counters.h, plus
  /// signatures_requested and signatures_reused). The reference stays valid until the next
  /// call.
  const std::map<std::string, std::uint64_t>& counters() const noexcept;
  /// One counter.
  std::uint64_t counter(Counter c) const noexcept;
  /// Signatures a connection has caused so far (0 for an unknown connection).
  std::uint64_t signatures_caused(ConnId conn) const;
  /// Forgets a server now (operator command): its pin, its address and the offline users last
  /// seen there; a live link to it is closed. False if it was not known.
  bool forget_server(const std::string& server_id);
  /// Deletes a local account now (operator command): its session is closed, its record and
  /// account removed. False if there is no such account here.
  bool delete_account(const std::string& user_id);

  /// Applies what can change without a restart (SIGHUP): log, limits, admission lists and
  /// policy, peer and user caps, timers of unauthenticated connections, signature budgets
  /// (for connections opened from now on), compat mode. Listening address, identity and
  /// introducers are kept.
  void reload(const ServerConfig& cfg);

  struct Stats {
    std::size_t users_known = 0;      ///< directory records
    std::size_t users_online = 0;     ///< online anywhere in the mesh
    std::size_t sessions = 0;         ///< users logged in here
    std::size_t servers_known = 0;    ///< pinned peers
    std::size_t links_up = 0;         ///< authenticated server links
    std::size_t connections = 0;      ///< open connections of every kind
    std::size_t sign_queue = 0;       ///< signatures requested and not done yet
    std::size_t password_queue = 0;   ///< Argon2id jobs waiting or running
    std::size_t queued_messages = 0;  ///< messages kept in mailboxes and outboxes
    bool store_ok = true;             ///< the last store commit succeeded
    std::uint64_t store_commits = 0;  ///< store commits attempted (one per loop turn at most)
    double store_commit_seconds = 0;  ///< their total wall time
    std::int64_t started_at = 0;      ///< clock at start() (ms)
  };
  Stats stats() const;

  /// Labelled counts for /metrics: frames received by wire type ("unknown" for types socp
  /// does not know), frames sent by wire type, ERRORs sent by wire code.
  struct LabelledCounts {
    std::map<std::string, std::uint64_t, std::less<>> frames_in, frames_out, errors;
  };
  LabelledCounts labelled_counts() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace socp
