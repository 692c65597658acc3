// Private: the DMs this client sent and what their receipts said (docs/protocol-notes.md
// "Nothing lost"). Pure bookkeeping, no crypto and no I/O.
//
// One DM (one /tell) is one or more pieces, each its own MSG_DIRECT with its own msg_id; a
// long text's pieces share parts.id, which is then the DM's id. The server sends a receipt per
// piece; the DM is `queued` once every piece is at least queued, `delivered` once every piece
// is delivered, `failed` as soon as one piece failed. Each of those is reported once, in that
// order (a DM that fails after `queued` reports both).
//
// A piece without any receipt yet is "unacknowledged": after a reconnect it is sent again
// with the same msg_id (the servers drop the copy if they already have it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "socp/json.h"

namespace socp::client {

struct OutPiece {
  std::string msg_id;
  std::string ciphertext;  ///< base64url, kept so a resend needs no new encryption
  json::Value parts;       ///< null or {id, index, count}
  enum class State { Sent, Queued, Delivered, Failed } state = State::Sent;
};

struct OutDm {
  std::string id;  ///< the msg_id of a one-piece DM, else parts.id
  std::uint64_t cmd = 0;
  std::string to, to_name;
  std::vector<OutPiece> pieces;
  enum class Report { None, Queued, Delivered, Failed } reported = Report::None;
  std::string fail_code, fail_reason;
};

/// A state change to report: event "queued", "delivered" or "failed".
struct ReceiptChange {
  std::string event;
  const OutDm* dm = nullptr;
};

class OutgoingDms {
 public:
  /// DMs kept for receipts; beyond this the oldest ones that need no resend are forgotten.
  static constexpr std::size_t kMaxKept = 4096;

  void add(OutDm dm);
  /// Applies one receipt to the piece `msg_id` (unknown ids are ignored) and returns the
  /// report it causes, if any.
  std::optional<ReceiptChange> on_queued(const std::string& msg_id);
  std::optional<ReceiptChange> on_delivered(const std::string& msg_id);
  std::optional<ReceiptChange> on_failed(const std::string& msg_id, const std::string& code,
                                         const std::string& reason);
  /// DMs with at least one piece that has no receipt yet (the resend list), oldest first.
  std::vector<OutDm*> unacknowledged();
  /// DMs with no final receipt (neither delivered nor failed).
  std::size_t not_final() const;
  std::size_t unacknowledged_count() const;

 private:
  std::optional<ReceiptChange> update(const std::string& msg_id, OutPiece::State st,
                                      const std::string& code, const std::string& reason);
  void trim();

  std::deque<OutDm> dms_;                     // oldest first
  std::map<std::string, std::string> owner_;  // piece msg_id -> DM id
};

}  // namespace socp::client
