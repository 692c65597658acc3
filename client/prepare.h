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

}  // namespace socp::cli
