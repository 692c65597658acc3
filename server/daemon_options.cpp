// server/daemon_options.cpp — --log-file, --pid-file and the hidden test timers.
#include "daemon_options.h"

#include <cstdint>

namespace socp_server {

namespace {

// Hidden (group ""): not in --help, accepted on the command line and in --config files. They
// shorten production timers so system tests that wait on them take seconds, not minutes.
void add_test_timer(CLI::App& app, const char* name, std::int64_t& field, const char* what) {
  app.add_option(name, field, what)
      ->group("")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{24} * 3600 * 1000));
}

}  // namespace

void add_daemon_options(CLI::App& app, Options& o) {
  app.add_option("--log-file", o.log_file,
                 "Also append log lines to this file (reopened on SIGHUP, for logrotate)");
  app.add_option("--pid-file", o.pid_file,
                 "Write the process id to this file while running (removed at exit)");
  add_test_timer(app, "--test-heartbeat-ms", o.test_heartbeat_ms, "HEARTBEAT interval");
  add_test_timer(app, "--test-link-dead-ms", o.test_link_dead_ms, "silence before a link dies");
  add_test_timer(app, "--test-reconnect-max-ms", o.test_reconnect_max_ms, "reconnect backoff cap");
  add_test_timer(app, "--test-unauth-idle-ms", o.test_unauth_idle_ms,
                 "idle limit of unauthenticated connections");
  add_test_timer(app, "--test-unauth-max-ms", o.test_unauth_max_ms,
                 "lifetime limit of unauthenticated connections");
  add_test_timer(app, "--test-link-handshake-ms", o.test_link_handshake_ms,
                 "time a server link has to prove itself");
  add_test_timer(app, "--test-admin-poll-ms", o.test_admin_poll_ms,
                 "how often operator commands are looked for");
  app.add_option("--test-identity-file", o.test_identity_file,
                 "first start: this PKCS#8 PEM key instead of a generated one")
      ->group("");
}

void apply_test_timers(const Options& o, socp::ServerConfig& cfg) {
  if (o.test_heartbeat_ms > 0) cfg.heartbeat_ms = o.test_heartbeat_ms;
  if (o.test_link_dead_ms > 0) cfg.link_dead_ms = o.test_link_dead_ms;
  if (o.test_reconnect_max_ms > 0) cfg.reconnect_max_ms = o.test_reconnect_max_ms;
  if (o.test_unauth_idle_ms > 0) cfg.unauth_idle_ms = o.test_unauth_idle_ms;
  if (o.test_unauth_max_ms > 0) cfg.unauth_max_ms = o.test_unauth_max_ms;
  if (o.test_link_handshake_ms > 0) cfg.link_handshake_ms = o.test_link_handshake_ms;
  if (o.test_admin_poll_ms > 0) cfg.admin_poll_ms = o.test_admin_poll_ms;
}

}  // namespace socp_server
