#include "options.h"

#include <CLI/CLI.hpp>

#include <cstdio>

#include "socp/json.h"
#include "socp/protocol.h"

namespace socp::cli {
namespace {

constexpr const char* kFooter = R"(Examples:
  socp-cli register --name alice --server 127.0.0.1:8765
  socp-cli --name alice                      # log in with the saved identity
  printf '/list\n/tell bob hi\n' | socp-cli --name alice --password-file pw.txt --json
  socp-cli recover --name alice --user-id <uuid> --server 127.0.0.1:8765   # new device
  socp-cli register --name alice --server wss://chat.example.org:8765    # TLS

Server keys: the first login to a server pins its key (<home>/<name>/trust.json, with the
keys of every contact); a server that later presents another key is refused (exit 3).
--server-key pins the expected key up front; to accept a new key deliberately:
  socp-cli forget-server 127.0.0.1:8765 --name alice   (or once: --accept-new-server-key)

Commands in a session (one per line): /list, /tell <user> <text>, /all <text>,
/file <user> <path>, /whoami, /verify <user>, /help, /quit. <user> is a display name or a
user id. On a terminal the prompt has line editing, history (<home>/<name>/history) and Tab
completion of commands, users and file paths. When stdin is not a terminal the lines are
read as a script; the program exits after the last one has run.

Password: --password-file F (first line), else $SOCP_PASSWORD, else a prompt on the
terminal (not echoed). Identity: <home>/<name>/identity.json, home = --home, else
$SOCP_HOME, else $HOME/.socp; the private key is stored only sealed by the password.

Exit codes:
  0  ok
  1  usage or local error (bad option, missing identity, cannot write the identity)
  2  cannot connect, or the connection was lost
  3  authentication failed (wrong password, BAD_KEY, INVALID_SIG, NAME_IN_USE,
     USER_NOT_FOUND at login, BAD_PASSWORD at recovery)
  4  other protocol error)";

void add_common(CLI::App& app, Options& o) {
  app.add_option("-n,--name", o.name, "display name (also the identity folder name)");
  app.add_option("-s,--server", o.server,
                 "server as host:port, ws://host:port or wss://host:port (TLS) (default: the "
                 "identity's server, else 127.0.0.1:8765)");
  app.add_option("--ca-file", o.ca_file,
                 "wss://: trust the CAs in this PEM file instead of the system store")
      ->check(CLI::ExistingFile);
  app.add_option("--pin-cert", o.pin_cert,
                 "wss://: accept only the server certificate with this SHA-256 fingerprint "
                 "(hex, colons allowed; as printed by openssl x509 -fingerprint -sha256); "
                 "replaces the CA and name checks");
  app.add_option("--home", o.home, "identity home (default $SOCP_HOME, else $HOME/.socp)");
  app.add_option("--password-file", o.password_file,
                 "read the password from the first line of this file");
  app.add_flag("--json", o.json, "print every event as one JSON object per line on stdout");
  app.add_flag("--no-session", o.no_session, "exit (0) as soon as logged in");
  app.add_flag("-v,--verbose", o.verbose, "log transport details on stderr");
  app.add_option("--download-dir", o.download_dir,
                 "where received files are written (default <home>/<name>/downloads)");
  app.add_option("--max-file-size", o.max_file_size,
                 "largest file sent or accepted by /file (default 64MiB; e.g. 1000000, 10MiB)")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
  app.add_flag("--no-file-bulk", o.no_file_bulk,
               "send every /file with the spec's RSA chunks, and do not announce bulk files "
               "(XChaCha20-Poly1305 in 256 KiB chunks between socp clients on socp/1 servers)");
  app.add_option("--max-frame-size", o.max_frame_size,
                 "largest frame accepted from the server (default 64MiB; a /list of a "
                 "10,000-user mesh is ~9MB)")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::Range(std::size_t{1} << 20, std::size_t{1} << 30));
  app.add_option("--server-key", o.server_key,
                 "the server's public key (base64url DER, or a file with it / a PEM): refuse "
                 "any other key");
  app.add_flag("--accept-new-server-key", o.accept_new_server_key,
               "accept (and pin) a server key that differs from the pinned one, this once");
  app.add_flag("--no-color", o.no_color,
               "plain text output (also when NO_COLOR is set; colour is used only on terminals)");
  app.add_option("--reconnect-for", o.reconnect_for_s,
                 "after a lost connection, keep reconnecting for this many seconds without a "
                 "login (default 300; 0 = do not reconnect)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{86400 * 365}));
  // Hidden, for tests: shorter timers.
  app.add_option("--test-reconnect-ms", o.test_reconnect_ms, "first reconnect delay")
      ->group("")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{3'600'000}));
  app.add_option("--test-reconnect-max-ms", o.test_reconnect_max_ms, "largest reconnect delay")
      ->group("")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{3'600'000}));
  app.add_option("--test-tick-ms", o.test_tick_ms, "timer granularity")
      ->group("")
      ->check(CLI::Range(std::int64_t{10}, std::int64_t{10'000}));
}

bool json_wanted(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--json") return true;
  }
  return false;
}

}  // namespace

