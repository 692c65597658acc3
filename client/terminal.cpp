#include "terminal.h"

#include <fcntl.h>
#include <histedit.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <clocale>
#include <csignal>
#include <cstdio>
#include <cwchar>

#include "style.h"

namespace socp::cli {
namespace {

constexpr int kHistoryLines = 1000;

// The write end of the signal pipe (the handler may run on any thread; write() is
// async-signal-safe).
std::atomic<int> g_signal_fd{-1};

extern "C" void on_signal(int sig) {
  const int fd = g_signal_fd.load();
  if (fd < 0) return;
  const int saved = errno;
  const char c = static_cast<char>(sig);
  (void)!::write(fd, &c, 1);
  errno = saved;
}

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGWINCH};

bool make_pipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0) return true;
  fds[0] = fds[1] = -1;
  return false;
}

void close_pipe(int fds[2]) {
  for (int k = 0; k < 2; ++k) {
    if (fds[k] >= 0) ::close(fds[k]);
    fds[k] = -1;
  }
}

void drain_fd(int fd) {
  char buf[64];
  while (::read(fd, buf, sizeof buf) > 0) {
  }
}

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80 ? 1 : 0;
  return n;
}

bool blank_line(const std::string& s) {
  return s.find_first_not_of(" \t\r\n") == std::string::npos;
}

}  // namespace

struct Terminal::State {
  Config cfg;
  LineFn on_line;
  EofFn on_eof;

  EditLine* el = nullptr;
  History* hist = nullptr;
  std::string prompt;  ///< with '\1'-delimited escape sequences (EL_PROMPT_ESC)
  std::string plain_prompt;
  std::size_t prompt_width = 0;

  int wake[2] = {-1, -1};    ///< stop()
  int notify[2] = {-1, -1};  ///< output queued
  int sig[2] = {-1, -1};     ///< signals
  struct sigaction old_actions[sizeof kSignals / sizeof kSignals[0]] = {};

  struct Item {
    bool is_progress = false;
    Stream stream = Stream::Out;
    std::string text;
    ProgressUpdate update;
  };
  std::mutex mu;
  std::vector<Item> queue;  ///< guarded by mu
  bool notified = false;    ///< guarded by mu: a byte is waiting in `notify`
  UserList users;           ///< guarded by mu
  std::string self_id;      ///< guarded by mu

  // Terminal thread only.
  bool editing = false;  ///< the prompt (and the line being typed) is on screen
  bool stop_requested = false;
  bool input_ended = false;
  std::vector<std::pair<std::string, std::string>> bars;  ///< progress bars, oldest first
  std::vector<std::size_t> bar_widths;                    ///< columns of each bar line on screen
  std::string listed_for;  ///< the line whose completion candidates were just listed

  // ---- setup / teardown --------------------------------------------------------------

  bool init_editor() {
    el = el_init("socp-cli", stdin, stdout, stderr);
    if (!el) return false;
    hist = history_init();
    HistEvent ev;
    if (hist) {
      history(hist, &ev, H_SETSIZE, kHistoryLines);
      history(hist, &ev, H_SETUNIQUE, 1);
      if (!cfg.history_path.empty()) (void)history(hist, &ev, H_LOAD, cfg.history_path.c_str());
      el_set(el, EL_HIST, history, hist);
    }
    el_set(el, EL_CLIENTDATA, this);
    el_set(el, EL_EDITOR, "emacs");
    el_set(el, EL_PROMPT_ESC, &State::prompt_fn, '\1');
    el_set(el, EL_GETCFN, &State::getc_fn);
    (void)el_source(el, nullptr);  // ~/.editrc (vi mode, bindings), if any
    // Keyboard signals would leave the terminal raw (and stop or kill us mid-line): ^C and
    // ^D are editor functions instead; ^Z and ^\ do nothing.
    el_set(el, EL_SETTY, "-d", "-isig", nullptr);
    el_set(el, EL_ADDFN, "socp-complete", "complete a command, user or file", &State::complete_fn);
    el_set(el, EL_ADDFN, "socp-interrupt", "clear the line, or quit on an empty line",
           &State::interrupt_fn);
    el_set(el, EL_ADDFN, "socp-eof", "delete a character, or quit on an empty line",
           &State::eof_fn);
    el_set(el, EL_BIND, "^I", "socp-complete", nullptr);
    el_set(el, EL_BIND, "^C", "socp-interrupt", nullptr);
    el_set(el, EL_BIND, "^D", "socp-eof", nullptr);
    el_set(el, EL_BIND, "^Z", "ed-unassigned", nullptr);
    el_set(el, EL_BIND, "^\\", "ed-unassigned", nullptr);
    return true;
  }

