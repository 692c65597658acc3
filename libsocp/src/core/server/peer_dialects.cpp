// Which dialect each peer server speaks (dialect.h): the operator's setting, else what it
// showed us. Persisted with the peer (ServerRecord::dialect).
#include "core/server/core_impl.h"

namespace socp {

using core::Dialect;

std::optional<Dialect> ServerCore::Impl::configured_dialect(const std::string& server_id,
                                                            const std::string& host,
                                                            std::uint16_t port) const {
  const std::string addr = host + ":" + std::to_string(port);
  for (const std::string& entry : cfg.peer_dialects) {
    const auto eq = entry.rfind('=');
    if (eq == std::string::npos) continue;
    const std::string who = entry.substr(0, eq);
    if (who != server_id && who != addr) continue;
    if (auto d = core::dialect_from_name(entry.substr(eq + 1))) return d;
  }
  return std::nullopt;
}

Dialect ServerCore::Impl::dialect_of(const core::Conn& c) const {
  if (c.role == core::Role::User) return Dialect::Socp;
  if (peers.find(c.server_id) == peers.end()) return c.link.socp ? Dialect::Socp : Dialect::Plain;
  return dialect_of_server(c.server_id);
}

Dialect ServerCore::Impl::dialect_of_server(const std::string& server_id) const {
  auto it = peers.find(server_id);
  if (it == peers.end()) return Dialect::Plain;
  return it->second.socp_caps ? Dialect::Socp : it->second.dialect;
}

void ServerCore::Impl::note_dialect(const std::string& server_id, Dialect d) {
  auto it = peers.find(server_id);
  if (it == peers.end()) return;
  core::Peer& p = it->second;
  if (!p.dialect_set_by_operator) {
    if (auto conf = configured_dialect(server_id, p.host, p.port)) {
      p.dialect = *conf;
      p.dialect_set_by_operator = true;
    }
  }
  if (p.dialect_set_by_operator || p.dialect == d) return;
  if (d != Dialect::Socp && p.dialect != Dialect::Plain) return;  // keep the first specific one
  p.dialect = d;
  log(LogLevel::Info,
      "server " + server_id + " speaks the " + std::string(core::dialect_name(d)) + " dialect");
  (void)store.put_server(ServerRecord{server_id, p.host, p.port, p.pubkey, p.last_seen, p.socp_caps,
                                      p.introduced_by, std::string(core::dialect_name(p.dialect))});
}

std::optional<Envelope> ServerCore::Impl::adopt_user_frame(const core::Conn& c,
                                                           const Envelope& env) {
  if (env.type != MessageType::MsgPublicChannel || c.role != core::Role::Server ||
      c.server_id.empty() || env.from == c.server_id ||
      !core::posts_in_clear(dialect_of_server(c.server_id)) || server_key(env.from) ||
      env.payload.find("sender") || env.payload.find("key_id")) {
    return std::nullopt;
  }
  const UserInfo* u = dir.find(env.from);
  const PublicKey* key = server_key(c.server_id);
  if (!u || u->server_id != c.server_id || !key || env.sig.empty() ||
      verify_payload(*key, env.payload, env.sig) == SigForm::None) {
    return std::nullopt;  // dropped as a frame from an unknown server
  }
  Envelope out = env;
  out.from = c.server_id;
  out.payload.as_object()["sender"] = env.from;
  out.payload.as_object()["key_id"] = std::string();
  count(Counter::DialectIn);
  return out;
}

namespace {

/// The host part of "host:port" or "[v6]:port".
std::string host_of(const std::string& addr) {
  const auto colon = addr.rfind(':');
  std::string h = colon == std::string::npos ? addr : addr.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  return h;
}

bool same_host(const std::string& a, const std::string& b) {
  auto norm = [](const std::string& h) {
    return h == "localhost" || h == "::1" || h.rfind("127.", 0) == 0 ? std::string("loopback") : h;
  };
  return norm(a) == norm(b);
}

}  // namespace

void ServerCore::Impl::expect_back_socket(core::Peer& p) {
  if (!p.dialect_set_by_operator) note_dialect(p.server_id, p.dialect);  // the operator's, if any
  if (p.socp_caps || !core::dials_back(p.dialect)) return;
  p.back_socket_until = now() + cfg.unauth_idle_ms;
  back_sockets_expected.insert(p.server_id);
}

void ServerCore::Impl::claim_back_socket(core::Conn& c) {
  if (back_sockets_expected.empty()) return;
  const std::string addr = cfg.peer_address ? cfg.peer_address(c.id) : std::string();
  core::Peer* best = nullptr;
  for (auto it = back_sockets_expected.begin(); it != back_sockets_expected.end();) {
    auto pit = peers.find(*it);
    core::Peer* p = pit == peers.end() ? nullptr : &pit->second;
    if (!p || p->back_socket_until < now() || p->socp_caps || !core::dials_back(p->dialect)) {
      if (p) p->back_socket_until = 0;
      it = back_sockets_expected.erase(it);
      continue;
    }
    ++it;
    if (!addr.empty() && !same_host(host_of(addr), p->host)) continue;
    if (!best || p->back_socket_until < best->back_socket_until) best = p;
  }
  if (!best) return;
  back_sockets_expected.erase(best->server_id);
  // It replaces the one it opened before (it writes only on the newest).
  if (core::Conn* old = conn(best->back_socket); old && old->back_socket_of == best->server_id) {
    old->back_socket_of.clear();
  }
  best->back_socket_until = 0;
  best->back_socket = c.id;
  c.back_socket_of = best->server_id;
  count(Counter::DialectIn);
  log(LogLevel::Info, who(c.id) + " taken as the socket " +
                          std::string(core::dialect_name(best->dialect)) + " server " +
                          best->server_id +
                          " opened in answer to our hello: kept open while our link to it is up");
}

bool ServerCore::Impl::keeps_back_socket(const core::Conn& c) const {
  if (c.back_socket_of.empty()) return false;
  auto it = peers.find(c.back_socket_of);
  return it != peers.end() && it->second.link != 0 && it->second.back_socket == c.id;
}

}  // namespace socp
