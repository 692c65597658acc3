// socp/seen_cache.h — duplicate/loop suppression (docs/protocol.md §7).
//
// Bounded (capacity) and time-limited (ttl) set of frame keys. The key of a frame is
// (ts, from, to, SHA-256 of the canonical payload), so a forwarded frame that comes back, or a
// replayed one, is recognised however its JSON was spelled.
// Time is whatever the caller passes (a fake clock in tests): an entry inserted at t is live
// while now < t + ttl; a duplicate does not extend it. Capacity 0 counts as 1. Work per insert
// is O(1) amortized (each key is queued and evicted once).
// Thread-safety: not thread-safe; owned by the service thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "socp/envelope.h"
#include "socp/protocol.h"

namespace socp {

class SeenCache {
 public:
  explicit SeenCache(std::size_t capacity = kSeenCacheCapacity,
                     std::int64_t ttl_ms = kSeenCacheTtlMs);
  ~SeenCache();
  SeenCache(const SeenCache&) = delete;
  SeenCache& operator=(const SeenCache&) = delete;

  /// The frame's key: ts|from|to|hex(sha256(canonical(payload))).
  static std::string key_of(const Envelope& env);
  /// The key of what a frame's signature covers: type|hex(sha256(canonical(payload)))|sig.
  /// The envelope's ts/from/to are not signed, so a replay under a fresh envelope has the same
  /// key (socp/1 servers repeat the envelope inside the signed payload as its context).
  static std::string signed_key_of(const Envelope& env);

  /// True if `key` was not seen within the TTL (and records it); false for a duplicate.
  /// Expired entries are evicted first; when full, the oldest entry is evicted.
  bool insert(const std::string& key, std::int64_t now_ms);
  bool contains(const std::string& key, std::int64_t now_ms) const;
  std::size_t size() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace socp
