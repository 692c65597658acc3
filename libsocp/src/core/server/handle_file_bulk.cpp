// Bulk files (socp extension; docs/protocol.md "Bulk files", docs/protocol-notes.md "Bulk
// files"): FILE_BULK_START, FILE_BULK_CHUNK and FILE_BULK_ACK.
//
//   FILE_BULK_START / FILE_BULK_ACK   small frames, routed like FILE_START: a local recipient
//                gets the same type (payload rebuilt by the codec, plus `sender`), a remote one
//                SERVER_DELIVER {inner_type: "FILE_BULK_…"}, signed per hop like any frame.
//   FILE_BULK_CHUNK   relayed WITHOUT a server signature (Applier::relay_bulk_chunk): user ->
//                home server -> (socp/1 link) -> recipient's server -> recipient, as the same
//                type each hop ({file_id, index, last, ciphertext, sender}; envelope to = the
//                recipient). The sender's signed manifest binds every chunk's digest.
// Bulk frames go only where every hop takes them (takes_bulk): a socp client session or a
// socp/1 link. Anything else is refused with an ERROR to the sender (once per transfer,
// msg_ref = the frame type, file_id), so its client can fall back to RSA chunks; an unsigned
// chunk from any other kind of connection is dropped and counted. Servers keep no state per
// transfer beyond FileFailures (as for FILE_*).
#include "core/server/core_impl.h"
#include "core/server/router.h"

