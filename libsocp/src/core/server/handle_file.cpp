// File family (PROTOCOL.md §6 "Files", docs/protocol-notes.md "Files"): FILE_START,
// FILE_CHUNK and FILE_END from local users.
//   DM mode      routed like MSG_DIRECT: a local recipient gets the same type (payload plus
//                `sender`); a remote one gets SERVER_DELIVER {inner_type: "FILE_…"} which
//                its server turns back into the inner type.
//   public mode  fanned out like a channel post: ONE payload to every local user and every
//                socp server, so one signature per server per chunk.
// Servers never decrypt or reassemble; they keep no per-transfer state except which
// transfers already failed (one error per file, not per chunk). Every file frame is bulk
// traffic (OutFrame::bulk / Job::bulk) so chunks never hold back other frames on a link.
#include "core/server/core_impl.h"
#include "core/server/router.h"
#include "socp/bytes.h"

namespace socp::core {
namespace {

constexpr bool kBulk = true;
constexpr const char* kPublic = "public";

bool is_file_type(MessageType t) {
  return t == MessageType::FileStart || t == MessageType::FileChunk || t == MessageType::FileEnd;
}

// Fields SERVER_DELIVER itself uses: a sender's payload cannot smuggle them through.
bool deliver_reserved(const std::string& k) {
  return k == "user_id" || k == "sender" || k == "orig_ts" || k == "inner_type";
}

// ERROR {code, detail, msg_ref:"FILE_START", file_id}, once per transfer.
void file_error(ServerCore::Impl& s, ConnId conn, const std::string& to, const std::string& sender,
                const std::string& file_id, Errc code, const std::string& detail) {
  if (!s.file_failures.mark(FileFailures::key(sender, file_id), s.now())) return;
  msg::ErrorMsg e;
  e.code = std::string(wire_code(code));
  e.detail = detail;
  e.msg_ref = "FILE_START";
  json::Value p = e.to_json();
  p.as_object()["file_id"] = file_id;
  s.count("errors_sent");
  s.count("file_errors");
  s.send_signed(conn, MessageType::Error, to, std::move(p));
}

// Validates the payload of a file frame from a user; returns its file_id.
Result<std::string> check_payload(MessageType t, const json::Value& p) {
  switch (t) {
    case MessageType::FileStart: {
      auto f = msg::FileStart::from_json(p);
      if (!f) return f.error();
      return f->file_id;
    }
    case MessageType::FileChunk: {
      auto f = msg::FileChunk::from_json(p);
      if (!f) return f.error();
      return f->file_id;
    }
    default: {
      auto f = msg::FileEnd::from_json(p);
      if (!f) return f.error();
      return f->file_id;
    }
  }
}

// The payload relayed to recipients: the sender's payload, `sender` set by us.
json::Value relay_payload(const json::Value& from_user, const std::string& sender) {
  json::Object o;
  for (const auto& [k, v] : from_user.as_object()) {
    if (!deliver_reserved(k)) o.emplace(k, v);
  }
  o["sender"] = sender;
  return o;
}

void relay_dm(ServerCore::Impl& s, Conn& c, const Envelope& env, MessageType t,
              const std::string& file_id, json::Value payload) {
  const Route r = route_to_user(s, env.to);
  switch (r.kind) {
    case Route::Kind::Local:
      s.count("file_frames_local");
      return s.send_signed(r.conn, t, env.to, std::move(payload), env.ts, kBulk);
    case Route::Kind::Remote: {
      msg::ServerDeliver d;
      d.user_id = env.to;
      d.sender = c.user_id;
      d.orig_ts = env.ts;
      d.inner_type = std::string(to_string(t));
      for (auto& [k, v] : payload.as_object()) {
        const std::string* sv = v.is_string() ? &v.as_string() : nullptr;
        if (k == "ciphertext" && sv) {
          d.ciphertext = *sv;
        } else if (k == "sender_pub" && sv) {
          d.sender_pub = *sv;
        } else if (k == "content_sig" && sv) {
          d.content_sig = *sv;
        } else if (k != "sender") {
          d.extra.emplace(k, std::move(v));
        }
      }
      s.count("file_frames_remote");
      return s.send_signed(r.conn, MessageType::ServerDeliver, r.server_id, d.to_json(), env.ts,
                           kBulk);
    }
    case Route::Kind::Offline:
    case Route::Kind::Unknown:
      s.count("undeliverable");
      return file_error(s, c.id, c.user_id, c.user_id, file_id, Errc::UserNotFound,
                        r.kind == Route::Kind::Offline
                            ? "user " + env.to + " is offline (file " + file_id + ")"
                            : "unknown user " + env.to + " (file " + file_id + ")");
  }
}

// Every local user except the sender: the same payload, so one signature for all of them.
void deliver_public_local(ServerCore::Impl& s, MessageType t, SharedPayload& payload,
                          const std::string& sender, std::int64_t ts) {
  for (const auto& [uid, cid] : s.sessions) {
    if (uid == sender) continue;
    s.send_signed(cid, t, uid, payload.get(), ts, kBulk);
  }
}

void relay_public(ServerCore::Impl& s, Conn& c, const Envelope& env, MessageType t,
                  const json::Value& payload) {
  s.count("file_frames_public");
  SharedPayload shared(s, payload, kBulk);
  deliver_public_local(s, t, shared, c.user_id, env.ts);
  // Same payload to every socp server (to = "public"): still the one signature. Servers that
  // did not announce socp/1 would not know the frame type, so they do not get it.
  for (ConnId link : s.socp_links()) {
    s.send_signed(link, t, kPublic, shared.get(), env.ts, kBulk);
  }
}

// A peer server speaks only for the users it hosts, and cannot swap their keys: the sender
// must be located at `origin`, and a FILE_START's sender_pub must be the sender's pinned key
// (a recipient pins it on first contact). Returns the sender's record, or nullptr (counted).
const UserInfo* check_remote_sender(ServerCore::Impl& s, MessageType t, const std::string& sender,
                                    const std::string* sender_pub, const std::string& origin) {
  const UserInfo* u = t == MessageType::FileStart
                          ? (sender_pub ? s.remote_sender(sender, *sender_pub, origin) : nullptr)
                          : s.dir.find(sender);
  if (u && u->server_id == origin) return u;
  s.count("rejected_forged_senders");
  s.log(LogLevel::Warn, "dropped " + std::string(to_string(t)) + " from server " + origin +
                            ": sender " + sender +
                            " is not located there or the key is not the pinned one");
  return nullptr;
}

// Rebuilds the inner payload of a SERVER_DELIVER {inner_type: FILE_…}.
json::Value inner_payload(const msg::ServerDeliver& d) {
  json::Object o = d.extra;
  if (!d.ciphertext.empty()) o["ciphertext"] = d.ciphertext;
  if (!d.sender_pub.empty()) o["sender_pub"] = d.sender_pub;
  if (!d.content_sig.empty()) o["content_sig"] = d.content_sig;
  o["sender"] = d.sender;
  return o;
}

}  // namespace

void handle_user_file(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  const MessageType t = *env.type;
  const std::string ref(to_string(t));
  if (env.from != c.user_id) {
    return s.send_error(c.id, Errc::BadFrame, "`from` must be your own user id", ref, c.user_id);
  }
  auto fid = check_payload(t, env.payload);
  if (!fid) return s.send_error(c.id, Errc::BadFrame, fid.error().detail, ref, c.user_id);
  const std::string& file_id = fid.value();
  if (file_id.empty() || file_id.size() > 128) {
    return s.send_error(c.id, Errc::BadFrame, "file_id must have 1 to 128 characters", ref,
                        c.user_id);
  }
  if (s.file_failures.contains(FileFailures::key(c.user_id, file_id), s.now())) {
    s.count("file_frames_dropped");  // the sender already got the one error of this file
    return;
  }
  const bool to_public = env.to == kPublic;
  json::Value payload = relay_payload(env.payload, c.user_id);

  if (t == MessageType::FileStart) {
    const msg::FileStart f = *msg::FileStart::from_json(env.payload);
    if (static_cast<std::uint64_t>(f.size) > s.cfg.limits.max_file_size) {
      return file_error(s, c.id, c.user_id, c.user_id, file_id, Errc::TooLarge,
                        "file " + file_id + " is " + std::to_string(f.size) +
                            " bytes; this server's limit is " +
                            std::to_string(s.cfg.limits.max_file_size));
    }
    if (f.mode != "dm" && f.mode != "public") {
      return file_error(s, c.id, c.user_id, c.user_id, file_id, Errc::BadFrame,
                        "mode must be \"dm\" or \"public\"");
    }
    if ((f.mode == "public") != to_public) {
      return file_error(s, c.id, c.user_id, c.user_id, file_id, Errc::BadFrame,
                        "mode \"public\" goes with to = \"public\" (and only it)");
    }
    // sender_pub must be the sender's registered key; recipients pin and check it.
    const std::string* sp = json::get_string(env.payload, "sender_pub");
    const UserInfo* me = sp ? s.local_sender(c, *sp) : nullptr;
    if (!me) {
      return file_error(s, c.id, c.user_id, c.user_id, file_id, Errc::BadKey,
                        "sender_pub is not your registered key");
    }
    payload.as_object()["sender_pub"] = me->pubkey;
  }

  if (to_public) return relay_public(s, c, env, t, payload);
  relay_dm(s, c, env, t, file_id, std::move(payload));
}

bool handle_file_server_deliver(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  const std::string* inner = json::get_string(env.payload, "inner_type");
  if (!inner) return false;
  const auto t = message_type_from_string(*inner);
  if (!t || !is_file_type(*t)) return false;
  // No seen-cache entry: a SERVER_DELIVER travels one hop and recipients are idempotent per
  // (file_id, index), while a large file would otherwise flush the cache gossip relies on.
  auto d = msg::ServerDeliver::from_json(env.payload);
  if (!d) {
    s.count("bad_frames");
    return true;
  }
  const json::Value* fid_v = d->extra.count("file_id") ? &d->extra.at("file_id") : nullptr;
  const std::string file_id = fid_v && fid_v->is_string() ? fid_v->as_string() : std::string();
  const UserInfo* sender = check_remote_sender(s, *t, d->sender, &d->sender_pub, env.from);
  if (!sender) return true;
  if (*t == MessageType::FileStart) d->sender_pub = sender->pubkey;  // the emitted form
  const Route r = route_to_user(s, d->user_id);
  if (r.kind == Route::Kind::Local) {
    s.count("file_frames_delivered");
    s.send_signed(r.conn, *t, d->user_id, inner_payload(*d), d->orig_ts.value_or(env.ts), kBulk);
    return true;
  }
  s.count("undeliverable");
  file_error(s, c.id, d->sender, d->sender, file_id, Errc::UserNotFound,
             (r.kind == Route::Kind::Offline ? "user " + d->user_id + " is offline"
                                             : "unknown user " + d->user_id) +
                 " (file " + file_id + ")");
  return true;
}

void handle_server_file(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  // Public-mode file frames from a socp server: already signed by the origin server (checked
  // by dispatch_server); re-signed once by us for all our local users. Not forwarded further:
  // the origin sends to every server itself.
  (void)c;
  if (env.to != kPublic || !env.payload.is_object()) {
    s.count("bad_frames");
    return;
  }
  const std::string* sender = json::get_string(env.payload, "sender");
  if (!sender || !check_payload(*env.type, env.payload)) {
    s.count("bad_frames");
    return;
  }
  if (!check_remote_sender(s, *env.type, *sender, json::get_string(env.payload, "sender_pub"),
                           env.from)) {
    return;
  }
  s.count("file_frames_public_in");
  SharedPayload shared(s, env.payload, kBulk);
  deliver_public_local(s, *env.type, shared, *sender, env.ts);
}

}  // namespace socp::core
