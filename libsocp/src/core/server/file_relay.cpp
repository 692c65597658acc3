#include "core/server/file_relay.h"

namespace socp::core {

void FileFailures::expire(std::int64_t now) {
  // Oldest first: stop at the first live entry. A re-marked key keeps its first time.
  while (!order_.empty() && (now - order_.front().second >= ttl_ || order_.size() > cap_)) {
    auto it = at_.find(order_.front().first);
    if (it != at_.end() && it->second == order_.front().second) at_.erase(it);
    order_.pop_front();
  }
}

bool FileFailures::mark(const std::string& key, std::int64_t now) {
  expire(now);
  if (contains(key, now)) return false;
  at_[key] = now;
  order_.emplace_back(key, now);
  expire(now);  // capacity
  return true;
}

bool FileFailures::contains(const std::string& key, std::int64_t now) const {
  auto it = at_.find(key);
  return it != at_.end() && now - it->second < ttl_;
}

}  // namespace socp::core
