// Private: SignBudget — the RSA signatures one connection may cause (token buckets).
//
// Every signature the server makes because of something a connection sent is charged to that
// connection: interactive work (answers, deliveries, presence) to one bucket, bulk work (file
// chunks) to another. A bucket refills at `rate` tokens per second up to `burst`; charges may
// push it below zero (debt). While the interactive bucket is in debt the connection's frames
// are dropped unread (ServerCore counts them) and a connection that keeps sending into its
// debt is closed. Bulk debt only drops bulk frames.
// Thread-safety: none (service thread).
#pragma once

#include <algorithm>
#include <cstdint>

namespace socp::core {

struct BudgetRate {
  double rate = 0;   ///< tokens (signatures) per second
  double burst = 0;  ///< bucket size
};

class TokenBucket {
 public:
  TokenBucket() = default;
  TokenBucket(BudgetRate r, std::int64_t now_ms) : r_(r), tokens_(r.burst), at_(now_ms) {}
  /// Refills for the time passed, then reports whether the bucket is out of debt.
  bool available(std::int64_t now_ms) {
    refill(now_ms);
    return tokens_ > 0;
  }
  void charge(double n, std::int64_t now_ms) {
    refill(now_ms);
    tokens_ -= n;
  }
  double tokens() const noexcept { return tokens_; }

 private:
  void refill(std::int64_t now_ms) {
    if (now_ms > at_) {
      tokens_ = std::min(r_.burst, tokens_ + r_.rate * static_cast<double>(now_ms - at_) / 1000.0);
      at_ = now_ms;
    }
  }
  BudgetRate r_;
  double tokens_ = 0;
  std::int64_t at_ = 0;
};

struct SignBudget {
  TokenBucket interactive;
  TokenBucket bulk;
  std::uint64_t charged = 0;  ///< signatures caused so far (for logs and tests)
  int dropped = 0;            ///< frames dropped while in debt (reset when out of debt)
};

}  // namespace socp::core
