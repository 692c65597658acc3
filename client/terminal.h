// The interactive prompt (stdin and stdout are terminals): libedit line editing with history
// and Tab completion, and event output printed ABOVE the line being typed.
//
// Threads: one terminal thread owns libedit and every write to the terminal. Other threads
// (the loop thread, through Printer) only queue text with write()/progress(); the terminal
// thread wakes up (a pipe), erases the prompt and its status lines, prints the queued text,
// redraws the progress bars and the prompt with the half-typed line (EL_REFRESH). So output
// never garbles what is being typed, and nobody else ever blocks on the terminal.
//
// Keys: the usual emacs bindings (~/.editrc is read), Up/Down history, Tab completion (a
// second Tab lists the candidates), Ctrl-C clears the line or, on an empty line, quits like
// Ctrl-D. Ctrl-Z and Ctrl-\ do nothing (no job control from inside the editor).
// SIGTERM/SIGHUP/SIGINT end the input like Ctrl-D; SIGWINCH re-reads the terminal size.
//
// History: <identity folder>/history, at most 1000 lines, loaded at start and written at
// stop() (mode 0600, replaced atomically; skipped when the folder does not exist, e.g. after
// a failed registration). Lines starting with a blank are not remembered.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "completion.h"
#include "sink.h"

namespace socp::cli {

class Terminal final : public Sink {
 public:
  using LineFn = std::function<void(std::string)>;
  using EofFn = std::function<void()>;

  struct Config {
    std::string prompt_name;   ///< the prompt is "<name>> "
    std::string history_path;  ///< "" = no history file
    bool color = false;        ///< bold name in the prompt
  };

  explicit Terminal(Config cfg);
  ~Terminal() override;
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  /// Starts the terminal thread: prompt shown, lines delivered to on_line (on that thread;
  /// post them to the loop), on_eof once at the end of input (Ctrl-D, Ctrl-C on an empty
  /// line, a signal, or stdin gone). False if a pipe cannot be made.
  bool start(LineFn on_line, EofFn on_eof);
  /// Prints what is still queued, removes the prompt, saves the history, restores the
  /// terminal and joins (idempotent). No callback runs after it returns.
  void stop();

  /// Completion data: the known users and our own id. Any thread.
  void set_users(UserList users, std::string self_id);

  // Sink: any thread; the text is printed by the terminal thread.
  void write(Stream stream, const std::string& text) override;
  void progress(const ProgressUpdate& update) override;

  struct State;  // libedit side (terminal.cpp)

 private:
  Config cfg_;
  std::unique_ptr<State> st_;
  std::thread thread_;
  bool started_ = false;
};

}  // namespace socp::cli
