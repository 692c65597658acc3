// server/options.cpp — CLI11 definitions, validation and Options -> ServerConfig.
#include "options.h"

#include <CLI/CLI.hpp>

#include <cstdio>

#include "config_errors.h"
#include "daemon_options.h"
#include "socp/crypto.h"

#ifndef SOCP_VERSION
#define SOCP_VERSION "unknown"
#endif

namespace socp_server {

using socp::Errc;
using socp::make_error;

namespace {

constexpr const char* kDescription =
    "socp-server: a SOCP v1.3 chat server.\n"
    "It accepts WebSocket connections from users and from other servers on one port,\n"
    "joins the server mesh through its introducers (none: it is a network of one), relays\n"
    "end-to-end encrypted messages and files, and keeps accounts, pinned keys and its own\n"
    "RSA-4096 identity in an LMDB database under --data-dir (created on first start).";

constexpr const char* kFooter =
    "Defaults: listens on ws://127.0.0.1:8765, data in ./socp-data, user frames up to 1 MiB,\n"
    "server frames up to 8 MiB, files up to 64 MiB, one signing thread per core. Any server\n"
    "may join the mesh through a server listening on loopback only; on any other address a\n"
    "joining server must be listed with --allow-server (or set --join-policy open).\n"
    "Sizes accept suffixes (e.g. 2MiB, 512KiB). Options may also come from a TOML/INI file\n"
    "given with --config (keys are the long option names, e.g. port = 9000,\n"
    "introducer = [\"10.0.0.1:8765\", \"10.0.0.2:8765\", \"10.0.0.3:8765\"]).\n"
    "On start it prints one line to stdout (wss:// with --tls-cert; the real port with\n"
    "--port 0):\n"
    "  socp-server <server_id> listening on ws://HOST:PORT (data: DIR)\n"
    "and logs its key fingerprint; --print-identity shows the id, public key and fingerprint\n"
    "(what other operators pin with --introducer HOST:PORT:KEY or --allow-server KEY).\n"
    "SIGINT/SIGTERM close every connection politely and exit with status 0.\n"
    "Example: socp-server --port 9001 --data-dir /var/lib/socp --introducer 10.0.0.1:8765\n"
    "SIGHUP re-reads --config, applies what can change without a restart and reopens\n"
    "--log-file; it never stops the server. One server per --data-dir (a lock file).\n"
    "Commands:\n"
    "  socp-server check [--config F] [options]   would it start? one line per problem\n"
    "  socp-server admin --help                   accounts, registration, invitations, servers";

bool parse_port(const std::string& s, std::uint16_t& out) {
  if (s.empty() || s.size() > 5) return false;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v == 0 || v > 65535) return false;
  out = static_cast<std::uint16_t>(v);
  return true;
}

}  // namespace

socp::Result<socp::Introducer> parse_introducer(const std::string& spec) {
  socp::Introducer in;
  std::string rest;
  if (!spec.empty() && spec.front() == '[') {
    auto close = spec.find(']');
    if (close == std::string::npos || close + 1 >= spec.size() || spec[close + 1] != ':') {
      return make_error(Errc::InvalidArgument,
                        "bad introducer '" + spec + "': expected [v6addr]:port[:pubkey]");
    }
    in.host = spec.substr(1, close - 1);
    rest = spec.substr(close + 2);
  } else {
    auto colon = spec.find(':');
    if (colon == std::string::npos) {
      return make_error(Errc::InvalidArgument,
                        "bad introducer '" + spec + "': expected host:port[:pubkey]");
    }
    in.host = spec.substr(0, colon);
    rest = spec.substr(colon + 1);
  }
  std::string port_text = rest;
  auto colon = rest.find(':');
  if (colon != std::string::npos) {
    port_text = rest.substr(0, colon);
    in.pubkey = rest.substr(colon + 1);
  }
  if (in.host.empty()) {
    return make_error(Errc::InvalidArgument, "bad introducer '" + spec + "': empty host");
  }
  if (!parse_port(port_text, in.port)) {
    return make_error(Errc::InvalidArgument,
                      "bad introducer '" + spec + "': port must be 1..65535");
  }
  if (!in.pubkey.empty()) {
    auto key = socp::PublicKey::parse(in.pubkey);
    if (!key) {
      return make_error(Errc::InvalidArgument, "bad introducer '" + in.host + ":" + port_text +
                                                   "': public key: " + key.error().detail);
    }
  }
  return in;
}

