// Presence gossip family: USER_ADVERTISE, USER_REMOVE, DIRECTORY_SNAPSHOT (PROTOCOL.md §5).
// Signatures were verified by the dispatcher against the pinned key of `from` (the origin).
// The DirectoryService applies the reconciliation rules; accepted gossip is forwarded
// unchanged to the other servers (the seen cache stops loops).
#include "core/server/core_impl.h"

namespace socp::core {

void handle_user_advertise(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  if (!s.first_time(env)) return;
  auto ad = msg::UserAdvertise::from_json(env.payload);
  if (!ad) {
    s.count("bad_frames");
    s.log(LogLevel::Warn, "bad USER_ADVERTISE from " + env.from + ": " + ad.error().detail);
    return;
  }
  // Normalise the key to our emitted form so pinning compares like with like.
  auto key = s.keys.get(ad->pubkey);
  if (!key) {
    s.count("bad_keys");
    s.log(LogLevel::Warn, "USER_ADVERTISE for " + ad->user_id + " carries a bad key");
    return;
  }
  ad->pubkey = key->b64url();
  Status st = s.dir.apply_advertise(*ad, env.from);
  if (!st.ok()) {
    if (st.code() == Errc::InvalidArgument) s.count("rejected_adverts_authority");
    if (st.code() == Errc::BadKey) s.count("rejected_adverts_key");
    if (st.code() == Errc::NameInUse) s.count("rejected_adverts_conflict");
    s.log(LogLevel::Warn, "rejected USER_ADVERTISE for " + ad->user_id + " from " + env.from +
                              ": " + st.error().detail);
    return;
  }
  s.forward_servers(env, c.server_id);
}

void handle_user_remove(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  if (!s.first_time(env)) return;
  auto rm = msg::UserRemove::from_json(env.payload);
  if (!rm) {
    s.count("bad_frames");
    return;
  }
  Status st = s.dir.apply_remove(*rm, env.from);
  if (!st.ok()) {
    s.count("rejected_removes");
    s.log(LogLevel::Warn, "rejected USER_REMOVE for " + rm->user_id + " from " + env.from + ": " +
                              st.error().detail);
    return;
  }
  s.forward_servers(env, c.server_id);
}

void handle_directory_snapshot(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  auto snap = msg::DirectorySnapshot::from_json(env.payload);
  if (!snap) {
    s.count("bad_frames");
    return;
  }
  if (snap->server_id != env.from) {
    s.count("rejected_snapshots");
    return;
  }
  for (msg::DirectoryEntry& e : snap->users) {
    if (auto key = s.keys.get(e.pubkey)) e.pubkey = key->b64url();
  }
  if (Status st = s.dir.apply_snapshot(env.from, snap->users); !st.ok()) {
    s.log(LogLevel::Warn, "snapshot from " + env.from + ": " + st.error().detail);
  }
  s.count("snapshots_applied");
  (void)c;
}

}  // namespace socp::core
