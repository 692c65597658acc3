// DirectoryService: records, rules R1–R7 (socp/directory.h) and persistence.
//
// Every mutating call collects its events while it changes the records and delivers them only
// at the end, so listeners always see the final state of the whole operation (e.g. after an R5
// eviction the evicted user is already located at the winner: the server core's later
// logout_local for the closed session is then a no-op and no USER_REMOVE goes out).

#include <algorithm>
#include <set>
#include <utility>

#include "directory/directory_rules.h"
#include "socp/directory.h"

namespace socp {

using directory_rules::clean_meta;
using directory_rules::login_loses;

namespace {

using Events = std::vector<DirectoryEvent>;

void keep_first(Status& first, Status s) {
  if (first.ok() && !s.ok()) first = std::move(s);
}

json::Value meta_from_json_text(const std::string& text) {
  if (text.empty()) return json::Object{};
  auto parsed = json::parse(text);
  // A record whose meta does not parse still keeps its key and location: meta is cosmetic.
  return parsed.ok() ? clean_meta(parsed.value()) : json::Value(json::Object{});
}

/// Replaces u.meta when `meta` (already cleaned) carries something new. True if it changed.
bool update_meta(UserInfo& u, json::Value meta) {
  if (meta.as_object().empty() || meta == u.meta) return false;
  u.meta = std::move(meta);
  return true;
}

}  // namespace

struct DirectoryService::Impl {
  std::map<std::string, UserInfo> users;
  /// Records whose last write failed; retried after the next successful write.
  std::set<std::string> dirty;

