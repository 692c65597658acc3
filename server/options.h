// server/options.h — socp-server command line (CLI11) and its mapping onto library config.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "socp/protocol.h"
#include "socp/result.h"
#include "socp/server_core.h"

namespace socp_server {

struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = socp::kDefaultPort;
  std::string data_dir = "./socp-data";
  std::vector<std::string> introducers;  ///< "host:port[:pubkey]"
  std::string advertise_host;            ///< empty = host
  std::string log_level = "info";
  bool compat_unsigned_hello = false;
  std::size_t max_user_frame = socp::Limits{}.max_user_frame;
  std::size_t max_server_frame = socp::Limits{}.max_server_frame;
  std::size_t max_file_size = socp::Limits{}.max_file_size;
  std::size_t sign_threads = 0;
  /// Signatures one user connection may cause (ServerConfig::user_sign_rate/_burst).
  double user_sign_rate = socp::ServerConfig{}.user_sign_rate;
  double user_sign_burst = socp::ServerConfig{}.user_sign_burst;
  bool multi_prime = true;  ///< new identities: 4 primes (false: --two-prime)
  bool salt32 = false;
  std::size_t db_map_size_mib = 1024;
  // admission (docs/protocol-notes.md "Admission")
  std::string join_policy;  ///< "" = open on a loopback listener, else allowlist
  std::vector<std::string> allow_servers;
  std::vector<std::string> trust_introducers;
  /// "SERVER_ID=dialect" or "HOST:PORT=dialect" (docs/interop.md)
  std::vector<std::string> peer_dialects;
  std::size_t max_peers = 64;
  std::string forget_after = "7d";
  // Store and forward (ServerConfig::mailbox_*, message_ttl_ms).
  std::size_t mailbox_max_messages = 1000;
  std::size_t mailbox_max_bytes = 16u << 20;
  std::string message_ttl = "7d";
  bool print_identity = false;
  std::size_t max_connections = 1024;
  std::size_t max_connections_per_ip = 64;
  std::string tls_cert;  ///< PEM file; with tls_key the listener speaks wss:// only
  std::string tls_key;
  std::string tls_ca_file;  ///< CAs for wss:// links to other servers (default: system)
  bool tls_links = false;   ///< dial other servers with wss://
  std::string config_file;  ///< the --config file read ("" = none), set by parse_options
  // daemon (server/log_sink.h, pid_file.h)
  std::string log_file;  ///< log lines also appended here (reopened on SIGHUP)
  std::string pid_file;
  /// Hidden test options (--test-*-ms, not in --help): shortened production timers so system
  /// tests that wait on them take seconds. 0 = the library default.
  std::int64_t test_heartbeat_ms = 0;
  std::int64_t test_link_dead_ms = 0;
  std::int64_t test_reconnect_max_ms = 0;
  std::int64_t test_unauth_idle_ms = 0;
  std::int64_t test_unauth_max_ms = 0;
  std::int64_t test_link_handshake_ms = 0;
  std::int64_t test_admin_poll_ms = 0;
  /// Hidden: on first start, take this PKCS#8 PEM key as the identity instead of generating
  /// one (system tests use fixture keys: no key generation in tests).
  std::string test_identity_file;
};

/// "90s", "15m", "12h", "7d" (or plain milliseconds) -> milliseconds; InvalidArgument otherwise.
socp::Result<std::int64_t> parse_duration_ms(const std::string& text);
/// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);

/// Parses the command line (and --config file). Returns an exit code when the program should
/// stop now: 0 after --help/--version, 1 after a usage error (already printed).
std::optional<int> parse_options(int argc, char** argv, Options& out);

/// Checks that CLI11 cannot express (introducers, durations, lists). InvalidArgument.
socp::Status validate_options(const Options& o);

/// The same parse without printing (SIGHUP re-reads the config file with the original command
/// line): InvalidArgument with a one-line detail naming the option or config key.
socp::Status reparse_options(int argc, char** argv, Options& out);

/// "host:port[:pubkey]" (host may be "[v6addr]"). InvalidArgument with a readable detail.
socp::Result<socp::Introducer> parse_introducer(const std::string& spec);

socp::LogLevel parse_log_level(const std::string& name);

/// The ServerCore configuration the options describe. Fails on a bad introducer.
socp::Result<socp::ServerConfig> to_server_config(const Options& o, socp::LogFn log);

}  // namespace socp_server
