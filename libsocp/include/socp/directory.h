// socp/directory.h — DirectoryService: the mesh-wide user directory (docs/protocol.md §5).
//
// One record per user: id, pinned public key, location (the server the user is attached to, or
// was last seen at), online flag, meta, the current login (time, digest, proof) and the newest
// login time ever seen. It merges local logins/logouts with remote gossip (USER_ADVERTISE,
// USER_REMOVE, DIRECTORY_SNAPSHOT, SERVER_WELCOME.users) under these reconciliation rules
// (also in docs/protocol-notes.md):
//   R1 Key pinning: the first key seen for a user id is pinned (and persisted). A different key
//      for a known user is rejected (BadKey), the record is left unchanged and a KeyConflict
//      event is emitted. Keys are never silently replaced. One key belongs to one user: a new
//      user id offering a key already pinned to another user is rejected (BadKey).
//   R2 Authority: a remote server may only advertise/remove users located at itself
//      (payload.server_id must equal the origin server) — checked by the caller, which knows
//      the verified origin; the directory re-checks `origin == server_id`.
//   R3 Remove only if still there: a removal from S marks the user offline only if the user's
//      location is still S (a later move elsewhere wins).
//   R4 Moves: an advert from S for a user who is offline everywhere moves the user to S.
//   R5 Proven logins: a user online at one server (a local session included) is moved only by
//      an advert carrying that user's login proof (a LoginStamp the caller verified: the
//      user's own signature over its hello) for a NEWER login, by (time, server id). A bare
//      advert, or a proof of the current or an older login, is ignored (NameInUse). When the
//      user's local session loses, an Evicted event tells the server core to close it with
//      NAME_IN_USE. A peer's bare `since` proves nothing.
//   R6 Dead link: server_down(S) marks every user located at S offline; keys stay pinned.
//   R7 Snapshot: a snapshot from S is S's complete list of local users: users located at S and
//      absent from it, or listed offline, become offline.
//   Caps: at most `max_users_per_server` users may be located at one remote server; more are
//      refused (TooLarge). forget_server() drops the offline users last seen at a server.
// Persistence: pinned keys, locations, meta and the newest login time are written to the
// Store (DirectoryRecord) when they change; presence is not persisted (after a restart
// everyone is offline until gossip). Write errors are reported where the call returns a
// Status and the record is retried after the next successful write.
// Meta: stored as given (an object) minus `pubkey` (the pinned key lives in the record); an
// empty or non-object meta leaves the stored one unchanged.
// Gossip that names this server itself as origin (our own advert echoed back, a snapshot of
// ourselves, server_down(self_id())) is ignored: local presence changes only through
// login_local/logout_local; third-party snapshot entries never touch users located here.
// Events: every mutating call delivers its events after the whole operation changed the state,
// synchronously, in this order per user: Evicted, Moved, Online (or Offline / KeyConflict).
// A listener may call the const queries (find, list, ...) and (un)subscribe, but must not call
// any other member (do the resulting work after the listener returns). Listeners must not throw.
// Thread-safety: not thread-safe; owned by the server's service thread.
// Errors: BadKey (R1), InvalidArgument (R2, malformed ids), NameInUse (check_login, R5),
// TooLarge (cap), UserNotFound, StoreFull/Io when persistence fails (state still updated).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "socp/json.h"
#include "socp/messages.h"
#include "socp/result.h"
#include "socp/store.h"

