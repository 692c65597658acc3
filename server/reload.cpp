// server/reload.cpp — SIGHUP.
#include "reload.h"

#include "sd_notify.h"

namespace socp_server {

using socp::LogLevel;

Reloader::Reloader(int argc, char** argv, Options running, LogSink& sink, CorePoster post)
    : argc_(argc), argv_(argv), running_(std::move(running)), sink_(sink), post_(std::move(post)) {}

std::vector<std::string> Reloader::restart_needed(const Options& a, const Options& b) {
  std::vector<std::string> out;
  auto check = [&out](bool changed, const char* name) {
    if (changed) out.emplace_back(name);
  };
  check(a.host != b.host, "--host");
  check(a.port != b.port, "--port");
  check(a.data_dir != b.data_dir, "--data-dir");
  check(a.introducers != b.introducers, "--introducer");
  check(a.advertise_host != b.advertise_host, "--advertise-host");
  check(a.sign_threads != b.sign_threads, "--sign-threads");
  check(a.salt32 != b.salt32, "--salt32");
  check(a.db_map_size_mib != b.db_map_size_mib, "--db-map-size");
  check(a.pid_file != b.pid_file, "--pid-file");
  check(a.test_heartbeat_ms != b.test_heartbeat_ms, "--test-heartbeat-ms");
  check(a.test_link_dead_ms != b.test_link_dead_ms, "--test-link-dead-ms");
  check(a.test_reconnect_max_ms != b.test_reconnect_max_ms, "--test-reconnect-max-ms");
  return out;
}

void Reloader::operator()() {
  notify_reloading();
  sink_.write(LogLevel::Info, "SIGHUP: reopening the log file and re-reading the configuration");
  if (auto st = sink_.reopen(); !st) sink_.write(LogLevel::Warn, st.error().detail);

  Options fresh;
  if (auto st = reparse_options(argc_, argv_, fresh); !st) {
    sink_.write(LogLevel::Error,
                "reload refused, the running configuration stays: " + st.error().detail);
    notify_ready("running (last reload refused: see the log)");
    return;
  }
  if (fresh.log_file != running_.log_file && !fresh.log_file.empty()) {
    if (auto st = sink_.open_file(fresh.log_file); !st) {
      sink_.write(LogLevel::Warn, st.error().detail);
      fresh.log_file = running_.log_file;
    }
  }
  sink_.set_level(parse_log_level(fresh.log_level));
  for (const std::string& name : restart_needed(running_, fresh)) {
    sink_.write(LogLevel::Warn, "reload: " + name + " changed; it takes effect after a restart");
  }

  auto cfg = to_server_config(fresh, sink_.fn());
  if (!cfg) {
    sink_.write(LogLevel::Error, "reload refused: " + cfg.error().detail);
    notify_ready("running (last reload refused: see the log)");
    return;
  }
  if (post_) {
    post_([cfg = std::move(cfg.value())](socp::ServerCore& core) { core.reload(cfg); });
  } else {
    sink_.write(LogLevel::Warn,
                "reload: log level and log file applied; admission, limits and timers need a "
                "restart with this build (the runtime cannot reach the core's thread)");
  }
  sink_.write(LogLevel::Info, "configuration re-read" +
                                  (fresh.config_file.empty() ? std::string(" (command line only)")
                                                             : " from " + fresh.config_file) +
                                  ", log level " + fresh.log_level);
  running_ = std::move(fresh);
  notify_ready("running");
}

}  // namespace socp_server
