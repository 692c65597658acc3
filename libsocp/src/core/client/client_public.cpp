// The public channel, client side: /all (sender key, key shares, encrypted post) and the
// frames the server relays (posts, key shares, membership). See client_public.h and
// docs/protocol-notes.md "Public channel". A post that fails a check is never shown as a
// message: it becomes a `rejected` event with "channel":"public".
#include "core/client/client_public.h"

#include "codec/utf8.h"
#include "core/client/channel_cipher.h"
#include "core/client/client_events.h"
#include "core/client/client_impl.h"
#include "socp/messages.h"

namespace socp {
namespace client {
namespace {

const std::string kPublic(kPublicGroupId);

json::Value channel_event(json::Value e) {
  if (e.is_object()) e.as_object()["channel"] = kPublic;
  return e;
}

void reject(ClientCore::Impl& s, const std::string& reason, const std::string& from,
            std::int64_t ts) {
  s.emit(channel_event(ev::rejected(reason, from, s.dir.name_of(from), ts)));
}

const SecretBytes* find_key(const ChannelState& ch, const std::string& sender,
                            const std::string& key_id) {
  auto it = ch.keys.find(sender);
  if (it == ch.keys.end()) return nullptr;
  for (const auto& [id, k] : it->second) {
    if (id == key_id) return &k;
  }
  return nullptr;
}

void remember_key(ChannelState& ch, const std::string& sender, const std::string& key_id,
                  SecretBytes k) {
  auto& list = ch.keys[sender];
  list.emplace_back(key_id, std::move(k));
  while (list.size() > kKeysPerSender) list.pop_front();  // SecretBytes wipes itself
}

/// Opens a post whose content_sig already verified with `p.sender_pub`, and shows it.
void open_post(ClientCore::Impl& s, const HeldPost& p, const SecretBytes& k) {
  auto spub = PublicKey::parse(p.sender_pub);
  if (!spub) return reject(s, "bad sender key", p.sender, p.ts);
  // Checked again: a key share may have pinned the sender's key while the post waited.
  const KnownUser* known = s.dir.find(p.sender);
  const bool first_contact = !known || !known->key;
  if (!first_contact && *known->key != *spub)
    return reject(s, "sender key mismatch", p.sender, p.ts);
  auto blob = b64_decode(p.ciphertext);
  if (!blob) return reject(s, "cannot decrypt", p.sender, p.ts);
  auto text = channel::open(k, *blob, channel::associated_data(p.sender, p.key_id));
  if (!text) return reject(s, "cannot decrypt", p.sender, p.ts);
  if (!codec::valid_utf8(*text)) return reject(s, "invalid UTF-8", p.sender, p.ts);
  if (first_contact) (void)s.dir.offer_key(p.sender, *spub);
  s.emit(channel_event(ev::message(p.sender, s.dir.name_of(p.sender), kPublic,
                                   std::move(text).value(), p.ts, first_contact)));
}

/// A post in clear (key_id ""): G56's /all, base64url of the text as `ciphertext`, relayed by
/// our server only from the server the sender lives at (docs/interop.md). Its content_sig
/// already verified with the sender's key; shown with "encrypted": false.
void open_clear_post(ClientCore::Impl& s, const std::string& from, const std::string& ciphertext,
                     const PublicKey& spub, bool first_contact, std::int64_t ts) {
  auto text = b64_decode(ciphertext);
  if (!text) return reject(s, "malformed post in clear", from, ts);
  std::string str(text->begin(), text->end());
  if (!codec::valid_utf8(str)) return reject(s, "invalid UTF-8", from, ts);
  if (first_contact) (void)s.dir.offer_key(from, spub);
  json::Value e = channel_event(
      ev::message(from, s.dir.name_of(from), kPublic, std::move(str), ts, first_contact));
  e.as_object()["encrypted"] = false;
  s.emit(std::move(e));
}

/// Opens the held posts of (sender, key_id), in arrival order.
void release(ClientCore::Impl& s, const std::string& sender, const std::string& key_id) {
  ChannelState& ch = s.channel;
  std::deque<HeldPost> keep;
  std::deque<HeldPost> ready;
  for (HeldPost& p : ch.held) {
    (p.sender == sender && p.key_id == key_id ? ready : keep).push_back(std::move(p));
  }
  ch.held = std::move(keep);
  for (const HeldPost& p : ready) {
    const SecretBytes* k = find_key(ch, sender, key_id);
    if (k) open_post(s, p, *k);
  }
}

/// One wrapped key addressed to us: verified (creator = sender's pinned key, per-share sig),
/// unwrapped with our private key and remembered. False (with a warning) if it fails a check.
bool accept_share(ClientCore::Impl& s, const std::string& sender, const std::string& key_id,
                  const std::string& wrapped, const std::string& sig,
                  const std::string& creator_pub) {
  if (sender.empty() || sender == s.me() || key_id.empty()) return false;
  const std::string who = "key share from " + s.dir.name_of(sender);
  auto creator = PublicKey::parse(creator_pub);
  if (!creator) {
    s.emit(ev::warning(who + ": unusable creator_pub"));
    return false;
  }
  const KnownUser* known = s.dir.find(sender);
  const bool first_contact = !known || !known->key;
  if (!first_contact && *known->key != *creator) {
    s.emit(ev::warning(who + ": creator_pub is not the pinned key; ignored"));
    return false;
  }
  auto sig_bytes = b64_decode(sig);
  if (!sig_bytes ||
      !creator->verify(msg::share_sig_message(sender, s.me(), key_id, wrapped), *sig_bytes)) {
    s.emit(ev::warning(who + ": share signature does not verify; ignored"));
    return false;
  }
  if (find_key(s.channel, sender, key_id) != nullptr) return true;  // already have it
  auto blob = b64_decode(wrapped);
  if (!blob || !s.cfg.key) {
    s.emit(ev::warning(who + ": unreadable wrapped key"));
    return false;
  }
  auto k = s.cfg.key->decrypt(*blob);
  if (!k || k->size() != channel::kKeyBytes) {
    s.emit(ev::warning(who + ": wrapped key does not open"));
    return false;
  }
  if (first_contact) (void)s.dir.offer_key(sender, *creator);
  remember_key(s.channel, sender, key_id, std::move(k).value());
  release(s, sender, key_id);
  return true;
}

/// Asks the server for the directory (silently, without blocking queued commands), once per
/// channel version, when members we must share with have no key pinned yet.
void ask_keys(ClientCore::Impl& s) {
  ChannelState& ch = s.channel;
  if (ch.list_asked_version == ch.version) return;
  ch.list_asked_version = ch.version;
  if (s.send(MessageType::ListRequest, s.server_to(), s.next_ts(), json::Object{}, false)) {
    s.lists_in_flight.push_back({false, 0});
  }
}

bool send_share_batch(ClientCore::Impl& s, std::vector<msg::ChannelShare>& batch) {
  if (batch.empty()) return true;
  ChannelState& ch = s.channel;
  msg::PublicChannelKeyShare ks;
  ks.key_id = ch.key_id;
  ks.shares = std::move(batch);
  batch.clear();
  ks.creator_pub = s.cfg.key->public_key().b64url();
  auto csig = s.cfg.key->sign(msg::key_share_content(s.me(), ks.key_id, ks.shares));
  if (!csig) {
    s.emit(ev::error("CRYPTO", "cannot sign the key share: " + csig.error().detail, ""));
    return false;
  }
  ks.content_sig = b64url_encode(*csig);
  return s.send(MessageType::PublicChannelKeyShare, kPublic, s.next_ts(), ks.to_json(), false);
}

/// Gives our current key to every member that does not have it yet (batched frames).
void share_pending(ClientCore::Impl& s) {
  ChannelState& ch = s.channel;
  if (!ch.key || !s.cfg.key || s.want_close) return;
  std::vector<msg::ChannelShare> batch;
  std::size_t missing = 0;
  for (const std::string& id : ch.members) {
    if (id == s.me() || ch.shared_with.count(id) != 0) continue;
    const KnownUser* u = s.dir.find(id);
    if (!u || !u->key) {
      ++missing;
      continue;
    }
    auto wrapped = u->key->encrypt(ch.key->data(), ch.key->size());
    if (!wrapped) {
      ++missing;
      continue;
    }
    msg::ChannelShare sh;
    sh.member = id;
    sh.wrapped = b64url_encode(*wrapped);
    auto sig = s.cfg.key->sign(msg::share_sig_message(s.me(), id, ch.key_id, sh.wrapped));
    if (!sig) {
      s.emit(ev::error("CRYPTO", "cannot sign a key share: " + sig.error().detail, ""));
      return;
    }
    sh.sig = b64url_encode(*sig);
    batch.push_back(std::move(sh));
    ch.shared_with.insert(id);
    if (batch.size() >= kSharesPerFrame && !send_share_batch(s, batch)) return;
  }
  if (!send_share_batch(s, batch)) return;
  ch.unshareable = missing;
  if (missing > 0) ask_keys(s);
}

}  // namespace

// ---- incoming frames ----------------------------------------------------------------------------

void public_on_post(ClientCore::Impl& s, const Envelope& env) {
  auto p = msg::MsgPublicChannel::from_json(env.payload);
  const std::string* claimed = json::get_string(env.payload, "sender");
  const std::string from = claimed ? *claimed : std::string();
  if (!p || p->sender.empty()) {
    return reject(
        s,
        "malformed MSG_PUBLIC_CHANNEL" + (p ? std::string(": no sender") : ": " + p.error().detail),
        from, env.ts);
  }
  if (p->sender == s.me()) return;  // our own post (servers do not echo it; ignore if one does)
  const KnownUser* known = s.dir.find(from);
  // The usual case, the pinned key in its emitted form, needs no parsing (~80 us per post).
  const bool same_text = known && known->key && known->key->b64url() == p->sender_pub;
  auto spub = same_text ? Result<PublicKey>(*known->key) : PublicKey::parse(p->sender_pub);
  if (!spub) return reject(s, "bad sender key", from, env.ts);
  if (known && known->key && *known->key != *spub) {
    return reject(s, "sender key mismatch", from, env.ts);
  }
  // content_sig binds ciphertext, sender and the original ts (public form: no recipient).
  if (!verify_content(*spub, p->ciphertext, from, "", env.ts, p->content_sig)) {
    return reject(s, "bad content signature", from, env.ts);
  }
  if (p->key_id.empty()) {
    return open_clear_post(s, from, p->ciphertext, *spub, !known || !known->key, env.ts);
  }
  HeldPost post{from, p->key_id, p->ciphertext, p->sender_pub, env.ts, s.now()};
  ChannelState& ch = s.channel;
  if (const SecretBytes* k = find_key(ch, from, p->key_id)) return open_post(s, post, *k);
  // The share may still be on its way (a member who just joined): hold the post.
  if (ch.held.size() >= kMaxHeldPosts) {
    HeldPost oldest = std::move(ch.held.front());
    ch.held.pop_front();
    reject(s, "no channel key", oldest.sender, oldest.ts);
  }
  ch.held.push_back(std::move(post));
}

void public_on_key_share(ClientCore::Impl& s, const Envelope& env) {
  if (msg::PublicChannelStoredShares::is_stored_form(env.payload)) {
    auto stored = msg::PublicChannelStoredShares::from_json(env.payload);
    if (!stored) {
      s.emit(ev::warning("malformed stored key shares: " + stored.error().detail));
      return;
    }
    for (const msg::StoredChannelShare& sh : stored->shares) {
      (void)accept_share(s, sh.sender, sh.key_id, sh.wrapped, sh.sig, sh.creator_pub);
    }
    return;
  }
  auto ks = msg::PublicChannelKeyShare::from_json(env.payload);
  if (!ks || ks->sender.empty()) {
    s.emit(ev::warning("malformed PUBLIC_CHANNEL_KEY_SHARE" +
                       (ks ? std::string(": no sender") : ": " + ks.error().detail)));
    return;
  }
  if (ks->sender == s.me()) return;
  const msg::ChannelShare* mine = nullptr;
  for (const msg::ChannelShare& sh : ks->shares) {
    if (sh.member == s.me()) mine = &sh;
  }
  if (!mine) return;
  // The whole frame's content_sig too (the per-share sig alone covers our share).
  auto creator = PublicKey::parse(ks->creator_pub);
  auto csig = b64_decode(ks->content_sig);
  if (!creator || !csig ||
      !creator->verify(msg::key_share_content(ks->sender, ks->key_id, ks->shares), *csig)) {
    s.emit(ev::warning("key share from " + s.dir.name_of(ks->sender) +
                       ": content_sig does not verify; ignored"));
    return;
  }
  (void)accept_share(s, ks->sender, ks->key_id, mine->wrapped, mine->sig, ks->creator_pub);
}

void public_on_updated(ClientCore::Impl& s, const Envelope& env) {
  auto u = msg::PublicChannelUpdated::from_json(env.payload);
  if (!u) {
    s.emit(ev::warning("malformed PUBLIC_CHANNEL_UPDATED: " + u.error().detail));
    return;
  }
  ChannelState& ch = s.channel;
  ch.version = u->version;
  for (const std::string& id : u->members) {
    if (!id.empty()) ch.members.insert(id);
  }
  share_pending(s);
}

void public_after_frame(ClientCore::Impl& s, const Envelope& env) {
  if (!env.type) return;
  ChannelState& ch = s.channel;
  switch (*env.type) {
    case MessageType::UserAdvertise:
    case MessageType::PubkeyResponse: {
      const std::string* id = json::get_string(env.payload, "user_id");
      if (id && !id->empty()) ch.members.insert(*id);
      break;
    }
    case MessageType::ListResponse: {
      const json::Value* users = env.payload.find("users");
      if (!users || !users->is_array()) return;
      for (const json::Value& u : users->as_array()) {
        const std::string* id = json::get_string(u, "user_id");
        if (id && !id->empty()) ch.members.insert(*id);
      }
      break;
    }
    default:
      return;
  }
  share_pending(s);
}

bool public_ensure_key(ClientCore::Impl& s) {
  ChannelState& ch = s.channel;
  if (!ch.key) {
    ch.key = channel::new_key();
    ch.key_id = channel::new_key_id();
    ch.shared_with.clear();
  }
  share_pending(s);
  return !s.want_close;
}

const SecretBytes* public_find_key(const ChannelState& ch, const std::string& sender,
                                   const std::string& key_id) {
  return find_key(ch, sender, key_id);
}

void public_tick(ClientCore::Impl& s) {
  ChannelState& ch = s.channel;
  const std::int64_t now = s.now();
  while (!ch.held.empty() && now - ch.held.front().held_at > kHoldMs) {
    HeldPost p = std::move(ch.held.front());
    ch.held.pop_front();
    reject(s, "no channel key", p.sender, p.ts);
  }
}

void public_closed(ClientCore::Impl& s) {
  s.channel = ChannelState{};  // old keys are wiped by SecretBytes
}

}  // namespace client

// ---- /all
// -----------------------------------------------------------------------------------------

ClientCore::Impl::Step ClientCore::Impl::cmd_all(const std::string& text) {
  if (!codec::valid_utf8(text)) {
    emit(client::ev::error("USAGE", "text is not valid UTF-8", ""));
    return Step::Done;
  }
  if (text.size() > client::channel::kMaxPostBytes) {
    emit(client::ev::error("TOO_LARGE", "a public post is limited to 64 KiB", ""));
    return Step::Done;
  }
  if (!cfg.key) {
    emit(client::ev::error("NO_KEY", "no private key loaded", ""));
    return Step::Done;
  }
  // The first post of a session shares our key with every member: it needs every key.
  if (!list_received) return Step::NeedList;
  if (!client::public_ensure_key(*this)) return Step::Done;
  client::ChannelState& ch = channel;
  auto blob =
      client::channel::seal(*ch.key, text, client::channel::associated_data(me(), ch.key_id));
  if (!blob) {
    emit(client::ev::error("CRYPTO", "cannot encrypt: " + blob.error().detail, ""));
    return Step::Done;
  }
  const std::int64_t ts = next_ts();
  auto csig = sign_content(*cfg.key, *blob, me(), "", ts);  // public form: no recipient
  if (!csig) {
    emit(client::ev::error("CRYPTO", "cannot sign: " + csig.error().detail, ""));
    return Step::Done;
  }
  msg::MsgPublicChannel m;
  m.ciphertext = b64url_encode(*blob);
  m.key_id = ch.key_id;
  m.sender_pub = cfg.key->public_key().b64url();
  m.content_sig = std::move(csig).value();
  if (!send(MessageType::MsgPublicChannel, client::kPublic, ts, m.to_json(), false)) {
    return Step::Done;
  }
  const std::size_t foreign = send_public_to_foreign(text);
  json::Value e = client::channel_event(
      client::ev::sent_all(ch.shared_with.size(), text.size(), ch.unshareable));
  const std::size_t others = ch.members.size() - ch.members.count(me());
  e.as_object()["members"] = static_cast<std::int64_t>(others);
  if (foreign > 0) e.as_object()["direct"] = static_cast<std::int64_t>(foreign);
  emit(std::move(e));
  return Step::Done;
}

}  // namespace socp
