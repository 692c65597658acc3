// Health family: one signed HEARTBEAT every heartbeat period to every linked server, links
// silent for link_dead_ms are closed (their users go offline), peers without a link are
// redialed with backoff, handshakes that do not prove themselves in time are closed, and
// servers unreachable for forget_after_ms are forgotten.
#include "core/server/core_impl.h"

namespace socp::core {

namespace {

constexpr std::int64_t kForgetScanMs = 60'000;

void heartbeats(ServerCore::Impl& s, std::int64_t now) {
  std::vector<ConnId> due;
  for (auto& [sid, p] : s.peers) {
    if (p.link != 0 && now - p.last_hb_sent >= s.cfg.heartbeat_ms) {
      p.last_hb_sent = now;
      due.push_back(p.link);
    }
  }
  if (due.empty()) return;
  // One payload for every link that is due (to "*"): one signature per period. socp/1 peers
  // also learn which servers we are linked to (`links`), so that they forward presence to us
  // only from servers we have no link to; the others get the spec's empty payload.
  json::Array linked;
  for (const auto& [sid, link] : s.live_links()) linked.emplace_back(sid);
  FanOut socp_hb(s, MessageType::Heartbeat, "*", json::Object{{"links", std::move(linked)}});
  FanOut plain_hb(s, MessageType::Heartbeat, "*", json::Object{});
  for (ConnId link : due) {
    const Conn* c = s.conn(link);
    if (c && s.is_socp_server(c->server_id)) {
      socp_hb.send(link);
    } else {
      plain_hb.send(link);
    }
  }
}

void handshake_timeouts(ServerCore::Impl& s, std::int64_t now) {
  for (auto& [id, c] : s.conns) {
    if (c.closing) continue;
    const bool pending = c.role == Role::LinkPending ||
                         (c.role == Role::Dialing && c.link.started != 0) ||
                         (c.role == Role::Joining && c.link.started != 0);
    if (pending && now - c.link.started > s.cfg.link_handshake_ms) {
      s.count(Counter::LinkProofsFailed);
      s.log(LogLevel::Warn, "server handshake on " + s.who(id) + " did not complete in time");
      s.out.close(id, 1008, "handshake timeout");
    }
  }
}

void forget_unreachable(ServerCore::Impl& s, std::int64_t now) {
  if (now - s.last_forget_scan < kForgetScanMs) return;
  s.last_forget_scan = now;
  std::vector<std::string> gone;
  for (const auto& [sid, p] : s.peers) {
    if (p.link == 0 && p.last_seen != 0 && now - p.last_seen > s.cfg.forget_after_ms) {
      gone.push_back(sid);
    }
  }
  for (const std::string& sid : gone) s.forget_peer(sid, "unreachable too long");
}

}  // namespace

void handle_server_heartbeat(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  auto p = s.peers.find(c.server_id);
  if (p == s.peers.end() || !p->second.socp_caps || p->second.link != c.id) return;
  const json::Value* links = env.payload.is_object() ? env.payload.find("links") : nullptr;
  if (!links || !links->is_array() || links->as_array().size() > s.cfg.max_peers + 1) {
    p->second.links.clear();  // unknown: forward everything to it
    return;
  }
  std::set<std::string> ids;
  for (const json::Value& v : links->as_array()) {
    if (v.is_string() && v.as_string().size() <= 64) ids.insert(v.as_string());
  }
  p->second.links = std::move(ids);
}

void tick_health(ServerCore::Impl& s) {
  const std::int64_t now = s.now();
  for (auto& [sid, p] : s.peers) {
    if (p.link != 0) {
      Conn* c = s.conn(p.link);
      if (!c) {
        s.link_down(sid);
        continue;
      }
      if (now - c->last_rx > s.cfg.link_dead_ms) {
        s.count(Counter::LinksTimedOut);
        s.log(LogLevel::Warn, "link to " + sid + " silent for " +
                                  std::to_string((now - c->last_rx) / 1000) + " s: closing");
        const ConnId dead = p.link;
        s.out.close(dead, 1001, "heartbeat timeout");
        s.link_down(sid);
      }
    } else if (p.dialing == 0 && now >= p.next_dial) {
      s.dial_peer(p);
    }
  }
  heartbeats(s, now);
  handshake_timeouts(s, now);
  forget_unreachable(s, now);
}

}  // namespace socp::core
