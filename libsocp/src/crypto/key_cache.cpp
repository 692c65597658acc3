// PublicKeyCache: bounded LRU of parsed keys keyed by the exact text received.
#include <list>
#include <string>
#include <unordered_map>
#include <utility>

#include "socp/crypto.h"

namespace socp {

// Front of `lru` = most recently used. Failed parses are not cached: a hostile peer sending
// garbage keys would otherwise evict good entries; it still pays only one parse per attempt.
struct PublicKeyCache::State {
  std::size_t capacity;
  std::list<std::pair<std::string, PublicKey>> lru;
  std::unordered_map<std::string, std::list<std::pair<std::string, PublicKey>>::iterator> index;
};

PublicKeyCache::PublicKeyCache(std::size_t capacity) : st_(std::make_unique<State>()) {
  st_->capacity = capacity == 0 ? 1 : capacity;
}

PublicKeyCache::~PublicKeyCache() = default;

Result<PublicKey> PublicKeyCache::get(std::string_view any_form) {
  std::string text(any_form);
  auto it = st_->index.find(text);
  if (it != st_->index.end()) {
    st_->lru.splice(st_->lru.begin(), st_->lru, it->second);
    return it->second->second;
  }
  auto key = PublicKey::parse(any_form);
  if (!key) return key;
  if (st_->lru.size() >= st_->capacity) {
    st_->index.erase(st_->lru.back().first);
    st_->lru.pop_back();
  }
  st_->lru.emplace_front(text, key.value());
  st_->index.emplace(std::move(text), st_->lru.begin());
  return key;
}

std::size_t PublicKeyCache::size() const noexcept {
  return st_->lru.size();
}

}  // namespace socp
