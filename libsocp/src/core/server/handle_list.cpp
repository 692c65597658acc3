// LIST_REQUEST (and its aliases) -> LIST_RESPONSE: the users the mesh knows, sorted by id, in
// pages that always fit in one frame (docs/protocol-notes.md "Paged answers").
#include <algorithm>

#include "core/server/core_impl.h"

namespace socp::core {

namespace {

/// An upper bound of one entry's encoded size (keys, quotes, the online flag).
std::size_t entry_bytes(const msg::ListEntry& e) {
  return e.user_id.size() * 2 + e.display_name.size() * 6 + e.server_id.size() + e.pubkey.size() +
         e.server_dialect.size() + 128 + e.caps.size() * 80;
}

/// The user's client announced bulk files (meta.caps has "file-bulk/1").
bool announces_bulk(const UserInfo& u) {
  const json::Value* caps = u.meta.find("caps");
  if (!caps || !caps->is_array()) return false;
  for (const json::Value& c : caps->as_array()) {
    if (c.is_string() && c.as_string() == kFileBulkCapability) return true;
  }
  return false;
}

}  // namespace

void handle_list_request(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  auto req = msg::ListRequest::from_json(env.payload);
  if (!req) req = msg::ListRequest{};  // the aliases of other implementations send anything
  // A page fits the user frame limit with room for the envelope and signature, whatever the
  // client asked; clients that do not page get the first page and `next`.
  const std::size_t budget = page_budget(s.cfg.limits.max_user_frame);
  const std::size_t limit = req->limit > 0 ? static_cast<std::size_t>(req->limit) : SIZE_MAX;
  msg::ListResponse out;
  std::size_t bytes = 0;
  s.dir.for_each_after(req->after, [&](const UserInfo& u) {
    msg::ListEntry e;
    e.user_id = u.user_id;
    e.display_name = msg::display_name_of(u.meta, u.user_id);
    e.server_id = u.server_id;
    e.online = u.online;
    e.pubkey = u.pubkey;
    bool socp_home = u.server_id == s.self_id;
    if (!socp_home) {
      auto p = s.peers.find(u.server_id);
      socp_home = p != s.peers.end() && p->second.socp_caps;
      if (p != s.peers.end() && !p->second.socp_caps) {
        e.server_dialect = std::string(dialect_name(p->second.dialect));
      }
    }
    // Bulk files need socp's extension frames on every hop: listed for socp/1 homes only.
    if (socp_home && announces_bulk(u)) e.caps.emplace_back(kFileBulkCapability);
    const std::size_t n = entry_bytes(e);
    if (!out.users.empty() && (out.users.size() >= limit || bytes + n > budget)) {
      out.next = out.users.back().user_id;
      return false;
    }
    bytes += n;
    if (u.online) out.online_users.push_back(u.user_id);
    out.users.push_back(std::move(e));
    return true;
  });
  s.count(Counter::Lists);
  s.out.send(c.id, MessageType::ListResponse, c.user_id, out.to_json());
}

}  // namespace socp::core
