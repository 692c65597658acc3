// server/daemon_options.h — the options of socp-server as a daemon (--log-file, --pid-file)
// and the hidden --test-*-ms timers, kept out of options.cpp so each file has one job.
#pragma once

#include <CLI/CLI.hpp>

#include "options.h"
#include "socp/server_core.h"

namespace socp_server {

/// Adds --log-file, --pid-file and the hidden test timers to `app`, bound to `o`.
void add_daemon_options(CLI::App& app, Options& o);

/// Copies the test timers that are set (non-zero) into `cfg`.
void apply_test_timers(const Options& o, socp::ServerConfig& cfg);

}  // namespace socp_server
