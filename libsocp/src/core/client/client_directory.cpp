#include "core/client/client_directory.h"

#include <algorithm>

namespace socp::client {

void ClientDirectory::configure(TrustStore* trust, std::function<std::int64_t()> clock) {
  trust_ = trust;
  clock_ = std::move(clock);
}

void ClientDirectory::preload(const std::string& user_id, const std::string& display_name,
                              std::string key_text, std::int64_t since) {
  KnownUser& u = upsert(user_id);
  if (!display_name.empty()) u.display_name = display_name;
  if (u.key) return;  // already pinned in this session
  u.pinned_since = since;
  pending_[user_id] = std::move(key_text);
}

void ClientDirectory::materialize(KnownUser& u) const {
  if (pending_.empty()) return;
  auto it = pending_.find(u.user_id);
  if (it == pending_.end()) return;
  auto key = PublicKey::parse(it->second);
  if (key) {
    u.key = std::move(key).value();
  } else {
    unusable_.insert(u.user_id);
  }
  pending_.erase(it);
}

void ClientDirectory::set_name(KnownUser& u, const std::string& display_name) {
  u.display_name = display_name;
  if (trust_ && u.key) trust_->set_contact_name(u.user_id, display_name);
}

KnownUser& ClientDirectory::upsert(const std::string& user_id) {
  auto it = users_.find(user_id);
  if (it != users_.end()) {
    materialize(it->second);
    return it->second;
  }
  KnownUser u;
  u.user_id = user_id;
  u.display_name = user_id;
  return users_.emplace(user_id, std::move(u)).first->second;
}

const KnownUser* ClientDirectory::find(std::string_view user_id) const {
  auto it = users_.find(user_id);
  if (it == users_.end()) return nullptr;
  materialize(it->second);
  return &it->second;
}

KnownUser* ClientDirectory::find_mut(std::string_view user_id) {
  auto it = users_.find(user_id);
  if (it == users_.end()) return nullptr;
  materialize(it->second);
  return &it->second;
}

PinResult ClientDirectory::offer_key(const std::string& user_id, const PublicKey& key) {
  KnownUser& u = upsert(user_id);
  if (!u.key && unusable_.count(user_id)) return PinResult::Changed;  // stored, unparseable
  if (!u.key) {
    u.key = key;
    u.pinned_since = clock_ ? clock_() : 0;
    if (trust_) {
      const std::string name = u.display_name == user_id ? std::string() : u.display_name;
      (void)trust_->pin_contact(user_id, ContactPin{key.b64url(), name, u.pinned_since});
    }
    return PinResult::Pinned;
  }
  // Key rotation is an explicit, later extension: a different key is news, not an update.
  return *u.key == key ? PinResult::Same : PinResult::Changed;
}

Resolution ClientDirectory::resolve(std::string_view who) const {
  Resolution r;
  if (who.empty()) return r;
  if (const KnownUser* u = find(who)) {
    r.user = u;
    return r;
  }
  const KnownUser* match = nullptr;
  for (const auto& [id, u] : users_) {
    if (u.display_name != who) continue;
    r.candidates.push_back(id);
    match = &u;
  }
  if (r.candidates.size() == 1) {
    r.user = match;
    r.candidates.clear();
    materialize(users_.find(match->user_id)->second);
  }
  return r;
}

std::vector<const KnownUser*> ClientDirectory::online_except(std::string_view self_id) const {
  std::vector<const KnownUser*> out;
  for (const auto& [id, u] : users_) {
    if (u.online && id != self_id) out.push_back(&u);
  }
  std::sort(out.begin(), out.end(),
            [](const KnownUser* a, const KnownUser* b) { return display_order(*a, *b); });
  return out;
}

std::string ClientDirectory::name_of(std::string_view user_id) const {
  const KnownUser* u = find(user_id);
  return u ? u->display_name : std::string(user_id);
}

bool display_order(const KnownUser& a, const KnownUser& b) {
  if (a.display_name != b.display_name) return a.display_name < b.display_name;
  return a.user_id < b.user_id;
}

}  // namespace socp::client
