#include "input.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace socp::cli {
namespace {
constexpr std::size_t kMaxLine = 1u << 20;
}

StdinReader::~StdinReader() {
  stop();
}

bool StdinReader::start(LineFn on_line, EofFn on_eof) {
  if (::pipe2(wake_, O_CLOEXEC) != 0) return false;
  on_line_ = std::move(on_line);
  on_eof_ = std::move(on_eof);
  thread_ = std::thread([this] { run(); });
  return true;
}

void StdinReader::stop() {
  if (wake_[1] >= 0) {
    const char c = 'x';
    (void)!::write(wake_[1], &c, 1);
  }
  if (thread_.joinable()) thread_.join();
  for (int& fd : wake_) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
}

void StdinReader::run() {
  std::string pending;
  char buf[4096];
  for (;;) {
    struct pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    const int r = ::poll(fds, 2, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents != 0) return;  // stop(): no more callbacks
    if (fds[0].revents == 0) continue;
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;
    pending.append(buf, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      on_line_(pending.substr(start, nl - start));
    }
    pending.erase(0, start);
    if (pending.size() > kMaxLine) {
      on_line_(pending.substr(0, kMaxLine));
      pending.clear();
    }
  }
  if (!pending.empty()) on_line_(pending);  // last line without a newline
  on_eof_();
}

}  // namespace socp::cli
