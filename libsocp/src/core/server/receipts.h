// Private: ReceiptBatches — receipts collected and sent in batches, so that telling a sender
// what became of its messages costs a small fraction of a signature per message.
//
// To a local user: RECEIPTS {queued, delivered, failed}. To a server: DELIVERY_RECEIPTS
// {acked, delivered, failed}. A batch is due when it holds kBatch entries or its oldest entry
// waited `delay_ms`; the core sends due batches at the end of each turn and on every tick.
// Batches for a server without a live link wait (at most kMaxPending entries each, the
// oldest dropped beyond: the sending server will ask again by resending).
// Thread-safety: none (service thread).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "socp/messages.h"

namespace socp::core {

class ReceiptBatches {
 public:
  static constexpr std::size_t kBatch = 64;
  static constexpr std::size_t kMaxPending = 10'000;

  void queued(const std::string& user, const std::string& msg_id, std::int64_t now);
  void delivered(const std::string& user, const std::string& msg_id, std::int64_t now);
  void failed(const std::string& user, const std::string& msg_id, const std::string& code,
              const std::string& reason, std::int64_t now);
  void server_acked(const std::string& server, const std::string& sender, const std::string& msg_id,
                    std::int64_t now);
  void server_delivered(const std::string& server, const std::string& sender,
                        const std::string& msg_id, std::int64_t now);
  void server_failed(const std::string& server, const std::string& sender,
                     const std::string& msg_id, const std::string& code, const std::string& reason,
                     std::int64_t now);

  /// Takes the batches that are due (all of them when `force`).
  std::vector<std::pair<std::string, msg::Receipts>> take_users(std::int64_t now,
                                                                std::int64_t delay_ms, bool force);
  /// Takes the due batches of servers for which `can_send(server)` is true.
  template <typename CanSend>
  std::vector<std::pair<std::string, msg::DeliveryReceipts>> take_servers(std::int64_t now,
                                                                          std::int64_t delay_ms,
                                                                          bool force,
                                                                          CanSend can_send) {
    std::vector<std::pair<std::string, msg::DeliveryReceipts>> out;
    for (auto it = servers_.begin(); it != servers_.end();) {
      auto& b = it->second;
      if ((force || b.n >= kBatch || now - b.since >= delay_ms) && can_send(it->first)) {
        out.emplace_back(it->first, std::move(b.r));
        it = servers_.erase(it);
      } else {
        ++it;
      }
    }
    return out;
  }
  bool empty() const noexcept { return users_.empty() && servers_.empty(); }

 private:
  template <typename R>
  struct Batch {
    R r;
    std::size_t n = 0;
    std::int64_t since = 0;
  };
  Batch<msg::Receipts>& user(const std::string& u, std::int64_t now);
  Batch<msg::DeliveryReceipts>* server(const std::string& s, std::int64_t now);

  std::map<std::string, Batch<msg::Receipts>> users_;
  std::map<std::string, Batch<msg::DeliveryReceipts>> servers_;
};

}  // namespace socp::core
