// LIST_REQUEST (and its aliases) -> LIST_RESPONSE: every user the mesh knows, sorted by id.
#include "core/server/core_impl.h"

namespace socp::core {

void handle_list_request(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  (void)env;
  msg::ListResponse out;
  for (const UserInfo& u : s.dir.list()) {
    msg::ListEntry e;
    e.user_id = u.user_id;
    e.display_name = msg::display_name_of(u.meta, u.user_id);
    e.server_id = u.server_id;
    e.online = u.online;
    e.pubkey = u.pubkey;
    if (u.server_id != s.self_id) {
      auto p = s.peers.find(u.server_id);
      if (p != s.peers.end() && !p->second.socp_caps) {
        e.server_dialect = std::string(dialect_name(p->second.dialect));
      }
    }
    if (u.online) out.online_users.push_back(u.user_id);
    out.users.push_back(std::move(e));
  }
  s.count(Counter::Lists);
  s.out.send(c.id, MessageType::ListResponse, c.user_id, out.to_json());
}

}  // namespace socp::core
