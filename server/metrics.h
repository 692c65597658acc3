// server/metrics.h — the bodies of GET /health and GET /metrics, as pure functions.
//
// The runtime's HTTP callback (WsHostOptions::http, on the loop thread) calls
//   auto snap = socp_server::snapshot(core, clock_ms(), runtime_samples);
//   /health  -> socp_server::render_health(snap)
//   /metrics -> socp_server::render_metrics(snap)
// and answers with the returned status, content type and body. Rendering touches nothing but
// its input, so it is unit-tested without a server (tests/unit/server/metrics_test.cpp).
//
// /health: 200 (503 when the last store commit failed) with
//   {"id":"<server id>","links_up":N,"sessions":N,"store_ok":true,"uptime_s":N,"users_online":N}
// /metrics: Prometheus text format 0.0.4: every core counter as socp_<name>_total, gauges for
//   links, servers, users, sessions, connections and queues, socp_up / socp_uptime_seconds /
//   socp_info{server_id,version}, and the runtime's latency summaries when it supplies them.
// Thread-safety: snapshot() on the loop thread (it reads the core); the renderers anywhere.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "socp/server_core.h"

namespace socp_server {

/// A latency summary the runtime measures (count of samples and their sum in seconds).
struct LatencySummary {
  std::uint64_t count = 0;
  double sum_seconds = 0;
};

/// Values only the runtime knows; each unset one is left out of /metrics.
struct RuntimeSamples {
  std::optional<LatencySummary> sign_latency;          ///< RSA-PSS job, submit to done
  std::optional<LatencySummary> store_commit_latency;  ///< one store write batch
};

struct MetricsSnapshot {
  std::string server_id;
  std::string version;
  socp::ServerCore::Stats stats;
  std::map<std::string, std::uint64_t> counters;  ///< every counter by name, zeros included
  socp::ServerCore::LabelledCounts labelled;      ///< frames by type, errors by code
  std::int64_t now_ms = 0;                        ///< same clock as stats.started_at
  RuntimeSamples runtime;
};

/// Everything render_*() need, read from a running core (loop thread).
MetricsSnapshot snapshot(const socp::ServerCore& core, std::int64_t now_ms,
                         const RuntimeSamples& runtime = {});

struct HttpBody {
  int status = 200;
  std::string content_type;
  std::string body;
};

HttpBody render_health(const MetricsSnapshot& s);
HttpBody render_metrics(const MetricsSnapshot& s);

}  // namespace socp_server
