// server/admin.h — `socp-server admin [--data-dir D | --config F] [--json] <command>`.
//
// Commands: accounts, delete-account ID|NAME, registration [open|closed|invite], invite,
// invites, revoke-invite TOKEN, servers, forget-server ID, identity. Works on a stopped
// server's data directory and beside a running server (server/admin_ops.h says how).
// Output: aligned text for people, one JSON document with --json. Errors: one line on stderr,
// exit 1 (usage errors: exit 2).
#pragma once

#include <cstddef>
#include <string>

namespace socp_server {

/// argv[0] is "admin".
int admin_main(int argc, char** argv);

/// What --print-identity shows, read without creating anything (the server may be running).
int print_identity(const std::string& data_dir, std::size_t map_size_mib);

}  // namespace socp_server
