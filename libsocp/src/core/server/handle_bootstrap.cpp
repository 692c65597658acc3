// Bootstrap family: SERVER_HELLO_JOIN -> SERVER_WELCOME, SERVER_HELLO_LINK, SERVER_ANNOUNCE
// (PROTOCOL.md §5), plus trying the introducers in order with backoff.
#include <algorithm>

#include "core/server/core_impl.h"
#include "socp/bytes.h"

namespace socp::core {

namespace {

bool has_socp_cap(const std::vector<std::string>& caps) {
  return std::find(caps.begin(), caps.end(), kSocpCapability) != caps.end();
}

void reject(ServerCore::Impl& s, Conn& c, Errc code, const std::string& detail,
            const std::string& ref) {
  s.count("rejected_server_hellos");
  s.log(LogLevel::Warn, "rejected " + ref + ": " + detail);
  s.send_error(c.id, code, detail, ref);
  s.close_conn(c.id, 1008, detail);
}

}  // namespace

void start_join(ServerCore::Impl& s) {
  if (s.joined || s.join_conn != 0 || s.stopping || s.cfg.introducers.empty()) return;
  const Introducer& in = s.cfg.introducers[s.join_index % s.cfg.introducers.size()];
  Conn& c = s.open_outgoing(Role::Joining, in.host, in.port);
  c.introducer_index = s.join_index % s.cfg.introducers.size();
  s.join_conn = c.id;
  s.count("join_attempts");
  s.log(LogLevel::Info, "joining the mesh through " + in.host + ":" + std::to_string(in.port));
}

void on_join_failed(ServerCore::Impl& s, Conn& c) {
  if (s.join_conn != c.id) return;
  s.join_conn = 0;
  if (s.joined) return;
  s.join_index = (c.introducer_index + 1) % std::max<std::size_t>(1, s.cfg.introducers.size());
  if (s.join_index == 0) {
    // Tried every introducer: back off (capped, with jitter) before the next round.
    s.next_join_attempt = s.now() + s.next_backoff(s.join_backoff);
  } else {
    s.next_join_attempt = s.now();
  }
}

void handle_hello_join(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  auto hello = msg::ServerHello::from_json(env.payload);
  if (!hello) return reject(s, c, hello.error().code, hello.error().detail, env.type_name);
  auto key = s.keys.get(hello->pubkey);
  if (!key) return reject(s, c, Errc::BadKey, key.error().detail, env.type_name);
  // The first bootstrap frame may be unsigned (PROTOCOL.md §2); if signed, it must verify.
  if (!env.sig.empty() && verify_payload(*key, env.payload, env.sig) == SigForm::None) {
    return reject(s, c, Errc::InvalidSig, "SERVER_HELLO_JOIN signature did not verify",
                  env.type_name);
  }
  std::string assigned = env.from;
  const PublicKey* pinned = s.server_key(assigned);
  if (assigned == s.self_id || (pinned && *pinned != *key)) assigned = new_uuid_v4();
  if (Status st = s.pin_peer(assigned, hello->host, static_cast<std::uint16_t>(hello->port),
                             hello->pubkey, has_socp_cap(hello->caps));
      !st.ok()) {
    return reject(s, c, st.code(), st.error().detail, env.type_name);
  }
  msg::ServerWelcome w;
  w.assigned_id = assigned;
  w.servers.push_back({s.self_id, s.cfg.host, s.cfg.port, s.self_pub.b64url()});
  for (const auto& [sid, link] : s.live_links()) {
    const Peer& p = s.peers[sid];
    if (sid != assigned) w.servers.push_back({sid, p.host, p.port, p.pubkey});
  }
  w.users = s.dir.all_entries();
  w.caps = {std::string(kSocpCapability)};
  s.send_signed(c.id, MessageType::ServerWelcome, assigned, w.to_json());
  s.count("servers_welcomed");
  s.link_up(c, assigned);
}

void handle_welcome(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  if (c.role != Role::Joining) {
    s.count("unexpected_welcomes");
    return;
  }
  auto w = msg::ServerWelcome::from_json(env.payload);
  if (!w) {
    s.log(LogLevel::Warn, "bad SERVER_WELCOME: " + w.error().detail);
    return s.close_conn(c.id, 1008, "bad welcome");
  }
  // The introducer's key: pinned in our config if given, else the one it lists for itself.
  const Introducer& in = s.cfg.introducers[c.introducer_index];
  std::string intro_key = in.pubkey;
  for (const msg::ServerEntry& e : w->servers) {
    if (e.server_id == env.from && intro_key.empty()) intro_key = e.pubkey;
  }
  auto key = s.keys.get(intro_key);
  if (!key || verify_payload(*key, env.payload, env.sig) == SigForm::None) {
    s.count("invalid_sigs");
    s.log(LogLevel::Error, "SERVER_WELCOME from " + env.from + " failed verification");
    return s.close_conn(c.id, 1008, "welcome signature");
  }
  if (w->assigned_id != s.self_id && is_uuid(w->assigned_id)) {
    s.log(LogLevel::Warn, "introducer assigned us a new server id " + w->assigned_id);
    s.self_id = w->assigned_id;
    s.dir.set_self_id(s.self_id);
    if (auto ident = s.store.get_identity(); ident.ok()) {
      ServerIdentity updated = std::move(ident).value();
      updated.server_id = s.self_id;
      if (Status st = s.store.put_identity(updated); !st.ok()) {
        s.log(LogLevel::Error, "cannot persist the assigned id: " + st.error().detail);
      }
    }
  }
  for (const msg::ServerEntry& e : w->servers) {
    if (e.server_id == s.self_id) continue;
    // The introducer's own entry is pinned with the key that verified the welcome.
    const std::string& pub = e.server_id == env.from ? intro_key : e.pubkey;
    if (Status st = s.pin_peer(e.server_id, e.host, static_cast<std::uint16_t>(e.port), pub,
                               e.server_id == env.from && has_socp_cap(w->caps));
        !st.ok()) {
      s.log(LogLevel::Warn, "welcome lists " + e.server_id + ": " + st.error().detail);
    }
  }
  if (s.server_key(env.from) == nullptr) {  // a welcome that does not list its sender
    (void)s.pin_peer(env.from, in.host, in.port, intro_key, has_socp_cap(w->caps));
  }
  s.joined = true;
  s.join_conn = 0;
  s.join_backoff = kReconnectMinMs;
  s.count("joins");
  s.log(LogLevel::Info, "joined the mesh through " + env.from + " (" +
                            std::to_string(w->servers.size()) + " servers, " +
                            std::to_string(w->users.size()) + " users)");
  s.send_signed(c.id, MessageType::ServerAnnounce, env.from, s.hello_payload());
  s.link_up(c, env.from);
  if (Status st = s.dir.apply_snapshot(env.from, w->users, /*trust_third_party=*/true); !st.ok()) {
    s.log(LogLevel::Warn, "welcome snapshot: " + st.error().detail);
  }
  for (auto& [sid, p] : s.peers) {
    if (p.link == 0) s.dial_peer(p);
  }
}

void handle_hello_link(ServerCore::Impl& s, Conn& c, const Envelope& env) {
  auto hello = msg::ServerHello::from_json(env.payload);
  if (!hello) {
    if (c.role == Role::Unknown)
      return reject(s, c, Errc::BadFrame, hello.error().detail, env.type_name);
    s.count("bad_frames");
    return;
  }
  const bool caps = has_socp_cap(hello->caps);
  if (c.role != Role::Unknown) {
    // On an authenticated link (signature already checked): a reply hello or an announce.
    const bool learned_caps = caps && env.from == c.server_id && !s.peers[c.server_id].socp_caps;
    if (Status st = s.pin_peer(env.from, hello->host, static_cast<std::uint16_t>(hello->port),
                               hello->pubkey, caps);
        !st.ok()) {
      s.log(LogLevel::Warn, env.type_name + " from " + env.from + ": " + st.error().detail);
      return;
    }
    if (learned_caps) s.send_sync(c.id, true);
    return;
  }
  auto key = s.keys.get(hello->pubkey);
  if (!key) return reject(s, c, Errc::BadKey, key.error().detail, env.type_name);
  if (env.sig.empty() || verify_payload(*key, env.payload, env.sig) == SigForm::None) {
    return reject(s, c, Errc::InvalidSig, env.type_name + " signature did not verify",
                  env.type_name);
  }
  if (Status st = s.pin_peer(env.from, hello->host, static_cast<std::uint16_t>(hello->port),
                             hello->pubkey, caps);
      !st.ok()) {
    return reject(s, c, st.code(), st.error().detail, env.type_name);
  }
  if (caps && *env.type == MessageType::ServerHelloLink) {
    s.send_signed(c.id, MessageType::ServerHelloLink, env.from, s.hello_payload());
  }
  s.link_up(c, env.from);
}

}  // namespace socp::core
