#include "printer.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>

#include "style.h"

namespace socp::cli {

// ---- DirectSink ----------------------------------------------------------------------------

void DirectSink::write(Stream stream, const std::string& text) {
  clear_bar();
  FILE* f = stream == Stream::Out ? stdout : stderr;
  std::fprintf(f, "%s\n", text.c_str());
  std::fflush(f);
  draw_bar();
}

void DirectSink::progress(const ProgressUpdate& update) {
  if (update.done) {
    bars_.erase(update.key);
    clear_bar();
    if (!bars_.empty()) last_key_ = bars_.begin()->first;
  } else {
    bars_[update.key] = update.text;
    last_key_ = update.key;
  }
  draw_bar();
}

void DirectSink::clear_bar() {
  if (!bar_shown_) return;
  std::fputs("\r\033[K", stdout);
  std::fflush(stdout);
  bar_shown_ = false;
}

void DirectSink::draw_bar() {
  auto it = bars_.find(last_key_);
  if (it == bars_.end()) return;
  // Kept one column short of the width: writing the last column would wrap on some terminals.
  std::fprintf(stdout, "\r%s\033[K", truncate_visible(it->second, terminal_columns() - 1).c_str());
  std::fflush(stdout);
  bar_shown_ = true;
}

// ---- Printer -------------------------------------------------------------------------------

std::size_t terminal_columns() {
  struct winsize ws {};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20) return ws.ws_col;
  return 80;
}

Printer::Printer(bool json, bool no_color) : json_(json) {
  ctx_.color_out = !json && color_wanted(STDOUT_FILENO, no_color);
  ctx_.color_err = !json && color_wanted(STDERR_FILENO, no_color);
  ctx_.progress = !json && ::isatty(STDOUT_FILENO) != 0;
}

void Printer::set_users(UserList users, std::string self_id) {
  ctx_.users = std::move(users);
  ctx_.self_id = std::move(self_id);
}

void Printer::print(const json::Value& event) {
  if (json_) {
    sink_->write(Stream::Out, json::canonical_utf8(event));
    return;
  }
  const std::string* name = json::get_string(event, "event");
  if (name && *name == "file_progress" && ctx_.progress) ctx_.width = terminal_columns();
  Rendered r = render_event(event, ctx_);
  for (const Line& line : r.lines) sink_->write(line.stream, line.text);
  if (r.progress) sink_->progress(*r.progress);
}

void Printer::local_error(const std::string& code, const std::string& detail) {
  const json::Value e =
      json::Object{{"event", "error"}, {"code", code}, {"detail", detail}, {"msg_ref", ""}};
  if (json_) {
    sink_->write(Stream::Out, json::canonical_utf8(e));
    return;
  }
  print(e);
}

}  // namespace socp::cli
