// File family (docs/protocol.md §6 "Files", docs/protocol-notes.md "Files"): FILE_START,
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

// The fields a file frame of type `t` may carry, with the JSON kind each must have. A server
// signs only payloads it built from these (never one shaped by the sender or a peer).
struct FileField {
  const char* name;
  bool is_int;
};
constexpr FileField kStartFields[] = {
    {"file_id", false}, {"name", false},       {"size", true},         {"sha256", false},
    {"mode", false},    {"sender_pub", false}, {"content_sig", false}, {"key_id", false}};
// sender_pub/content_sig on a chunk: what G43's clients verify each chunk with (interop).
constexpr FileField kChunkFields[] = {{"file_id", false},    {"index", true},
                                      {"ciphertext", false}, {"key_id", false},
                                      {"sender_pub", false}, {"content_sig", false}};
constexpr FileField kEndFields[] = {{"file_id", false}, {"chunks", true}};

template <std::size_t N>
void copy_fields(const json::Value& from, const FileField (&fields)[N], json::Object& to) {
  for (const FileField& f : fields) {
    const json::Value* v = from.find(f.name);
    if (v && (f.is_int ? v->is_int() : v->is_string())) to[f.name] = *v;
  }
}

/// The payload relayed to recipients: the fields of its type taken from `from`, and `sender`.
json::Value file_payload(MessageType t, const json::Value& from, const std::string& sender) {
  json::Object o;
  switch (t) {
    case MessageType::FileStart:
      copy_fields(from, kStartFields, o);
      break;
    case MessageType::FileChunk:
      copy_fields(from, kChunkFields, o);
      break;
    default:
      copy_fields(from, kEndFields, o);
      break;
  }
  o["sender"] = sender;
  return o;
}

// ERROR {code, detail, msg_ref:"FILE_START", file_id}, once per transfer.
void file_error(ServerCore::Impl& s, ConnId conn, const std::string& to, const std::string& sender,
                const std::string& file_id, Errc code, const std::string& detail) {
  if (!s.file_failures.mark(FileFailures::key(sender, file_id), s.now())) return;
  s.count(Counter::FileErrors);
  ErrorOpts o;
  o.msg_ref = "FILE_START";
  o.to = to;
  o.extra["file_id"] = file_id;
  s.out.error(conn, code, detail, std::move(o));
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

void relay_dm(ServerCore::Impl& s, Conn& c, const Envelope& env, MessageType t,
              const std::string& file_id, json::Value payload) {
  const Route r = route_to_user(s, env.to);
  switch (r.kind) {
    case Route::Kind::Local:
      s.count(Counter::FileFramesLocal);
      s.out.send(r.conn, t, env.to, std::move(payload), SendOpts{env.ts, kBulk});
      return;
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
      s.count(Counter::FileFramesRemote);
      s.out.send(r.conn, MessageType::ServerDeliver, r.server_id, d.to_json(),
                 SendOpts{env.ts, kBulk});
      return;
    }
    case Route::Kind::Offline:
    case Route::Kind::Unknown:
      s.count(Counter::Undeliverable);
      return file_error(s, c.id, c.user_id, c.user_id, file_id, Errc::UserNotFound,
                        r.kind == Route::Kind::Offline
                            ? "user " + env.to + " is offline (file " + file_id + ")"
                            : "unknown user " + env.to + " (file " + file_id + ")");
  }
}

// Every local user except the sender: the same frame, so one signature for all of them.
void deliver_public_local(ServerCore::Impl& s, FanOut& frame, const std::string& sender) {
  for (const auto& [uid, cid] : s.sessions) {
    if (uid != sender) frame.send(cid);
  }
}

void relay_public(ServerCore::Impl& s, Conn& c, const Envelope& env, MessageType t,
                  const json::Value& payload) {
  s.count(Counter::FileFramesPublic);
  FanOut shared(s, t, kPublic, payload, env.ts, kBulk);
  deliver_public_local(s, shared, c.user_id);
  // Same frame to every socp server (to = "public"): still the one signature. Servers that
  // did not announce socp/1 would not know the frame type, so they do not get it.
  for (ConnId link : s.socp_links()) shared.send(link);
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
  s.count(Counter::RejectedForgedSenders);
  s.log(LogLevel::Warn, "dropped " + std::string(to_string(t)) + " from server " + origin +
                            ": sender " + sender +
                            " is not located there or the key is not the pinned one");
  return nullptr;
}

