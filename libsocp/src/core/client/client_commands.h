// Private: parsing of the command lines a user types (/list, /tell, /all, ...). Pure.
#pragma once

#include <string>
#include <string_view>

namespace socp::client {

struct Command {
  enum class Kind {
    Empty,    ///< blank line: nothing to do
    List,     ///< /list
    Tell,     ///< /tell <target> <text>   (alias /msg)
    All,      ///< /all <text>
    File,     ///< /file <target> <path>   (target "all" = every online user)
    WhoAmI,   ///< /whoami
    Verify,   ///< /verify <target>
    Wait,     ///< /wait [queued|delivered] [messages N] [timeout S]  (text = the arguments)
    Help,     ///< /help
    Quit,     ///< /quit   (alias /exit)
    Usage,    ///< known command, bad arguments (`error` says why)
    Unknown,  ///< not a command (`error` says why)
  };
  Kind kind = Kind::Empty;
  std::string target;  ///< Tell/Verify/File
  std::string text;    ///< Tell/All: the rest of the line, inner spacing kept; File: the path
  std::string error;   ///< Usage/Unknown
};

/// Parses one line. Leading blanks and a trailing "\r"/"\n" are ignored; the command word is
/// case-sensitive; the text of /tell and /all is everything after the separating run of
/// blanks, verbatim (trailing blanks included).
Command parse_command(std::string_view line);

/// The /help text.
const std::string& help_text();

}  // namespace socp::client