  void end_editor() {
    save_history();
    if (hist) history_end(hist);
    hist = nullptr;
    if (el) el_end(el);  // restores the terminal settings
    el = nullptr;
  }

  void save_history() {
    if (!hist || cfg.history_path.empty()) return;
    const std::size_t slash = cfg.history_path.rfind('/');
    if (slash != std::string::npos) {
      struct stat st;
      const std::string dir = cfg.history_path.substr(0, slash);
      if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return;  // no identity folder
    }
    // Written to a temporary file (0600 from the start), then renamed over the old one.
    const std::string tmp = cfg.history_path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return;
    (void)::fchmod(fd, 0600);
    FILE* f = ::fdopen(fd, "w");
    if (!f) {
      ::close(fd);
      ::unlink(tmp.c_str());
      return;
    }
    HistEvent ev;
    const int n = history(hist, &ev, H_SAVE_FP, f);
    const bool ok = n >= 0 && std::fflush(f) == 0 && ::fsync(fd) == 0;
    std::fclose(f);
    if (!ok || std::rename(tmp.c_str(), cfg.history_path.c_str()) != 0) ::unlink(tmp.c_str());
  }

  // ---- libedit callbacks -------------------------------------------------------------

  static State* of(EditLine* el) {
    void* p = nullptr;
    el_get(el, EL_CLIENTDATA, &p);
    return static_cast<State*>(p);
  }

  static char* prompt_fn(EditLine* el) { return of(el)->prompt.data(); }

  // Reads one character for libedit; while waiting, prints queued output, handles signals
  // and notices stop(). Returns 0 (end of input) to make el_gets() return.
  static int getc_fn(EditLine* el, wchar_t* out) {
    State* s = of(el);
    char buf[MB_LEN_MAX];
    std::size_t n = 0;
    for (;;) {
      if (s->stop_requested || s->input_ended) return 0;
      struct pollfd fds[4] = {{STDIN_FILENO, POLLIN, 0},
                              {s->wake[0], POLLIN, 0},
                              {s->notify[0], POLLIN, 0},
                              {s->sig[0], POLLIN, 0}};
      if (::poll(fds, 4, -1) < 0) {
        if (errno == EINTR) continue;
        s->input_ended = true;
        return 0;
      }
      if (fds[1].revents != 0) {
        s->stop_requested = true;
        return 0;
      }
      if (fds[3].revents != 0 && s->handle_signals()) return 0;
      if (fds[2].revents != 0) s->drain();
      if (fds[0].revents == 0) continue;
      char c = 0;
      const ssize_t r = ::read(STDIN_FILENO, &c, 1);
      if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (r <= 0) {
        s->input_ended = true;  // the terminal went away
        return 0;
      }
      buf[n++] = c;
      std::mbstate_t mbs{};
      wchar_t wc = 0;
      const std::size_t k = std::mbrtowc(&wc, buf, n, &mbs);
      if (k == static_cast<std::size_t>(-2) && n < sizeof buf) continue;  // more bytes to come
      if (k == static_cast<std::size_t>(-1) || k == static_cast<std::size_t>(-2)) {
        n = 0;  // not a character in this locale: dropped
        continue;
      }
      *out = wc;
      return 1;
    }
  }

