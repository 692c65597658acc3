// server/config_check.h — `socp-server check [--config F] [options]`: would this start?
//
// Checks, without changing anything: the configuration (already parsed by then), the data
// directory (exists and writable, or creatable), whether a server runs on it (its pid), the
// identity (present and readable, or to be created), that the listening address can be bound
// (skipped while the server runs on it), and that --log-file / --pid-file can be written.
// Prints one line per problem to stderr and returns 1, or a short summary to stdout and 0.
#pragma once

#include "options.h"

namespace socp_server {

int run_check(const Options& o, const std::string& config_file);

}  // namespace socp_server
