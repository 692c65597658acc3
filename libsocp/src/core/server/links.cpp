// Server links: pinning peers, link up/down, dialing with capped exponential backoff + jitter,
// forgetting servers, and the full directory sync that runs whenever a link comes up.
#include <algorithm>

#include "core/server/core_impl.h"

namespace socp {

using core::Conn;
using core::Role;

Status ServerCore::Impl::pin_peer(const std::string& server_id, const std::string& host,
                                  std::uint16_t port, const std::string& pubkey_any, bool socp_caps,
                                  bool address_ok, const std::string& introduced_by) {
  if (server_id == self_id) return make_error(Errc::BadKey, "peer claims our own server id");
  if (server_id.empty() || server_id.size() > 128) {
    return make_error(Errc::BadFrame, "server id must have 1..128 characters");
  }
  if (host.size() > 253) return make_error(Errc::BadFrame, "host longer than 253 characters");
  auto key = keys.get(pubkey_any);
  if (!key) return key.error();
  auto found = peers.find(server_id);
  const bool is_new = found == peers.end() || !found->second.key;
  if (is_new && peers.size() >= cfg.max_peers && !admission.listed(server_id, key->b64url())) {
    count(Counter::LinksRefusedCap);
    return make_error(Errc::NotAdmitted,
                      "peer cap reached (" + std::to_string(cfg.max_peers) + " servers)");
  }
  core::Peer& p = peers[server_id];
  if (p.key && *p.key != *key) {
    count(Counter::ServerKeyConflicts);
    return make_error(Errc::BadKey, "server " + server_id + " is pinned with a different key");
  }
  // A known server's address changes only when it says so itself, on its own proven link.
  const bool move = (is_new || address_ok) &&
                    ((!host.empty() && host != p.host) || (port != 0 && port != p.port));
  const bool caps_learned = socp_caps && !p.socp_caps;
  p.server_id = server_id;
  p.key = *key;
  p.pubkey = key->b64url();
  if (is_new || address_ok) {
    if (!host.empty()) p.host = host;
    if (port != 0) p.port = port;
  }
  p.socp_caps = p.socp_caps || socp_caps;
  if (is_new) p.introduced_by = introduced_by;
  if (is_new && p.last_seen == 0) p.last_seen = now();
  if (is_new || move || caps_learned) {
    ServerRecord rec{
        server_id,   p.host,      p.port,          p.pubkey,
        p.last_seen, p.socp_caps, p.introduced_by, std::string(core::dialect_name(p.dialect))};
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
  out.frame_limit(c.id, cfg.limits.max_server_frame);
  c.budget = core::SignBudget{{{cfg.server_sign_rate, cfg.server_sign_burst}, now()},
                              {{cfg.server_sign_rate, cfg.server_sign_burst}, now()}};
  p.last_seen = now();
  if (!p.socp_caps && !c.outgoing && core::splits_sockets(p.dialect)) {
    // A server without socp/1 opened this connection. Some of them read only connections they
    // accepted themselves (one socket per direction): receive on this one (every frame is
    // still verified against the pinned key) and send on a connection we dial.
    c.receive_only = true;
    count(Counter::ReceiveOnlyLinks);
    log(LogLevel::Info, "receiving from server " + server_id + " on " + who(c.id) +
                            "; sending on a connection we dial");
    if (p.link == 0) {
      p.next_dial = now();
      dial_peer(p);
    }
    return;
  }
  if (p.link != 0 && p.link != c.id && conn(p.link) != nullptr) {
    // Two links to the same server (both dialed at once): keep the one dialed by the server
    // with the smaller id. Both ends apply the same rule, so they keep the same link. The
    // loser stays a verified server connection until it closes, so frames already in flight
    // on it (a sync) are still processed.
    const std::string c_dialer = c.outgoing ? self_id : server_id;
    const bool keep_new = c_dialer == std::min(self_id, server_id);
    count(Counter::LinksDuplicate);
    if (!keep_new) {
      out.close(c.id, 1000, "duplicate link");
      return;
    }
    out.close(p.link, 1000, "duplicate link");
    p.link = c.id;
    send_sync(c.id, p.socp_caps);
    core::resend_outbox(*this, server_id);
    return;
  }
  p.link = c.id;
  if (p.dialing == c.id) p.dialing = 0;
  p.backoff = kReconnectMinMs;
  p.last_hb_sent = now();
  count(Counter::LinksUp);
  log(LogLevel::Info, "link up: " + server_id + (c.outgoing ? " (dialed)" : " (accepted)"));
  send_sync(c.id, p.socp_caps);
  core::resend_outbox(*this, server_id);
}

void ServerCore::Impl::link_down(const std::string& server_id) {
  auto it = peers.find(server_id);
  if (it == peers.end()) return;
  core::Peer& p = it->second;
  if (p.link == 0) return;
  p.link = 0;
  p.links.clear();  // what it said about its links is stale once ours is gone
  p.last_seen = now();
  (void)store.put_server(ServerRecord{server_id, p.host, p.port, p.pubkey, p.last_seen, p.socp_caps,
                                      p.introduced_by, std::string(core::dialect_name(p.dialect))});
  count(Counter::LinksDown);
  log(LogLevel::Info, "link down: " + server_id);
  dir.server_down(server_id);
  // Both sides redial (duplicates resolve in link_up).
  p.next_dial = now() + next_backoff(p.backoff);
}

void ServerCore::Impl::forget_peer(const std::string& server_id, const std::string& why) {
  auto it = peers.find(server_id);
  if (it == peers.end()) return;
  if (it->second.link != 0) {
    const ConnId l = it->second.link;
    link_down(server_id);
    out.close(l, 1000, "forgotten");
  }
  if (it->second.dialing != 0) out.close(it->second.dialing, 1000, "forgotten");
  peers.erase(it);
  (void)store.delete_server(server_id);
  const std::size_t users = dir.forget_server(server_id);
  count(Counter::PeersForgotten);
  count(Counter::UsersForgotten, users);
  log(LogLevel::Info, "forgot server " + server_id + " (" + why + ") and " + std::to_string(users) +
                          " users last seen there");
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
  c.budget = core::SignBudget{{{cfg.server_sign_rate, cfg.server_sign_burst}, now()},
                              {{cfg.server_sign_rate, cfg.server_sign_burst}, now()}};
  out.connect(id, host, port);
  return c;
}

void ServerCore::Impl::dial_peer(core::Peer& p) {
  if (stopping || p.link != 0 || p.dialing != 0 || p.host.empty() || p.port == 0) return;
  Conn& c = open_outgoing(Role::Dialing, p.host, p.port);
  c.server_id = p.server_id;
  p.dialing = c.id;
  count(Counter::Dials);
}

namespace core {
std::size_t entry_bytes(const msg::DirectoryEntry& e) {
  // A login proof is a signed hello (~1.5 KiB); 256 covers ids, keys and punctuation.
  return e.pubkey.size() + json::canonical(e.meta).size() + (e.proof.is_null() ? 0 : 2048) + 256;
}
}  // namespace core

void ServerCore::Impl::send_sync(ConnId link, bool socp_caps) {
  if (socp_caps) {
    // Pages that fit a server frame with room to spare (docs/protocol-notes.md "Paged
    // answers"); one frame when everything fits.
    std::vector<msg::DirectoryEntry> users = dir.local_entries();
    const std::size_t budget = core::page_budget(cfg.limits.max_server_frame);
    std::vector<std::pair<std::size_t, std::size_t>> ranges;  // [begin, end)
    std::size_t begin = 0, bytes = 0;
    for (std::size_t i = 0; i < users.size(); ++i) {
      const std::size_t n = core::entry_bytes(users[i]);
      if (i > begin && bytes + n > budget) {
        ranges.emplace_back(begin, i);
        begin = i;
        bytes = 0;
      }
      bytes += n;
    }
    ranges.emplace_back(begin, users.size());
    const std::int64_t id = next_ts();
    for (std::size_t p = 0; p < ranges.size(); ++p) {
      msg::DirectorySnapshot snap;
      snap.server_id = self_id;
      snap.users.assign(std::make_move_iterator(users.begin() + ranges[p].first),
                        std::make_move_iterator(users.begin() + ranges[p].second));
      if (ranges.size() > 1) {
        snap.snapshot = id;
        snap.page = static_cast<std::int64_t>(p);
        snap.pages = static_cast<std::int64_t>(ranges.size());
      }
      out.send(link, MessageType::DirectorySnapshot, "*", snap.to_json());
    }
    return;
  }
  dir.for_each([&](const UserInfo& u) {
    if (u.server_id == self_id && u.online) {
      out.send(link, MessageType::UserAdvertise, "*", advert_payload(u));
    }
  });
}

}  // namespace socp