socp::Result<std::int64_t> parse_duration_ms(const std::string& text) {
  if (text.empty() || text.size() > 18) {
    return make_error(Errc::InvalidArgument, "bad duration '" + text + "'");
  }
  std::size_t i = 0;
  std::int64_t n = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') n = n * 10 + (text[i++] - '0');
  if (i == 0) return make_error(Errc::InvalidArgument, "bad duration '" + text + "'");
  const std::string unit = text.substr(i);
  std::int64_t mult = 0;
  if (unit.empty() || unit == "ms") mult = 1;
  if (unit == "s") mult = 1000;
  if (unit == "m") mult = 60'000;
  if (unit == "h") mult = 3'600'000;
  if (unit == "d") mult = 86'400'000;
  if (mult == 0) {
    return make_error(Errc::InvalidArgument,
                      "bad duration '" + text + "': use a number with ms, s, m, h or d");
  }
  return n * mult;
}

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

socp::LogLevel parse_log_level(const std::string& name) {
  if (name == "debug") return socp::LogLevel::Debug;
  if (name == "warn") return socp::LogLevel::Warn;
  if (name == "error") return socp::LogLevel::Error;
  return socp::LogLevel::Info;
}

socp::Status validate_options(const Options& o) {
  for (const auto& spec : o.introducers) {
    if (auto in = parse_introducer(spec); !in) return in.error();
  }
  if (auto d = parse_duration_ms(o.forget_after); !d) {
    return make_error(Errc::InvalidArgument, "--forget-after: " + d.error().detail);
  }
  if (auto d = parse_duration_ms(o.message_ttl); !d) {
    return make_error(Errc::InvalidArgument, "--message-ttl: " + d.error().detail);
  }
  for (const auto* list : {&o.allow_servers, &o.trust_introducers}) {
    for (const std::string& entry : *list) {
      if (entry.empty())
        return make_error(Errc::InvalidArgument, "empty server key or id in a list");
    }
  }
  for (const std::string& entry : o.peer_dialects) {
    const auto eq = entry.rfind('=');
    if (eq == std::string::npos || eq == 0) {
      return make_error(
          Errc::InvalidArgument,
          "--peer-dialect " + entry + ": expected SERVER_ID=DIALECT or HOST:PORT=DIALECT");
    }
    const std::string d = entry.substr(eq + 1);
    if (d != "socp" && d != "plain" && d != "g43" && d != "g56" && d != "g17") {
      return make_error(Errc::InvalidArgument, "--peer-dialect " + entry + ": unknown dialect '" +
                                                   d + "' (socp, plain, g43, g56, g17)");
    }
  }
  return socp::ok_status();
}