void print_json_end(const std::string& code, const std::string& detail,
                    const std::string& outcome) {
  const json::Value err =
      json::Object{{"event", "error"}, {"code", code}, {"detail", detail}, {"msg_ref", ""}};
  const json::Value closed =
      json::Object{{"event", "closed"}, {"outcome", outcome}, {"code", code}};
  std::printf("%s\n%s\n", json::canonical_utf8(err).c_str(), json::canonical_utf8(closed).c_str());
  std::fflush(stdout);
}

bool split_host_port(const std::string& text, std::string& host, std::uint16_t& port) {
  std::string h = text, p;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string::npos) return false;
    h = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return false;
      p = text.substr(close + 2);
    }
  } else if (const std::size_t colon = text.rfind(':'); colon != std::string::npos) {
    if (text.find(':') != colon) return false;  // bare IPv6 needs brackets
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
  }
  if (h.empty()) return false;
  port = kDefaultPort;
  if (!p.empty() || text.back() == ':') {
    if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) {
      return false;
    }
    const unsigned long v = std::stoul(p);
    if (v == 0 || v > 65535) return false;
    port = static_cast<std::uint16_t>(v);
  }
  host = h;
  return true;
}

bool split_server_url(const std::string& text, std::string& host, std::uint16_t& port, bool& tls) {
  std::string rest = text;
  tls = false;
  if (rest.rfind("wss://", 0) == 0) {
    tls = true;
    rest.erase(0, 6);
  } else if (rest.rfind("ws://", 0) == 0) {
    rest.erase(0, 5);
  }
  if (rest.size() > 1 && rest.back() == '/') rest.pop_back();
  return split_host_port(rest, host, port);
}

std::string canonical_address(const std::string& text) {
  std::string host;
  std::uint16_t port = 0;
  bool tls = false;
  if (!split_server_url(text, host, port, tls)) return {};
  const bool v6 = host.find(':') != std::string::npos;
  return std::string(tls ? "wss://" : "") + (v6 ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

int parse_options(int argc, char** argv, Options& o) {
  CLI::App app{
      "socp-cli - chat client for SOCP v1.3 (end-to-end encrypted direct messages).\n"
      "Without a subcommand it logs in (like 'login').",
      "socp-cli"};
  app.footer(kFooter);
  app.require_subcommand(0, 1);
  add_common(app, o);

  CLI::App* reg = app.add_subcommand(
      "register", "create an account: new RSA-4096 key and user id, register, then chat");
  add_common(*reg, o);
  reg->add_option("--import-key", o.import_key,
                  "use this unencrypted PKCS#8 PEM RSA-4096 key instead of generating one")
      ->check(CLI::ExistingFile);

  CLI::App* login = app.add_subcommand("login", "log in with the saved identity, then chat");
  add_common(*login, o);

  CLI::App* rec = app.add_subcommand(
      "recover", "new device: fetch the sealed key from the server with the password");
  add_common(*rec, o);
  rec->add_option("--user-id", o.user_id,
                  "the account's user id (required: the password proof is salted with it)");

  CLI::App* forget = app.add_subcommand(
      "forget-server", "remove the key pinned for a server, so the next login pins a new one");
  forget->add_option("-n,--name", o.name, "display name (identity folder)");
  forget->add_option("--home", o.home, "identity home (default $SOCP_HOME, else $HOME/.socp)");
  forget->add_option("address", o.forget_address, "the server as host:port")->required();
  forget->add_flag("--json", o.json, "print the result as a JSON event");

  app.set_version_flag("--version", std::string("socp-cli ") + SOCP_VERSION);
  const bool json = json_wanted(argc, argv);
  // With --json among the arguments, usage errors are JSON events too (then "closed").
  const auto usage_error = [json](const std::string& msg) {
    if (json) {
      print_json_end("USAGE", msg, "local_error");
    } else {
      std::fprintf(stderr, "error: %s\n", msg.c_str());
    }
    return kExitUsage;
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (json && e.get_exit_code() != 0) return usage_error(e.what());
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  if (reg->parsed())
    o.mode = Options::Mode::Register;
  else if (forget->parsed())
    o.mode = Options::Mode::ForgetServer;
  else if (rec->parsed())
    o.mode = Options::Mode::Recover;
  else
    o.mode = Options::Mode::Login;
  (void)login;

  if (o.name.empty()) {
    return usage_error("--name is required (see socp-cli --help)");
  }
  if (!o.server.empty()) {
    std::string h;
    std::uint16_t p = 0;
    bool tls = false;
    if (!split_server_url(o.server, h, p, tls)) {
      return usage_error("--server must be [ws://|wss://]host:port, got '" + o.server + "'");
    }
  }
  if (!o.pin_cert.empty()) {
    std::string hex;
    for (char c : o.pin_cert)
      if (c != ':') hex.push_back(c);
    if (hex.size() != 64 || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
      return usage_error("--pin-cert must be a SHA-256 fingerprint (64 hex digits)");
    }
  }
  if (o.mode == Options::Mode::ForgetServer && canonical_address(o.forget_address).empty()) {
    return usage_error("forget-server needs host:port, got '" + o.forget_address + "'");
  }
  if (o.mode == Options::Mode::Register && o.accept_new_server_key) {
    return usage_error("--accept-new-server-key is for logging in, not registering");
  }
  return -1;
}

}  // namespace socp::cli
