// Private: builders for the events ClientCore emits. The schema (event names and fields) is
// public and stable: client/README-json.md documents it; change both together.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/client/client_directory.h"
#include "socp/client_core.h"
#include "socp/json.h"

namespace socp::client::ev {

json::Value connected(const std::string& server);
json::Value closed(ClientOutcome outcome, const std::string& code);
json::Value registered(const std::string& user_id, const std::string& display_name);
json::Value recovered(const std::string& user_id, const std::string& display_name);
json::Value logged_in(const std::string& user_id, const std::string& display_name,
                      const std::string& server_id, bool challenge);
json::Value presence(const KnownUser& u);
/// A user's key: `source` "advertise", "list", "pubkey", "deliver"; kind "user".
json::Value key_changed(const KnownUser& u, const PublicKey& offered, const std::string& source);
/// The server's key (kind "server"): user_id = the server id offered, display_name and
/// server = its address; `source` "pinned" (the trust store) or "option" (--server-key).
json::Value server_key_changed(const std::string& address, const std::string& server_id,
                               const std::string& pinned_fingerprint, std::int64_t pinned_since,
                               const PublicKey& offered, const std::string& source);
json::Value list(const std::vector<const KnownUser*>& users);
json::Value sent(const std::string& to, const std::string& to_name, std::size_t bytes,
                 std::size_t pieces);
json::Value sent_all(std::size_t recipients, std::size_t bytes, std::size_t skipped);
json::Value message(const std::string& from, const std::string& from_name, const std::string& to,
                    std::string text, std::int64_t ts, bool first_contact);
json::Value rejected(const std::string& reason, const std::string& from,
                     const std::string& from_name, std::int64_t ts);
json::Value error(const std::string& code, const std::string& detail, const std::string& msg_ref);
json::Value ambiguous(const std::string& who, const std::vector<std::string>& candidates);
json::Value warning(const std::string& detail);
json::Value whoami(const std::string& user_id, const std::string& display_name,
                   const std::string& server_id, const std::string& fingerprint);
json::Value fingerprint(const KnownUser& u);
json::Value help(const std::string& text);

/// "done", "connect_failed", "connection_lost", "auth_failed", "protocol_error", "running".
const char* outcome_name(ClientOutcome o) noexcept;

}  // namespace socp::client::ev
