// Private: what the client keeps about incoming DMs (docs/protocol-notes.md "Nothing lost"):
// the (sender, msg_id) pairs already shown, so a redelivered copy is acknowledged again but
// not shown twice, and the pieces of long texts until every piece is there. Pure and bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace socp::client {

/// A bounded set of "sender|msg_id" keys; the oldest is forgotten first.
class SeenIds {
 public:
  explicit SeenIds(std::size_t capacity = 16384) : capacity_(capacity) {}
  bool contains(const std::string& sender, const std::string& msg_id) const;
  void insert(const std::string& sender, const std::string& msg_id);

 private:
  std::size_t capacity_;
  std::set<std::string> keys_;
  std::deque<std::string> order_;
};

/// One verified and decrypted piece of a long text.
struct Piece {
  std::string msg_id;
  std::int64_t index = 0, count = 0;
  std::int64_t ts = 0;
  std::string text;
};

/// A long text whose pieces are all there, in order.
struct Assembled {
  std::string text;
  std::int64_t ts = 0;  ///< the first piece's
  std::vector<std::string> msg_ids;
};

/// An unfinished long text that was given up (expired or pushed out).
struct Abandoned {
  std::string sender;
  std::int64_t received = 0, count = 0, ts = 0;
};

/// Pieces by (sender, parts.id). Limits: kMaxPieces pieces and kMaxBytes of text per
/// message, kMaxOpen messages at once (a new one pushes out the oldest), and a message with
/// no new piece for `timeout_ms` is given up.
class Reassembly {
 public:
  static constexpr std::int64_t kMaxPieces = 160;  // 160 x 446 B > 64 KiB
  static constexpr std::size_t kMaxBytes = 72u << 10;
  static constexpr std::size_t kMaxOpen = 16;

  enum class Verdict { Incomplete, Complete, Bad };
  /// Adds a piece. Bad: count over kMaxPieces, a count different from earlier pieces', or the
  /// text over kMaxBytes. Complete: `out` holds the message (and it is forgotten here).
  Verdict add(const std::string& sender, const std::string& parts_id, Piece p, Assembled& out,
              std::int64_t now, std::vector<Abandoned>& pushed_out);
  /// Messages silent for `timeout_ms`, forgotten.
  std::vector<Abandoned> expire(std::int64_t now, std::int64_t timeout_ms);
  std::size_t open() const noexcept { return open_.size(); }

 private:
  struct Open {
    std::string sender;
    std::int64_t count = 0;
    std::size_t bytes = 0;
    std::int64_t started = 0, last = 0;
    std::map<std::int64_t, Piece> pieces;
  };
  static Abandoned abandoned(const Open& o);
  std::map<std::string, Open> open_;  // key: sender|parts.id
};

}  // namespace socp::client
