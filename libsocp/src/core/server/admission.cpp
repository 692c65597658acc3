// Admission (admission.h).
#include "core/server/admission.h"

namespace socp::core {

bool Admission::in(const std::vector<std::string>& list, const std::string& server_id,
                   const std::string& pubkey_b64) const {
  for (const std::string& entry : list) {
    if (entry == server_id) return true;
    auto k = keys_.get(entry);
    if (k && k->b64url() == pubkey_b64) return true;
  }
  return false;
}

Status Admission::may_join(const std::string& server_id, const std::string& pubkey_b64,
                           std::size_t peers_now) const {
  if (peers_now >= cfg_.max_peers && !in(cfg_.allowed_servers, server_id, pubkey_b64)) {
    return make_error(Errc::NotAdmitted,
                      "peer cap reached (" + std::to_string(cfg_.max_peers) + " servers)");
  }
  switch (cfg_.join_policy) {
    case JoinPolicy::Open:
      return ok_status();
    case JoinPolicy::Allowlist:
      if (in(cfg_.allowed_servers, server_id, pubkey_b64)) return ok_status();
      return make_error(Errc::NotAdmitted, "server " + server_id + " is not on the allowlist");
    case JoinPolicy::Closed:
      break;
  }
  return make_error(Errc::NotAdmitted, "this server admits no new servers");
}

bool Admission::listed(const std::string& server_id, const std::string& pubkey_b64) const {
  return in(cfg_.allowed_servers, server_id, pubkey_b64);
}

bool Admission::trusts_introducer(const std::string& server_id,
                                  const std::string& pubkey_b64) const {
  return joined_via_.count(server_id) != 0 || in(cfg_.trusted_introducers, server_id, pubkey_b64);
}

}  // namespace socp::core