namespace socp {

/// A verified login: the caller checked the user's signature over its hello.
struct LoginStamp {
  std::int64_t ts = 0;  ///< the signed login time (the hello's ts, ms)
  std::string digest;   ///< identifies one login (hash of the signed hello)
  json::Value proof;    ///< {"hello", "sig"} as it travels in adverts and snapshots
};

struct UserInfo {
  std::string user_id;
  std::string pubkey;     ///< pinned base64url DER
  std::string server_id;  ///< location (current or last known home server)
  json::Value meta = json::Object{};
  bool online = false;
  std::int64_t since = 0;       ///< time of the current login (ms); 0 = unknown / unproven
  std::string login_digest;     ///< the current login's digest ("" = unproven)
  json::Value proof;            ///< the current login's proof (null = none)
  std::int64_t last_login = 0;  ///< newest proven login time ever seen (persisted)
  std::uint64_t version = 0;    ///< bumped on every change of this record
};

struct DirectoryLimits {
  std::size_t max_users_per_server = 100'000;  ///< users located at one remote server
};

enum class DirectoryEventKind {
  Online,       ///< user came online (local or remote); server_id = location
  Offline,      ///< user went offline; server_id = where they were
  Moved,        ///< the user came online at a server other than their previous location (R4,
                ///< R5, or a local login of a roaming user); server_id = new location,
                ///< detail = previous location; always followed by Online (informational)
  KeyConflict,  ///< a different key was offered for a pinned user; server_id = the record's
                ///< location, detail = the server that offered the key
  Evicted,      ///< rule R5: the local session of this user must be closed with NAME_IN_USE;
                ///< server_id = this server, detail = the winner. The record already points at
                ///< the winner, so the later logout_local of that session is a no-op.
};

struct DirectoryEvent {
  DirectoryEventKind kind;
  std::string user_id;
  std::string server_id;
  std::string detail;
};

class DirectoryService {
 public:
  using Listener = std::function<void(const DirectoryEvent&)>;

  /// `store` may be null (no persistence). The store must outlive the service.
  DirectoryService(std::string self_server_id, Store* store);
  ~DirectoryService();
  DirectoryService(const DirectoryService&) = delete;
  DirectoryService& operator=(const DirectoryService&) = delete;

  /// Loads pinned keys and locations from the store; everyone starts offline. Local accounts
  /// (Store::list_users) without a directory record get one located here. Meant to be called
  /// once at start-up; records already in memory are kept as they are.
  Status load();
  /// Changes this server's id (after SERVER_WELCOME assigned a new one); local records move.
  void set_self_id(const std::string& id);
  const std::string& self_id() const noexcept { return self_; }

  // ---- local side ------------------------------------------------------------------------
  void set_limits(DirectoryLimits l) noexcept { limits_ = l; }

  /// Pins a newly registered local user (offline). NameInUse if the id is known with any key,
  /// BadKey if the key belongs to another user.
  Status register_local(const std::string& user_id, const std::string& pubkey,
                        const json::Value& meta);
  /// Would a login of `user_id` with `pubkey` here be accepted? BadKey if the pinned key
  /// differs, NameInUse if online anywhere, UserNotFound if the user is unknown.
  Status check_login(const std::string& user_id, const std::string& pubkey) const;
  /// Marks the user online here (location = self) with the login `stamp` (its ts becomes
  /// `since` and raises last_login). Call after check_login succeeded (an unknown user is
  /// ignored). Emits Online (preceded by Moved if the user was last seen elsewhere).
  void login_local(const std::string& user_id, const json::Value& meta, const LoginStamp& stamp);
  /// Marks a local user offline (no-op if not online here).
  void logout_local(const std::string& user_id);

