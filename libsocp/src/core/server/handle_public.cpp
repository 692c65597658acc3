// Public channel family (docs/protocol.md §6, docs/protocol-notes.md "Public channel"):
// membership of group "public", MSG_PUBLIC_CHANNEL fan-out, PUBLIC_CHANNEL_KEY_SHARE relay and
// storage, PUBLIC_CHANNEL_UPDATED / PUBLIC_CHANNEL_ADD.
//
// Why it costs O(1) signatures per post: the origin server builds ONE frame (payload, to
// "public", the post's ts) and queues it on every server link and every local member; the
// SignBook signs it once. A receiving server rebuilds the payload from the fields a post has
// and does the same for its own members.
#include <algorithm>
#include <set>

#include "core/server/public_channel.h"
#include "socp/bytes.h"
#include "socp/crypto.h"

namespace socp::core {

namespace {

constexpr std::string_view kPostRef = "MSG_PUBLIC_CHANNEL";
constexpr std::string_view kShareRef = "PUBLIC_CHANNEL_KEY_SHARE";
constexpr std::size_t kMaxKeyIdChars = 64;
constexpr std::size_t kMaxSharesPerFrame = 1024;
/// Stored shares sent at login per frame (each ~2 KiB): well under the 1 MiB client limit.
constexpr std::size_t kStoredSharesPerFrame = 128;

const std::string& group_id() {
  static const std::string id(kPublicGroupId);
  return id;
}

/// A post is identified by (sender, content_sig) whichever server relays it: a copy replayed
/// by another server (another envelope `from`, so another frame key) is still a duplicate.
bool first_post(ServerCore::Impl& s, const std::string& sender, const std::string& content_sig) {
  if (s.seen.insert("public-post|" + sender + "|" + content_sig, s.now())) return true;
  s.count(Counter::Duplicates);
  return false;
}

/// Live links to servers that announced the socp capability: the channel payloads are socp's
/// own (sender keys), so other implementations are not sent them (docs/protocol.md §5).
void persist_member(ServerCore::Impl& s, const GroupMemberRecord& rec) {
  if (Status st = s.store.put_group_member(rec); !st.ok()) {
    s.count(Counter::PublicStoreErrors);
    s.log(LogLevel::Error,
          "cannot persist public channel member " + rec.member_id + ": " + st.error().detail);
  }
}

void persist_group(ServerCore::Impl& s, PublicState& st) {
  if (Status r = s.store.put_group(st.group); !r.ok()) {
    s.count(Counter::PublicStoreErrors);
    s.log(LogLevel::Error, "cannot persist the public channel: " + r.error().detail);
    return;
  }
  st.group_stored = true;
}

json::Value updated_payload(const PublicState& st) {
  msg::PublicChannelUpdated u;
  u.version = static_cast<std::int64_t>(st.group.version);
  u.members.reserve(st.members.size());
  for (const auto& [id, rec] : st.members) u.members.push_back(id);  // map order = sorted
  return u.to_json();
}

/// The member's stored shares: {sender_id: {key_id, wrapped, sig, creator_pub}}.
json::Object stored_map(const GroupMemberRecord& rec) {
  if (rec.wrapped_key.empty()) return {};
  auto v = json::parse(rec.wrapped_key);
  if (!v || !v->is_object()) return {};
  return v->as_object();
}

/// Keeps the shares addressed to members located at this server (their home keeps them for
/// their next login). Other servers keep their own members' shares.
void store_shares(ServerCore::Impl& s, const msg::PublicChannelKeyShare& ks) {
  PublicState& st = public_state(s);
  for (const msg::ChannelShare& sh : ks.shares) {
    if (sh.member == ks.sender) continue;
    const UserInfo* u = s.dir.find(sh.member);
    if (!u || u->server_id != s.self_id) continue;
    auto it = st.members.find(sh.member);
    if (it == st.members.end()) {
      public_sync(s);  // a member the scan has not seen yet
      it = st.members.find(sh.member);
      if (it == st.members.end()) continue;
    }
    json::Object map = stored_map(it->second);
    map[ks.sender] = json::Object{{"key_id", ks.key_id},
                                  {"wrapped", sh.wrapped},
                                  {"sig", sh.sig},
                                  {"creator_pub", ks.creator_pub}};
    it->second.wrapped_key = json::canonical(json::Value(std::move(map)));
    persist_member(s, it->second);
    s.count(Counter::PublicSharesStored);
  }
}

bool verify_share_content(const PublicKey& key, const msg::PublicChannelKeyShare& ks) {
  auto sig = b64_decode(ks.content_sig);
  return sig && key.verify(msg::key_share_content(ks.sender, ks.key_id, ks.shares), *sig);
}

/// Queues `frame` on each local session in `only` (all if null) except `except`.
void deliver_local(ServerCore::Impl& s, FanOut& frame, const std::string& except,
                   const std::set<std::string>* only = nullptr) {
  for (const auto& [uid, cid] : s.sessions) {
    if (uid == except || (only && only->count(uid) == 0)) continue;
    frame.send(cid);
    s.count(Counter::PublicDelivered);
  }
}

std::set<std::string> members_of(const msg::PublicChannelKeyShare& ks) {
  std::set<std::string> out;
  for (const auto& sh : ks.shares) out.insert(sh.member);
  return out;
}

}  // namespace

// ---- membership -----------------------------------------------------------------------------

PublicState& public_state(ServerCore::Impl& s) {
  if (!s.public_channel) s.public_channel = std::make_shared<PublicState>();
  PublicState& st = *s.public_channel;
  if (st.loaded) return st;
  st.loaded = true;
  auto g = s.store.get_group(group_id());
  if (g) {
    st.group = std::move(g).value();
    st.group_stored = true;
  } else {
    st.group = GroupRecord{group_id(), std::string(kPublicGroupCreator), "{}", s.now(), 0};
  }
  if (auto m = s.store.list_group_members(group_id())) {
    for (GroupMemberRecord& rec : *m) st.members[rec.member_id] = std::move(rec);
  } else {
    s.log(LogLevel::Error, "cannot load public channel members: " + m.error().detail);
  }
  return st;
}

namespace {

const json::Value& current_updated(PublicState& st) {
  if (st.updated.is_null()) st.updated = updated_payload(st);
  return st.updated;
}

/// One payload for every local session (one signature), at most once per second.
bool flush_updated(ServerCore::Impl& s) {
  PublicState& st = public_state(s);
  if (!st.broadcast_due || s.now() - st.last_broadcast < 1000) return false;
  st.broadcast_due = false;
  st.last_broadcast = s.now();
  if (s.sessions.empty()) return true;  // nobody to tell: logins get it built then
  s.broadcast_users(MessageType::PublicChannelUpdated, current_updated(st));
  return true;
}

}  // namespace

bool public_sync(ServerCore::Impl& s) {
  PublicState& st = public_state(s);
  std::vector<std::string> new_local;
  // Only the users added since the last sync: O(new users), not O(directory).
  const std::size_t cursor = s.dir.for_each_added(st.dir_cursor, [&](const UserInfo& u) {
    if (st.members.count(u.user_id) != 0) return;
    GroupMemberRecord rec{group_id(), u.user_id, "member", "", s.now()};
    persist_member(s, rec);
    st.members.emplace(u.user_id, std::move(rec));
    if (u.server_id == s.self_id) new_local.push_back(u.user_id);
  });
  if (cursor == st.dir_cursor && st.group_stored && st.scanned) return false;
  st.dir_cursor = cursor;
  st.scanned = true;
  // version = number of members: it grows with every new member, and servers that know the
  // same users agree on it.
  const auto version = static_cast<std::uint64_t>(st.members.size());
  const bool changed = version != st.group.version;
  if (changed || !st.group_stored) {
    st.group.version = version;
    persist_group(s, st);
  }
  if (!changed) return false;
  s.count(Counter::PublicVersions);
  st.updated = json::Value();
  st.broadcast_due = true;
  if (!new_local.empty()) {
    const std::vector<ConnId> links = s.socp_links();
    for (const std::string& uid : new_local) {
      msg::PublicChannelAdd add{uid, static_cast<std::int64_t>(version)};
      FanOut frame(s, MessageType::PublicChannelAdd, "*", add.to_json());
      for (ConnId link : links) frame.send(link);
    }
  }
  return flush_updated(s);
}

void public_tick(ServerCore::Impl& s) {
  public_sync(s);
  flush_updated(s);
}

void public_on_login(ServerCore::Impl& s, Conn& c) {
  PublicState& st = public_state(s);
  // The new session is already in s.sessions: a broadcast by public_sync reached it.
  if (!public_sync(s)) {
    s.out.send(c.id, MessageType::PublicChannelUpdated, c.user_id, current_updated(st));
  }
  auto it = st.members.find(c.user_id);
  if (it == st.members.end()) return;
  msg::PublicChannelStoredShares out;
  auto flush = [&] {
    if (out.shares.empty()) return;
    s.out.send(c.id, MessageType::PublicChannelKeyShare, c.user_id, out.to_json());
    out.shares.clear();
  };
  for (const auto& [sender, v] : stored_map(it->second)) {
    msg::StoredChannelShare sh;
    sh.sender = sender;
    const auto* key_id = json::get_string(v, "key_id");
    const auto* wrapped = json::get_string(v, "wrapped");
    const auto* sig = json::get_string(v, "sig");
    const auto* creator_pub = json::get_string(v, "creator_pub");
    if (!key_id || !wrapped || !sig || !creator_pub) continue;
    sh.key_id = *key_id;
    sh.wrapped = *wrapped;
    sh.sig = *sig;
    sh.creator_pub = *creator_pub;
    out.shares.push_back(std::move(sh));
    if (out.shares.size() >= kStoredSharesPerFrame) flush();
  }
  flush();
}

// ---- from local users -------------------------------------------------------------------------

void handle_public_post(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  const std::string ref(kPostRef);
  if (env.from != c.user_id) {
    return user_error(s, c, Errc::BadFrame, "`from` must be your own user id", ref);
  }
  auto m = msg::MsgPublicChannel::from_json(env.payload);
  if (!m) return user_error(s, c, Errc::BadFrame, m.error().detail, ref);
  if (m->key_id.empty() || m->key_id.size() > kMaxKeyIdChars) {
    return user_error(s, c, Errc::BadFrame, "key_id must be 1..64 characters", ref);
  }
  if (!s.first_time(env)) return;
  const UserInfo* me = s.local_sender(c, m->sender_pub);
  auto spub = s.keys.get(m->sender_pub);
  if (!me || !spub) {
    return user_error(s, c, Errc::BadKey, "sender_pub is not your registered key", ref);
  }
  // Cheap (one verify) and keeps forged posts off the mesh; every receiver checks again.
  if (!verify_content(*spub, m->ciphertext, c.user_id, "", env.ts, m->content_sig)) {
    s.count(Counter::InvalidSigs);
    return user_error(s, c, Errc::InvalidSig, "content_sig does not verify", ref);
  }
  if (!first_post(s, c.user_id, m->content_sig)) return;
  msg::MsgPublicChannel p = std::move(m).value();
  p.sender = c.user_id;
  p.sender_pub = me->pubkey;
  // ONE frame: one signature for all recipients.
  FanOut frame(s, MessageType::MsgPublicChannel, std::string(kPublicGroupId), p.to_json(), env.ts);
  for (ConnId link : s.socp_links()) {
    frame.send(link);
    s.count(Counter::PublicPostsRelayed);
  }
  deliver_local(s, frame, c.user_id);
  s.count(Counter::PublicPosts);
}

void handle_public_key_share(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  const std::string ref(kShareRef);
  if (env.from != c.user_id) {
    return user_error(s, c, Errc::BadFrame, "`from` must be your own user id", ref);
  }
  auto ks = msg::PublicChannelKeyShare::from_json(env.payload);
  if (!ks) return user_error(s, c, Errc::BadFrame, ks.error().detail, ref);
  if (ks->key_id.empty() || ks->key_id.size() > kMaxKeyIdChars) {
    return user_error(s, c, Errc::BadFrame, "key_id must be 1..64 characters", ref);
  }
  if (ks->shares.empty() || ks->shares.size() > kMaxSharesPerFrame) {
    return user_error(s, c, Errc::BadFrame, "shares must hold 1..1024 entries", ref);
  }
  if (!s.first_time(env)) return;
  const UserInfo* me = s.dir.find(c.user_id);
  auto cpub = s.keys.get(ks->creator_pub);
  if (!cpub || !me || cpub->b64url() != me->pubkey) {
    return user_error(s, c, Errc::BadKey, "creator_pub is not your registered key", ref);
  }
  ks->sender = c.user_id;
  if (!verify_share_content(*cpub, *ks)) {
    s.count(Counter::InvalidSigs);
    return user_error(s, c, Errc::InvalidSig, "content_sig does not verify", ref);
  }
  ks->creator_pub = me->pubkey;
  store_shares(s, *ks);
  // ONE frame for every server and member.
  FanOut frame(s, MessageType::PublicChannelKeyShare, std::string(kPublicGroupId), ks->to_json(),
               env.ts);
  for (ConnId link : s.socp_links()) frame.send(link);
  const std::set<std::string> members = members_of(*ks);
  deliver_local(s, frame, c.user_id, &members);
  s.count(Counter::PublicKeyShares);
}

// ---- from servers -----------------------------------------------------------------------------

void handle_server_public_post(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  (void)c;
  if (!s.first_time(env)) return;
  auto p = msg::MsgPublicChannel::from_json(env.payload);
  // key_id "": a post in clear, taken only from a server whose dialect posts so (dialect.h).
  if (!p || p->sender.empty() ||
      (p->key_id.empty() && !posts_in_clear(s.dialect_of_server(env.from)))) {
    s.count(Counter::BadFrames);
    return;
  }
  // The sender's pinned key (if we know the sender) must be the one in the post, and the
  // content signature must hold: a lying server cannot put words in a member's mouth.
  auto spub = s.keys.get(p->sender_pub);
  const UserInfo* u = s.dir.find(p->sender);
  if (!spub || (u && u->pubkey != spub->b64url())) {
    s.count(Counter::PublicRejected);
    s.log(LogLevel::Warn, "dropped a public post from " + env.from + ": sender_pub of " +
                              p->sender + " is not the pinned key");
    return;
  }
  if (!verify_content(*spub, p->ciphertext, p->sender, "", env.ts, p->content_sig)) {
    s.count(Counter::PublicRejected);
    s.log(LogLevel::Warn, "dropped a public post from " + env.from + ": bad content_sig");
    return;
  }
  if (!first_post(s, p->sender, p->content_sig)) return;
  // Rebuilt from the fields of a post (a server never signs a payload another shaped), the
  // same frame for every local member (one signature).
  p->sender_pub = spub->b64url();
  FanOut frame(s, MessageType::MsgPublicChannel, std::string(kPublicGroupId), p->to_json(), env.ts);
  deliver_local(s, frame, p->sender);
  s.count(Counter::PublicPostsReceived);
}

void handle_server_public_key_share(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  (void)c;
  if (!s.first_time(env)) return;
  auto ks = msg::PublicChannelKeyShare::from_json(env.payload);
  if (!ks || ks->sender.empty() || ks->shares.size() > kMaxSharesPerFrame) {
    s.count(Counter::BadFrames);
    return;
  }
  auto cpub = s.keys.get(ks->creator_pub);
  const UserInfo* u = s.dir.find(ks->sender);
  if (!cpub || (u && u->pubkey != cpub->b64url()) || !verify_share_content(*cpub, *ks)) {
    s.count(Counter::PublicRejected);
    s.log(LogLevel::Warn, "dropped a key share of " + ks->sender + " from " + env.from);
    return;
  }
  store_shares(s, *ks);
  const std::set<std::string> members = members_of(*ks);
  ks->creator_pub = cpub->b64url();
  FanOut frame(s, MessageType::PublicChannelKeyShare, std::string(kPublicGroupId), ks->to_json(),
               env.ts);
  deliver_local(s, frame, ks->sender, &members);
  s.count(Counter::PublicKeySharesReceived);
}

void handle_server_public_add(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  (void)c;
  auto add = msg::PublicChannelAdd::from_json(env.payload);
  if (!add) {
    s.count(Counter::BadFrames);
    return;
  }
  // Informational: membership follows the directory (the user's advert or the link sync).
  s.count(Counter::PublicAdds);
  s.log(LogLevel::Debug, "server " + env.from + " added " + add->user_id +
                             " to the public channel (version " + std::to_string(add->version) +
                             ")");
  public_sync(s);
}

}  // namespace socp::core
