// Tab completion for socp-cli's interactive prompt. Pure: the directory listing used for
// file paths is passed in, so tests need no file system.
//
//   "/ve<TAB>"             -> command names (/list /tell /all /file /whoami /verify /help /quit)
//   "/tell b<TAB>"         -> display names (and, once the prefix matches one, user ids) of the
//                             known users, after /tell, /msg, /verify and /file ("all" too)
//   "/file bob re<TAB>"    -> file paths (directories end with '/')
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace socp::cli {

/// (user id, display name), as ClientCore::known_users() returns them.
using UserList = std::vector<std::pair<std::string, std::string>>;

struct DirEntry {
  std::string name;
  bool is_dir = false;
};
/// Lists a directory ("" = the current one); empty when it cannot be read.
using DirLister = std::function<std::vector<DirEntry>(const std::string& dir)>;

struct Completion {
  /// Byte offset in the line where the word being completed starts; the matches replace
  /// [start, cursor).
  std::size_t start = 0;
  /// Candidate replacements, sorted, without duplicates.
  std::vector<std::string> matches;
  /// True when a unique match completes the word (the editor then adds a blank); false for
  /// a directory ("docs/"), which the user will keep typing into.
  bool final = true;
};

/// Candidates for the text before the cursor. `self_id` is left out of the user names.
/// Display names containing blanks cannot be typed as one word: their ids are offered
/// instead; so are the ids of a display name shared by several users.
Completion complete(std::string_view before_cursor, const UserList& users, std::string_view self_id,
                    const DirLister& list_dir);

/// The command names offered at the start of a line (the /help text lists each of them).
std::vector<std::string> command_names();

/// The longest common prefix of the matches, never ending inside a UTF-8 code point.
std::string common_prefix(const std::vector<std::string>& matches);

/// The candidates as the prompt lists them: in columns that fit `columns`, each shown
/// printable (network text: control characters replaced), lines joined with '\n'.
std::string format_candidates(const std::vector<std::string>& matches, std::size_t columns);

/// Lists a real directory (used by the CLI; skips "." and "..").
std::vector<DirEntry> list_directory(const std::string& dir);

}  // namespace socp::cli
