// Health family: signed HEARTBEAT every 15 s to every linked server, links silent for 45 s are
// closed (their users go offline), and peers without a link are redialed with backoff.
#include "core/server/core_impl.h"

namespace socp::core {

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
        s.count("links_timed_out");
        s.log(LogLevel::Warn, "link to " + sid + " silent for " +
                                  std::to_string((now - c->last_rx) / 1000) + " s: closing");
        const ConnId dead = p.link;
        s.close_conn(dead, 1001, "heartbeat timeout");
        s.link_down(sid);
        continue;
      }
      if (now - p.last_hb_sent >= s.cfg.heartbeat_ms) {
        p.last_hb_sent = now;
        s.send_signed(p.link, MessageType::Heartbeat, sid, json::Object{});
      }
    } else if (p.dialing == 0 && now >= p.next_dial) {
      s.dial_peer(p);
    }
  }
}

}  // namespace socp::core
