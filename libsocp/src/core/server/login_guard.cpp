// LoginGuard (login_guard.h).
#include "core/server/login_guard.h"

#include <algorithm>

namespace socp::core {

Status LoginGuard::may_try(const std::string& account, std::int64_t now) const {
  auto it = failures_.find(account);
  if (it == failures_.end() || it->second.count < kFreeFailures) return ok_status();
  const int over = std::min(it->second.count - kFreeFailures, 20);
  const std::int64_t wait = std::min<std::int64_t>(kMaxBackoffMs, std::int64_t{1000} << over);
  const std::int64_t left = it->second.last + wait - now;
  if (left <= 0) return ok_status();
  return make_error(Errc::RateLimited, "too many failed attempts: retry in " +
                                           std::to_string((left + 999) / 1000) + " s");
}

void LoginGuard::failed(const std::string& account, std::int64_t now) {
  if (failures_.size() >= kMaxTracked && failures_.count(account) == 0) {
    auto oldest = std::min_element(failures_.begin(), failures_.end(),
                                   [](auto& a, auto& b) { return a.second.last < b.second.last; });
    if (oldest != failures_.end()) failures_.erase(oldest);
  }
  Failures& f = failures_[account];
  ++f.count;
  f.last = now;
}

}  // namespace socp::core
