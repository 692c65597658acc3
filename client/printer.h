// Showing ClientCore events: one compact JSON object per line (--json), or human text
// (render.h) in colour when the stream is a terminal and colour is not disabled. Output goes
// to a Sink: stdout/stderr directly, or the interactive terminal. Text mode never prints
// control characters that arrived from the network (no terminal escape injection).
//
// Thread-safety: use a Printer from one thread (socp-cli: the loop thread); the sink it
// writes to decides how the text reaches the terminal.
#pragma once

#include <string>

#include "render.h"
#include "sink.h"
#include "socp/json.h"

namespace socp::cli {

class Printer {
 public:
  /// `json`: JSON lines. `no_color`: --no-color (NO_COLOR is read here too).
  Printer(bool json, bool no_color);

  /// Prints one event (stdout; in text mode errors, warnings and status lines go to stderr).
  void print(const json::Value& event);
  /// A local error before or outside the session: {"event":"error",...} in JSON mode,
  /// "error: <message>" on stderr in text mode.
  void local_error(const std::string& code, const std::string& detail);

  /// Output target; nullptr = stdout/stderr directly (the default).
  void set_sink(Sink* sink) { sink_ = sink ? sink : &direct_; }
  /// Hints for a person at a prompt (e.g. "Tab completes" after login).
  void set_interactive(bool on) { ctx_.interactive = on; }
  /// The local identity's name (--name), used in hints such as "socp-cli forget-server …".
  void set_identity(std::string name) { ctx_.identity = std::move(name); }
  /// Names for ids (errors, ambiguity) and who "we" are; from ClientCore.
  void set_users(UserList users, std::string self_id);

 private:
  bool json_;
  RenderContext ctx_;
  DirectSink direct_;
  Sink* sink_ = &direct_;
};

/// Columns of the terminal on stdout (80 if unknown).
std::size_t terminal_columns();

}  // namespace socp::cli
