// socp_bench_scale: how the mesh's costs grow with servers, in the in-memory mesh (real RSA
// signatures, no network). Printed as `METRIC` lines; no assertions on time.
//   SOCP_BENCH_SERVERS=N (default 10)  SOCP_BENCH_USERS=U users per server (default 200)
//   SOCP_BENCH_NEWCOMER_USERS=K users the joining server brings (default U; 0 measures a
//   bare server joining, e.g. N=3 U=50000 K=0: a newcomer joining a 100,000-user mesh)
// Measures: time and signatures for the last server to join and converge; bytes, frames and
// signatures per server for one presence change (a login); convergence after a partition of
// one server heals; directory memory per server (RSS delta / servers).
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "bench_util.h"
#include "fixtures.h"
#include "mesh_sim.h"
#include "socp/bytes.h"

using socp::bench::Clock;
using socp::bench::metric;
using socp::bench::rss_mib;
using socp::bench::seconds_since;
using socp::test::MeshSim;

namespace {

std::uint64_t total_signatures(MeshSim& sim) {
  std::uint64_t n = 0;
  for (const auto& name : sim.node_names()) n += sim.node(name).signatures;
  return n;
}

std::string key_for(int i) {
  return i == 0 ? "server_a" : i == 1 ? "server_b" : "server" + std::to_string((i - 2) % 12 + 1);
}

}  // namespace

TEST_CASE("scale benchmarks", "[bench]") {
  const char* env_s = std::getenv("SOCP_BENCH_SERVERS");
  const char* env_u = std::getenv("SOCP_BENCH_USERS");
  const int servers = env_s ? std::atoi(env_s) : 10;
  const int users = env_u ? std::atoi(env_u) : 200;
  const char* env_k = std::getenv("SOCP_BENCH_NEWCOMER_USERS");
  const int newcomer_users = env_k ? std::atoi(env_k) : users;
  const double rss0 = rss_mib();
  MeshSim sim;
  // The default --max-peers (64) refuses the 65th server: a larger mesh raises it, as its
  // operators would (docs/scaling.md).
  auto big_mesh = [servers](socp::ServerConfig& c) {
    c.max_peers = std::max<std::size_t>(c.max_peers, static_cast<std::size_t>(servers) + 8);
  };
  std::uint64_t synthetic = 0;
  auto seed = [&](const std::string& name, int count) {
    auto& dir = sim.node(name).core->directory();
    for (int u = 0; u < count; ++u) {
      const std::string id = socp::new_uuid_v4();
      socp::json::Value meta = socp::json::Object{{"display_name", "u" + std::to_string(u)}};
      REQUIRE(dir.register_local(id, socp::test::synthetic_pubkey(++synthetic), meta).ok());
    }
    sim.advance(500);  // a loop turn: the public channel announces the new members now
  };
  // All but the last server; each brings its users (offline: presence comes later).
  const auto t_build = Clock::now();
  for (int i = 0; i < servers - 1; ++i) {
    const std::string name = "S" + std::to_string(i);
    sim.add_server(name, key_for(i),
                   i == 0 ? std::vector<std::string>{} : std::vector<std::string>{"S0"}, big_mesh);
    seed(name, users);
  }
  sim.run();
  metric("build_mesh_s", seconds_since(t_build), std::to_string(servers - 1) + " servers");

  // The last server joins (its users already in its store), the mesh converges.
  const std::string last = "S" + std::to_string(servers - 1);
  const auto sig0 = total_signatures(sim);
  sim.tap_on = true;
  sim.tapped.clear();
  const auto t_join = Clock::now();
  sim.add_server(last, key_for(servers - 1), {"S0"}, big_mesh);
  seed(last, newcomer_users);
  sim.advance(20'000);  // links, snapshots, heartbeats
  const double join_s = seconds_since(t_join);
  std::size_t bytes = 0;
  for (const auto& t : sim.tapped) bytes += t.text.size();
  const auto view = sim.view(last);
  metric("join_converge_s", join_s, "s (wall, in memory, incl. 20 s of simulated timers)");
  metric("join_signatures_total", static_cast<double>(total_signatures(sim) - sig0), "signatures");
  metric("join_bytes_total", static_cast<double>(bytes), "bytes");
  metric("join_links_of_newcomer",
         static_cast<double>(sim.node(last).core->linked_servers().size()), "links");
  // Users registered while linked are not gossiped until they log in, so the newcomer's own
  // users (seeded after it joined) are not counted: it must know every other server's.
  metric("newcomer_knows_users", static_cast<double>(view.size()),
         "users (expected " + std::to_string((servers - 1) * users) + " + its own " +
             std::to_string(newcomer_users) + ")");

  // One presence change: a user logs in at S0.
  sim.add_user("alice", "alice", "S0");
  sim.tapped.clear();
  const auto sig1 = total_signatures(sim);
  sim.login("alice", "S0");
  sim.run();
  std::size_t frames = 0;
  bytes = 0;
  for (const auto& t : sim.tapped) {
    if (t.to.rfind("u:", 0) == 0) continue;  // count server-to-server traffic only
    ++frames;
    bytes += t.text.size();
  }
  metric("presence_frames_per_server", static_cast<double>(frames) / servers, "frames");
  metric("presence_bytes_per_server", static_cast<double>(bytes) / servers, "bytes");
  metric("presence_signatures_total", static_cast<double>(total_signatures(sim) - sig1),
         "signatures");

  // A partition of the last server heals.
  sim.partition({last});
  sim.advance(60'000);
  sim.tapped.clear();
  const auto sig2 = total_signatures(sim);
  const auto t_heal = Clock::now();
  sim.heal();
  sim.advance(20'000);
  bytes = 0;
  for (const auto& t : sim.tapped) bytes += t.text.size();
  metric("heal_wall_s", seconds_since(t_heal), "s");
  metric("heal_signatures_total", static_cast<double>(total_signatures(sim) - sig2), "signatures");
  metric("heal_bytes_total", static_cast<double>(bytes), "bytes");
  metric("heal_S0_knows_users_of_healed_server",
         static_cast<double>(
             sim.node("S0").core->directory().users_at(sim.node(last).core->server_id())),
         "users (expected " + std::to_string(users) + ")");
  metric("rss_per_server_mib", (rss_mib() - rss0) / servers, "MiB (whole process / servers)");
}
