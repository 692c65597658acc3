// socp_bench_mesh: figures for the issue notes, printed as `METRIC name value unit` lines.
// Not run by ctest and no assertions on time: run build/tests/bench/socp_bench_mesh
// (SOCP_BENCH_USERS=N changes the directory size, default 1000).
//   hardware limit   RSA-4096 PSS signatures/s on 1 thread and on every core (this run)
//   join             time for a new server to converge with a mesh of N users (in memory)
//   tell             in-memory cross-server DM: signatures per message per server, time
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "fixtures.h"
#include "mesh_sim.h"
#include "socp/bytes.h"
#include "socp/crypto.h"

using socp::bench::Clock;
using socp::bench::metric;
using socp::bench::seconds_since;
using socp::test::MeshSim;

namespace {

double sign_rate(unsigned threads, int per_thread) {
  const auto& key = socp::test::any_fixture_key("server_a");
  const auto t0 = Clock::now();
  std::vector<std::thread> ts;
  for (unsigned i = 0; i < threads; ++i) {
    ts.emplace_back([&key, per_thread, i] {
      for (int n = 0; n < per_thread; ++n) {
        auto s = key.sign("payload " + std::to_string(i) + "/" + std::to_string(n));
        (void)s;
      }
    });
  }
  for (auto& t : ts) t.join();
  return threads * per_thread / seconds_since(t0);
}

}  // namespace

TEST_CASE("mesh benchmarks", "[bench]") {
  const char* env_users = std::getenv("SOCP_BENCH_USERS");
  const int users = env_users ? std::atoi(env_users) : 1000;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const double one = sign_rate(1, 100);
  const double all = sign_rate(cores, 100);
  metric("rsa4096_sign_per_s_1_thread", one, "sig/s");
  metric("rsa4096_sign_per_s_all_cores", all, "sig/s");

  // A mesh of two servers whose directory holds `users` users, half online on each.
  MeshSim sim;
  sim.add_server("A", "server_a");
  std::vector<std::string> ids;
  for (int i = 0; i < users; ++i) {
    ids.push_back(socp::new_uuid_v4());
    socp::json::Value meta = socp::json::Object{{"display_name", "u" + std::to_string(i)}};
    (void)sim.node("A").core->directory().register_local(
        ids.back(), socp::test::synthetic_pubkey(static_cast<std::uint64_t>(i)), meta);
    socp::LoginStamp st;
    st.ts = sim.now();
    st.digest = "bench-" + std::to_string(i);
    sim.node("A").core->directory().login_local(ids.back(), meta, st);
  }
  sim.add_server("B", "server_b", {"A"});
  const auto sigs_a = sim.node("A").signatures;
  const auto t0 = Clock::now();
  sim.add_server("C", "server1", {"A"});
  const double join_s = seconds_since(t0);
  const auto view_c = sim.view("C");
  const bool converged = view_c == sim.view("A") && view_c.size() == static_cast<size_t>(users);
  metric("join_converge_s", join_s, "s");
  std::printf(
      "METRIC join_users %d users (converged=%s, signatures by the introducer %llu, by the "
      "newcomer %llu)\n",
      users, converged ? "yes" : "no",
      static_cast<unsigned long long>(sim.node("A").signatures - sigs_a),
      static_cast<unsigned long long>(sim.node("C").signatures));

  // Cross-server DMs in memory: alice on A -> bob on B.
  sim.add_user("alice", "alice", "A");
  sim.add_user("bob", "bob", "B");
  sim.login("alice", "A");
  sim.login("bob", "B");
  const int n = 50;
  const auto a0 = sim.node("A").signatures, b0 = sim.node("B").signatures;
  const auto t1 = Clock::now();
  for (int i = 0; i < n; ++i) sim.send_dm("alice", "bob", "message " + std::to_string(i));
  const double dm_s = seconds_since(t1) / n;
  metric("dm_signatures_sender_server", double(sim.node("A").signatures - a0) / n, "sig/msg");
  metric("dm_signatures_recipient_server", double(sim.node("B").signatures - b0) / n, "sig/msg");
  metric("dm_in_memory_ms", dm_s * 1000,
         "ms/msg (incl. client encrypt + 2 client signs, 2 server signs)");
  metric("dm_vs_hw_limit", (1.0 / dm_s) / (one / 4.0),
         "x of the 1-thread limit for 4 signatures/msg");
  CHECK(converged);
}
