// Control family from servers: ERROR frames are never answered (a peer implementation loops
// forever otherwise); one addressed to a local user (a delivery failure) is relayed to them,
// rebuilt from the fields an ERROR has (a server never signs a payload someone else shaped).
#include "core/server/core_impl.h"
#include "core/server/error_policy.h"

namespace socp::core {

void handle_server_error(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  s.count(Counter::ErrorsFromServers);
  auto e = msg::ErrorMsg::from_json(env.payload);
  if (!e) return;
  auto it = s.sessions.find(env.to);
  if (it == s.sessions.end()) {
    s.log(LogLevel::Info, "ERROR from server " + c.server_id + ": " + clip_detail(e->code) + " " +
                              clip_detail(e->detail));
    return;
  }
  json::Object p{{"code", clip_detail(e->code)}, {"detail", clip_detail(e->detail)}};
  if (!e->msg_ref.empty()) p["msg_ref"] = clip_detail(e->msg_ref);
  // A file error names its transfer: the sender's client fails that file.
  if (const std::string* fid = json::get_string(env.payload, "file_id");
      fid && !fid->empty() && fid->size() <= 128) {
    p["file_id"] = *fid;
  }
  s.out.send(it->second, MessageType::Error, env.to, json::Value(std::move(p)));
}

}  // namespace socp::core
