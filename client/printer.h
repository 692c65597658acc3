// Showing ClientCore events: one compact JSON object per line (--json), or human lines.
// Text mode never prints control characters that arrived from the network (no terminal
// escape injection through message text or display names).
#pragma once

#include <string>

#include "socp/json.h"

namespace socp::cli {

class Printer {
 public:
  Printer(bool json, bool interactive) : json_(json), interactive_(interactive) {}
  /// Prints one event (stdout; in text mode errors, warnings and status lines go to stderr).
  void print(const json::Value& event);
  /// A local error before or outside the session: {"event":"error",...} in JSON mode,
  /// "error: CODE: detail" on stderr in text mode.
  void local_error(const std::string& code, const std::string& detail);

 private:
  void print_text(const json::Value& e);
  bool json_;
  bool interactive_;
};

/// Replaces control characters (C0, DEL, C1) with '?' so network text is safe to print.
std::string printable(const std::string& s);

}  // namespace socp::cli