  static unsigned char complete_fn(EditLine* el, int) {
    State* s = of(el);
    const LineInfo* li = el_line(el);
    const std::string before(li->buffer, static_cast<std::size_t>(li->cursor - li->buffer));
    UserList users;
    std::string self;
    {
      std::lock_guard<std::mutex> lock(s->mu);
      users = s->users;
      self = s->self_id;
    }
    const Completion c = complete(before, users, self, list_directory);
    if (c.matches.empty()) return CC_REFRESH_BEEP;
    const std::string word = before.substr(c.start);
    std::string repl;
    if (c.matches.size() == 1) {
      repl = c.matches.front() + (c.final ? " " : "");
    } else {
      repl = common_prefix(c.matches);
      if (repl.size() <= word.size()) {
        // Nothing more to add: show the choices (once; Tab again on the same line beeps).
        const std::string line(li->buffer, static_cast<std::size_t>(li->lastchar - li->buffer));
        if (line == s->listed_for) return CC_REFRESH_BEEP;
        s->listed_for = line;
        s->show_candidates(c.matches);
        return CC_NORM;
      }
    }
    s->listed_for.clear();
    el_deletestr(el, static_cast<int>(code_points(word)));
    if (el_insertstr(el, repl.c_str()) != 0) return CC_REFRESH_BEEP;
    return CC_REFRESH;
  }

  static unsigned char interrupt_fn(EditLine* el, int) {
    const LineInfoW* li = el_wline(el);
    if (li->lastchar == li->buffer) {
      of(el)->input_ended = true;
      return CC_NORM;
    }
    el_cursor(el, static_cast<int>(li->lastchar - li->cursor));
    el_deletestr(el, static_cast<int>(li->lastchar - li->buffer));
    return CC_REFRESH;
  }

  static unsigned char eof_fn(EditLine* el, int) {
    const LineInfoW* li = el_wline(el);
    if (li->lastchar == li->buffer) {
      of(el)->input_ended = true;
      return CC_NORM;
    }
    if (li->cursor == li->lastchar) return CC_ERROR;
    el_cursor(el, 1);
    el_deletestr(el, 1);
    return CC_REFRESH;
  }

  // ---- screen ------------------------------------------------------------------------

  std::size_t columns() const {
    int cols = 0;
    if (el) el_get(el, EL_GETTC, "co", &cols, nullptr);
    return cols >= 2 ? static_cast<std::size_t>(cols) : 80;
  }

  static std::size_t char_width(wchar_t c, std::size_t col) {
    if (c == L'\t') return 8 - col % 8;
    if (c < 0x20 || c == 0x7f) return 2;  // shown as ^X
    const int w = ::wcwidth(c);
    return w < 0 ? 1 : static_cast<std::size_t>(w);
  }

  // The row of the cursor within the prompt + line, as libedit lays them out.
  std::size_t cursor_row() const {
    const LineInfoW* li = el_wline(el);
    const std::size_t cols = columns();
    std::size_t row = prompt_width / cols, col = prompt_width % cols;
    for (const wchar_t* p = li->buffer; p < li->cursor; ++p) {
      const std::size_t w = char_width(*p, col);
      if (w == 0) continue;
      if (col + w > cols) {
        ++row;
        col = 0;
      }
      col += w;
      if (col >= cols) {
        ++row;
        col = 0;
      }
    }
    return row;
  }

  // Rows the bars on screen take at the current width (more than one each when a narrower
  // terminal has re-wrapped them).
  std::size_t bar_rows() const {
    const std::size_t cols = columns();
    std::size_t rows = 0;
    for (const std::size_t w : bar_widths) rows += w == 0 ? 1 : (w + cols - 1) / cols;
    return rows;
  }

  // Moves to the top of the bars + prompt block and clears from there down.
  void erase_block() {
    const std::size_t up = (editing ? cursor_row() : 0) + bar_rows();
    std::fputs("\r", stdout);
    if (up > 0) std::fprintf(stdout, "\033[%zuA", up);
    std::fputs("\033[J", stdout);
    bar_widths.clear();
  }

  void draw_bars() {
    const std::size_t cols = columns();
    bar_widths.clear();
    for (const auto& [key, text] : bars) {
      const std::string line = truncate_visible(text, cols - 1);
      std::fprintf(stdout, "%s\n", line.c_str());
      bar_widths.push_back(visible_width(line));
    }
  }

