// socp-cli command line: subcommands register / login (default) / recover and their options.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "host_options.h"

namespace socp::cli {

/// Exit codes (also in --help).
enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 1,     ///< bad option, missing identity, local I/O error
  kExitConnect = 2,   ///< cannot connect / connection lost
  kExitAuth = 3,      ///< wrong password, BAD_KEY, INVALID_SIG, NAME_IN_USE, USER_NOT_FOUND
  kExitProtocol = 4,  ///< any other protocol error
  kExitCommand =
      5,  ///< the session ended normally but a command failed (error, failed DM, /wait timeout)
};

struct Options {
  enum class Mode { Register, Login, Recover, ForgetServer };
  Mode mode = Mode::Login;
  std::string name;    ///< display name (= identity folder)
  std::string server;  ///< "[ws://|wss://]host:port"; empty = identity's (login) or the default
  std::string home;    ///< identity home; empty = $SOCP_HOME or $HOME/.socp
  std::string password_file;  ///< first line is the password
  std::string import_key;     ///< register: PKCS#8 PEM instead of generating a key
  std::string user_id;        ///< recover: the user id (else the display name is sent)
  bool json = false;
  bool no_session = false;
  bool verbose = false;
  std::string download_dir;                 ///< --download-dir; empty = <home>/<name>/downloads
  std::uint64_t max_file_size = 64u << 20;  ///< --max-file-size (bytes), sent and received
  bool no_file_bulk = false;                ///< --no-file-bulk: RSA chunks only (ClientConfig)
  bool no_color = false;  ///< --no-color (NO_COLOR in the environment does the same)
  std::string ca_file;    ///< --ca-file: CAs trusted for wss:// (default: the system store)
  std::string pin_cert;   ///< --pin-cert: SHA-256 of the server certificate (wss://)
  std::size_t max_frame_size = kDefaultMaxFrame;  ///< --max-frame-size: largest server frame
  std::string server_key;              ///< --server-key: base64url DER, or a PEM/DER-b64 file
  bool accept_new_server_key = false;  ///< --accept-new-server-key
  std::string forget_address;          ///< forget-server HOST:PORT
  /// Reconnecting after a lost connection: give up after this long without a login (s);
  /// 0 = never reconnect.
  std::int64_t reconnect_for_s = 300;
  std::int64_t test_reconnect_ms = 500;         ///< hidden --test-reconnect-ms: first backoff delay
  std::int64_t test_reconnect_max_ms = 30'000;  ///< hidden: largest backoff delay
  std::int64_t test_tick_ms = 500;              ///< hidden: timer granularity
};

/// Prints {"event":"error","code":code,...} and {"event":"closed","outcome":outcome,...} as
/// JSON lines on stdout: how --json reports a session that never started.
void print_json_end(const std::string& code, const std::string& detail, const std::string& outcome);

/// Parses argv. Returns -1 to go on, or an exit code (0 after --help, 1 on a usage error);
/// messages are printed.
int parse_options(int argc, char** argv, Options& out);

/// Splits "host:port" / "[v6]:port" / "host" (port defaults to 8765). False if malformed.
bool split_host_port(const std::string& text, std::string& host, std::uint16_t& port);

/// Like split_host_port, also accepting "ws://" (plain, the default) and "wss://" (TLS, sets
/// `tls`) in front and one "/" at the end.
bool split_server_url(const std::string& text, std::string& host, std::uint16_t& port, bool& tls);
/// The one spelling of a server address that keys its pinned key: "host:port" (the port
/// always written), "[v6]:port" for IPv6, with "wss://" in front for TLS (a TLS endpoint is
/// a different server address). "" if malformed.
std::string canonical_address(const std::string& text);

}  // namespace socp::cli
