// socp/client_trust.h — what a client trusts across sessions: the key (and id and
// capabilities) of every server address it logged in to, and every contact key it pinned.
//
// ClientCore consults and updates a TrustStore (ClientConfig::trust): a pinned key that
// changes is refused and reported (docs in client_core.h), never silently replaced; new pins
// are written as they are learned. socp-cli keeps one per local identity, next to it:
// <home>/<name>/trust.json =
//   {"v":1,
//    "servers":{"host:port":{"server_id":…,"pubkey":<b64url DER>,"caps":["socp/1"],"since":ms}},
//    "contacts":{"<user id>":{"pubkey":<b64url DER>,"display_name":…,"since":ms}}}
// Written atomically (temporary file, fsync, rename), the file with mode 0600 and a missing
// folder with 0700. Keys are public, so nothing here is secret; the file is private because
// it tells who talks to whom.
//
// Bounds: at most 100,000 contacts and 1,000 servers (pins beyond that are kept for the
// session only) and a 128 MiB file.
// Thread-safety: none; use a store from one thread (the cores sharing it included).
// Errors: open() returns Corrupt for a file it cannot read (it is never overwritten then:
// the pins in it are the point) and Io; save() returns Io.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "socp/result.h"

namespace socp {

struct ServerPin {
  std::string server_id;
  std::string pubkey;             ///< base64url DER SubjectPublicKeyInfo (PublicKey::b64url)
  std::vector<std::string> caps;  ///< from the ACK of USER_HELLO / USER_REGISTER
  std::int64_t since = 0;         ///< Unix ms when first pinned (0 = unknown)
};

struct ContactPin {
  std::string pubkey;  ///< base64url DER
  std::string display_name;
  std::int64_t since = 0;
};

class TrustStore {
 public:
  static constexpr std::size_t kMaxContacts = 100'000;
  static constexpr std::size_t kMaxServers = 1'000;
  static constexpr std::size_t kMaxFileBytes = 128u << 20;

  /// An empty store in memory only: save() writes nothing.
  TrustStore() = default;
  /// The store kept at `path`, loaded now (a missing file is an empty store).
  static Result<std::shared_ptr<TrustStore>> open(std::string path);
  /// "" for an in-memory store.
  const std::string& path() const noexcept { return path_; }

  /// The pin for a server address ("host:port"), or nullptr.
  const ServerPin* server(std::string_view address) const;
  /// Pins (or, deliberately, re-pins) the server at `address`.
  void pin_server(const std::string& address, ServerPin pin);
  /// Removes a server pin; false if there was none.
  bool forget_server(std::string_view address);
  const std::map<std::string, ServerPin, std::less<>>& servers() const noexcept { return servers_; }

  const ContactPin* contact(std::string_view user_id) const;
  /// Pins a contact key; false (and nothing changes) if a key is already pinned for that id
  /// or the store is full. Contact keys are never replaced here.
  bool pin_contact(const std::string& user_id, ContactPin pin);
  /// Keeps a pinned contact's display name current (no-op for unknown ids).
  void set_contact_name(std::string_view user_id, const std::string& display_name);
  const std::map<std::string, ContactPin, std::less<>>& contacts() const noexcept {
    return contacts_;
  }

  /// True when something changed since the last load or save.
  bool dirty() const noexcept { return dirty_; }
  /// Writes the file if dirty (in-memory store: just clears the flag).
  Status save();

 private:
  std::string path_;
  std::map<std::string, ServerPin, std::less<>> servers_;
  std::map<std::string, ContactPin, std::less<>> contacts_;
  bool dirty_ = false;
};

}  // namespace socp
