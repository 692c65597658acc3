// Private: the client's view of the user directory — who exists, where, online or not, and
// the public key pinned for each user id (trust on first sight; never silently replaced).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "socp/client_trust.h"
#include "socp/crypto.h"

namespace socp::client {

struct KnownUser {
  std::string user_id;
  std::string display_name;  ///< meta.display_name, else the id
  std::string server_id;     ///< home server; "" if unknown
  std::optional<PublicKey> key;
  std::int64_t pinned_since = 0;  ///< when `key` was first pinned (Unix ms; 0 = unknown)
  bool online = false;
  /// The dialect of the user's home server when it is not a socp server ("g43", ...; "" =
  /// socp), from LIST_RESPONSE: decides the content-signature form its clients verify.
  std::string server_dialect;
  /// The user's client takes bulk files (LIST_RESPONSE caps has "file-bulk/1", which a
  /// server lists only for users of socp/1 servers).
  bool file_bulk = false;
};

/// The content_sig form the clients of a server of this dialect verify ("" = socp: raw).
inline ContentSigForm content_sig_form_for(const std::string& server_dialect) {
  if (server_dialect == "g43") return ContentSigForm::Sha256;
  if (server_dialect == "g56") return ContentSigForm::B64Text;
  return ContentSigForm::Raw;
}

/// Result of offering a key for a user id.
enum class PinResult {
  Pinned,   ///< no key was pinned; this one is now
  Same,     ///< equals the pinned key
  Changed,  ///< differs from the pinned key; the pinned (old) key is kept
};

/// Outcome of resolving what the user typed (an id or an exact display name).
struct Resolution {
  const KnownUser* user = nullptr;      ///< set when exactly one user matches
  std::vector<std::string> candidates;  ///< ids, set when a display name is ambiguous
};

class ClientDirectory {
 public:
  /// Where pins come from and go to: `clock` dates new pins; with a `trust` store, every key
  /// pinned from now on is also recorded there (nullptr: this session only).
  void configure(TrustStore* trust, std::function<std::int64_t()> clock);
  /// Adds a pin loaded from the trust store (not written back). The key text is parsed when
  /// the user is first looked up (find, upsert, resolve, offer_key): parsing ~0.3 ms per key
  /// would make a start with 10,000 pinned contacts take seconds. A stored key that does not
  /// parse still counts as pinned: any key offered later is "Changed".
  void preload(const std::string& user_id, const std::string& display_name, std::string key_text,
               std::int64_t since);
  /// The entry for `user_id`, created (display name = id, offline, no key) if missing.
  KnownUser& upsert(const std::string& user_id);
  const KnownUser* find(std::string_view user_id) const;
  KnownUser* find_mut(std::string_view user_id);
  /// Pins `key` for the user (creating the entry) unless a different key is pinned.
  PinResult offer_key(const std::string& user_id, const PublicKey& key);
  /// Sets a user's display name (and the trust store's copy of it).
  void set_name(KnownUser& u, const std::string& display_name);
  /// Exact id first, then exact (case-sensitive) display name among all known users.
  Resolution resolve(std::string_view who) const;
  /// Online users other than `self_id`, sorted by display name then id.
  std::vector<const KnownUser*> online_except(std::string_view self_id) const;
  /// Display name of a user id (the id itself when unknown).
  std::string name_of(std::string_view user_id) const;
  std::size_t size() const noexcept { return users_.size(); }
  /// Every entry, by user id (read-only view for listings: keys of preloaded users that were
  /// not looked up yet are absent here).
  const std::map<std::string, KnownUser, std::less<>>& all() const noexcept { return users_; }

 private:
  /// Parses a preloaded key of `u` if there is one (const: lookups stay const for callers).
  void materialize(KnownUser& u) const;

  // mutable: preloaded keys are parsed lazily by const lookups (materialize).
  mutable std::map<std::string, KnownUser, std::less<>> users_;
  mutable std::map<std::string, std::string, std::less<>> pending_;  ///< id → stored key text
  mutable std::set<std::string, std::less<>> unusable_;  ///< stored keys that did not parse
  TrustStore* trust_ = nullptr;
  std::function<std::int64_t()> clock_;
};

/// Sort order of user lists shown to humans: display name, then id.
bool display_order(const KnownUser& a, const KnownUser& b);

}  // namespace socp::client
