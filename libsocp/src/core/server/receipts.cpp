// ReceiptBatches (receipts.h).
#include "core/server/receipts.h"

namespace socp::core {

ReceiptBatches::Batch<msg::Receipts>& ReceiptBatches::user(const std::string& u, std::int64_t now) {
  auto [it, fresh] = users_.try_emplace(u);
  if (fresh) it->second.since = now;
  ++it->second.n;
  return it->second;
}

ReceiptBatches::Batch<msg::DeliveryReceipts>* ReceiptBatches::server(const std::string& s,
                                                                     std::int64_t now) {
  auto [it, fresh] = servers_.try_emplace(s);
  if (fresh) it->second.since = now;
  if (it->second.n >= kMaxPending) return nullptr;  // the sender resends; we will ack again
  ++it->second.n;
  return &it->second;
}

void ReceiptBatches::queued(const std::string& u, const std::string& id, std::int64_t now) {
  user(u, now).r.queued.push_back(id);
}
void ReceiptBatches::delivered(const std::string& u, const std::string& id, std::int64_t now) {
  user(u, now).r.delivered.push_back(id);
}
void ReceiptBatches::failed(const std::string& u, const std::string& id, const std::string& code,
                            const std::string& reason, std::int64_t now) {
  user(u, now).r.failed.push_back({id, "", code, reason});
}
void ReceiptBatches::server_acked(const std::string& s, const std::string& sender,
                                  const std::string& id, std::int64_t now) {
  if (auto* b = server(s, now)) b->r.acked.push_back({sender, id});
}
void ReceiptBatches::server_delivered(const std::string& s, const std::string& sender,
                                      const std::string& id, std::int64_t now) {
  if (auto* b = server(s, now)) b->r.delivered.push_back({sender, id});
}
void ReceiptBatches::server_failed(const std::string& s, const std::string& sender,
                                   const std::string& id, const std::string& code,
                                   const std::string& reason, std::int64_t now) {
  if (auto* b = server(s, now)) b->r.failed.push_back({id, sender, code, reason});
}

std::vector<std::pair<std::string, msg::Receipts>> ReceiptBatches::take_users(std::int64_t now,
                                                                              std::int64_t delay_ms,
                                                                              bool force) {
  std::vector<std::pair<std::string, msg::Receipts>> out;
  for (auto it = users_.begin(); it != users_.end();) {
    if (force || it->second.n >= kBatch || now - it->second.since >= delay_ms) {
      out.emplace_back(it->first, std::move(it->second.r));
      it = users_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

}  // namespace socp::core
