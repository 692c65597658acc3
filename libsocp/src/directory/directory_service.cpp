// DirectoryService: records, rules R1–R7 (socp/directory.h) and persistence.
//
// Every mutating call collects its events while it changes the records and delivers them only
// at the end, so listeners always see the final state of the whole operation (e.g. after an R5
// eviction the evicted user is already located at the winner: the server core's later
// logout_local for the closed session is then a no-op and no USER_REMOVE goes out).
//
// Two indexes stay in step with the records: by pinned key (one key, one user) and the number
// of users located at each server (the per-server cap).

#include <algorithm>
#include <set>
#include <unordered_map>
#include <utility>

#include "directory/directory_rules.h"
#include "socp/directory.h"

namespace socp {

using directory_rules::clean_meta;
using directory_rules::login_newer;

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

/// Takes the login of `stamp` as the user's current one. True if last_login grew (persist).
bool take_login(UserInfo& u, const LoginStamp* stamp) {
  if (!stamp) {
    u.since = 0;
    u.login_digest.clear();
    u.proof = json::Value();
    return false;
  }
  u.since = stamp->ts;
  u.login_digest = stamp->digest;
  u.proof = stamp->proof;
  if (stamp->ts <= u.last_login) return false;
  u.last_login = stamp->ts;
  return true;
}

}  // namespace

struct DirectoryService::Impl {
  std::map<std::string, UserInfo> users;
  std::unordered_map<std::string, std::string> by_key;   // pinned key -> user id
  std::unordered_map<std::string, std::size_t> located;  // server id -> users there
  /// Records whose last write failed; retried after the next successful write.
  std::set<std::string> dirty;
  /// Every user id ever added, in order (for for_each_added: followers catch up in O(new)).
  std::vector<std::string> added_log;
  std::size_t online = 0;  ///< users with online == true (kept by set_online, add, remove)

  void set_online(UserInfo& u, bool on) {
    if (u.online != on) on ? ++online : --online;
    u.online = on;
  }

  void place(UserInfo& u, const std::string& server) {
    if (u.server_id == server) return;
    if (!u.server_id.empty()) {
      auto it = located.find(u.server_id);
      if (it != located.end() && --it->second == 0) located.erase(it);
    }
    u.server_id = server;
    ++located[server];
  }
  /// Adds a record (indexes included). The caller checked the key is free.
  UserInfo& add(UserInfo u) {
    const std::string server = u.server_id;
    u.server_id.clear();
    auto [it, inserted] = users.emplace(u.user_id, std::move(u));
    (void)inserted;
    place(it->second, server);
    by_key[it->second.pubkey] = it->first;
    added_log.push_back(it->first);
    if (it->second.online) ++online;
    return it->second;
  }
  void remove(std::map<std::string, UserInfo>::iterator it) {
    auto l = located.find(it->second.server_id);
    if (l != located.end() && --l->second == 0) located.erase(l);
    by_key.erase(it->second.pubkey);
    if (it->second.online) --online;
    users.erase(it);
  }

  static Status persist(DirectoryService& d, const UserInfo& u);
  static Status admit_new(DirectoryService& d, const std::string& user_id,
                          const std::string& pubkey, const std::string& server);
  static Status apply_online(DirectoryService& d, const std::string& user_id,
                             const std::string& pubkey, const std::string& server,
                             const LoginStamp* stamp, const json::Value& meta, Events& ev);
  static Status apply_offline_record(DirectoryService& d, const std::string& user_id,
                                     const std::string& pubkey, const std::string& server,
                                     const json::Value& meta, Events& ev);
  static Status key_conflict(DirectoryService& d, const UserInfo& u, const std::string& offerer,
                             Events& ev);
  void go_offline(UserInfo& u, Events& ev);
};

// ---- persistence --------------------------------------------------------------------------

