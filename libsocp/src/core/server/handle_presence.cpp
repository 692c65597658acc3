// Presence gossip family: USER_ADVERTISE, USER_REMOVE, DIRECTORY_SNAPSHOT (docs/protocol.md §5).
// Signatures and signed contexts were checked by the dispatcher against the pinned key of
// `from` (the origin). From socp/1 servers these frames are parsed strictly (no fields beyond
// their own: a payload shaped for another purpose cannot pass as one of them), and a login
// proof that travels with an advert is verified before the DirectoryService weighs it (R5).
// Accepted gossip is forwarded unchanged to the other servers (the seen cache stops loops).
#include "core/server/core_impl.h"
#include "core/server/login_proof.h"

namespace socp::core {

namespace {

Status strict_entry(const json::Value& e) {
  return msg::require_only_fields(
      e, {"user_id", "server_id", "pubkey", "meta", "online", "since", "proof"}, "users[]");
}

bool meta_fits(const ServerCore::Impl& s, const json::Value& meta) {
  return json::canonical(meta).size() <= s.cfg.max_meta_bytes;
}

/// The verified login proof of an entry, if it has one that holds. `bad` is set when a proof
/// was present but did not verify.
std::optional<LoginStamp> stamp_of(ServerCore::Impl& s, const json::Value& proof,
                                   const std::string& pubkey, const std::string& origin,
                                   bool* bad) {
  if (proof.is_null()) return std::nullopt;
  auto st = verify_login_proof(s.keys, proof, pubkey, origin);
  if (!st) {
    s.count(Counter::LoginProofsRejected);
    if (bad) *bad = true;
    return std::nullopt;
  }
  return std::move(st).value();
}

/// Parks a location-only advert and asks its home server for the user's key.
void request_key(ServerCore::Impl& s, Conn& c, const Envelope& env, const std::string& user_id) {
  if (s.keyless_adverts.size() >= 10'000 && !s.keyless_adverts.count(user_id)) return;
  const bool asked = s.keyless_adverts.count(user_id) != 0;
  s.keyless_adverts[user_id] = {env.from, env};
  if (!s.is_socp_server(env.from)) s.note_dialect(env.from, Dialect::G17);
  if (asked) return;
  auto p = s.peers.find(env.from);
  const ConnId link = p != s.peers.end() && p->second.link ? p->second.link : c.id;
  s.out.send(link, MessageType::PubkeyRequest, env.from, msg::PubkeyRequest{user_id}.to_json());
  s.count(Counter::DialectIn);
}

/// G43 and G56 give a user who logs in no directory of other servers' users: when one of
/// their users appears, ours are advertised again, addressed to that user ("backfill").
void backfill(ServerCore::Impl& s, const std::string& origin, const std::string& new_user) {
  auto p = s.peers.find(origin);
  if (p == s.peers.end() || p->second.link == 0 || !wants_backfill(p->second.dialect)) return;
  s.dir.for_each([&](const UserInfo& u) {
    if (!u.online || u.server_id != s.self_id) return;
    json::Value ad = s.advert_payload(u);
    ad.as_object()["origin"] = std::string("backfill");
    s.out.send(p->second.link, MessageType::UserAdvertise, new_user, std::move(ad));
    s.count(Counter::DialectOut);
  });
}

/// Adds one page of a paged snapshot. True when the snapshot is complete: `snap.users` then
/// holds every page's entries. A newer snapshot id replaces an unfinished older one; the
/// entries kept are bounded by the per-server user cap.
bool collect_page(ServerCore::Impl& s, Peer& p, msg::DirectorySnapshot& snap) {
  Peer::PendingSnapshot& ps = p.pending_snapshot;
  if (snap.snapshot < ps.id) return false;  // an older, abandoned snapshot
  if (snap.snapshot > ps.id) ps = Peer::PendingSnapshot{snap.snapshot, snap.pages, {}, {}, false};
  if (ps.refused || snap.pages != ps.pages || !ps.seen.insert(snap.page).second) return false;
  if (ps.users.size() + snap.users.size() > s.cfg.max_users_per_server) {
    s.count(Counter::UsersCapRefused);
    s.log(LogLevel::Warn, "paged snapshot from " + p.server_id + " exceeds the user cap");
    ps = Peer::PendingSnapshot{snap.snapshot, snap.pages, {}, {}, true};
    return false;
  }
  for (auto& e : snap.users) ps.users.push_back(std::move(e));
  if (static_cast<std::int64_t>(ps.seen.size()) < ps.pages) return false;
  snap.users = std::move(ps.users);
  ps = Peer::PendingSnapshot{snap.snapshot, 0, {}, {}, false};
  return true;
}

void count_refusal(ServerCore::Impl& s, Errc code) {
  switch (code) {
    case Errc::InvalidArgument:
      return s.count(Counter::RejectedAdvertsAuthority);
    case Errc::BadKey:
      return s.count(Counter::RejectedAdvertsKey);
    case Errc::NameInUse:
      return s.count(Counter::RejectedAdvertsConflict);
    case Errc::TooLarge:
      return s.count(Counter::UsersCapRefused);
    default:
      return;
  }
}

}  // namespace

void handle_user_advertise(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  if (!s.first_time(env)) return;
  const bool strict = s.is_socp_server(env.from);
  if (strict) {
    if (Status st = msg::require_only_fields(
            env.payload, {"user_id", "server_id", "pubkey", "meta", "since", "proof", "ctx"});
        !st.ok()) {
      s.count(Counter::UnknownFieldsRefused);
      s.log(LogLevel::Warn, "refused USER_ADVERTISE from " + env.from + ": " + st.error().detail);
      return;
    }
  }
  auto ad = msg::UserAdvertise::from_json(env.payload);
  if (!ad) {
    s.count(Counter::BadFrames);
    s.log(LogLevel::Warn, "bad USER_ADVERTISE from " + env.from + ": " + ad.error().detail);
    return;
  }
  if (ad->pubkey.empty()) {
    // A location-only advert (another implementation): the key we pinned, else ask its home.
    if (const UserInfo* known = s.dir.find(ad->user_id)) {
      ad->pubkey = known->pubkey;
    } else {
      request_key(s, c, env, ad->user_id);
      return;
    }
  }
  // Normalise the key to our emitted form so pinning compares like with like.
  auto key = s.keys.get(ad->pubkey);
  if (!key) {
    s.count(Counter::BadKeys);
    s.log(LogLevel::Warn, "USER_ADVERTISE for " + ad->user_id + " carries a bad key");
    return;
  }
  ad->pubkey = key->b64url();
  if (!meta_fits(s, ad->meta) || ad->user_id.size() > 128) {
    s.count(Counter::BadFrames);
    return;
  }
  bool bad_proof = false;
  const auto stamp = stamp_of(s, ad->proof, ad->pubkey, env.from, &bad_proof);
  if (bad_proof) {
    s.log(LogLevel::Warn, "dropped USER_ADVERTISE for " + ad->user_id + " from " + env.from +
                              ": its login proof does not hold");
    return;
  }
  Status st = s.dir.apply_advertise(*ad, env.from, stamp ? &*stamp : nullptr);
  if (!st.ok()) {
    count_refusal(s, st.code());
    if (st.code() == Errc::NameInUse && !stamp) s.count(Counter::AdvertsUnprovenIgnored);
    s.log(LogLevel::Warn, "rejected USER_ADVERTISE for " + ad->user_id + " from " + env.from +
                              ": " + st.error().detail);
    return;
  }
  if (ad->meta.find("username") && !s.is_socp_server(env.from)) {
    s.note_dialect(env.from, Dialect::G43);
  }
  s.forward_servers(env, c.server_id);
  backfill(s, env.from, ad->user_id);
}

void handle_server_pubkey_request(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  auto rq = msg::PubkeyRequest::from_json(env.payload);
  if (!rq) return;
  const UserInfo* u = s.dir.find(rq->user_id);
  if (!u) return;
  const ConnId link =
      s.peers.count(env.from) && s.peers[env.from].link ? s.peers[env.from].link : c.id;
  msg::PubkeyResponse out{u->user_id, u->pubkey, u->server_id, ""};
  s.out.send(link, MessageType::PubkeyResponse, env.from, out.to_json());
}

void handle_server_pubkey_response(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  auto r = msg::PubkeyResponse::from_json(env.payload);
  if (!r) return;
  auto it = s.keyless_adverts.find(r->user_id);
  // Only the server that advertised the user (its home) may tell us the key, once.
  if (it == s.keyless_adverts.end() || it->second.first != env.from) return;
  Envelope advert = std::move(it->second.second);
  s.keyless_adverts.erase(it);
  s.count(Counter::DialectIn);
  auto& o = advert.payload.as_object();
  o["pubkey"] = r->pubkey;
  // Applied as the advert it completes (its signature was checked when it arrived; not
  // forwarded: the others get it from its home themselves).
  auto ad = msg::UserAdvertise::from_json(advert.payload);
  if (!ad) return;
  auto key = s.keys.get(ad->pubkey);
  if (!key) return;
  ad->pubkey = key->b64url();
  if (Status st = s.dir.apply_advertise(*ad, env.from); !st.ok()) {
    count_refusal(s, st.code());
    return;
  }
  (void)c;
  backfill(s, env.from, ad->user_id);
}

void handle_user_remove(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  if (!s.first_time(env)) return;
  if (s.is_socp_server(env.from) &&
      !msg::require_only_fields(env.payload, {"user_id", "server_id", "ctx"}).ok()) {
    s.count(Counter::UnknownFieldsRefused);
    return;
  }
  auto rm = msg::UserRemove::from_json(env.payload);
  if (!rm) {
    s.count(Counter::BadFrames);
    return;
  }
  Status st = s.dir.apply_remove(*rm, env.from);
  if (!st.ok()) {
    s.count(Counter::RejectedRemoves);
    s.log(LogLevel::Warn, "rejected USER_REMOVE for " + rm->user_id + " from " + env.from + ": " +
                              st.error().detail);
    return;
  }
  s.forward_servers(env, c.server_id);
}

void handle_directory_snapshot(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  (void)c;
  if (!s.first_time(env)) {
    s.count(Counter::SnapshotsDuplicate);
    return;
  }
  const bool strict = s.is_socp_server(env.from);
  if (strict) {
    Status st = msg::require_only_fields(
        env.payload, {"server_id", "users", "ctx", "snapshot", "page", "pages"});
    if (const json::Value* users = env.payload.find("users");
        st.ok() && users && users->is_array()) {
      for (const json::Value& e : users->as_array()) {
        if (st.ok()) st = strict_entry(e);
      }
    }
    if (!st.ok()) {
      s.count(Counter::UnknownFieldsRefused);
      s.log(LogLevel::Warn,
            "refused DIRECTORY_SNAPSHOT from " + env.from + ": " + st.error().detail);
      return;
    }
  }
  auto snap = msg::DirectorySnapshot::from_json(env.payload);
  if (!snap) {
    s.count(Counter::BadFrames);
    return;
  }
  if (snap->server_id != env.from) {
    s.count(Counter::RejectedSnapshots);
    return;
  }
  // A snapshot is the origin's complete state at its ts: an older one than the last applied
  // (a replay) would roll presence back.
  Peer& p = s.peers[env.from];
  const std::int64_t snap_ts = snap->pages > 0 ? snap->snapshot : env.ts;
  if (snap_ts <= p.last_snapshot_ts) {
    s.count(Counter::SnapshotsDuplicate);
    return;
  }
  if (snap->pages > 0 && !collect_page(s, p, *snap)) return;  // more pages to come
  p.last_snapshot_ts = snap_ts;
  std::vector<std::optional<LoginStamp>> stamps(snap->users.size());
  for (std::size_t i = 0; i < snap->users.size(); ++i) {
    msg::DirectoryEntry& e = snap->users[i];
    // A key already in socp's own form needs no parse here (a snapshot can hold 100,000): it
    // is parsed when first used. Any other form is normalised, and refused if it is no key.
    if (!PublicKey::is_canonical_text(e.pubkey)) {
      auto key = s.keys.get(e.pubkey);
      if (!key) continue;
      e.pubkey = key->b64url();
    }
    if (!meta_fits(s, e.meta)) e.meta = json::Object{};
    if (e.online) stamps[i] = stamp_of(s, e.proof, e.pubkey, env.from, nullptr);
  }
  if (Status st = s.dir.apply_snapshot(env.from, snap->users, false, stamps); !st.ok()) {
    count_refusal(s, st.code());
    s.log(LogLevel::Warn, "snapshot from " + env.from + ": " + st.error().detail);
  }
  s.count(Counter::SnapshotsApplied);
}

}  // namespace socp::core
