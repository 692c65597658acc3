// Private: LoginGuard — password attempts per account, with backoff.
//
// KEY_RECOVER runs Argon2id (~50 ms, 64 MiB) per attempt. Each account may fail
// kFreeFailures times; after that every further attempt must wait 2^(failures - free)
// seconds (capped at kMaxBackoffMs) since the last failure, whatever connection it comes
// from, and is answered RATE_LIMITED without running Argon2id. A success resets the account.
// Bounded: at most kMaxTracked accounts are remembered (the oldest failure is forgotten).
// Thread-safety: none (service thread).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "socp/result.h"

namespace socp::core {

class LoginGuard {
 public:
  static constexpr int kFreeFailures = 3;
  static constexpr std::int64_t kMaxBackoffMs = 15 * 60'000;
  static constexpr std::size_t kMaxTracked = 100'000;

  /// Ok, or RateLimited naming how long to wait.
  Status may_try(const std::string& account, std::int64_t now) const;
  void failed(const std::string& account, std::int64_t now);
  void succeeded(const std::string& account) { failures_.erase(account); }

 private:
  struct Failures {
    int count = 0;
    std::int64_t last = 0;
  };
  std::map<std::string, Failures> failures_;
};

}  // namespace socp::core