  static Status persist(DirectoryService& d, const UserInfo& u);
  static Status apply_online(DirectoryService& d, const std::string& user_id,
                             const std::string& pubkey, const std::string& server,
                             std::optional<std::int64_t> since, const json::Value& meta,
                             Events& ev);
  static Status apply_offline_record(DirectoryService& d, const std::string& user_id,
                                     const std::string& pubkey, const std::string& server,
                                     const json::Value& meta, Events& ev);
  static Status key_conflict(DirectoryService& d, const UserInfo& u, const std::string& offerer,
                             Events& ev);
  static void go_offline(UserInfo& u, Events& ev);
};

// ---- persistence --------------------------------------------------------------------------

Status DirectoryService::Impl::persist(DirectoryService& d, const UserInfo& u) {
  if (d.store_ == nullptr) return ok_status();
  auto write = [&d](const UserInfo& r) {
    return d.store_->put_directory(
        DirectoryRecord{r.user_id, r.pubkey, r.server_id, json::canonical(r.meta), r.version});
  };
  auto& dirty = d.impl_->dirty;
  Status s = write(u);
  if (!s.ok()) {
    dirty.insert(u.user_id);
    return s;
  }
  dirty.erase(u.user_id);
  // The store works again: flush earlier failures, stopping at the first new failure.
  while (!dirty.empty()) {
    auto it = dirty.begin();
    auto rec = d.impl_->users.find(*it);
    if (rec != d.impl_->users.end() && !write(rec->second).ok()) break;
    dirty.erase(it);
  }
  return s;
}

// ---- shared rule pieces -------------------------------------------------------------------

Status DirectoryService::Impl::key_conflict(DirectoryService& d, const UserInfo& u,
                                            const std::string& offerer, Events& ev) {
  ++d.stats_.key_conflicts;
  ev.push_back({DirectoryEventKind::KeyConflict, u.user_id, u.server_id, offerer});
  return make_error(Errc::BadKey, "user " + u.user_id + ": key offered by " + offerer +
                                      " differs from pinned key");
}

void DirectoryService::Impl::go_offline(UserInfo& u, Events& ev) {
  u.online = false;
  ++u.version;
  ev.push_back({DirectoryEventKind::Offline, u.user_id, u.server_id, {}});
}

// `server` is the (already authority-checked) server the user is online at; never self.
// `since` nullopt = unknown; a user already online at `server` then keeps the time we had.
Status DirectoryService::Impl::apply_online(DirectoryService& d, const std::string& user_id,
                                            const std::string& pubkey, const std::string& server,
                                            std::optional<std::int64_t> since,
                                            const json::Value& meta, Events& ev) {
  auto& users = d.impl_->users;
  auto it = users.find(user_id);
  if (it == users.end()) {
    UserInfo u{user_id, pubkey, server, clean_meta(meta), true, since.value_or(0), 1};
    auto [pos, inserted] = users.emplace(user_id, std::move(u));
    (void)inserted;
    ev.push_back({DirectoryEventKind::Online, user_id, server, {}});
    return persist(d, pos->second);  // R1: first key seen is pinned
  }
  UserInfo& u = it->second;
  if (u.pubkey != pubkey) return key_conflict(d, u, server, ev);  // R1

  const std::string old = u.server_id;
  if (u.online && old != server) {  // R5: online at two servers
    const std::int64_t new_since = since.value_or(0);
    if (!login_loses(u.since, old, new_since, server)) {
      return make_error(Errc::NameInUse, "user " + user_id + " already online at " + old);
    }
    u.server_id = server;
    u.since = new_since;
    update_meta(u, clean_meta(meta));
    ++u.version;
    if (old == d.self_) ev.push_back({DirectoryEventKind::Evicted, user_id, old, server});
    ev.push_back({DirectoryEventKind::Moved, user_id, server, old});
    ev.push_back({DirectoryEventKind::Online, user_id, server, {}});
    return persist(d, u);
  }

  // Offline anywhere (R4 when elsewhere), or already online at `server` (idempotent re-advert).
  const bool was_online_here = u.online && old == server;
  const std::int64_t new_since = since ? *since : (was_online_here ? u.since : 0);
  const bool moved = old != server;
  const bool meta_changed = update_meta(u, clean_meta(meta));
  const bool changed = moved || meta_changed || !was_online_here || new_since != u.since;
  u.server_id = server;
  u.online = true;
  u.since = new_since;
  if (!changed) return ok_status();
  ++u.version;
  if (!was_online_here) {
    if (moved) ev.push_back({DirectoryEventKind::Moved, user_id, server, old});
    ev.push_back({DirectoryEventKind::Online, user_id, server, {}});
  }
  return (moved || meta_changed) ? persist(d, u) : ok_status();
}

// A user listed offline by `server` (never self): pin/record if unknown; R7 if located there.
Status DirectoryService::Impl::apply_offline_record(DirectoryService& d, const std::string& user_id,
                                                    const std::string& pubkey,
                                                    const std::string& server,
                                                    const json::Value& meta, Events& ev) {
  auto& users = d.impl_->users;
  auto it = users.find(user_id);
  if (it == users.end()) {
    UserInfo u{user_id, pubkey, server, clean_meta(meta), false, 0, 1};
    auto [pos, inserted] = users.emplace(user_id, std::move(u));
    (void)inserted;
    return persist(d, pos->second);
  }
  UserInfo& u = it->second;
  if (u.pubkey != pubkey) return key_conflict(d, u, server, ev);  // R1
  if (u.server_id != server) return ok_status();  // last seen elsewhere: ours is as good
  const bool meta_changed = update_meta(u, clean_meta(meta));
  if (u.online) {
    go_offline(u, ev);  // version bumped there
  } else if (meta_changed) {
    ++u.version;
  }
  return meta_changed ? persist(d, u) : ok_status();
}

// ---- construction and loading ---------------------------------------------------------------

DirectoryService::DirectoryService(std::string self_server_id, Store* store)
    : self_(std::move(self_server_id)), store_(store), impl_(std::make_unique<Impl>()) {}

DirectoryService::~DirectoryService() = default;

Status DirectoryService::load() {
  if (store_ == nullptr) return ok_status();
  auto dir = store_->list_directory();
  if (!dir.ok()) return dir.error();
  auto& users = impl_->users;
  for (auto& rec : dir.value()) {
    if (rec.user_id.empty() || users.count(rec.user_id) != 0) continue;
    UserInfo u{rec.user_id, rec.pubkey, rec.server_id, meta_from_json_text(rec.meta_json),
               false,       0,          rec.version};
    users.emplace(rec.user_id, std::move(u));
  }
  auto accounts = store_->list_users();
  if (!accounts.ok()) return accounts.error();
  Status first;
  for (auto& acc : accounts.value()) {
    if (acc.user_id.empty() || users.count(acc.user_id) != 0) continue;
    UserInfo u{acc.user_id, acc.pubkey, self_, meta_from_json_text(acc.meta_json), false, 0, 1};
    auto [pos, inserted] = users.emplace(acc.user_id, std::move(u));
    (void)inserted;
    keep_first(first, Impl::persist(*this, pos->second));
  }
  return first;
}

void DirectoryService::set_self_id(const std::string& id) {
  if (id.empty() || id == self_) return;
  const std::string old = self_;
  self_ = id;
  for (auto& [uid, u] : impl_->users) {
    if (u.server_id != old) continue;
    u.server_id = id;
    ++u.version;
    (void)Impl::persist(*this, u);  // a failure stays queued in `dirty` for the next write
  }
}

// ---- local side -----------------------------------------------------------------------------

Status DirectoryService::register_local(const std::string& user_id, const std::string& pubkey,
                                        const json::Value& meta) {
  if (user_id.empty() || pubkey.empty()) {
    return make_error(Errc::InvalidArgument, "register: empty user id or key");
  }
  auto& users = impl_->users;
  if (users.count(user_id) != 0) {
    return make_error(Errc::NameInUse, "user id " + user_id + " is already known");
  }
  UserInfo u{user_id, pubkey, self_, clean_meta(meta), false, 0, 1};
  auto [pos, inserted] = users.emplace(user_id, std::move(u));
  (void)inserted;
  return Impl::persist(*this, pos->second);
}

Status DirectoryService::check_login(const std::string& user_id, const std::string& pubkey) const {
  auto it = impl_->users.find(user_id);
  if (it == impl_->users.end()) return make_error(Errc::UserNotFound, "unknown user " + user_id);
  const UserInfo& u = it->second;
  if (u.pubkey != pubkey) {
    return make_error(Errc::BadKey, "key does not match the pinned key of " + user_id);
  }
  if (u.online) {
    return make_error(Errc::NameInUse, "user " + user_id + " is already online at " + u.server_id);
  }
  return ok_status();
}

void DirectoryService::login_local(const std::string& user_id, const json::Value& meta,
                                   std::int64_t since) {
  auto it = impl_->users.find(user_id);
  if (it == impl_->users.end()) return;  // precondition: check_login succeeded
  UserInfo& u = it->second;
  const std::string old = u.server_id;
  const bool was_online_here = u.online && old == self_;
  const bool moved = old != self_;
  const bool meta_changed = update_meta(u, clean_meta(meta));
  const bool changed = moved || meta_changed || !was_online_here || since != u.since;
  u.server_id = self_;
  u.online = true;
  u.since = since;
  if (!changed) return;
  ++u.version;
  Events ev;
  if (!was_online_here) {
    if (moved) ev.push_back({DirectoryEventKind::Moved, user_id, self_, old});
    ev.push_back({DirectoryEventKind::Online, user_id, self_, {}});
  }
  if (moved || meta_changed) (void)Impl::persist(*this, u);  // failure retried later (dirty)
  for (const auto& e : ev) emit(e);
}

void DirectoryService::logout_local(const std::string& user_id) {
  auto it = impl_->users.find(user_id);
  if (it == impl_->users.end()) return;
  UserInfo& u = it->second;
  if (!u.online || u.server_id != self_) return;
  Events ev;
  Impl::go_offline(u, ev);
  for (const auto& e : ev) emit(e);
}

// ---- remote side ----------------------------------------------------------------------------

Status DirectoryService::apply_advertise(const msg::UserAdvertise& ad, const std::string& origin) {
  if (origin != ad.server_id) {  // R2
    ++stats_.rejected_authority;
    return make_error(Errc::InvalidArgument, "advert for " + ad.user_id + " names server " +
                                                 ad.server_id + " but came from " + origin);
  }
  if (ad.user_id.empty() || ad.pubkey.empty() || origin.empty()) {
    return make_error(Errc::InvalidArgument, "advert with empty user id, key or server id");
  }
  // Our own advert echoed back: local presence is ours alone (login_local/logout_local).
  if (origin == self_) return ok_status();
  Events ev;
  Status s = Impl::apply_online(*this, ad.user_id, ad.pubkey, origin, ad.since, ad.meta, ev);
  // A persistence failure still means the advert was applied (in memory).
  if (s.ok() || (s.code() != Errc::BadKey && s.code() != Errc::NameInUse)) ++stats_.adverts;
  for (const auto& e : ev) emit(e);
  return s;
}

Status DirectoryService::apply_remove(const msg::UserRemove& rm, const std::string& origin) {
  if (origin != rm.server_id) {  // R2
    ++stats_.rejected_authority;
    return make_error(Errc::InvalidArgument, "remove of " + rm.user_id + " names server " +
                                                 rm.server_id + " but came from " + origin);
  }
  if (rm.user_id.empty() || origin.empty()) {
    return make_error(Errc::InvalidArgument, "remove with empty user id or server id");
  }
  if (origin == self_) return ok_status();
  ++stats_.removes;
  auto it = impl_->users.find(rm.user_id);
  if (it == impl_->users.end()) return ok_status();
  UserInfo& u = it->second;
  if (u.server_id != origin || !u.online) return ok_status();  // R3
  Events ev;
  Impl::go_offline(u, ev);
  for (const auto& e : ev) emit(e);
  return ok_status();
}

Status DirectoryService::apply_snapshot(const std::string& origin,
                                        const std::vector<msg::DirectoryEntry>& entries,
                                        bool trust_third_party) {
  if (origin.empty()) return make_error(Errc::InvalidArgument, "snapshot from empty server id");
  if (origin == self_) return ok_status();
  Status first;
  Events ev;
  std::set<std::string> listed;
  for (const auto& e : entries) {
    if (e.user_id.empty() || e.pubkey.empty() || e.server_id.empty()) {
      keep_first(first, make_error(Errc::InvalidArgument, "snapshot entry with an empty field"));
      continue;
    }
    if (e.server_id == self_) continue;  // nobody speaks for our own users
    if (e.server_id != origin) {
      if (!trust_third_party) continue;
      auto it = impl_->users.find(e.user_id);
      if (it != impl_->users.end() && it->second.server_id == self_) {
        if (it->second.pubkey != e.pubkey) {
          keep_first(first, Impl::key_conflict(*this, it->second, e.server_id, ev));
        }
        continue;  // third parties never touch users located here
      }
    } else {
      listed.insert(e.user_id);
    }
    Status s =
        e.online ? Impl::apply_online(*this, e.user_id, e.pubkey, e.server_id, e.since, e.meta, ev)
                 : Impl::apply_offline_record(*this, e.user_id, e.pubkey, e.server_id, e.meta, ev);
    // Losing rule R5 is not an error of the snapshot: the entry is simply outranked.
    if (!s.ok() && s.code() != Errc::NameInUse) keep_first(first, std::move(s));
  }
  for (auto& [uid, u] : impl_->users) {  // R7: absent = not online there any more
    if (u.server_id == origin && u.online && listed.count(uid) == 0) Impl::go_offline(u, ev);
  }
  for (const auto& e : ev) emit(e);
  return first;
}

void DirectoryService::server_down(const std::string& server_id) {
  if (server_id.empty() || server_id == self_) return;
  Events ev;
  for (auto& [uid, u] : impl_->users) {  // R6
    if (u.server_id == server_id && u.online) Impl::go_offline(u, ev);
  }
  for (const auto& e : ev) emit(e);
}

// ---- queries --------------------------------------------------------------------------------

const UserInfo* DirectoryService::find(const std::string& user_id) const {
  auto it = impl_->users.find(user_id);
  return it == impl_->users.end() ? nullptr : &it->second;
}

std::vector<UserInfo> DirectoryService::list() const {
  std::vector<UserInfo> out;
  out.reserve(impl_->users.size());
  for (const auto& [uid, u] : impl_->users) out.push_back(u);
  return out;
}

namespace {
msg::DirectoryEntry to_entry(const UserInfo& u) {
  msg::DirectoryEntry e;
  e.user_id = u.user_id;
  e.server_id = u.server_id;
  e.pubkey = u.pubkey;
  e.meta = u.meta;
  e.online = u.online;
  if (u.online && u.since != 0) e.since = u.since;
  return e;
}
}  // namespace

std::vector<msg::DirectoryEntry> DirectoryService::local_entries() const {
  std::vector<msg::DirectoryEntry> out;
  for (const auto& [uid, u] : impl_->users) {
    if (u.server_id == self_) out.push_back(to_entry(u));
  }
  return out;
}

std::vector<msg::DirectoryEntry> DirectoryService::all_entries() const {
  std::vector<msg::DirectoryEntry> out;
  out.reserve(impl_->users.size());
  for (const auto& [uid, u] : impl_->users) out.push_back(to_entry(u));
  return out;
}

std::size_t DirectoryService::size() const noexcept {
  return impl_->users.size();
}

// ---- events ---------------------------------------------------------------------------------

int DirectoryService::subscribe(Listener fn) {
  const int token = next_token_++;
  listeners_.emplace_back(token, std::move(fn));
  return token;
}

void DirectoryService::unsubscribe(int token) {
  listeners_.erase(std::remove_if(listeners_.begin(), listeners_.end(),
                                  [token](const auto& l) { return l.first == token; }),
                   listeners_.end());
}

void DirectoryService::emit(const DirectoryEvent& ev) {
  // A copy, so a listener may (un)subscribe while being called.
  const auto listeners = listeners_;
  for (const auto& [token, fn] : listeners) {
    if (fn) fn(ev);
  }
}

}  // namespace socp
