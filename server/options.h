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
  bool multi_prime = false;
  bool salt32 = false;
  std::size_t db_map_size_mib = 1024;
  // admission (docs/protocol-notes.md "Admission")
  std::string join_policy;  ///< "" = open on a loopback listener, else allowlist
  std::vector<std::string> allow_servers;
  std::vector<std::string> trust_introducers;
  std::size_t max_peers = 64;
  std::string forget_after = "7d";
  bool print_identity = false;
  std::size_t max_connections = 1024;
  std::size_t max_connections_per_ip = 64;
  std::string tls_cert;  ///< PEM file; with tls_key the listener speaks wss:// only
  std::string tls_key;
  std::string tls_ca_file;  ///< CAs for wss:// links to other servers (default: system)
  bool tls_links = false;   ///< dial other servers with wss://
};

/// "90s", "15m", "12h", "7d" (or plain milliseconds) -> milliseconds; InvalidArgument otherwise.
socp::Result<std::int64_t> parse_duration_ms(const std::string& text);
/// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);

/// Parses the command line (and --config file). Returns an exit code when the program should
/// stop now: 0 after --help/--version, 1 after a usage error (already printed).
std::optional<int> parse_options(int argc, char** argv, Options& out);

/// "host:port[:pubkey]" (host may be "[v6addr]"). InvalidArgument with a readable detail.
socp::Result<socp::Introducer> parse_introducer(const std::string& spec);

socp::LogLevel parse_log_level(const std::string& name);

/// A logger writing "<UTC time> <LEVEL> <message>" lines to stderr, dropping lower levels.
socp::LogFn make_stderr_logger(socp::LogLevel min_level);

/// The ServerCore configuration the options describe. Fails on a bad introducer.
socp::Result<socp::ServerConfig> to_server_config(const Options& o, socp::LogFn log);

}  // namespace socp_server
