// Everything that happens before connecting: identity folder, password, key, and the
// ClientConfig for register / login / recover.
#pragma once

#include <string>

#include "options.h"
#include "printer.h"
#include "socp/client_core.h"

namespace socp::cli {

struct Prepared {
  ClientConfig cfg;
  std::string home;    ///< identity home
  std::string server;  ///< "host:port" we connect to
  std::string vault;   ///< register: the sealed key to save on "registered"
  int exit_code = -1;  ///< >= 0: stop now with this code (the error was printed)
};

Prepared prepare(const Options& opt, Printer& printer);

/// <home>/<name>/trust.json: the keys this identity pinned (socp/client_trust.h).
std::string trust_path(const std::string& home, const std::string& name);

/// --server-key's value: a key itself, or the name of a file holding one (PEM or base64).
/// Returns the key text (validated) or an error message.
Result<std::string> load_server_key(const std::string& option);

}  // namespace socp::cli
