// /health and /metrics bodies (server/metrics.h): status codes, JSON fields, Prometheus names.
#include <catch2/catch.hpp>

#include "fixtures.h"
#include "metrics.h"
#include "socp/json.h"
#include "socp/store.h"

using socp_server::MetricsSnapshot;

namespace {

MetricsSnapshot sample() {
  MetricsSnapshot s;
  s.server_id = "6f1c2b9e-1111-4222-8333-944455556666";
  s.version = "9.9.9";
  s.stats.links_up = 2;
  s.stats.servers_known = 3;
  s.stats.users_known = 40;
  s.stats.users_online = 7;
  s.stats.sessions = 5;
  s.stats.connections = 9;
  s.stats.sign_queue = 11;
  s.stats.password_queue = 1;
  s.stats.started_at = 1'000'000;
  s.now_ms = 1'000'000 + 125'900;
  s.counters = {{"frames_in", 42}, {"logins", 0}};
  return s;
}

bool has_line(const std::string& body, const std::string& line) {
  return ("\n" + body).find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("health: 200 with id, uptime, links, users, sessions, store_ok") {
  auto r = socp_server::render_health(sample());
  CHECK(r.status == 200);
  CHECK(r.content_type == "application/json");
  auto v = socp::json::parse(r.body);
  REQUIRE(v);
  CHECK(*socp::json::get_string(*v, "id") == "6f1c2b9e-1111-4222-8333-944455556666");
  CHECK(*socp::json::get_int(*v, "uptime_s") == 125);
  CHECK(*socp::json::get_int(*v, "links_up") == 2);
  CHECK(*socp::json::get_int(*v, "users_online") == 7);
  CHECK(*socp::json::get_int(*v, "sessions") == 5);
  REQUIRE(v->find("store_ok") != nullptr);
  CHECK(v->find("store_ok")->as_bool() == true);
}

TEST_CASE("health: 503 when the last store commit failed") {
  auto s = sample();
  s.stats.store_ok = false;
  auto r = socp_server::render_health(s);
  CHECK(r.status == 503);
  CHECK(r.body.find("\"store_ok\":false") != std::string::npos);
}

TEST_CASE("health: a clock behind the start time gives uptime 0, not a negative number") {
  auto s = sample();
  s.now_ms = s.stats.started_at - 5000;
  CHECK(socp_server::render_health(s).body.find("\"uptime_s\":0") != std::string::npos);
}

TEST_CASE("metrics: counters as socp_<name>_total, gauges, info, HELP and TYPE for each") {
  auto r = socp_server::render_metrics(sample());
  CHECK(r.status == 200);
  CHECK(r.content_type.rfind("text/plain; version=0.0.4", 0) == 0);
  const std::string& b = r.body;
  CHECK(has_line(b, "# TYPE socp_frames_in_total counter"));
  CHECK(has_line(b, "socp_frames_in_total 42"));
  CHECK(has_line(b, "socp_logins_total 0"));
  CHECK(has_line(b, "socp_links_up 2"));
  CHECK(has_line(b, "socp_servers_known 3"));
  CHECK(has_line(b, "socp_users_known 40"));
  CHECK(has_line(b, "socp_users_online 7"));
  CHECK(has_line(b, "socp_sessions 5"));
  CHECK(has_line(b, "socp_connections 9"));
  CHECK(has_line(b, "socp_sign_queue_depth 11"));
  CHECK(has_line(b, "socp_password_queue_depth 1"));
  CHECK(has_line(b, "socp_uptime_seconds 125"));
  CHECK(has_line(b, "socp_store_ok 1"));
  CHECK(has_line(
      b, "socp_info{server_id=\"6f1c2b9e-1111-4222-8333-944455556666\",version=\"9.9.9\"} 1"));
  // Every sample line has a TYPE line for its metric before it.
  std::size_t samples = 0;
  std::size_t pos = 0;
  while (pos < b.size()) {
    const std::size_t end = b.find('\n', pos);
    REQUIRE(end != std::string::npos);  // the body ends with a newline
    const std::string line = b.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] == '#') continue;
    ++samples;
    const std::string name = line.substr(0, line.find_first_of("{ "));
    INFO(line);
    CHECK(b.find("# TYPE " + name + " ") < b.find("\n" + line + "\n"));
  }
  CHECK(samples >= 14);
  // Runtime summaries are left out until the runtime measures them.
  CHECK(b.find("socp_sign_latency_seconds") == std::string::npos);
  CHECK(b.find("socp_store_commit_latency_seconds") == std::string::npos);
}

TEST_CASE("metrics: runtime latency hooks become summaries") {
  auto s = sample();
  s.runtime.sign_latency = socp_server::LatencySummary{4, 0.5};
  s.runtime.store_commit_latency = socp_server::LatencySummary{2, 0.002};
  const std::string b = socp_server::render_metrics(s).body;
  CHECK(has_line(b, "# TYPE socp_sign_latency_seconds summary"));
  CHECK(has_line(b, "socp_sign_latency_seconds_sum 0.500000"));
  CHECK(has_line(b, "socp_sign_latency_seconds_count 4"));
  CHECK(has_line(b, "socp_store_commit_latency_seconds_count 2"));
}

TEST_CASE("metrics: label values and names are escaped") {
  auto s = sample();
  s.server_id = "a\"b\\c\nd";
  s.counters = {{"odd-name.x", 1}};
  const std::string b = socp_server::render_metrics(s).body;
  CHECK(b.find("server_id=\"a\\\"b\\\\c\\nd\"") != std::string::npos);
  CHECK(has_line(b, "socp_odd_name_x_total 1"));
}

TEST_CASE("snapshot: a fresh core has every counter, at zero, and its id") {
  socp::MemoryStore store;
  socp::ServerConfig cfg;
  const auto& key = socp::test::fixture_key("server_a");
  socp::ServerCore core(cfg, "5b0a3c2d-1111-4222-8333-944455556666", key.public_key(), store,
                        [] { return std::int64_t{1'700'000'000'000}; });
  REQUIRE(core.start());
  auto s = socp_server::snapshot(core, 1'700'000'003'000);
  CHECK(s.server_id == "5b0a3c2d-1111-4222-8333-944455556666");
  CHECK(s.counters.size() >= socp::kCounterCount);
  CHECK(s.counters.count("frames_in") == 1);
  CHECK(s.counters.count("accounts_deleted") == 1);
  const std::string b = socp_server::render_metrics(s).body;
  CHECK(has_line(b, "socp_registrations_total 0"));
  CHECK(has_line(b, "socp_uptime_seconds 3"));
  CHECK(socp_server::render_health(s).status == 200);
}