namespace {

/// Every option of socp-server, bound to `o`.
void define_options(CLI::App& app, Options& o) {
  app.footer(kFooter);
  app.set_version_flag("--version", std::string("socp-server ") + SOCP_VERSION);
  app.set_config("--config", "", "Read options from a TOML/INI file (unknown keys are errors)");
  app.allow_config_extras(CLI::config_extras_mode::error);
  app.option_defaults()->always_capture_default();

  app.add_option("--host", o.host, "Address to listen on (0.0.0.0 = all IPv4 interfaces)");
  app.add_option("--port", o.port, "Port to listen on (0 = any free port, printed at start)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--data-dir", o.data_dir, "Directory of the LMDB database and identity");
  app.add_option("--introducer", o.introducers,
                 "Introducer server host:port[:pubkey] (repeatable; tried in order; pubkey is "
                 "base64url DER and pins the introducer's key)")
      ->take_all();
  app.add_option("--advertise-host", o.advertise_host,
                 "Host told to other servers (default: --host)");
  app.add_option("--log-level", o.log_level, "Log verbosity on stderr")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.add_flag("--compat-unsigned-hello", o.compat_unsigned_hello,
               "Accept unsigned USER_HELLO from other implementations' clients and register "
               "unknown users on first hello (trust on first use)");
  app.add_option("--max-user-frame", o.max_user_frame, "Largest frame from a user (bytes)")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 30));
  app.add_option("--max-server-frame", o.max_server_frame, "Largest frame from a server (bytes)")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 30));
  app.add_option("--max-file-size", o.max_file_size, "Largest file transfer (bytes)")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 40));
  app.add_option("--sign-threads", o.sign_threads, "Signing threads (0 = one per core)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{256}));
  app.add_option("--user-sign-rate", o.user_sign_rate,
                 "Signatures per second one user connection may cause (frames beyond it are "
                 "dropped, then the connection is closed); signing is shared fairly anyway")
      ->check(CLI::Range(1.0, 1e6));
  app.add_option("--user-sign-burst", o.user_sign_burst,
                 "Signatures a user connection may cause at once before --user-sign-rate applies")
      ->check(CLI::Range(1.0, 1e6));
  app.add_flag("--multi-prime,!--two-prime", o.multi_prime,
               "On first start, generate a 4-prime RSA-4096 identity (the default: signs ~2.5x "
               "faster; its public key is an ordinary RSA-4096 key). --two-prime for a classic "
               "2-prime key");
  app.add_flag("--salt32", o.salt32,
               "Sign with RSA-PSS salt length 32 instead of the maximum (peers verify both)");
  app.add_option("--db-map-size", o.db_map_size_mib, "LMDB map size in MiB (database size cap)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  app.add_option("--join-policy", o.join_policy,
                 "Who may join the mesh through this server: open, allowlist (--allow-server) "
                 "or closed. Default: open when listening on loopback only, else allowlist")
      ->check(CLI::IsMember({"open", "allowlist", "closed"}));
  app.add_option("--allow-server", o.allow_servers,
                 "A server (public key as base64url DER or PEM, or its id) allowed to join "
                 "through this server or to link to it without an introduction (repeatable)")
      ->take_all();
  app.add_option("--trust-introducer", o.trust_introducers,
                 "A server (key or id) whose introductions of new servers this server accepts, "
                 "besides the introducers it joined through (repeatable)")
      ->take_all();
  app.add_option("--peer-dialect", o.peer_dialects,
                 "How a server of another SOCP implementation speaks, when detection is not "
                 "enough: SERVER_ID=DIALECT or HOST:PORT=DIALECT, DIALECT one of socp, plain, "
                 "g43, g56, g17 (repeatable; docs/interop.md)")
      ->take_all();
  app.add_option("--max-peers", o.max_peers, "Most peer servers kept; more are refused")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000}));
  app.add_option("--forget-after", o.forget_after,
                 "Forget a server (its pin, address and offline users) after it has been "
                 "unreachable this long, e.g. 12h or 7d");
  app.add_option("--mailbox-max-messages", o.mailbox_max_messages,
                 "Messages kept per offline user; beyond, the sender is told (failed, TOO_LARGE)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}));
  app.add_option("--mailbox-max-bytes", o.mailbox_max_bytes,
                 "Bytes of ciphertext kept per offline user (e.g. 16MiB)")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 40));
  app.add_option("--message-ttl", o.message_ttl,
                 "How long a message waits for an offline user or an unreachable server before "
                 "its sender is told it failed, e.g. 12h or 7d");
  app.add_flag("--print-identity", o.print_identity,
               "Print this server's id, public key and fingerprint (creating the identity in "
               "--data-dir if there is none yet) and exit");
  app.add_option("--max-connections", o.max_connections,
                 "Most connections accepted at once (users and servers); more are refused at "
                 "accept time and logged")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  app.add_option("--max-connections-per-ip", o.max_connections_per_ip,
                 "Most connections accepted at once from one remote IP address (behind a "
                 "reverse proxy every client has the proxy's address: raise it)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  auto* cert = app.add_option("--tls-cert", o.tls_cert,
                              "PEM certificate (chain) file: the listener speaks wss:// (TLS) "
                              "only; needs --tls-key")
                   ->check(CLI::ExistingFile);
  auto* key = app.add_option("--tls-key", o.tls_key, "PEM private key file of --tls-cert")
                  ->check(CLI::ExistingFile);
  cert->needs(key);
  key->needs(cert);
  app.add_flag("--tls-links", o.tls_links,
               "Dial introducers and other servers with wss:// (they must listen with TLS)");
  app.add_option("--tls-ca-file", o.tls_ca_file,
                 "PEM file of CAs trusted for --tls-links (default: the system CA store)")
      ->check(CLI::ExistingFile);

  add_daemon_options(app, o);
}

}  // namespace

