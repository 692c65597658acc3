#include "password.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace socp::cli {
namespace {

constexpr std::size_t kMaxPassword = 4096;

// Terminal state to restore if the user interrupts the prompt (echo would stay off).
struct termios g_saved_tty;
volatile sig_atomic_t g_tty_saved = 0;

extern "C" void restore_tty_and_die(int sig) {
  if (g_tty_saved) (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved_tty);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

// Reads one line from fd into a wiping buffer (without the newline).
Result<SecretBytes> read_line(int fd) {
  SecretBytes buf(kMaxPassword);
  std::size_t n = 0;
  for (;;) {
    char c = 0;
    const ssize_t r = ::read(fd, &c, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0 || c == '\n') break;
    if (n == kMaxPassword) return make_error(Errc::TooLarge, "password too long");
    buf.data()[n++] = static_cast<std::uint8_t>(c);
  }
  if (n > 0 && buf.data()[n - 1] == '\r') --n;
  return Result<SecretBytes>(SecretBytes(buf.data(), n));
}

Result<SecretBytes> prompt_once(const std::string& prompt) {
  std::fprintf(stderr, "%s", prompt.c_str());
  std::fflush(stderr);
  struct termios tty;
  const bool have_tty = tcgetattr(STDIN_FILENO, &tty) == 0;
  if (have_tty) {
    g_saved_tty = tty;
    g_tty_saved = 1;
    std::signal(SIGINT, restore_tty_and_die);
    std::signal(SIGTERM, restore_tty_and_die);
    struct termios noecho = tty;
    noecho.c_lflag &= static_cast<tcflag_t>(~ECHO);
    noecho.c_lflag |= ECHONL;
    (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho);
  }
  auto line = read_line(STDIN_FILENO);
  if (have_tty) {
    (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved_tty);
    g_tty_saved = 0;
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
  }
  return line;
}

}  // namespace

Result<SecretBytes> get_password(const std::string& password_file, const std::string& prompt,
                                 bool confirm) {
  SecretBytes pw;
  if (!password_file.empty()) {
    const int fd = ::open(password_file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return make_error(Errc::Io,
                        "cannot read password file " + password_file + ": " + std::strerror(errno));
    }
    auto line = read_line(fd);
    ::close(fd);
    if (!line) return line.error();
    pw = std::move(line).value();
  } else if (const char* env = std::getenv("SOCP_PASSWORD"); env && *env) {
    pw = SecretBytes(std::string_view(env));
  } else if (::isatty(STDIN_FILENO)) {
    auto first = prompt_once(prompt);
    if (!first) return first.error();
    pw = std::move(first).value();
    if (confirm && !pw.empty()) {
      auto again = prompt_once("repeat the password: ");
      if (!again) return again.error();
      if (!constant_time_equal(pw.view(), again.value().view())) {
        return make_error(Errc::InvalidArgument, "the passwords do not match");
      }
    }
  } else {
    return make_error(Errc::InvalidArgument,
                      "no password: stdin is not a terminal; use --password-file or "
                      "SOCP_PASSWORD");
  }
  if (pw.empty()) return make_error(Errc::InvalidArgument, "the password is empty");
  return Result<SecretBytes>(std::move(pw));
}

}  // namespace socp::cli
