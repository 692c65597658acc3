#include "host_options.h"

#include <cstdio>

namespace socp::cli {

WsHostOptions host_options(std::size_t max_frame, bool verbose) {
  WsHostOptions wo;
  wo.listen_port = 0;  // client only
  wo.max_frame = max_frame;
  if (verbose) {
    wo.log = [](LogLevel, std::string_view m) {
      std::fprintf(stderr, "[ws] %.*s\n", static_cast<int>(m.size()), m.data());
    };
  }
  return wo;
}

}  // namespace socp::cli
