// socp_bench_directory: does an account cost the same whatever the number of accounts?
// Printed as `METRIC name value unit` lines; no assertions on time, not run by ctest.
//   build/tests/bench/socp_bench_directory            (sizes 1k, 10k, 50k)
//   SOCP_BENCH_MAX_USERS=100000 build/tests/bench/...  (up to 100k)
//
// A ServerCore on a real LMDB store (temp dir). At each directory size it times the server's
// own work for 1,000 more registrations, one per loop turn (register_local, the account
// record, the public channel's membership, the per-turn durable commit), and a paged /list.
// The two costs of a registration that do not depend on the directory are measured apart:
// the client's RSA-PSS signature check and the Argon2id hash of the password verifier.
// RSS per known user is read from /proc/self/status.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "bench_util.h"
#include "fixtures.h"
#include "mesh_sim.h"
#include "socp/bytes.h"
#include "socp/jobs.h"
#include "socp/server_core.h"
#include "socp/store.h"

using socp::bench::Clock;
using socp::bench::metric;
using socp::bench::rss_mib;
using socp::bench::seconds_since;
namespace fs = std::filesystem;

namespace {}  // namespace

TEST_CASE("directory benchmarks", "[bench]") {
  const char* env_max = std::getenv("SOCP_BENCH_MAX_USERS");
  const std::size_t max_users = env_max ? std::strtoull(env_max, nullptr, 10) : 50'000;
  const fs::path dir = fs::temp_directory_path() / ("socp-bench-dir-" + socp::new_uuid_v4());
  auto store = socp::LmdbStore::open(dir.string());
  REQUIRE(store.ok());
  const auto& server_key = socp::test::any_fixture_key("server_a");
  const std::string self = socp::new_uuid_v4();
  REQUIRE(store.value()
              ->put_identity(socp::ServerIdentity{self, std::string(server_key.to_pem().view())})
              .ok());
  std::int64_t now = 1'700'000'000'000;
  socp::ServerConfig cfg;
  cfg.host = "127.0.0.1";
  cfg.port = 9;
  auto core = std::make_unique<socp::ServerCore>(cfg, self, server_key.public_key(), *store.value(),
                                                 [&now] { return now; });
  REQUIRE(core->start().ok());
  (void)core->take_actions();

  // Costs that do not grow with the directory.
  {
    const auto& alice = socp::test::any_fixture_key("alice");
    const auto sig = alice.sign("a registration payload").value();
    const auto t0 = Clock::now();
    for (int i = 0; i < 200; ++i) (void)alice.public_key().verify("a registration payload", sig);
    metric("registration_rsa_verify_ms", seconds_since(t0) / 200 * 1000, "ms");
    socp::Job j;
    j.kind = socp::Job::Kind::HashVerifier;
    j.input = "a password verifier";
    const auto t1 = Clock::now();
    (void)socp::run_job(j, server_key);
    metric("registration_argon2id_ms", seconds_since(t1) * 1000, "ms (one thread)");
  }

  const double rss0 = rss_mib();
  std::size_t users = 0;
  auto add = [&](std::size_t n, bool turn_each) {
    for (std::size_t i = 0; i < n; ++i, ++users) {
      const std::string id = socp::new_uuid_v4();
      const std::string pub = socp::test::synthetic_pubkey(users + 1);
      socp::json::Value meta = socp::json::Object{{"display_name", "user" + std::to_string(users)}};
      REQUIRE(core->directory().register_local(id, pub, meta).ok());
      socp::UserRecord rec;
      rec.user_id = id;
      rec.pubkey = pub;
      rec.privkey_store = std::string(2600, 'v');  // the size of a sealed RSA-4096 key
      rec.pake_hash = "$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
      REQUIRE(store.value()->put_user(rec).ok());
      if (turn_each) {
        now += 1;
        core->on_tick();  // one loop turn: public channel sync and the store commit
        (void)core->take_actions();
      }
    }
    if (!turn_each) {
      core->on_tick();
      (void)core->take_actions();
    }
  };
  for (std::size_t size :
       {std::size_t{1'000}, std::size_t{10'000}, std::size_t{50'000}, std::size_t{100'000}}) {
    if (size > max_users) break;
    add(size - users, false);  // grow quickly to the size
    const auto t0 = Clock::now();
    add(1'000, true);
    const double per_thousand = seconds_since(t0);
    const std::string at = std::to_string(size / 1000) + "k";
    metric("registration_server_s_per_1000_at_" + at, per_thousand,
           "s (server work, one per turn, LMDB commit each)");
    const auto t1 = Clock::now();
    const auto stats = core->stats();
    metric("stats_ms_at_" + at, seconds_since(t1) * 1000, "ms");
    metric("rss_per_known_user_at_" + at,
           (rss_mib() - rss0) * 1024.0 * 1024.0 / static_cast<double>(stats.users_known), "bytes");
  }
  core.reset();
  store.value().reset();
  fs::remove_all(dir);
}
