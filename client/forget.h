// socp-cli forget-server HOST:PORT: removes the key pinned for a server from the identity's
// trust store, so the next login pins whatever key the server presents (a deliberate act
// after a server really changed its key). Returns the exit code.
#pragma once

#include "options.h"

namespace socp::cli {

int run_forget_server(const Options& opt);

}  // namespace socp::cli
