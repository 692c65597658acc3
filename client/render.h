// Turning one ClientCore event (client/README-json.md) into human text lines. Pure: the same
// event and context always give the same lines, so every format is unit-tested.
//
// Conventions: display names everywhere (a short id is added only when a name is shared by
// several known users; full ids where the user needs one to type: /list, /whoami, AMBIGUOUS);
// messages on stdout as "[HH:MM] bob: text" (local time of the message's ts); errors (red),
// warnings (yellow), and status lines (dim, "* ...") on stderr. Text from the network passes
// through printable() (no terminal escape injection); colour codes are added only when the
// context enables them for that stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "completion.h"  // UserList
#include "socp/json.h"

namespace socp::cli {

enum class Stream { Out, Err };

struct Line {
  Stream stream = Stream::Out;
  std::string text;  ///< one or more lines, without the final newline
};

/// A progress bar to draw (text) or to remove (done), keyed by file id.
struct ProgressUpdate {
  std::string key;
  std::string text;
  bool done = false;
};

struct Rendered {
  std::vector<Line> lines;
  std::optional<ProgressUpdate> progress;
};

struct RenderContext {
  bool color_out = false;    ///< colour lines that go to stdout
  bool color_err = false;    ///< colour lines that go to stderr
  bool interactive = false;  ///< a person types at a prompt (adds hints)
  bool progress = false;     ///< draw progress bars (stdout is a terminal)
  std::size_t width = 80;    ///< terminal columns, for the progress bar
  std::string self_id;       ///< our user id ("" before login)
  std::string identity;      ///< the local identity's name (--name), for hints; may be ""
  UserList users;            ///< known (id, display name) pairs: names for ids in errors
};

Rendered render_event(const json::Value& event, const RenderContext& ctx);

/// "error: <one clear line>" body for an error event's code/detail (no colour, no prefix).
std::string error_text(const json::Value& event, const RenderContext& ctx);

/// "HH:MM" in local time for Unix milliseconds ("??:??" if the time cannot be converted).
std::string format_clock(std::int64_t ts_ms);

/// Replaces control characters (C0, DEL, C1) with '?' so network text is safe to print;
/// a tab becomes a blank.
std::string printable(const std::string& s);

}  // namespace socp::cli
