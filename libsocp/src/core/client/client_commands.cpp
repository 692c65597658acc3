#include "core/client/client_commands.h"

namespace socp::client {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim_line(std::string_view s) {
  while (!s.empty() && (is_blank(s.front()) || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  // Trailing blanks are kept: they may be part of a message text.
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// Splits off the first blank-separated word; `rest` keeps its inner spacing.
std::string_view next_word(std::string_view& rest) {
  std::size_t i = 0;
  while (i < rest.size() && !is_blank(rest[i])) ++i;
  std::string_view word = rest.substr(0, i);
  while (i < rest.size() && is_blank(rest[i])) ++i;
  rest.remove_prefix(i);
  return word;
}

Command usage(std::string msg) {
  Command c;
  c.kind = Command::Kind::Usage;
  c.error = std::move(msg);
  return c;
}

}  // namespace

Command parse_command(std::string_view line) {
  Command c;
  std::string_view rest = trim_line(line);
  if (rest.find_first_not_of(" \t") == std::string_view::npos) return c;
  if (rest.front() != '/') {
    c.kind = Command::Kind::Unknown;
    c.error = "commands start with '/' (try /help; to send text use /tell <user> <text>)";
    return c;
  }
  std::string_view word = next_word(rest);
  if (word == "/list") {
    c.kind = Command::Kind::List;
  } else if (word == "/tell" || word == "/msg") {
    std::string_view target = next_word(rest);
    if (target.empty() || rest.empty()) return usage("usage: /tell <user> <text>");
    c.kind = Command::Kind::Tell;
    c.target = std::string(target);
    c.text = std::string(rest);
  } else if (word == "/all") {
    if (rest.empty()) return usage("usage: /all <text>");
    c.kind = Command::Kind::All;
    c.text = std::string(rest);
  } else if (word == "/file") {
    std::string_view target = next_word(rest);
    while (!rest.empty() && is_blank(rest.back())) rest.remove_suffix(1);  // a path: no tail
    if (target.empty() || rest.empty()) {
      return usage("usage: /file <user> <path>  or  /file all <path>");
    }
    c.kind = Command::Kind::File;
    c.target = std::string(target);
    c.text = std::string(rest);
  } else if (word == "/whoami") {
    c.kind = Command::Kind::WhoAmI;
  } else if (word == "/verify") {
    std::string_view target = next_word(rest);
    if (target.empty() || !rest.empty()) return usage("usage: /verify <user>");
    c.kind = Command::Kind::Verify;
    c.target = std::string(target);
  } else if (word == "/wait") {
    c.kind = Command::Kind::Wait;
    c.text = std::string(rest);  // checked when it runs (client_delivery.cpp)
  } else if (word == "/help") {
    c.kind = Command::Kind::Help;
  } else if (word == "/quit" || word == "/exit") {
    c.kind = Command::Kind::Quit;
  } else {
    c.kind = Command::Kind::Unknown;
    c.error = "unknown command " + std::string(word) + " (try /help)";
  }
  return c;
}

const std::string& help_text() {
  static const std::string text =
      "commands:\n"
      "  /list                 users the mesh knows, online or not\n"
      "  /tell <user> <text>   end-to-end encrypted direct message (alias /msg);\n"
      "                        <user> is a display name or a user id\n"
      "  /all <text>           post to the public channel: every member, end-to-end\n"
      "                        encrypted (up to 64 KiB)\n"
      "  /file <user> <path>   send a file (end-to-end encrypted, SHA-256 checked)\n"
      "  /file all <path>      send a file to every online user\n"
      "  /whoami               your user id, server and key fingerprint\n"
      "  /verify <user>        the pinned key fingerprint of a user (compare out of band)\n"
      "  /wait [queued|delivered] [messages N] [timeout S]\n"
      "                        wait until every DM sent is delivered (or failed, or only\n"
      "                        queued), and/or N messages arrived; default 30 s\n"
      "  /help                 this help\n"
      "  /quit                 leave (alias /exit)";
  return text;
}

}  // namespace socp::client
