// SeenCache: an insertion-ordered queue of (expiry, key) plus a hash map key -> expiry.
//
// Expiry and capacity eviction both pop from the front of the queue, so every key is pushed
// and popped once: O(1) amortized per insert. Queue entries can be stale (the key expired and
// was inserted again, or time went backwards); a popped entry only erases the map entry whose
// expiry it carries.

#include "socp/seen_cache.h"

#include <algorithm>
#include <deque>
#include <unordered_map>
#include <utility>

#include "socp/bytes.h"
#include "socp/crypto.h"
#include "socp/json.h"

namespace socp {

struct SeenCache::Impl {
  std::size_t capacity;
  std::int64_t ttl_ms;
  std::deque<std::pair<std::int64_t, std::string>> order;  // (expiry, key), insertion order
  std::unordered_map<std::string, std::int64_t> expiry_of;

  void pop_front() {
    auto& [expiry, key] = order.front();
    auto it = expiry_of.find(key);
    if (it != expiry_of.end() && it->second == expiry) expiry_of.erase(it);
    order.pop_front();
  }
};

SeenCache::SeenCache(std::size_t capacity, std::int64_t ttl_ms)
    : impl_(std::make_unique<Impl>(Impl{std::max<std::size_t>(capacity, 1), ttl_ms, {}, {}})) {}

SeenCache::~SeenCache() = default;

std::string SeenCache::key_of(const Envelope& env) {
  return std::to_string(env.ts) + "|" + env.from + "|" + env.to + "|" +
         hex_encode(sha256(json::canonical(env.payload)));
}

std::string SeenCache::signed_key_of(const Envelope& env) {
  return env.type_name + "|" + hex_encode(sha256(json::canonical(env.payload))) + "|" + env.sig;
}

bool SeenCache::insert(const std::string& key, std::int64_t now_ms) {
  Impl& s = *impl_;
  while (!s.order.empty() && s.order.front().first <= now_ms) s.pop_front();
  auto it = s.expiry_of.find(key);
  if (it != s.expiry_of.end() && it->second > now_ms) return false;
  while (s.expiry_of.size() >= s.capacity && !s.order.empty()) s.pop_front();
  const std::int64_t expiry = now_ms + s.ttl_ms;
  s.expiry_of[key] = expiry;
  s.order.emplace_back(expiry, key);
  return true;
}

bool SeenCache::contains(const std::string& key, std::int64_t now_ms) const {
  auto it = impl_->expiry_of.find(key);
  return it != impl_->expiry_of.end() && it->second > now_ms;
}

std::size_t SeenCache::size() const noexcept {
  return impl_->expiry_of.size();
}

}  // namespace socp
