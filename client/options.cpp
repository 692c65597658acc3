#include "options.h"

#include <CLI/CLI.hpp>

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
}

}  // namespace

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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
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
    std::fprintf(stderr, "error: --name is required (see socp-cli --help)\n");
    return kExitUsage;
  }
  if (!o.server.empty()) {
    std::string h;
    std::uint16_t p = 0;
    bool tls = false;
    if (!split_server_url(o.server, h, p, tls)) {
      std::fprintf(stderr, "error: --server must be [ws://|wss://]host:port, got '%s'\n",
                   o.server.c_str());
      return kExitUsage;
    }
  }
  if (!o.pin_cert.empty()) {
    std::string hex;
    for (char c : o.pin_cert)
      if (c != ':') hex.push_back(c);
    if (hex.size() != 64 || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
      std::fprintf(stderr, "error: --pin-cert must be a SHA-256 fingerprint (64 hex digits)\n");
      return kExitUsage;
    }
  }
  if (o.mode == Options::Mode::ForgetServer && canonical_address(o.forget_address).empty()) {
    std::fprintf(stderr, "error: forget-server needs host:port, got '%s'\n",
                 o.forget_address.c_str());
    return kExitUsage;
  }
  if (o.mode == Options::Mode::Register && o.accept_new_server_key) {
    std::fprintf(stderr, "error: --accept-new-server-key is for logging in, not registering\n");
    return kExitUsage;
  }
  return -1;
}

}  // namespace socp::cli
