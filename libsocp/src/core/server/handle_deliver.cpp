// Delivery family: MSG_DIRECT from a local user and SERVER_DELIVER from a server, with store
// and forward (docs/protocol.md §7, docs/protocol-notes.md "Nothing lost"). Servers never decrypt.
//
//   * A DM whose recipient's home is this server goes into the recipient's mailbox and, if the
//     recipient is online, to their client; it leaves the mailbox when the client acknowledges
//     it (DELIVERY_ACK). Clients without socp/1 take no part in that: a DM handed to them is
//     delivered, and a stored one is forgotten once handed over at login.
//   * A DM for a user at another socp/1 server goes into the outbox towards that server and is
//     sent (again after every reconnect) until that server acknowledges the hop
//     (DELIVERY_RECEIPTS acked). Servers without socp/1 get it as before, best effort.
//   * The sender's client learns queued / delivered / failed through batched RECEIPTS.
// What a server signs is always built here from the fields a delivery has.
#include "core/server/core_impl.h"
#include "core/server/delivery_coalescing.h"
#include "core/server/router.h"
#include "socp/bytes.h"

namespace socp::core {

namespace {

QueueLimits mailbox_limits(const ServerCore::Impl& s) {
  return {s.cfg.mailbox_max_messages, s.cfg.mailbox_max_bytes};
}
QueueLimits outbox_limits(const ServerCore::Impl& s) {
  return {s.cfg.outbox_max_messages, s.cfg.outbox_max_bytes};
}

std::string recent_key(const StoredDm& dm) {
  return dm.recipient + "|" + dm.sender + "|" + dm.msg_id;
}

json::Value server_deliver(const StoredDm& dm) {
  msg::ServerDeliver d;
  d.user_id = dm.recipient;
  d.sender = dm.sender;
  d.ciphertext = dm.ciphertext;
  d.sender_pub = dm.sender_pub;
  d.content_sig = dm.content_sig;
  d.orig_ts = dm.ts;
  d.msg_id = dm.msg_id;
  d.parts = dm.parts;
  d.is_public = dm.is_public;
  return d.to_json();
}

/// Receipt "delivered" / "failed" to wherever the sender is told (its session here, or the
/// server it wrote from).
void tell_delivered(ServerCore::Impl& s, const std::string& sender, const std::string& msg_id,
                    const std::string& reply_to) {
  if (reply_to.empty()) {
    s.receipts.delivered(sender, msg_id, s.now());
  } else {
    s.receipts.server_delivered(reply_to, sender, msg_id, s.now());
  }
}

void tell_failed(ServerCore::Impl& s, const std::string& sender, const std::string& msg_id,
                 const std::string& reply_to, Errc code, const std::string& reason) {
  const std::string c(wire_code(code));
  if (reply_to.empty()) {
    s.receipts.failed(sender, msg_id, c, reason, s.now());
  } else {
    s.receipts.server_failed(reply_to, sender, msg_id, c, reason, s.now());
  }
}

/// Duplicate: still in the mailbox; Redelivered: a copy of one delivered recently (the sender
/// resent it before its receipt came back).
enum class Outcome { Stored, Delivered, Duplicate, Redelivered, Full };

/// A DM whose recipient's home is this server.
Outcome deliver_home(ServerCore::Impl& s, const StoredDm& dm) {
  const std::string box = MailQueues::mailbox(dm.recipient);
  if (s.queues.contains(box, dm.sender, dm.msg_id)) {
    s.count(Counter::Duplicates);
    return Outcome::Duplicate;
  }
  if (s.delivered_recently.contains(recent_key(dm), s.now())) {
    s.count(Counter::Duplicates);
    return Outcome::Redelivered;
  }
  auto session = s.sessions.find(dm.recipient);
  const Conn* c = session == s.sessions.end() ? nullptr : s.conn(session->second);
  SendOpts o;
  o.ts = dm.ts;
  o.lane = lane_of(dm.sender);
  if (c && !c->acks) {  // a client without socp/1: handed over = delivered
    s.out.send(c->id, MessageType::UserDeliver, dm.recipient, user_deliver(dm), o);
    s.delivered_recently.insert(recent_key(dm), s.now());
    s.count(Counter::DeliveredLocal);
    return Outcome::Delivered;
  }
  if (Status st = s.queues.put(box, dm, s.now(), mailbox_limits(s)); !st.ok()) {
    s.count(Counter::MailboxFull);
    return Outcome::Full;
  }
  s.count(Counter::MessagesQueued);
  if (c) {
    offer_delivery(s, *s.conn(c->id), dm);
    s.count(Counter::DeliveredLocal);
  }
  return Outcome::Stored;
}

void send_outbox_entry(ServerCore::Impl& s, ConnId link, const std::string& server_id,
                       const StoredDm& dm) {
  if (Conn* c = s.conn(link)) {
    offer_server_delivery(s, *c, server_id, server_deliver(dm), lane_of(dm.sender));
  }
  s.count(Counter::RoutedRemote);
}

std::string fresh_msg_id() {
  return "srv-" + new_uuid_v4();
}

}  // namespace

void handle_msg_direct(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  const std::string ref = "MSG_DIRECT";
  if (env.from != c.user_id) {
    return user_error(s, c, Errc::BadFrame, "`from` must be your own user id", ref);
  }
  auto m = msg::MsgDirect::from_json(env.payload);
  if (!m) return user_error(s, c, Errc::BadFrame, m.error().detail, ref);
  if (m->msg_id.size() > 64) return user_error(s, c, Errc::BadFrame, "msg_id over 64 chars", ref);
  if (!s.first_time(env)) return;
  const UserInfo* me = s.local_sender(c, m->sender_pub);
  if (!me) return user_error(s, c, Errc::BadKey, "sender_pub is not your registered key", ref);
  // Receipts go to clients that name their messages; others get errors as before.
  const bool receipts = c.acks && !m->msg_id.empty();
  StoredDm dm{m->msg_id.empty() ? fresh_msg_id() : m->msg_id,
              c.user_id,
              env.to,
              m->ciphertext,
              me->pubkey,
              m->content_sig,
              env.ts,
              m->parts,
              "",
              m->is_public};
  auto fail = [&](Errc code, const std::string& why) {
    s.count(Counter::Undeliverable);
    if (receipts) {
      s.receipts.failed(c.user_id, dm.msg_id, std::string(wire_code(code)), why, s.now());
    } else {
      user_error(s, c, code, why, ref);
    }
  };
  const UserInfo* to = s.dir.find(env.to);
  if (!to) return fail(Errc::UserNotFound, "unknown user " + env.to);
  if (to->server_id == s.self_id) {
    switch (deliver_home(s, dm)) {
      case Outcome::Full:
        return fail(Errc::TooLarge, "the mailbox of " + env.to + " is full");
      case Outcome::Delivered:
      case Outcome::Redelivered:
        if (receipts) s.receipts.delivered(c.user_id, dm.msg_id, s.now());
        return;
      case Outcome::Stored:
      case Outcome::Duplicate:
        if (receipts) s.receipts.queued(c.user_id, dm.msg_id, s.now());
        return;
    }
    return;
  }
  auto p = s.peers.find(to->server_id);
  if (p != s.peers.end() && p->second.socp_caps) {
    const std::string box = MailQueues::outbox(to->server_id);
    if (s.queues.contains(box, dm.sender, dm.msg_id)) {  // already on its way (a resend)
      if (receipts) s.receipts.queued(c.user_id, dm.msg_id, s.now());
      return;
    }
    if (Status st = s.queues.put(box, dm, s.now(), outbox_limits(s)); !st.ok()) {
      return fail(Errc::Busy, "too many messages waiting for server " + to->server_id);
    }
    s.count(Counter::MessagesQueued);
    if (p->second.link != 0) send_outbox_entry(s, p->second.link, to->server_id, dm);
    if (receipts) s.receipts.queued(c.user_id, dm.msg_id, s.now());
    return;
  }
  // A server without socp/1: as before, best effort while it is linked.
  if (p == s.peers.end() || p->second.link == 0 || !to->online) {
    return fail(Errc::UserNotFound, "user " + env.to + " is offline");
  }
  send_outbox_entry(s, p->second.link, to->server_id, dm);
  if (receipts) s.receipts.queued(c.user_id, dm.msg_id, s.now());
}

namespace {

/// One DM from server `from` (a SERVER_DELIVER, or one entry of a SERVER_DELIVER_BATCH whose
/// signature, context and freshness the dispatcher checked): `payload` is the DM's, `ts` its
/// frame's.
void accept_server_dm(ServerCore::Impl& s, Conn& c, const std::string& from, std::int64_t ts,
                      const json::Value& payload) {
  auto d = msg::ServerDeliver::from_json(payload);
  if (!d) {
    s.count(Counter::BadFrames);
    return;
  }
  if (!d->inner_type.empty() && d->inner_type != "USER_DELIVER" && d->inner_type != "MSG_DIRECT") {
    s.count(Counter::UnknownInnerTypes);
    return;
  }
  if (d->msg_id.size() > 64) {
    s.count(Counter::BadFrames);
    return;
  }
  const UserInfo* sender = s.remote_sender(d->sender, d->sender_pub, from);
  if (!sender) {
    s.count(Counter::RejectedForgedSenders);
    s.log(LogLevel::Warn, "dropped SERVER_DELIVER from " + from + ": sender " + d->sender +
                              " is not located there or the key is not the pinned one");
    return;
  }
  const bool socp = s.is_socp_server(from) && !d->msg_id.empty();
  StoredDm dm{d->msg_id.empty() ? fresh_msg_id() : d->msg_id,
              d->sender,
              d->user_id,
              d->ciphertext,
              sender->pubkey,
              d->content_sig,
              d->orig_ts.value_or(ts),
              d->parts,
              socp ? from : "",
              d->is_public};
  const UserInfo* to = s.dir.find(d->user_id);
  if (!to || to->server_id != s.self_id) {
    // Not ours (logged in elsewhere since, or unknown): the sender's server is told.
    s.count(Counter::Undeliverable);
    const std::string why = "user " + d->user_id + " does not live at this server";
    if (socp) {
      s.receipts.server_failed(from, dm.sender, dm.msg_id,
                               std::string(wire_code(Errc::UserNotFound)), why, s.now());
      return;
    }
    ErrorOpts o;
    o.msg_ref = "MSG_DIRECT";
    o.to = d->sender;
    return s.out.error(c.id, Errc::UserNotFound, why, std::move(o));
  }
  switch (deliver_home(s, dm)) {
    case Outcome::Full:
      if (socp) {
        s.receipts.server_failed(from, dm.sender, dm.msg_id, std::string(wire_code(Errc::TooLarge)),
                                 "the mailbox of " + dm.recipient + " is full", s.now());
      }
      return;
    case Outcome::Delivered:
    case Outcome::Redelivered:
      if (socp) {
        s.receipts.server_acked(from, dm.sender, dm.msg_id, s.now());
        s.receipts.server_delivered(from, dm.sender, dm.msg_id, s.now());
      }
      return;
    case Outcome::Stored:
    case Outcome::Duplicate:
      if (socp) s.receipts.server_acked(from, dm.sender, dm.msg_id, s.now());
      return;
  }
}

}  // namespace

void handle_server_deliver(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  if (handle_file_server_deliver(s, c, env)) return;       // inner FILE_* (handle_file.cpp)
  if (handle_file_bulk_server_deliver(s, c, env)) return;  // FILE_BULK_* (handle_file_bulk.cpp)
  if (!s.first_time(env)) return;
  accept_server_dm(s, c, env.from, env.ts, env.payload);
}

void handle_server_deliver_batch(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  // Only socp/1 servers send it (to links that announced deliver-batch/1); from anyone else
  // it is a type we do not take.
  if (!s.is_socp_server(env.from)) {
    s.count(Counter::UnknownTypes);
    return;
  }
  if (!s.first_time(env)) return;
  if (!msg::require_only_fields(env.payload, {"deliveries", "ctx"}).ok()) {
    s.count(Counter::UnknownFieldsRefused);
    return;
  }
  const json::Value* list = env.payload.find("deliveries");
  if (!list || !list->is_array() || list->as_array().empty() ||
      list->as_array().size() > ReceiptBatches::kBatch) {
    s.count(Counter::BadFrames);
    return;
  }
  for (const json::Value& entry : list->as_array()) {
    if (!entry.is_object()) {
      s.count(Counter::BadFrames);
      continue;
    }
    // Direct messages only: accept_server_dm refuses any other inner type (files keep their
    // own frames and checks, and never reach it from a batch).
    accept_server_dm(s, c, env.from, env.ts, entry);
  }
}

// ---- acknowledgements and receipts -----------------------------------------------------------

void handle_delivery_ack(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  auto a = msg::DeliveryAck::from_json(env.payload);
  if (!a) return user_error(s, c, Errc::BadFrame, a.error().detail, "DELIVERY_ACK");
  const std::string box = MailQueues::mailbox(c.user_id);
  for (const std::string& id : a->ids) {
    auto e = s.queues.remove(box, "", id);
    if (!e) continue;
    s.delivered_recently.insert(c.user_id + "|" + e->sender + "|" + id, s.now());
    s.count(Counter::MessagesDelivered);
    tell_delivered(s, e->sender, id, e->reply_to);
  }
}

void handle_delivery_receipts(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  (void)c;
  auto r = msg::DeliveryReceipts::from_json(env.payload);
  if (!r) {
    s.count(Counter::BadFrames);
    return;
  }
  const std::string box = MailQueues::outbox(env.from);
  for (const auto& ref : r->acked) {
    if (s.queues.remove(box, ref.sender, ref.msg_id)) {
      s.count(Counter::HopsAcked);
      forward_acked(s, env.from, ref.sender);
    }
  }
  for (const auto& ref : r->delivered) {
    if (s.queues.remove(box, ref.sender, ref.msg_id)) forward_acked(s, env.from, ref.sender);
    // Only for our own users: a peer cannot make us tell others' senders anything.
    const UserInfo* u = s.dir.find(ref.sender);
    if (u && u->server_id == s.self_id) s.receipts.delivered(ref.sender, ref.msg_id, s.now());
  }
  for (const auto& f : r->failed) {
    if (!s.queues.remove(box, f.sender, f.msg_id)) continue;  // only what we sent it
    forward_acked(s, env.from, f.sender);
    const UserInfo* u = s.dir.find(f.sender);
    if (u && u->server_id == s.self_id) {
      s.receipts.failed(f.sender, f.msg_id, f.code.substr(0, 32), f.reason.substr(0, 200), s.now());
    }
  }
}

void deliver_mailbox(ServerCore::Impl& s, Conn& c) {
  const std::string box = MailQueues::mailbox(c.user_id);
  if (s.queues.size(box) == 0) return;
  auto kept = s.queues.read(box);
  if (!c.acks) {
    // A client without socp/1: plain USER_DELIVERs, forgotten once handed over.
    for (auto& [e, dm] : kept) {
      SendOpts o;
      o.ts = dm.ts;
      s.out.send(c.id, MessageType::UserDeliver, c.user_id, user_deliver(dm), o);
      s.queues.remove(box, e.sender, e.msg_id);
      tell_delivered(s, e.sender, e.msg_id, e.reply_to);
    }
    return;
  }
  msg::UserDeliverBatch batch;
  auto flush = [&] {
    if (batch.messages.empty()) return;
    s.out.send(c.id, MessageType::UserDeliverBatch, c.user_id, batch.to_json());
    batch.messages.clear();
  };
  for (auto& [e, dm] : kept) {
    batch.messages.push_back(delivered_entry(dm));
    if (batch.messages.size() >= ReceiptBatches::kBatch) flush();
  }
  flush();
}

void resend_outbox(ServerCore::Impl& s, const std::string& server_id) {
  auto p = s.peers.find(server_id);
  if (p == s.peers.end() || p->second.link == 0 || !p->second.socp_caps) return;
  const std::string box = MailQueues::outbox(server_id);
  if (s.queues.size(box) == 0) return;
  for (auto& [e, dm] : s.queues.read(box)) send_outbox_entry(s, p->second.link, server_id, dm);
}

void tick_mail(ServerCore::Impl& s) {
  const std::int64_t now = s.now();
  if (now - s.last_expiry_scan >= 60'000) {
    s.last_expiry_scan = now;
    for (auto& [queue, dm] : s.queues.expire(now - s.cfg.message_ttl_ms)) {
      s.count(Counter::MessagesExpired);
      const bool outbox = queue.rfind("out/", 0) == 0;
      tell_failed(s, dm.sender, dm.msg_id, dm.reply_to, Errc::Timeout,
                  outbox ? "not delivered in time: the recipient's server stayed unreachable"
                         : "not delivered in time: the recipient did not log in");
    }
  }
  s.flush_receipts(true);
}

}  // namespace socp::core

namespace socp {

void ServerCore::Impl::flush_receipts(bool force) {
  const std::int64_t now = this->now();
  for (auto& [user, r] : receipts.take_users(now, cfg.receipt_delay_ms, force)) {
    auto it = sessions.find(user);
    if (it == sessions.end()) {
      // The sender left: kept for its next login (a local account; receipts for users of
      // other servers travel as DELIVERY_RECEIPTS and are kept by their home server).
      if (store.get_user(user).ok()) core::keep_receipts(*this, user, std::move(r));
      continue;
    }
    core::Conn* c = conn(it->second);
    if (!c || !c->acks) continue;
    out.send(c->id, MessageType::Receipts, user, r.to_json());
  }
  auto can_send = [this](const std::string& server) {
    auto p = peers.find(server);
    return p != peers.end() && p->second.link != 0;
  };
  for (auto& [server, r] : receipts.take_servers(now, cfg.receipt_delay_ms, force, can_send)) {
    out.send(peers[server].link, MessageType::DeliveryReceipts, server, r.to_json());
  }
}

}  // namespace socp
