// Delivery family: MSG_DIRECT from a local user, SERVER_DELIVER from a server, both routed by
// route_to_user (PROTOCOL.md §7). Servers never decrypt; `ts` of the original is preserved.
// What a server signs is always built here from the fields a delivery has, never a payload
// someone else shaped.
#include "core/server/core_impl.h"
#include "core/server/router.h"

namespace socp::core {

namespace {

void deliver_local(ServerCore::Impl& s, ConnId session, const std::string& user_id,
                   const std::string& sender, const std::string& ciphertext,
                   const std::string& sender_pub, const std::string& content_sig, std::int64_t ts) {
  msg::UserDeliver d{ciphertext, sender, sender_pub, content_sig};
  s.count(Counter::DeliveredLocal);
  SendOpts o;
  o.ts = ts;
  s.out.send(session, MessageType::UserDeliver, user_id, d.to_json(), o);
}

std::string why_unreachable(const Route& r, const std::string& user_id) {
  return r.kind == Route::Kind::Offline ? "user " + user_id + " is offline"
                                        : "unknown user " + user_id;
}

}  // namespace

void handle_msg_direct(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  const std::string ref = "MSG_DIRECT";
  if (env.from != c.user_id) {
    return user_error(s, c, Errc::BadFrame, "`from` must be your own user id", ref);
  }
  auto m = msg::MsgDirect::from_json(env.payload);
  if (!m) return user_error(s, c, Errc::BadFrame, m.error().detail, ref);
  if (!s.first_time(env)) return;
  const UserInfo* me = s.local_sender(c, m->sender_pub);
  if (!me) return user_error(s, c, Errc::BadKey, "sender_pub is not your registered key", ref);
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
      s.count(Counter::RoutedRemote);
      SendOpts o;
      o.ts = env.ts;
      return s.out.send(r.conn, MessageType::ServerDeliver, r.server_id, d.to_json(), o);
    }
    case Route::Kind::Offline:
    case Route::Kind::Unknown:
      s.count(Counter::Undeliverable);
      return user_error(s, c, Errc::UserNotFound, why_unreachable(r, env.to), ref);
  }
}

void handle_server_deliver(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  if (handle_file_server_deliver(s, c, env)) return;  // inner FILE_* (handle_file.cpp)
  if (!s.first_time(env)) return;
  auto d = msg::ServerDeliver::from_json(env.payload);
  if (!d) {
    s.count(Counter::BadFrames);
    return;
  }
  if (!d->inner_type.empty() && d->inner_type != "USER_DELIVER" && d->inner_type != "MSG_DIRECT") {
    s.count(Counter::UnknownInnerTypes);
    return;
  }
  const UserInfo* sender = s.remote_sender(d->sender, d->sender_pub, env.from);
  if (!sender) {
    s.count(Counter::RejectedForgedSenders);
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
  s.count(Counter::Undeliverable);
  ErrorOpts o;
  o.msg_ref = "MSG_DIRECT";
  o.to = d->sender;
  s.out.error(c.id, Errc::UserNotFound, why_unreachable(r, d->user_id), std::move(o));
}

}  // namespace socp::core