  // Prints items above the prompt: erase, print, bars, redraw the prompt and line.
  void emit(std::vector<Item> items) {
    if (items.empty()) return;
    erase_block();
    for (Item& it : items) {
      if (it.is_progress) {
        apply(it.update);
        continue;
      }
      if (it.stream == Stream::Err) {
        std::fflush(stdout);
        std::fprintf(stderr, "%s\n", it.text.c_str());
        std::fflush(stderr);
      } else {
        std::fprintf(stdout, "%s\n", it.text.c_str());
      }
    }
    draw_bars();
    std::fflush(stdout);
    if (editing) el_set(el, EL_REFRESH);  // prompt + line from scratch, cursor in place
  }

  void apply(const ProgressUpdate& u) {
    for (auto it = bars.begin(); it != bars.end(); ++it) {
      if (it->first != u.key) continue;
      if (u.done) {
        bars.erase(it);
      } else {
        it->second = u.text;
      }
      return;
    }
    if (!u.done) bars.emplace_back(u.key, u.text);
  }

  void drain() {
    std::vector<Item> items;
    {
      std::lock_guard<std::mutex> lock(mu);
      items.swap(queue);
      notified = false;
      drain_fd(notify[0]);
    }
    emit(std::move(items));
  }

  void show_candidates(const std::vector<std::string>& matches) {
    Item item;
    item.text = format_candidates(matches, columns());
    std::vector<Item> items;
    items.push_back(std::move(item));
    emit(std::move(items));
  }

  // Returns true when the input should end (a terminating signal).
  bool handle_signals() {
    char buf[16];
    bool end = false;
    for (ssize_t n; (n = ::read(sig[0], buf, sizeof buf)) > 0;) {
      for (ssize_t i = 0; i < n; ++i) {
        if (buf[i] == SIGWINCH) {
          // Most terminals (tmux, VTE, kitty, iTerm2...) re-wrap the lines on screen to the
          // new width, so the block is measured at the new width; on those that do not
          // (xterm) a stale copy of the prompt may stay above.
          if (el) el_resize(el);
          erase_block();
          draw_bars();
          std::fflush(stdout);
          if (editing) el_set(el, EL_REFRESH);
        } else {
          end = true;
        }
      }
    }
    if (end) input_ended = true;
    return end;
  }

  // ---- editing -----------------------------------------------------------------------

  void begin_editing() {
    el_set(el, EL_UNBUFFERED, 1);  // raw mode, fresh line, prompt drawn
    editing = true;
  }

  void end_editing() {
    if (!editing) return;
    // Remove the prompt (and the half-typed line); the bars stay until their transfer ends.
    const std::size_t up = cursor_row();
    std::fputs("\r", stdout);
    if (up > 0) std::fprintf(stdout, "\033[%zuA", up);
    std::fputs("\033[J", stdout);
    std::fflush(stdout);
    editing = false;
    el_set(el, EL_UNBUFFERED, 0);  // back to the terminal's normal mode
  }

  void accept(const std::string& line) {
    // libedit has moved below the submitted line. With bars above it, redraw them below it
    // so they stay next to the prompt.
    if (!bar_widths.empty()) {
      const std::size_t cols = columns();
      const std::size_t rows = (prompt_width + visible_width(printable(line))) / cols + 1;
      std::fprintf(stdout, "\r\033[%zuA\033[J%s%s\n", rows + bar_rows(), plain_prompt.c_str(),
                   printable(line).c_str());
      draw_bars();
    }
    editing = false;
    listed_for.clear();
    el_set(el, EL_UNBUFFERED, 0);
    if (hist && !blank_line(line) && line.front() != ' ' && line.front() != '\t') {
      HistEvent ev;
      history(hist, &ev, H_ENTER, line.c_str());
    }
    on_line(line);
    begin_editing();
  }

