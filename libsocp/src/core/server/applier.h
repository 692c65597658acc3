// Private: core::Applier — the one place where the server core acts.
//
// Handlers decide; the applier performs. Everything a handler wants to happen to the outside
// world goes through here: frames this server signs (with their signed context), frames
// forwarded unchanged, ERRORs (through one policy), closes, dials, jobs and frame limits. The
// applier keeps the per-connection outboxes in order (a frame leaves once its signature is
// ready), charges every signature a turn creates to the connection that caused the turn
// (SignBudget), and at the end of each turn commits the turn's store writes in one
// transaction before any of the turn's frames can leave (the runtime takes the actions after
// the entry point returns).
//
// ERROR policy (docs/protocol-notes.md "Errors"):
//   * to a connection that has not proved who it is: one of a few fixed payloads (code and a
//     fixed text; msg_ref only from a fixed set), no signed context, signed once per process;
//   * to a user: {code, detail (clipped), msg_ref, ...} with a signed context; more than
//     kMaxErrorsPerWindow errors in kErrorWindowMs close the connection (1008);
//   * `fatal` closes the connection after the error.
// Thread-safety: none; service thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/server/sign_book.h"
#include "socp/envelope.h"
#include "socp/json.h"
#include "socp/result.h"
#include "socp/server_core.h"

namespace socp::core {

struct Conn;      // core_impl.h
struct OutFrame;  // core_impl.h

struct SendOpts {
  std::optional<std::int64_t> ts;  ///< envelope (and signed context) ts; default next_ts()
  bool bulk = false;               ///< file traffic: lower signing priority, never blocks others
  /// Fairness lane (lane_of(sender)); 0 = the turn's cause. Signing jobs take turns by lane,
  /// and on a server link a frame waits only for earlier frames of its own lane, so one
  /// user's backlog of DMs never holds back another user's DM on the same link. Frames of
  /// lane 0 (presence, directory, control) keep their order among themselves.
  std::uint64_t lane = 0;
};

/// The fairness lane of the frames a user's messages cause (nonzero; never a ConnId).
std::uint64_t lane_of(const std::string& user_id);

struct ErrorOpts {
  std::string msg_ref;       ///< the type of the frame that failed
  std::string to;            ///< envelope `to` (default: the user or server on the connection)
  json::Object extra;        ///< more fields (e.g. file_id), after login only
  bool fatal = false;        ///< close the connection once the error is written
  int close_code = 1008;     ///< with `fatal`
  std::string close_reason;  ///< with `fatal` (default: the wire code)
};

inline constexpr int kMaxErrorsPerWindow = 32;
inline constexpr std::int64_t kErrorWindowMs = 10'000;

class Applier {
 public:
  explicit Applier(ServerCore::Impl& s) : s_(s) {}
  Applier(const Applier&) = delete;
  Applier& operator=(const Applier&) = delete;

  // ---- turns: every public ServerCore entry point is one turn ----------------------------
  /// Starts a turn caused by `cause` (a connection, or 0 for the server's own work).
  void begin_turn(ConnId cause);
  /// Charges the turn's new signatures to its cause and commits its store writes.
  void end_turn();
  ConnId cause() const noexcept { return cause_; }

  // ---- effects ----------------------------------------------------------------------------
  /// A frame this server originates: payload + signed context, signed (once), queued on conn.
  /// Returns its signed payload (ready once signed), or null when nothing was queued.
  std::shared_ptr<SignedPayload> send(ConnId conn, MessageType type, const std::string& to,
                                      json::Value payload, SendOpts o = {});
  /// Queues a frame whose payload (already carrying its context) was handed to sign().
  void send_signed_payload(ConnId conn, MessageType type, const std::string& to, std::int64_t ts,
                           std::shared_ptr<SignedPayload> sp, bool bulk, std::uint64_t lane = 0);
  /// The one unsigned relay of user traffic: a FILE_BULK_CHUNK (this type only) from this
  /// server to a connection that takes bulk files (core::takes_bulk: a socp client session or
  /// an authenticated socp/1 server link). Its integrity rests on the sender's signed
  /// manifest and the AEAD, not on a server signature (docs/protocol-notes.md "Bulk files").
  /// Queued as bulk traffic, behind any bulk frame still waiting for its signature (so never
  /// ahead of its manifest). Returns false, queuing nothing, for any other connection.
  bool relay_bulk_chunk(ConnId conn, const std::string& to, json::Value payload);
  /// An unsigned frame (USER_CHALLENGE: costs no signature on purpose).
  void send_unsigned(ConnId conn, MessageType type, const std::string& to, json::Value payload);
  /// Hands a payload to the SignBook; a new signature is charged to the turn's cause.
  std::shared_ptr<SignedPayload> sign(json::Value payload, bool bulk, bool cacheable = false,
                                      std::uint64_t lane = 0);
  /// Charges one signature made outside the SignBook (e.g. a dir_sig) to the turn's cause.
  void charge_signature(bool bulk) { (bulk ? charged_bulk_ : charged_interactive_) += 1; }
  /// Queues a received frame unchanged (original from/to/ts/sig/extra).
  void forward(ConnId conn, const Envelope& env);
  /// An ERROR, through the policy above.
  void error(ConnId conn, Errc code, const std::string& detail, ErrorOpts o = {});
  /// Closes once the frames already queued are written.
  void close(ConnId conn, int code = 1000, const std::string& reason = {});
  void connect(ConnId conn, const std::string& host, std::uint16_t port);
  void run_job(Job job);
  void frame_limit(ConnId conn, std::size_t limit);

  /// Writes every ready frame at the head of the connection's outbox (in order; see
  /// OutFrame::bulk), then the Close once the outbox is empty.
  void flush(ConnId conn);
  /// flush() on every connection with frames waiting.
  void flush_all();
  /// commit_off_loop: starts the next commit (if none is in flight and writes are pending),
  /// or marks the open epoch committed when nothing is pending or in flight.
  void settle_commits();
  /// On a commit's completion (commit_off_loop).
  void commit_done(std::uint64_t epoch, const Status& st);
  std::vector<Action> take();

 private:
  /// Queues `f` on `c` (its store epoch, per-lane and bulk counts) and flushes.
  void enqueue(Conn& c, OutFrame f);
  void commit_now();
  void start_commit();
  void note_commit(const Status& st, double seconds);

  ServerCore::Impl& s_;
  std::vector<Action> actions_;
  std::set<ConnId> waiting_;  ///< connections whose outbox is not empty
  ConnId cause_ = 0;
  int depth_ = 0;
  double charged_interactive_ = 0;
  double charged_bulk_ = 0;
};

}  // namespace socp::core
