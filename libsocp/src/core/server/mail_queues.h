// Private: MailQueues — the messages a server keeps so that nothing acknowledged is lost.
//
// Two kinds of durable queue, both in the store's queue table:
//   mailbox "mbox/<user>"  DMs for a user whose home is this server: kept until the user's
//                          client acknowledges them (DELIVERY_ACK), delivered in order at
//                          login; bounded per user (messages, bytes), expire after a TTL.
//   outbox  "out/<server>" DMs on their way to another socp/1 server: kept until that server
//                          acknowledges the hop (DELIVERY_RECEIPTS acked), sent again when the
//                          link comes back; bounded per server, expire after a TTL.
// Bodies are canonical JSON of StoredDm: ciphertext only (servers never hold plaintext).
// In memory only an index is kept (sequence, sender, msg id, size, time); bodies are read
// from the store when they are sent. Writes go through the core's BatchingStore, so they
// commit with the turn that made them, before any frame of that turn leaves.
// Thread-safety: none (service thread).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "socp/json.h"
#include "socp/result.h"
#include "socp/store.h"

namespace socp::core {

/// One direct message as a server keeps it.
struct StoredDm {
  std::string msg_id, sender, recipient, ciphertext, sender_pub, content_sig;
  std::int64_t ts = 0;
  json::Value parts;       ///< null or {id, index, count}
  std::string reply_to;    ///< server to send receipts to ("" = the sender is local)
  bool is_public = false;  ///< a /all copy sent as a DM (MsgDirect::is_public)
  json::Value to_json() const;
  static Result<StoredDm> from_json(const json::Value& v);
};

struct QueueLimits {
  std::size_t max_messages = 1000;
  std::size_t max_bytes = 16u << 20;
};

class MailQueues {
 public:
  struct Entry {
    std::uint64_t seq = 0;
    std::string sender, msg_id, reply_to;
    std::size_t bytes = 0;
    std::int64_t at = 0;
  };

  explicit MailQueues(Store& store) : store_(store) {}

  static std::string mailbox(const std::string& user_id) { return "mbox/" + user_id; }
  static std::string outbox(const std::string& server_id) { return "out/" + server_id; }

  /// Builds the index from the store (start-up).
  Status load();
  /// Appends `dm` to `queue`. TooLarge when the queue is at its limits.
  Status put(const std::string& queue, const StoredDm& dm, std::int64_t now,
             const QueueLimits& limits);
  bool contains(const std::string& queue, const std::string& sender,
                const std::string& msg_id) const;
  /// Removes the message (sender, msg_id) from `queue`; its entry if it was there. An empty
  /// `sender` matches any sender (a client acknowledges by message id alone).
  std::optional<Entry> remove(const std::string& queue, const std::string& sender,
                              const std::string& msg_id);
  /// Everything in `queue`, oldest first, with bodies (read from the store).
  std::vector<std::pair<Entry, StoredDm>> read(const std::string& queue);
  /// Removes and returns (queue, entry, body) of every message older than `before`.
  std::vector<std::pair<std::string, StoredDm>> expire(std::int64_t before);
  std::size_t size(const std::string& queue) const;
  /// Total messages kept, in all queues.
  std::size_t total() const noexcept { return total_; }

 private:
  struct Queue {
    std::deque<Entry> entries;
    std::size_t bytes = 0;
  };
  Store& store_;
  std::map<std::string, Queue> queues_;
  std::uint64_t next_seq_ = 1;
  std::size_t total_ = 0;
};

}  // namespace socp::core