Status DirectoryService::Impl::persist(DirectoryService& d, const UserInfo& u) {
  if (d.store_ == nullptr) return ok_status();
  auto write = [&d](const UserInfo& r) {
    return d.store_->put_directory(DirectoryRecord{
        r.user_id, r.pubkey, r.server_id, json::canonical(r.meta), r.version, r.last_login});
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

// A user id this directory has never seen, offered with `pubkey`, to be located at `server`.
Status DirectoryService::Impl::admit_new(DirectoryService& d, const std::string& user_id,
                                         const std::string& pubkey, const std::string& server) {
  if (auto it = d.impl_->by_key.find(pubkey); it != d.impl_->by_key.end()) {
    ++d.stats_.key_conflicts;
    return make_error(Errc::BadKey,
                      "user " + user_id + ": key already belongs to user " + it->second);
  }
  if (server != d.self_) {
    auto n = d.impl_->located.find(server);
    if (n != d.impl_->located.end() && n->second >= d.limits_.max_users_per_server) {
      ++d.stats_.capped;
      return make_error(Errc::TooLarge, "server " + server + " already has " +
                                            std::to_string(n->second) + " users (the cap)");
    }
  }
  return ok_status();
}

Status DirectoryService::Impl::key_conflict(DirectoryService& d, const UserInfo& u,
                                            const std::string& offerer, Events& ev) {
  ++d.stats_.key_conflicts;
  ev.push_back({DirectoryEventKind::KeyConflict, u.user_id, u.server_id, offerer});
  return make_error(Errc::BadKey, "user " + u.user_id + ": key offered by " + offerer +
                                      " differs from pinned key");
}

void DirectoryService::Impl::go_offline(UserInfo& u, Events& ev) {
  set_online(u, false);
  take_login(u, nullptr);
  ++u.version;
  ev.push_back({DirectoryEventKind::Offline, u.user_id, u.server_id, {}});
}

// `server` is the (already authority-checked) server the user is online at; never self.
// `stamp` is the verified login proof, nullptr if the advert carried none.
Status DirectoryService::Impl::apply_online(DirectoryService& d, const std::string& user_id,
                                            const std::string& pubkey, const std::string& server,
                                            const LoginStamp* stamp, const json::Value& meta,
                                            Events& ev) {
  Impl& im = *d.impl_;
  auto it = im.users.find(user_id);
  if (it == im.users.end()) {
    SOCP_TRY(admit_new(d, user_id, pubkey, server));
    UserInfo u{user_id, pubkey, server, clean_meta(meta), true, 0, {}, {}, 0, 1};
    take_login(u, stamp);
    UserInfo& added = im.add(std::move(u));
    ev.push_back({DirectoryEventKind::Online, user_id, server, {}});
    return persist(d, added);  // R1: first key seen is pinned
  }
  UserInfo& u = it->second;
  if (u.pubkey != pubkey) return key_conflict(d, u, server, ev);  // R1

  const std::string old = u.server_id;
  if (u.online && old != server) {  // R5: online elsewhere (a local session included)
    if (!stamp) {
      ++d.stats_.unproven_ignored;
      return make_error(Errc::NameInUse, "user " + user_id + " is online at " + old +
                                             "; an advert without a login proof cannot move them");
    }
    if (stamp->digest == u.login_digest || !login_newer(stamp->ts, server, u.since, old)) {
      return make_error(Errc::NameInUse, "user " + user_id + " already online at " + old +
                                             " with a newer or the same login");
    }
    im.place(u, server);
    const bool grew = take_login(u, stamp);
    update_meta(u, clean_meta(meta));
    ++u.version;
    if (old == d.self_) ev.push_back({DirectoryEventKind::Evicted, user_id, old, server});
    ev.push_back({DirectoryEventKind::Moved, user_id, server, old});
    ev.push_back({DirectoryEventKind::Online, user_id, server, {}});
    (void)grew;
    return persist(d, u);
  }

  // Offline anywhere (R4 when elsewhere), or already online at `server` (a re-advert).
  const bool was_online_here = u.online && old == server;
  const bool moved = old != server;
  if (moved) {
    auto n = im.located.find(server);
    if (n != im.located.end() && n->second >= d.limits_.max_users_per_server) {
      ++d.stats_.capped;
      return make_error(Errc::TooLarge, "server " + server + " is at its user cap");
    }
  }
  const bool meta_changed = update_meta(u, clean_meta(meta));
  // A re-advert without proof keeps the login we know; a proof replaces it if it is newer.
  bool login_changed = false, grew = false;
  if (!was_online_here || (stamp && stamp->digest != u.login_digest &&
                           login_newer(stamp->ts, server, u.since, server))) {
    login_changed = true;
    grew = take_login(u, stamp);
  }
  const bool changed = moved || meta_changed || !was_online_here || login_changed;
  im.place(u, server);
  im.set_online(u, true);
  if (!changed) return ok_status();
  ++u.version;
  if (!was_online_here) {
    if (moved) ev.push_back({DirectoryEventKind::Moved, user_id, server, old});
    ev.push_back({DirectoryEventKind::Online, user_id, server, {}});
  }
  return (moved || meta_changed || grew) ? persist(d, u) : ok_status();
}

// A user listed offline by `server` (never self): pin/record if unknown; R7 if located there.
Status DirectoryService::Impl::apply_offline_record(DirectoryService& d, const std::string& user_id,
                                                    const std::string& pubkey,
                                                    const std::string& server,
                                                    const json::Value& meta, Events& ev) {
  Impl& im = *d.impl_;
  auto it = im.users.find(user_id);
  if (it == im.users.end()) {
    SOCP_TRY(admit_new(d, user_id, pubkey, server));
    UserInfo& added =
        im.add(UserInfo{user_id, pubkey, server, clean_meta(meta), false, 0, {}, {}, 0, 1});
    return persist(d, added);
  }
  UserInfo& u = it->second;
  if (u.pubkey != pubkey) return key_conflict(d, u, server, ev);  // R1
  if (u.server_id != server) return ok_status();  // last seen elsewhere: ours is as good
  const bool meta_changed = update_meta(u, clean_meta(meta));
  if (u.online) {
    im.go_offline(u, ev);  // version bumped there
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
  Impl& im = *impl_;
  for (auto& rec : dir.value()) {
    if (rec.user_id.empty() || im.users.count(rec.user_id) != 0) continue;
    if (im.by_key.count(rec.pubkey) != 0) continue;  // a second user with one key: not loaded
    UserInfo u{rec.user_id,
               rec.pubkey,
               rec.server_id,
               meta_from_json_text(rec.meta_json),
               false,
               0,
               {},
               {},
               rec.last_login,
               rec.version};
    im.add(std::move(u));
  }
  auto accounts = store_->list_users();
  if (!accounts.ok()) return accounts.error();
  Status first;
  for (auto& acc : accounts.value()) {
    if (acc.user_id.empty() || im.users.count(acc.user_id) != 0) continue;
    if (im.by_key.count(acc.pubkey) != 0) continue;
    UserInfo& added = im.add(UserInfo{acc.user_id,
                                      acc.pubkey,
                                      self_,
                                      meta_from_json_text(acc.meta_json),
                                      false,
                                      0,
                                      {},
                                      {},
                                      0,
                                      1});
    keep_first(first, Impl::persist(*this, added));
  }
  return first;
}

void DirectoryService::set_self_id(const std::string& id) {
  if (id.empty() || id == self_) return;
  const std::string old = self_;
  self_ = id;
  for (auto& [uid, u] : impl_->users) {
    if (u.server_id != old) continue;
    impl_->place(u, id);
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
  if (impl_->users.count(user_id) != 0) {
    return make_error(Errc::NameInUse, "user id " + user_id + " is already known");
  }
  SOCP_TRY(Impl::admit_new(*this, user_id, pubkey, self_));
  UserInfo& added =
      impl_->add(UserInfo{user_id, pubkey, self_, clean_meta(meta), false, 0, {}, {}, 0, 1});
  return Impl::persist(*this, added);
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
                                   const LoginStamp& stamp) {
  auto it = impl_->users.find(user_id);
  if (it == impl_->users.end()) return;  // precondition: check_login succeeded
  UserInfo& u = it->second;
  const std::string old = u.server_id;
  const bool was_online_here = u.online && old == self_;
  const bool moved = old != self_;
  const bool meta_changed = update_meta(u, clean_meta(meta));
  const bool login_changed = stamp.digest != u.login_digest || stamp.ts != u.since;
  impl_->place(u, self_);
  impl_->set_online(u, true);
  const bool grew = take_login(u, &stamp);
  if (!moved && !meta_changed && was_online_here && !login_changed) return;
  ++u.version;
  Events ev;
  if (!was_online_here) {
    if (moved) ev.push_back({DirectoryEventKind::Moved, user_id, self_, old});
    ev.push_back({DirectoryEventKind::Online, user_id, self_, {}});
  }
  if (moved || meta_changed || grew) (void)Impl::persist(*this, u);  // failure retried later
  for (const auto& e : ev) emit(e);
}

void DirectoryService::logout_local(const std::string& user_id) {
  auto it = impl_->users.find(user_id);
  if (it == impl_->users.end()) return;
  UserInfo& u = it->second;
  if (!u.online || u.server_id != self_) return;
  Events ev;
  impl_->go_offline(u, ev);
  for (const auto& e : ev) emit(e);
}

// ---- remote side ----------------------------------------------------------------------------

Status DirectoryService::apply_advertise(const msg::UserAdvertise& ad, const std::string& origin,
                                         const LoginStamp* proven) {
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
  Status s = Impl::apply_online(*this, ad.user_id, ad.pubkey, origin, proven, ad.meta, ev);
  // A persistence failure still means the advert was applied (in memory).
  if (s.ok() ||
      (s.code() != Errc::BadKey && s.code() != Errc::NameInUse && s.code() != Errc::TooLarge)) {
    ++stats_.adverts;
  }
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
  impl_->go_offline(u, ev);
  for (const auto& e : ev) emit(e);
  return ok_status();
}

Status DirectoryService::apply_snapshot(const std::string& origin,
                                        const std::vector<msg::DirectoryEntry>& entries,
                                        bool trust_third_party,
                                        const std::vector<std::optional<LoginStamp>>& proven) {
  if (origin.empty()) return make_error(Errc::InvalidArgument, "snapshot from empty server id");
  if (origin == self_) return ok_status();
  Status first;
  Events ev;
  std::set<std::string> listed;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
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
    const LoginStamp* stamp = i < proven.size() && proven[i] ? &*proven[i] : nullptr;
    Status s =
        e.online ? Impl::apply_online(*this, e.user_id, e.pubkey, e.server_id, stamp, e.meta, ev)
                 : Impl::apply_offline_record(*this, e.user_id, e.pubkey, e.server_id, e.meta, ev);
    // Losing rule R5 is not an error of the snapshot: the entry is simply outranked.
    if (!s.ok() && s.code() != Errc::NameInUse) keep_first(first, std::move(s));
  }
  for (auto& [uid, u] : impl_->users) {  // R7: absent = not online there any more
    if (u.server_id == origin && u.online && listed.count(uid) == 0) impl_->go_offline(u, ev);
  }
  for (const auto& e : ev) emit(e);
  return first;
}

void DirectoryService::server_down(const std::string& server_id) {
  if (server_id.empty() || server_id == self_) return;
  Events ev;
  for (auto& [uid, u] : impl_->users) {  // R6
    if (u.server_id == server_id && u.online) impl_->go_offline(u, ev);
  }
  for (const auto& e : ev) emit(e);
}

std::size_t DirectoryService::forget_server(const std::string& server_id) {
  if (server_id.empty() || server_id == self_) return 0;
  std::size_t n = 0;
  for (auto it = impl_->users.begin(); it != impl_->users.end();) {
    if (it->second.server_id != server_id || it->second.online) {
      ++it;
      continue;
    }
    const std::string uid = it->first;
    auto next = std::next(it);
    impl_->remove(it);
    impl_->dirty.erase(uid);
    if (store_ != nullptr) (void)store_->delete_directory(uid);
    it = next;
    ++n;
  }
  return n;
}

bool DirectoryService::remove(const std::string& user_id) {
  auto it = impl_->users.find(user_id);
  if (it == impl_->users.end()) return false;
  if (it->second.online && it->second.server_id == self_) {
    logout_local(user_id);
    it = impl_->users.find(user_id);
    if (it == impl_->users.end()) return true;
  }
  impl_->remove(it);
  impl_->dirty.erase(user_id);
  if (store_ != nullptr) (void)store_->delete_directory(user_id);
  return true;
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

std::size_t DirectoryService::online_count() const noexcept {
  return impl_->online;
}

void DirectoryService::for_each(const std::function<void(const UserInfo&)>& fn) const {
  for (const auto& [uid, u] : impl_->users) fn(u);
}

std::size_t DirectoryService::for_each_added(std::size_t cursor,
                                             const std::function<void(const UserInfo&)>& fn) const {
  const auto& log = impl_->added_log;
  for (std::size_t i = std::min(cursor, log.size()); i < log.size(); ++i) {
    auto it = impl_->users.find(log[i]);
    if (it != impl_->users.end()) fn(it->second);
  }
  return log.size();
}

void DirectoryService::for_each_after(const std::string& after_user_id,
                                      const std::function<bool(const UserInfo&)>& fn) const {
  auto it = after_user_id.empty() ? impl_->users.begin() : impl_->users.upper_bound(after_user_id);
  for (; it != impl_->users.end(); ++it) {
    if (!fn(it->second)) return;
  }
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
  if (u.online) e.proof = u.proof;
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

std::size_t DirectoryService::users_at(const std::string& server_id) const {
  auto it = impl_->located.find(server_id);
  return it == impl_->located.end() ? 0 : it->second;
}

const std::string* DirectoryService::owner_of_key(const std::string& pubkey) const {
  auto it = impl_->by_key.find(pubkey);
  return it == impl_->by_key.end() ? nullptr : &it->second;
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