  void run() {
    if (!init_editor()) {
      input_ended = true;
    } else {
      begin_editing();
      while (!stop_requested && !input_ended) {
        int n = 0;
        const char* buf = el_gets(el, &n);
        if (stop_requested || input_ended) break;
        if (buf && n > 0 && buf[n - 1] == '\n')
          accept(std::string(buf, static_cast<std::size_t>(n - 1)));
      }
      end_editing();
    }
    if (input_ended && !stop_requested) {
      // A second Ctrl-C while the session winds down should just stop the program: the
      // terminal is in its normal mode again.
      std::signal(SIGINT, SIG_DFL);
      on_eof();
    }
    // The session goes on printing (the last events) until stop().
    while (!stop_requested) {
      struct pollfd fds[3] = {{wake[0], POLLIN, 0}, {notify[0], POLLIN, 0}, {sig[0], POLLIN, 0}};
      if (::poll(fds, 3, -1) < 0 && errno != EINTR) break;
      if (fds[0].revents != 0) break;
      if (fds[2].revents != 0) drain_fd(sig[0]);
      if (fds[1].revents != 0) drain();
    }
    drain();
    if (!bar_widths.empty()) erase_block();  // transfers cut short: their bars are stale
    std::fflush(stdout);
    end_editor();
  }
};

Terminal::Terminal(Config cfg) : cfg_(std::move(cfg)), st_(std::make_unique<State>()) {}

Terminal::~Terminal() {
  stop();
}

bool Terminal::start(LineFn on_line, EofFn on_eof) {
  State& s = *st_;
  s.cfg = cfg_;
  s.on_line = std::move(on_line);
  s.on_eof = std::move(on_eof);
  const std::string name = printable(cfg_.prompt_name);
  s.plain_prompt = paint(cfg_.color, sgr::kBold, name) + "> ";
  s.prompt = cfg_.color ? "\1\033[1m\1" + name + "\1\033[0m\1> " : name + "> ";
  s.prompt_width = visible_width(name) + 2;
  if (!make_pipe(s.wake) || !make_pipe(s.notify) || !make_pipe(s.sig)) {
    close_pipe(s.wake);
    close_pipe(s.notify);
    close_pipe(s.sig);
    return false;
  }
  std::setlocale(LC_CTYPE, "");  // UTF-8 input and widths (before the thread starts)
  g_signal_fd.store(s.sig[1]);
  for (std::size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; ++i) {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    ::sigaction(kSignals[i], &sa, &s.old_actions[i]);
  }
  thread_ = std::thread([this] { st_->run(); });
  started_ = true;
  return true;
}

void Terminal::stop() {
  if (!started_) return;
  started_ = false;
  State& s = *st_;
  const char c = 'x';
  (void)!::write(s.wake[1], &c, 1);
  if (thread_.joinable()) thread_.join();
  for (std::size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; ++i) {
    ::sigaction(kSignals[i], &s.old_actions[i], nullptr);
  }
  g_signal_fd.store(-1);
  close_pipe(s.wake);
  close_pipe(s.notify);
  close_pipe(s.sig);
}

void Terminal::set_users(UserList users, std::string self_id) {
  std::lock_guard<std::mutex> lock(st_->mu);
  st_->users = std::move(users);
  st_->self_id = std::move(self_id);
}

void Terminal::write(Stream stream, const std::string& text) {
  State::Item item;
  item.stream = stream;
  item.text = text;
  std::lock_guard<std::mutex> lock(st_->mu);
  st_->queue.push_back(std::move(item));
  if (!st_->notified && st_->notify[1] >= 0) {
    st_->notified = true;
    const char c = 'o';
    (void)!::write(st_->notify[1], &c, 1);
  }
}

void Terminal::progress(const ProgressUpdate& update) {
  State::Item item;
  item.is_progress = true;
  item.update = update;
  std::lock_guard<std::mutex> lock(st_->mu);
  // Only the newest bar of a transfer matters: replace a queued one instead of piling up.
  for (State::Item& q : st_->queue) {
    if (q.is_progress && q.update.key == update.key && !q.update.done) {
      q.update = update;
      return;
    }
  }
  st_->queue.push_back(std::move(item));
  if (!st_->notified && st_->notify[1] >= 0) {
    st_->notified = true;
    const char c = 'o';
    (void)!::write(st_->notify[1], &c, 1);
  }
}

}  // namespace socp::cli
