#include "core/server/router.h"

namespace socp::core {

Route route_to_user(ServerCore::Impl& s, const std::string& user_id) {
  Route r;
  if (auto it = s.sessions.find(user_id); it != s.sessions.end()) {
    r.kind = Route::Kind::Local;
    r.conn = it->second;
    r.server_id = s.self_id;
    return r;
  }
  const UserInfo* u = s.dir.find(user_id);
  if (!u) return r;
  r.server_id = u->server_id;
  if (u->online && u->server_id != s.self_id) {
    auto p = s.peers.find(u->server_id);
    if (p != s.peers.end() && p->second.link != 0) {
      r.kind = Route::Kind::Remote;
      r.conn = p->second.link;
      return r;
    }
  }
  r.kind = Route::Kind::Offline;
  return r;
}

}  // namespace socp::core

namespace socp {

bool ServerCore::Impl::first_time(const Envelope& env) {
  if (seen.insert(SeenCache::signed_key_of(env), now())) return true;
  count(Counter::Duplicates);
  return false;
}

const UserInfo* ServerCore::Impl::local_sender(const core::Conn& c, const std::string& sender_pub) {
  const UserInfo* u = dir.find(c.user_id);
  auto key = keys.get(sender_pub);
  if (!u || !key || key->b64url() != u->pubkey) return nullptr;
  return u;
}

const UserInfo* ServerCore::Impl::remote_sender(const std::string& sender,
                                                const std::string& sender_pub,
                                                const std::string& origin) {
  const UserInfo* u = dir.find(sender);
  if (!u || u->server_id != origin) return nullptr;
  auto key = keys.get(sender_pub);
  if (!key || key->b64url() != u->pubkey) return nullptr;
  return u;
}

}  // namespace socp
