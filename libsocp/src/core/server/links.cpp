// Server links: pinning peers, link up/down, dialing with capped exponential backoff + jitter,
// and the full directory sync that runs whenever a link comes up.
#include <algorithm>

#include "core/server/core_impl.h"

namespace socp {

using core::Conn;
using core::Role;

Status ServerCore::Impl::pin_peer(const std::string& server_id, const std::string& host,
                                  std::uint16_t port, const std::string& pubkey_any,
                                  bool socp_caps) {
  if (server_id == self_id) return make_error(Errc::BadKey, "peer claims our own server id");
  auto key = keys.get(pubkey_any);
  if (!key) return key.error();
  core::Peer& p = peers[server_id];
  if (p.key && *p.key != *key) {
    count("server_key_conflicts");
    return make_error(Errc::BadKey, "server " + server_id + " is pinned with a different key");
  }
  const bool changed = !p.key || p.host != host || p.port != port;
  p.server_id = server_id;
  p.key = *key;
  p.pubkey = key->b64url();
  if (!host.empty()) p.host = host;
  if (port != 0) p.port = port;
  p.socp_caps = p.socp_caps || socp_caps;
  if (changed) {
    ServerRecord rec{server_id, p.host, p.port, p.pubkey, now()};
    if (Status st = store.put_server(rec); !st.ok()) {
      log(LogLevel::Error, "cannot persist server " + server_id + ": " + st.error().detail);
    }
  }
  return ok_status();
}

void ServerCore::Impl::link_up(Conn& c, const std::string& server_id) {
  core::Peer& p = peers[server_id];
  c.role = Role::Server;
  c.server_id = server_id;
  if (p.link != 0 && p.link != c.id && conn(p.link) != nullptr) {
    // Two links to the same server (both dialed at once): keep the one dialed by the server
    // with the smaller id. Both ends apply the same rule, so they keep the same link. The
    // loser stays a verified server connection until it closes, so frames already in flight
    // on it (a sync) are still processed.
    const std::string c_dialer = c.outgoing ? self_id : server_id;
    const bool keep_new = c_dialer == std::min(self_id, server_id);
    count("links_duplicate");
    if (!keep_new) {
      close_conn(c.id, 1000, "duplicate link");
      return;
    }
    close_conn(p.link, 1000, "duplicate link");
    p.link = c.id;
    send_sync(c.id, p.socp_caps);
    return;
  }
  p.link = c.id;
  if (p.dialing == c.id) p.dialing = 0;
  p.backoff = kReconnectMinMs;
  p.last_hb_sent = now();
  count("links_up");
  log(LogLevel::Info, "link up: " + server_id + (c.outgoing ? " (dialed)" : " (accepted)"));
  send_sync(c.id, p.socp_caps);
}

void ServerCore::Impl::link_down(const std::string& server_id) {
  auto it = peers.find(server_id);
  if (it == peers.end()) return;
  core::Peer& p = it->second;
  if (p.link == 0) return;
  p.link = 0;
  count("links_down");
  log(LogLevel::Info, "link down: " + server_id);
  dir.server_down(server_id);
  // Both sides redial (duplicates resolve in link_up).
  p.next_dial = now() + next_backoff(p.backoff);
}

std::int64_t ServerCore::Impl::next_backoff(std::int64_t& backoff) {
  std::uniform_int_distribution<std::int64_t> jitter(0, backoff / 4);
  const std::int64_t delay = backoff - jitter(rng);
  backoff = std::min(backoff * 2, std::max(cfg.reconnect_max_ms, kReconnectMinMs));
  return delay;
}

Conn& ServerCore::Impl::open_outgoing(Role role, const std::string& host, std::uint16_t port) {
  const ConnId id = next_out_conn++;
  Conn& c = conns[id];
  c.id = id;
  c.outgoing = true;
  c.role = role;
  c.opened_at = c.last_rx = now();
  Action a;
  a.kind = Action::Kind::Connect;
  a.conn = id;
  a.host = host;
  a.port = port;
  actions.push_back(std::move(a));
  return c;
}

void ServerCore::Impl::dial_peer(core::Peer& p) {
  if (stopping || p.link != 0 || p.dialing != 0 || p.host.empty() || p.port == 0) return;
  Conn& c = open_outgoing(Role::Dialing, p.host, p.port);
  c.server_id = p.server_id;
  p.dialing = c.id;
  count("dials");
}

void ServerCore::Impl::send_sync(ConnId link, bool socp_caps) {
  if (socp_caps) {
    msg::DirectorySnapshot snap;
    snap.server_id = self_id;
    snap.users = dir.local_entries();
    send_signed(link, MessageType::DirectorySnapshot, "*", snap.to_json());
    return;
  }
  for (const UserInfo& u : dir.list()) {
    if (u.server_id == self_id && u.online) {
      send_signed(link, MessageType::UserAdvertise, "*", advert_payload(u));
    }
  }
}

}  // namespace socp
