// Control family from servers: ERROR frames are never answered (a peer implementation loops
// forever otherwise); one addressed to a local user (a delivery failure) is relayed to them.
#include "core/server/core_impl.h"

namespace socp::core {

void handle_server_error(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  s.count("errors_from_servers");
  auto e = msg::ErrorMsg::from_json(env.payload);
  if (!e) return;
  auto it = s.sessions.find(env.to);
  if (it == s.sessions.end()) {
    s.log(LogLevel::Info, "ERROR from server " + c.server_id + ": " + e->code + " " + e->detail);
    return;
  }
  // Relayed as received: extra fields (a file error's `file_id`) reach the user.
  s.send_signed(it->second, MessageType::Error, env.to, env.payload);
}

}  // namespace socp::core
