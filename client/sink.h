// Where rendered output goes. DirectSink writes straight to stdout/stderr (scripted use, and
// everything outside an interactive session); the interactive Terminal (terminal.h) prints
// above the line being typed instead.
#pragma once

#include <map>
#include <string>

#include "render.h"

namespace socp::cli {

class Sink {
 public:
  virtual ~Sink() = default;
  /// One rendered piece of text (may hold several lines), without the final newline.
  virtual void write(Stream stream, const std::string& text) = 0;
  /// Draws, replaces or removes (done) the progress bar of one transfer.
  virtual void progress(const ProgressUpdate& update) = 0;
};

/// stdout/stderr, flushed after every line. Progress bars (only sent when stdout is a
/// terminal) are drawn on one line of stdout, redrawn with '\r' and cleared before any other
/// output; the most recently updated transfer is shown.
class DirectSink final : public Sink {
 public:
  void write(Stream stream, const std::string& text) override;
  void progress(const ProgressUpdate& update) override;

 private:
  void clear_bar();
  void draw_bar();
  std::map<std::string, std::string> bars_;
  std::string last_key_;
  bool bar_shown_ = false;
};

}  // namespace socp::cli
