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
  auto it = peers.find(c.server_id);
  if (it == peers.end()) return c.link.socp ? Dialect::Socp : Dialect::Plain;
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

}  // namespace socp
