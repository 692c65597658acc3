// server/metrics.cpp — /health JSON and /metrics Prometheus text.
#include "metrics.h"

#include <cstdio>

#include "socp/json.h"
#include "socp/server_counters.h"

#ifndef SOCP_VERSION
#define SOCP_VERSION "unknown"
#endif

namespace socp_server {

namespace {

std::int64_t uptime_s(const MetricsSnapshot& s) {
  if (s.stats.started_at <= 0 || s.now_ms < s.stats.started_at) return 0;
  return (s.now_ms - s.stats.started_at) / 1000;
}

/// Label values: backslash, double quote and newline escaped (exposition format 0.0.4).
std::string label_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

/// Metric names allow [a-zA-Z0-9_:]; anything else becomes '_'.
std::string metric_name(const std::string& raw) {
  std::string out;
  for (char c : raw) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == ':';
    out.push_back(ok ? c : '_');
  }
  return out;
}

class Exposition {
 public:
  void metric(const std::string& name, const char* type, const char* help, const std::string& value,
              const std::string& labels = {}) {
    text_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    text_ += name + labels + " " + value + "\n";
  }
  void gauge(const std::string& name, const char* help, std::uint64_t v) {
    metric(name, "gauge", help, std::to_string(v));
  }
  /// One family, one sample per label value.
  void family(const std::string& name, const char* help, const char* label,
              const std::map<std::string, std::uint64_t, std::less<>>& values) {
    text_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " counter\n";
    for (const auto& [k, v] : values) {
      text_ += name + "{" + label + "=\"" + label_value(k) + "\"} " + std::to_string(v) + "\n";
    }
  }
  void summary(const std::string& name, const char* help, const LatencySummary& l) {
    char sum[64];
    std::snprintf(sum, sizeof sum, "%.6f", l.sum_seconds);
    text_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " summary\n";
    text_ += name + "_sum " + sum + "\n" + name + "_count " + std::to_string(l.count) + "\n";
  }
  std::string take() { return std::move(text_); }

 private:
  std::string text_;
};

}  // namespace

MetricsSnapshot snapshot(const socp::ServerCore& core, std::int64_t now_ms,
                         const RuntimeSamples& runtime) {
  MetricsSnapshot s;
  s.server_id = core.server_id();
  s.version = SOCP_VERSION;
  s.stats = core.stats();
  for (std::size_t i = 0; i < socp::kCounterCount; ++i) {
    const auto c = static_cast<socp::Counter>(i);
    s.counters[std::string(socp::counter_name(c))] = core.counter(c);
  }
  for (const auto& [name, value] : core.counters()) s.counters[name] = value;
  s.labelled = core.labelled_counts();
  s.now_ms = now_ms;
  s.runtime = runtime;
  if (!s.runtime.store_commit_latency) {  // the core times its own commits
    s.runtime.store_commit_latency = LatencySummary{s.stats.store_commits,
                                                    s.stats.store_commit_seconds};
  }
  return s;
}

HttpBody render_health(const MetricsSnapshot& s) {
  namespace json = socp::json;
  json::Object o;
  o["id"] = json::Value(s.server_id);
  o["uptime_s"] = json::Value(uptime_s(s));
  o["links_up"] = json::Value(static_cast<std::int64_t>(s.stats.links_up));
  o["users_online"] = json::Value(static_cast<std::int64_t>(s.stats.users_online));
  o["sessions"] = json::Value(static_cast<std::int64_t>(s.stats.sessions));
  o["store_ok"] = json::Value(s.stats.store_ok);
  HttpBody r;
  r.status = s.stats.store_ok ? 200 : 503;
  r.content_type = "application/json";
  r.body = json::canonical(json::Value(std::move(o))) + "\n";
  return r;
}

HttpBody render_metrics(const MetricsSnapshot& s) {
  Exposition e;
  e.metric("socp_info", "gauge", "Server identity and version (always 1).", "1",
           "{server_id=\"" + label_value(s.server_id) + "\",version=\"" + label_value(s.version) +
               "\"}");
  e.gauge("socp_up", "1 while the server runs and its last store commit succeeded.",
          s.stats.store_ok ? 1 : 0);
  e.gauge("socp_store_ok", "1 if the last store commit succeeded, else 0.", s.stats.store_ok);
  e.gauge("socp_uptime_seconds", "Seconds since the server started.",
          static_cast<std::uint64_t>(uptime_s(s)));
  e.gauge("socp_links_up", "Authenticated links to other servers.", s.stats.links_up);
  e.gauge("socp_servers_known", "Peer servers pinned (known keys).", s.stats.servers_known);
  e.gauge("socp_users_known", "Users in the directory (every server's).", s.stats.users_known);
  e.gauge("socp_users_online", "Users online anywhere in the mesh.", s.stats.users_online);
  e.gauge("socp_sessions", "Users logged in on this server.", s.stats.sessions);
  e.gauge("socp_connections", "Open connections of every kind.", s.stats.connections);
  e.gauge("socp_sign_queue_depth", "Signatures requested and not done yet.", s.stats.sign_queue);
  e.gauge("socp_password_queue_depth", "Argon2id jobs waiting or running.", s.stats.password_queue);
  e.gauge("socp_queued_messages", "DMs kept in mailboxes (offline users) and outboxes (peers).",
          s.stats.queued_messages);
  e.family("socp_frames_in_total", "Frames received, by type.", "type", s.labelled.frames_in);
  e.family("socp_frames_out_total", "Frames sent, by type.", "type", s.labelled.frames_out);
  e.family("socp_errors_sent_total", "ERROR frames sent, by code.", "code", s.labelled.errors);
  for (const auto& [name, value] : s.counters) {
    e.metric("socp_" + metric_name(name) + "_total", "counter",
             ("Core counter " + name + ".").c_str(), std::to_string(value));
  }
  if (s.runtime.sign_latency) {
    e.summary("socp_sign_latency_seconds", "RSA-PSS signing jobs, queued to done.",
              *s.runtime.sign_latency);
  }
  if (s.runtime.store_commit_latency) {
    e.summary("socp_store_commit_latency_seconds", "Store write batches, begin to commit.",
              *s.runtime.store_commit_latency);
  }
  HttpBody r;
  r.status = 200;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = e.take();
  return r;
}

}  // namespace socp_server
