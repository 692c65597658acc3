// server/admin_ops.h — what `socp-server admin` does to a data directory.
//
// Reads open the store read-only and work whether or not a server runs. Changes that a running
// server must carry out itself (delete an account: close its session, forget it in memory;
// forget a server: close its link) go two ways:
//   - server running (it holds the data lock): queue "command/<id>" for it and wait until it
//     has carried it out (it polls every second), then confirm in the store;
//   - server stopped: take the data lock for the moment of the edit (a server starting then
//     refuses) and change the store directly, in one transaction.
// Settings (registration policy, invitations) are read by the server when needed: written
// directly either way.
// Thread-safety: one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "socp/result.h"
#include "socp/store.h"

namespace socp_server {

struct AdminTarget {
  std::string data_dir;
  std::size_t map_size_mib = 1024;
  std::int64_t wait_ms = 15'000;  ///< how long to wait for a running server to act
};

/// How a change was made.
struct AdminOutcome {
  std::string what;                ///< e.g. "account 3f1c… (alice) deleted"
  std::optional<long> server_pid;  ///< set when the running server carried it out
};

socp::Result<std::vector<socp::UserRecord>> list_accounts(const AdminTarget& t);
socp::Result<std::vector<socp::ServerRecord>> list_servers(const AdminTarget& t);
socp::Result<std::vector<std::pair<std::string, std::string>>> list_invites(const AdminTarget& t);
/// "open" (also when unset), "closed" or "invite".
socp::Result<std::string> get_registration(const AdminTarget& t);

/// `who` is a user id, or a display name unique among the accounts here.
socp::Result<AdminOutcome> delete_account(const AdminTarget& t, const std::string& who);
socp::Result<AdminOutcome> forget_server(const AdminTarget& t, const std::string& server_id);
socp::Status set_registration(const AdminTarget& t, const std::string& policy);
/// A new single-use invitation token (base64url of 18 random bytes).
socp::Result<std::string> create_invite(const AdminTarget& t, std::int64_t now_ms);
socp::Status revoke_invite(const AdminTarget& t, const std::string& token);

/// "display_name" of a meta JSON object, or "".
std::string display_name_of(const std::string& meta_json);

}  // namespace socp_server
