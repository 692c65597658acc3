// One socp-cli run: prepares the identity/key for the chosen mode, then drives a ClientCore
// over a client-only WsHost, with stdin commands posted to the loop. Returns the exit code.
#pragma once

#include "options.h"

namespace socp::cli {

int run_session(const Options& opt);

}  // namespace socp::cli
