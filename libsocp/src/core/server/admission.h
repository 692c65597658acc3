// Private: Admission — which servers may join the mesh through us, link to us, or be
// introduced to us (docs/protocol-notes.md "Admission").
//
//   * SERVER_HELLO_JOIN (a server joining through us): ServerConfig::join_policy — Open,
//     Allowlist (allowed_servers) or Closed — and the peer cap.
//   * SERVER_HELLO_LINK from a server we have not pinned: only if it is in allowed_servers.
//     Every other new server reaches us through an introduction.
//   * SERVER_INTRODUCE (an introducer vouching for a server it admitted): accepted from the
//     introducers we joined through and from trusted_introducers.
// Lists hold keys (any accepted form) or server ids. The config may change at run time
// (reload): nothing is cached.
// Thread-safety: none (service thread).
#pragma once

#include <set>
#include <string>

#include "socp/crypto.h"
#include "socp/result.h"
#include "socp/server_core.h"

namespace socp::core {

class Admission {
 public:
  Admission(const ServerConfig& cfg, PublicKeyCache& keys) : cfg_(cfg), keys_(keys) {}

  /// Ok, or NotAdmitted saying why.
  Status may_join(const std::string& server_id, const std::string& pubkey_b64,
                  std::size_t peers_now) const;
  /// A server we have not pinned asks to link: only if listed.
  bool listed(const std::string& server_id, const std::string& pubkey_b64) const;
  /// Whose introductions we accept.
  bool trusts_introducer(const std::string& server_id, const std::string& pubkey_b64) const;
  /// We joined the mesh through `server_id`: its introductions count.
  void joined_via(const std::string& server_id) { joined_via_.insert(server_id); }

 private:
  bool in(const std::vector<std::string>& list, const std::string& server_id,
          const std::string& pubkey_b64) const;
  const ServerConfig& cfg_;
  PublicKeyCache& keys_;
  std::set<std::string> joined_via_;
};

}  // namespace socp::core