// Rebuilds the inner payload of a SERVER_DELIVER {inner_type: FILE_…}.
json::Value inner_payload(MessageType t, const msg::ServerDeliver& d) {
  json::Object o = d.extra;
  if (!d.ciphertext.empty()) o["ciphertext"] = d.ciphertext;
  if (!d.sender_pub.empty()) o["sender_pub"] = d.sender_pub;
  if (!d.content_sig.empty()) o["content_sig"] = d.content_sig;
  return file_payload(t, json::Value(std::move(o)), d.sender);
}

/// A FILE_START or FILE_END whose origin does not name the sender (dialect.h,
/// sends_unnamed_file_frames): relayed to the local recipient with `sender_server` = the origin
/// and no `sender` (we cannot vouch for one), so its client binds the transfer to the sender
/// of its content-signed chunks. True if `env` is such a frame (handled here).
bool relay_unnamed(ServerCore::Impl& s, const Envelope& env, MessageType t) {
  if (t == MessageType::FileChunk || env.payload.find("sender") ||
      !sends_unnamed_file_frames(s.dialect_of_server(env.from))) {
    return false;
  }
  const std::string* user_id = json::get_string(env.payload, "user_id");
  auto fid = check_payload(t, env.payload);
  if (!user_id || !fid || fid->empty() || fid->size() > 128) {
    s.count(Counter::BadFrames);
    return true;
  }
  const Route r = route_to_user(s, *user_id);
  if (r.kind != Route::Kind::Local) {
    s.count(Counter::Undeliverable);  // no sender to tell
    return true;
  }
  json::Object o;
  if (t == MessageType::FileStart) {
    copy_fields(env.payload, kStartFields, o);
    o.erase("sender_pub");  // nobody's key: the manifest is not content-signed
    o.erase("content_sig");
  } else {
    copy_fields(env.payload, kEndFields, o);
  }
  o["sender_server"] = env.from;
  s.count(Counter::DialectIn);
  s.count(Counter::FileFramesDelivered);
  s.out.send(r.conn, t, *user_id, json::Value(std::move(o)), SendOpts{env.ts, kBulk});
  return true;
}

}  // namespace

void handle_user_file(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  const MessageType t = *env.type;
  const std::string ref(to_string(t));
  if (env.from != c.user_id) {
    return user_error(s, c, Errc::BadFrame, "`from` must be your own user id", ref);
  }
  auto fid = check_payload(t, env.payload);
  if (!fid) return user_error(s, c, Errc::BadFrame, fid.error().detail, ref);
  const std::string& file_id = fid.value();
  if (file_id.empty() || file_id.size() > 128) {
    return user_error(s, c, Errc::BadFrame, "file_id must have 1 to 128 characters", ref);
  }
  if (s.file_failures.contains(FileFailures::key(c.user_id, file_id), s.now())) {
    s.count(Counter::FileFramesDropped);  // the sender already got the one error of this file
    return;
  }
  const bool to_public = env.to == kPublic;
  json::Value payload = file_payload(t, env.payload, c.user_id);

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
  if (relay_unnamed(s, env, *t)) return true;
  auto d = msg::ServerDeliver::from_json(env.payload);
  if (!d) {
    s.count(Counter::BadFrames);
    return true;
  }
  const json::Value* fid_v = d->extra.count("file_id") ? &d->extra.at("file_id") : nullptr;
  const std::string file_id = fid_v && fid_v->is_string() ? fid_v->as_string() : std::string();
  const UserInfo* sender = check_remote_sender(s, *t, d->sender, &d->sender_pub, env.from);
  if (!sender) return true;
  if (*t == MessageType::FileStart) d->sender_pub = sender->pubkey;  // the emitted form
  const Route r = route_to_user(s, d->user_id);
  if (r.kind == Route::Kind::Local) {
    s.count(Counter::FileFramesDelivered);
    s.out.send(r.conn, *t, d->user_id, inner_payload(*t, *d),
               SendOpts{d->orig_ts.value_or(env.ts), kBulk});
    return true;
  }
  s.count(Counter::Undeliverable);
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
    s.count(Counter::BadFrames);
    return;
  }
  const std::string* sender = json::get_string(env.payload, "sender");
  if (!sender || !check_payload(*env.type, env.payload)) {
    s.count(Counter::BadFrames);
    return;
  }
  if (!check_remote_sender(s, *env.type, *sender, json::get_string(env.payload, "sender_pub"),
                           env.from)) {
    return;
  }
  s.count(Counter::FileFramesPublicIn);
  FanOut shared(s, *env.type, kPublic, file_payload(*env.type, env.payload, *sender), env.ts,
                kBulk);
  deliver_public_local(s, shared, *sender);
}

}  // namespace socp::core
