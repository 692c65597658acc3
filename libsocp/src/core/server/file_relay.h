// Private: the little state a server keeps while relaying files (handle_file.cpp).
//
// Servers relay FILE_START / FILE_CHUNK / FILE_END statelessly (they never reassemble, never
// decrypt). The one thing remembered is which transfers already failed here, so that an
// undeliverable file costs its sender ONE error frame, not one per chunk, and the chunks that
// follow are dropped quietly. Bounded (capacity) and time-limited (ttl).
// Thread-safety: none; owned by the service thread.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>

namespace socp::core {

class FileFailures {
 public:
  explicit FileFailures(std::size_t capacity = 4096, std::int64_t ttl_ms = 10 * 60'000)
      : cap_(capacity == 0 ? 1 : capacity), ttl_(ttl_ms) {}

  /// Key of a transfer: file ids are chosen by senders, so they are scoped by sender.
  static std::string key(const std::string& sender, const std::string& file_id) {
    return sender + "/" + file_id;
  }
  /// Records a failure. True the first time (send the error), false if already recorded.
  bool mark(const std::string& key, std::int64_t now);
  /// True while a failure of `key` is remembered.
  bool contains(const std::string& key, std::int64_t now) const;
  std::size_t size() const noexcept { return at_.size(); }

 private:
  void expire(std::int64_t now);
  std::size_t cap_;
  std::int64_t ttl_;
  std::unordered_map<std::string, std::int64_t> at_;
  std::deque<std::pair<std::string, std::int64_t>> order_;  // insertion order, oldest first
};

}  // namespace socp::core