std::optional<int> parse_options(int argc, char** argv, Options& o) {
  CLI::App app{kDescription, "socp-server"};
  define_options(app, o);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ConfigError& e) {
    std::fprintf(stderr, "socp-server: %s\n", explain_config_error(app, e).c_str());
    return 1;
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints help/version, or the error with a usage hint
    return rc == 0 ? 0 : 1;
  }
  o.config_file = config_path(app);
  if (auto st = validate_options(o); !st) {
    std::fprintf(stderr, "socp-server: %s\n", st.error().detail.c_str());
    return 1;
  }
  return std::nullopt;
}

socp::Status reparse_options(int argc, char** argv, Options& o) {
  CLI::App app{kDescription, "socp-server"};
  define_options(app, o);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ConfigError& e) {
    return make_error(Errc::InvalidArgument, explain_config_error(app, e));
  } catch (const CLI::ParseError& e) {
    return make_error(Errc::InvalidArgument, e.what());
  }
  o.config_file = config_path(app);
  return validate_options(o);
}

socp::Result<socp::ServerConfig> to_server_config(const Options& o, socp::LogFn log) {
  socp::ServerConfig cfg;
  cfg.host = o.advertise_host.empty() ? o.host : o.advertise_host;
  cfg.port = o.port;  // 0: main() puts the port actually bound here
  for (const auto& spec : o.introducers) {
    auto in = parse_introducer(spec);
    if (!in) return in.error();
    cfg.introducers.push_back(std::move(in.value()));
  }
  cfg.limits.max_user_frame = o.max_user_frame;
  cfg.user_sign_rate = o.user_sign_rate;
  cfg.user_sign_burst = o.user_sign_burst;
  cfg.commit_off_loop = true;  // LMDB: commits on their own thread, grouped
  cfg.limits.max_server_frame = o.max_server_frame;
  cfg.limits.max_file_size = o.max_file_size;
  cfg.compat_unsigned_hello = o.compat_unsigned_hello;
  cfg.salt = o.salt32 ? socp::PssSalt::Digest32 : socp::PssSalt::Max;
  const std::string policy =
      !o.join_policy.empty() ? o.join_policy : (is_loopback_host(o.host) ? "open" : "allowlist");
  cfg.join_policy = policy == "open"        ? socp::JoinPolicy::Open
                    : policy == "allowlist" ? socp::JoinPolicy::Allowlist
                                            : socp::JoinPolicy::Closed;
  cfg.allowed_servers = o.allow_servers;
  cfg.trusted_introducers = o.trust_introducers;
  cfg.peer_dialects = o.peer_dialects;
  cfg.max_peers = o.max_peers;
  auto forget = parse_duration_ms(o.forget_after);
  if (!forget) return forget.error();
  cfg.forget_after_ms = *forget;
  cfg.mailbox_max_messages = o.mailbox_max_messages;
  cfg.mailbox_max_bytes = o.mailbox_max_bytes;
  auto ttl = parse_duration_ms(o.message_ttl);
  if (!ttl) return ttl.error();
  cfg.message_ttl_ms = *ttl;
  cfg.log_level = parse_log_level(o.log_level);
  cfg.log = std::move(log);
  cfg.log_level = parse_log_level(o.log_level);
  apply_test_timers(o, cfg);
  return cfg;
}

}  // namespace socp_server