namespace socp::core {
namespace {

constexpr bool kBulk = true;

// The payload a server relays: rebuilt from the codec's fields (never one shaped by the
// sender or a peer), plus `sender`, into `out`; the file id into `file_id`.
template <typename M>
Status rebuilt(const json::Value& p, const std::string& sender, json::Value& out,
               std::string& file_id) {
  auto m = M::from_json(p);
  if (!m) return m.error();
  file_id = m->file_id;
  out = std::move(m).value().to_json();  // moves a chunk's ciphertext, copies nothing large
  out.as_object()["sender"] = sender;
  return ok_status();
}

Status bulk_payload(MessageType t, const json::Value& p, const std::string& sender,
                    json::Value& out, std::string& file_id) {
  switch (t) {
    case MessageType::FileBulkStart:
      return rebuilt<msg::FileBulkStart>(p, sender, out, file_id);
    case MessageType::FileBulkChunk:
      return rebuilt<msg::FileBulkChunk>(p, sender, out, file_id);
    case MessageType::FileBulkAck:
      return rebuilt<msg::FileBulkAck>(p, sender, out, file_id);
    default:
      return make_error(Errc::BadFrame, "not a bulk file frame");
  }
}

// ERROR {code, detail, msg_ref: <type>, file_id} to the sender, once per transfer.
void bulk_error(ServerCore::Impl& s, ConnId conn, const std::string& to, const std::string& sender,
                const std::string& file_id, MessageType t, Errc code, const std::string& detail) {
  s.count(Counter::FileBulkRefused);
  if (!s.file_failures.mark(FileFailures::key(sender, file_id), s.now())) return;
  s.count(Counter::FileErrors);
  ErrorOpts o;
  o.msg_ref = std::string(to_string(t));
  o.to = to;
  o.extra["file_id"] = file_id;
  s.out.error(conn, code, detail, std::move(o));
}

// SERVER_DELIVER {user_id, sender, orig_ts, inner_type, <payload fields>} for a small bulk
// frame to the recipient's server.
json::Value server_deliver(MessageType t, const std::string& user, const std::string& sender,
                           std::int64_t ts, json::Value payload) {
  msg::ServerDeliver d;
  d.user_id = user;
  d.sender = sender;
  d.orig_ts = ts;
  d.inner_type = std::string(to_string(t));
  for (auto& [k, v] : payload.as_object()) {
    const std::string* sv = v.is_string() ? &v.as_string() : nullptr;
    if (k == "sender_pub" && sv) {
      d.sender_pub = *sv;
    } else if (k == "content_sig" && sv) {
      d.content_sig = *sv;
    } else if (k != "sender") {
      d.extra.emplace(k, std::move(v));
    }
  }
  return d.to_json();
}

// The connection the frame goes out on, or an error naming why bulk cannot go there.
Result<ConnId> bulk_route(ServerCore::Impl& s, const std::string& user, std::string* server_id) {
  const Route r = route_to_user(s, user);
  switch (r.kind) {
    case Route::Kind::Local:
    case Route::Kind::Remote: {
      const Conn* out = s.conn(r.conn);
      if (!out || !takes_bulk(s, *out)) {
        return make_error(Errc::BadFrame,
                          r.kind == Route::Kind::Local
                              ? "user " + user + " has no client that takes bulk files"
                              : "the server of user " + user + " does not take bulk files");
      }
      *server_id = r.kind == Route::Kind::Remote ? r.server_id : std::string();
      return r.conn;
    }
    case Route::Kind::Offline:
      return make_error(Errc::UserNotFound, "user " + user + " is offline");
    case Route::Kind::Unknown:
      break;
  }
  return make_error(Errc::UserNotFound, "unknown user " + user);
}

// The sender's window (docs/protocol-notes.md "Bulk files"): clients keep 16 chunks
// unacknowledged; a few more are allowed for acknowledgements still on their way.
constexpr std::int64_t kBulkWindowChunks = 24;
constexpr std::size_t kBulkTransfersPerConn = 8;

/// An acknowledgement reaching the sender's own session moves its window.
void note_bulk_ack(ServerCore::Impl& s, ConnId conn, const json::Value& payload) {
  Conn* c = s.conn(conn);
  if (!c || c->role != Role::User) return;
  auto a = msg::FileBulkAck::from_json(payload);
  if (!a) return;
  auto it = c->bulk_out.find(a->file_id);
  if (it == c->bulk_out.end()) return;
  if (a->status != "ok") {
    c->bulk_out.erase(it);
    return;
  }
  it->second.received = std::max(it->second.received, a->received);
}

/// Checks a user's own bulk frame against its window; an error value when it is refused.
Status check_bulk_window(Conn& c, MessageType t, const std::string& file_id) {
  if (t == MessageType::FileBulkStart) {
    if (c.bulk_out.size() >= kBulkTransfersPerConn && !c.bulk_out.count(file_id)) {
      return make_error(Errc::Busy, "at most " + std::to_string(kBulkTransfersPerConn) +
                                        " bulk files in flight per connection");
    }
    c.bulk_out[file_id] = Conn::BulkWindow{};
    return ok_status();
  }
  if (t != MessageType::FileBulkChunk) return ok_status();
  auto it = c.bulk_out.find(file_id);
  if (it == c.bulk_out.end()) return make_error(Errc::BadFrame, "chunk without a manifest");
  if (it->second.sent - it->second.received >= kBulkWindowChunks) {
    c.bulk_out.erase(it);
    return make_error(Errc::Busy,
                      "more than " + std::to_string(kBulkWindowChunks) + " chunks unacknowledged");
  }
  ++it->second.sent;
  return ok_status();
}

// A bulk frame to `user` on `conn` (local session, or a socp/1 link when `remote_server` is
// set): chunks unsigned, the rest signed.
void emit(ServerCore::Impl& s, MessageType t, ConnId conn, const std::string& remote_server,
          const std::string& user, const std::string& sender, std::int64_t ts,
          json::Value payload) {
  if (t == MessageType::FileBulkChunk) {
    s.out.relay_bulk_chunk(conn, user, std::move(payload));
  } else if (remote_server.empty()) {
    if (t == MessageType::FileBulkAck) note_bulk_ack(s, conn, payload);
    s.out.send(conn, t, user, std::move(payload), SendOpts{ts, kBulk});
  } else {
    s.out.send(conn, MessageType::ServerDeliver, remote_server,
               server_deliver(t, user, sender, ts, std::move(payload)), SendOpts{ts, kBulk});
  }
}

}  // namespace

bool takes_bulk(const ServerCore::Impl& s, const Conn& c) {
  if (c.closing) return false;
  if (c.role == Role::User) return c.acks;
  return c.role == Role::Server && !c.receive_only && s.is_socp_server(c.server_id);
}

void handle_user_file_bulk(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  const MessageType t = *env.type;
  const std::string ref(to_string(t));
  if (env.from != c.user_id) {
    return user_error(s, c, Errc::BadFrame, "`from` must be your own user id", ref);
  }
  std::string file_id;
  json::Value payload;
  if (Status st = bulk_payload(t, env.payload, c.user_id, payload, file_id); !st) {
    s.count(Counter::FileBulkRefused);
    return user_error(s, c, Errc::BadFrame, st.error().detail, ref);
  }
  // A transfer that failed here draws no more errors; its chunks are dropped quietly. (An
  // ACK's file id is the other user's transfer: the key is scoped by sender all the same.)
  if (s.file_failures.contains(FileFailures::key(c.user_id, file_id), s.now())) {
    s.count(Counter::FileFramesDropped);
    return;
  }
  if (t == MessageType::FileBulkStart) {
    const std::int64_t size = *json::get_int(payload, "size");
    if (static_cast<std::uint64_t>(size) > s.cfg.limits.max_file_size) {
      return bulk_error(s, c.id, c.user_id, c.user_id, file_id, t, Errc::TooLarge,
                        "file " + file_id + " is " + std::to_string(size) +
                            " bytes; this server's limit is " +
                            std::to_string(s.cfg.limits.max_file_size));
    }
    const std::string* sp = json::get_string(payload, "sender_pub");
    const UserInfo* me = sp ? s.local_sender(c, *sp) : nullptr;
    if (!me) {
      return bulk_error(s, c.id, c.user_id, c.user_id, file_id, t, Errc::BadKey,
                        "sender_pub is not your registered key");
    }
    payload.as_object()["sender_pub"] = me->pubkey;
  }
  if (Status w = check_bulk_window(c, t, file_id); !w) {
    s.count(Counter::FileBulkRefused);
    return bulk_error(s, c.id, c.user_id, c.user_id, file_id, t, w.code(),
                      w.error().detail + " (file " + file_id + ")");
  }
  std::string remote_server;
  auto conn = bulk_route(s, env.to, &remote_server);
  if (!conn) {
    s.count(Counter::Undeliverable);
    return bulk_error(s, c.id, c.user_id, c.user_id, file_id, t, conn.code(),
                      conn.error().detail + " (file " + file_id + ")");
  }
  s.count(remote_server.empty() ? Counter::FileFramesLocal : Counter::FileFramesRemote);
  emit(s, t, conn.value(), remote_server, env.to, c.user_id, env.ts, std::move(payload));
}

bool handle_file_bulk_server_deliver(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  const std::string* inner = json::get_string(env.payload, "inner_type");
  if (!inner) return false;
  const auto t = message_type_from_string(*inner);
  if (t != MessageType::FileBulkStart && t != MessageType::FileBulkAck) return false;
  auto d = msg::ServerDeliver::from_json(env.payload);
  if (!d || d->sender.empty()) {
    s.count(Counter::BadFrames);
    return true;
  }
  // The inner payload: the fields the origin server put in, then the codec's whitelist.
  json::Object o = d->extra;
  if (!d->sender_pub.empty()) o["sender_pub"] = d->sender_pub;
  if (!d->content_sig.empty()) o["content_sig"] = d->content_sig;
  std::string file_id;
  json::Value payload;
  if (!bulk_payload(*t, json::Value(std::move(o)), d->sender, payload, file_id)) {
    s.count(Counter::FileBulkRefused);
    s.count(Counter::BadFrames);
    return true;
  }
  // A peer speaks only for the users it hosts, and cannot swap their keys.
  const std::string* spub = json::get_string(payload, "sender_pub");
  const UserInfo* sender = *t == MessageType::FileBulkStart
                               ? (spub ? s.remote_sender(d->sender, *spub, env.from) : nullptr)
                               : s.dir.find(d->sender);
  if (!sender || sender->server_id != env.from) {
    s.count(Counter::RejectedForgedSenders);
    s.log(LogLevel::Warn, "dropped " + *inner + " from server " + env.from + ": sender " +
                              d->sender + " is not located there or the key is not the pinned one");
    return true;
  }
  if (*t == MessageType::FileBulkStart) payload.as_object()["sender_pub"] = sender->pubkey;
  const Route r = route_to_user(s, d->user_id);
  const Conn* out = r.kind == Route::Kind::Local ? s.conn(r.conn) : nullptr;
  if (!out || !takes_bulk(s, *out)) {
    s.count(Counter::Undeliverable);
    bulk_error(s, c.id, d->sender, d->sender, file_id, *t,
               out ? Errc::BadFrame : Errc::UserNotFound,
               (out ? "user " + d->user_id + " has no client that takes bulk files"
                    : "user " + d->user_id + " is not here") +
                   " (file " + file_id + ")");
    return true;
  }
  s.count(Counter::FileFramesDelivered);
  if (*t == MessageType::FileBulkAck) note_bulk_ack(s, r.conn, payload);
  s.out.send(r.conn, *t, d->user_id, std::move(payload),
             SendOpts{d->orig_ts.value_or(env.ts), kBulk});
  return true;
}

void handle_server_file_bulk_chunk(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  // No signature to check: the link itself must be one that may carry unsigned chunks.
  if (!takes_bulk(s, c) || c.role != Role::Server || env.from != c.server_id) {
    s.count(Counter::FileBulkRefused);
    s.log(LogLevel::Warn, "refused an unsigned FILE_BULK_CHUNK on " + s.who(c.id) +
                              ": only authenticated socp/1 links carry them");
    return;
  }
  const std::string* sender = json::get_string(env.payload, "sender");
  std::string file_id;
  json::Value payload;
  if (!sender ||
      !bulk_payload(MessageType::FileBulkChunk, env.payload, *sender, payload, file_id)) {
    s.count(Counter::FileBulkRefused);
    s.count(Counter::BadFrames);
    return;
  }
  const UserInfo* u = s.dir.find(*sender);
  if (!u || u->server_id != c.server_id) {
    s.count(Counter::RejectedForgedSenders);
    return;
  }
  const Route r = route_to_user(s, env.to);
  const Conn* out = r.kind == Route::Kind::Local ? s.conn(r.conn) : nullptr;
  if (!out || !takes_bulk(s, *out)) {
    // The manifest already drew the one error of this transfer (or will): drop quietly.
    s.count(Counter::FileFramesDropped);
    return;
  }
  s.count(Counter::FileFramesDelivered);
  s.out.relay_bulk_chunk(r.conn, env.to, std::move(payload));
}

}  // namespace socp::core