  // ---- remote side (origin = verified server id that originated the frame) -----------------
  /// USER_ADVERTISE. `proven`: the advert's login proof, verified by the caller (nullptr =
  /// none or unverifiable). Ok when accepted (even if nothing changed: an advert repeated
  /// emits no event); BadKey (R1), InvalidArgument (R2, empty fields), NameInUse when rule R5
  /// keeps the current login (the advert is ignored, nothing to forward), TooLarge (cap).
  Status apply_advertise(const msg::UserAdvertise& ad, const std::string& origin,
                         const LoginStamp* proven = nullptr);
  /// USER_REMOVE (R3). InvalidArgument if origin != rm.server_id.
  Status apply_remove(const msg::UserRemove& rm, const std::string& origin);
  /// DIRECTORY_SNAPSHOT / WELCOME users (R7 for users of `origin`). Entries located at other
  /// servers (as in SERVER_WELCOME.users) are applied as adverts from those servers when
  /// `trust_third_party` is true (used for the introducer's welcome snapshot).
  /// Online entries are applied like adverts without a login time; offline entries pin the key
  /// of an unknown user (offline) or take a user located at that server offline. One bad entry
  /// does not stop the others: the first error (BadKey, InvalidArgument, store error) is
  /// returned after all entries are processed. An entry that loses rule R5 is not an error.
  /// `proven[i]` is entry i's verified login proof (may be shorter than `users`: missing =
  /// none).
  Status apply_snapshot(const std::string& origin, const std::vector<msg::DirectoryEntry>& users,
                        bool trust_third_party = false,
                        const std::vector<std::optional<LoginStamp>>& proven = {});
  /// R6.
  void server_down(const std::string& server_id);
  /// Drops the records of offline users located at `server_id` (a forgotten server), from
  /// memory and store. Returns how many.
  std::size_t forget_server(const std::string& server_id);
  /// Drops one user's record (an account deleted by the operator), from memory and store.
  /// A user online here is first taken offline (Offline event). False if unknown.
  bool remove(const std::string& user_id);

  // ---- queries ---------------------------------------------------------------------------
  const UserInfo* find(const std::string& user_id) const;
  /// All users sorted by user_id (a copy: prefer for_each on hot paths).
  std::vector<UserInfo> list() const;
  /// Calls fn for every user, sorted by user_id, without copying. fn must not change the
  /// directory.
  void for_each(const std::function<void(const UserInfo&)>& fn) const;
  /// Calls fn for the users added since `cursor` (0 = all, in the order they were added;
  /// removed ones are skipped) and returns the cursor to pass next time. O(users added).
  std::size_t for_each_added(std::size_t cursor,
                             const std::function<void(const UserInfo&)>& fn) const;
  /// Calls fn for the users sorted after `after_user_id` ("" = from the first) until fn
  /// returns false. For paged answers.
  void for_each_after(const std::string& after_user_id,
                      const std::function<bool(const UserInfo&)>& fn) const;
  /// Users located here (online or not), as directory entries (for sync on link).
  std::vector<msg::DirectoryEntry> local_entries() const;
  /// Every user (for SERVER_WELCOME.users).
  std::vector<msg::DirectoryEntry> all_entries() const;
  std::size_t size() const noexcept;
  /// Users online anywhere in the mesh (kept as they change: O(1)).
  std::size_t online_count() const noexcept;
  /// How many users are located at `server_id`.
  std::size_t users_at(const std::string& server_id) const;
  /// The user a key is pinned to (nullptr if none). Any key form is NOT accepted: pass the
  /// pinned (base64url DER) form.
  const std::string* owner_of_key(const std::string& pubkey) const;

  // ---- events ----------------------------------------------------------------------------
  /// Listeners are called synchronously, in subscription order, after the state changed.
  /// Returns a token for unsubscribe().
  int subscribe(Listener fn);
  void unsubscribe(int token);

  /// Counters (for logs and tests).
  struct Stats {
    std::uint64_t key_conflicts = 0, rejected_authority = 0, adverts = 0, removes = 0;
    std::uint64_t unproven_ignored = 0;  ///< bare adverts for users online elsewhere (R5)
    std::uint64_t capped = 0;            ///< users refused by the per-server cap
  };
  const Stats& stats() const noexcept { return stats_; }

 private:
  struct Impl;  // records by id (directory/directory_service.cpp)
  void emit(const DirectoryEvent& ev);

  std::string self_;
  Store* store_;
  DirectoryLimits limits_;
  std::unique_ptr<Impl> impl_;
  Stats stats_;
  std::vector<std::pair<int, Listener>> listeners_;
  int next_token_ = 1;
};

}  // namespace socp
