// Reads stdin line by line on its own thread and hands each line (and the end of input) to
// callbacks. stop() wakes the thread through a pipe, so it can always be joined, even while
// a terminal user is not typing.
#pragma once

#include <functional>
#include <string>
#include <thread>

namespace socp::cli {

class StdinReader {
 public:
  using LineFn = std::function<void(std::string)>;
  using EofFn = std::function<void()>;

  StdinReader() = default;
  ~StdinReader();
  StdinReader(const StdinReader&) = delete;
  StdinReader& operator=(const StdinReader&) = delete;

  /// Starts the thread. on_line/on_eof run on the reader thread (post them to the loop).
  /// Lines longer than 1 MiB are cut there. False if the wake-up pipe cannot be created.
  bool start(LineFn on_line, EofFn on_eof);
  /// Stops and joins (idempotent). No callback runs after it returns.
  void stop();

 private:
  void run();
  LineFn on_line_;
  EofFn on_eof_;
  std::thread thread_;
  int wake_[2] = {-1, -1};
};

}  // namespace socp::cli
