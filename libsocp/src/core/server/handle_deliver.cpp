// Delivery family: MSG_DIRECT from a local user, SERVER_DELIVER from a server, both routed by
// route_to_user (PROTOCOL.md §7). Servers never decrypt; `ts` of the original is preserved.
#include "core/server/core_impl.h"
#include "core/server/router.h"

namespace socp::core {

namespace {

void deliver_local(ServerCore::Impl& s, ConnId session, const std::string& user_id,
                   const std::string& sender, const std::string& ciphertext,
                   const std::string& sender_pub, const std::string& content_sig, std::int64_t ts) {
  msg::UserDeliver d{ciphertext, sender, sender_pub, content_sig};
  s.count("delivered_local");
  s.send_signed(session, MessageType::UserDeliver, user_id, d.to_json(), ts);
}

std::string why_unreachable(const Route& r, const std::string& user_id) {
  return r.kind == Route::Kind::Offline ? "user " + user_id + " is offline"
                                        : "unknown user " + user_id;
}

}  // namespace

void handle_msg_direct(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  const std::string ref = "MSG_DIRECT";
  if (env.from != c.user_id) {
    return s.send_error(c.id, Errc::BadFrame, "`from` must be your own user id", ref, c.user_id);
  }
  auto m = msg::MsgDirect::from_json(env.payload);
  if (!m) return s.send_error(c.id, Errc::BadFrame, m.error().detail, ref, c.user_id);
  if (!s.first_time(env)) return;
  const UserInfo* me = s.local_sender(c, m->sender_pub);
  if (!me) {
    return s.send_error(c.id, Errc::BadKey, "sender_pub is not your registered key", ref,
                        c.user_id);
  }
  const Route r = route_to_user(s, env.to);
  switch (r.kind) {
    case Route::Kind::Local:
      return deliver_local(s, r.conn, env.to, c.user_id, m->ciphertext, me->pubkey, m->content_sig,
                           env.ts);
    case Route::Kind::Remote: {
      msg::ServerDeliver d;
      d.user_id = env.to;
      d.sender = c.user_id;
      d.ciphertext = m->ciphertext;
      d.sender_pub = me->pubkey;
      d.content_sig = m->content_sig;
      d.orig_ts = env.ts;
      s.count("routed_remote");
      return s.send_signed(r.conn, MessageType::ServerDeliver, r.server_id, d.to_json(), env.ts);
    }
    case Route::Kind::Offline:
    case Route::Kind::Unknown:
      s.count("undeliverable");
      return s.send_error(c.id, Errc::UserNotFound, why_unreachable(r, env.to), ref, c.user_id);
  }
}

void handle_server_deliver(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  if (handle_file_server_deliver(s, c, env)) return;  // inner FILE_* (handle_file.cpp)
  if (!s.first_time(env)) return;
  auto d = msg::ServerDeliver::from_json(env.payload);
  if (!d) {
    s.count("bad_frames");
    return;
  }
  if (!d->inner_type.empty() && d->inner_type != "USER_DELIVER" && d->inner_type != "MSG_DIRECT") {
    s.count("unknown_inner_types");
    return;
  }
  const UserInfo* sender = s.remote_sender(d->sender, d->sender_pub, env.from);
  if (!sender) {
    s.count("rejected_forged_senders");
    s.log(LogLevel::Warn, "dropped SERVER_DELIVER from " + env.from + ": sender " + d->sender +
                              " is not located there or the key is not the pinned one");
    return;
  }
  const Route r = route_to_user(s, d->user_id);
  if (r.kind == Route::Kind::Local) {
    return deliver_local(s, r.conn, d->user_id, d->sender, d->ciphertext, sender->pubkey,
                         d->content_sig, d->orig_ts.value_or(env.ts));
  }
  // Not here (logged out or moved): tell the sender's server, which tells the sender.
  s.count("undeliverable");
  msg::ErrorMsg e;
  e.code = std::string(wire_code(Errc::UserNotFound));
  e.detail = why_unreachable(r, d->user_id);
  e.msg_ref = "MSG_DIRECT";
  s.send_signed(c.id, MessageType::Error, d->sender, e.to_json());
}

}  // namespace socp::core
