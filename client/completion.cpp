#include "completion.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <map>

#include "render.h"  // printable
#include "style.h"   // visible_width

namespace socp::cli {
namespace {

constexpr std::array<std::string_view, 8> kCommands = {"/list",   "/tell",   "/all",  "/file",
                                                       "/whoami", "/verify", "/help", "/quit"};

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Blanks cannot be typed as part of one word; control characters (network text) must not be
// inserted into the line being edited. printable() changes a string exactly when it holds a
// tab or a control character.
bool has_blank(std::string_view s) {
  const std::string text(s);
  return text.find(' ') != std::string::npos || printable(text) != text;
}

void sort_unique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

std::vector<std::string> complete_users(std::string_view prefix, const UserList& users,
                                        std::string_view self_id, bool with_all) {
  std::map<std::string_view, int> name_count;
  for (const auto& [id, name] : users) ++name_count[name];
  std::vector<std::string> out;
  if (with_all && starts_with("all", prefix)) out.emplace_back("all");
  for (const auto& [id, name] : users) {
    if (id == self_id) continue;
    const bool name_usable = !name.empty() && !has_blank(name) && name_count[name] == 1;
    if (name_usable && starts_with(name, prefix)) {
      out.push_back(name);
    } else if (!prefix.empty() && starts_with(id, prefix)) {
      out.push_back(id);  // ids only once typed into: a bare <TAB> lists names, not UUIDs
    } else if (!name_usable && !name.empty() && starts_with(name, prefix)) {
      out.push_back(id);  // "bob" shared by two users, or "bob smith": offer the ids
    }
  }
  sort_unique(out);
  return out;
}

Completion complete_path(std::string_view line, std::size_t start, const DirLister& list_dir) {
  Completion c;
  c.start = start;
  const std::string_view typed = line.substr(start);
  const std::size_t slash = typed.rfind('/');
  const std::string dir =
      slash == std::string_view::npos ? "" : std::string(typed.substr(0, slash + 1));
  const std::string_view base = slash == std::string_view::npos ? typed : typed.substr(slash + 1);
  if (!list_dir) return c;
  bool any_dir = false;
  for (const DirEntry& e : list_dir(dir)) {
    if (e.name == "." || e.name == "..") continue;
    if (!starts_with(e.name, base)) continue;
    if (e.name.front() == '.' && (base.empty() || base.front() != '.')) continue;  // hidden
    c.matches.push_back(dir + e.name + (e.is_dir ? "/" : ""));
    any_dir = any_dir || e.is_dir;
  }
  sort_unique(c.matches);
  c.final = !(c.matches.size() == 1 && any_dir);
  return c;
}

}  // namespace

Completion complete(std::string_view line, const UserList& users, std::string_view self_id,
                    const DirLister& list_dir) {
  Completion c;
  std::size_t i = 0;
  while (i < line.size() && is_blank(line[i])) ++i;
  // Word 1: the command.
  const std::size_t cmd_start = i;
  while (i < line.size() && !is_blank(line[i])) ++i;
  const std::string_view cmd = line.substr(cmd_start, i - cmd_start);
  if (i == line.size()) {
    c.start = cmd_start;
    if (!cmd.empty() && cmd.front() != '/') return c;  // plain text: nothing to complete
    for (std::string_view k : kCommands) {
      if (starts_with(k, cmd)) c.matches.emplace_back(k);
    }
    return c;
  }
  const bool users_next = cmd == "/tell" || cmd == "/msg" || cmd == "/verify" || cmd == "/file";
  if (!users_next) return c;
  // Word 2: the user.
  while (i < line.size() && is_blank(line[i])) ++i;
  const std::size_t user_start = i;
  while (i < line.size() && !is_blank(line[i])) ++i;
  if (i == line.size()) {
    c.start = user_start;
    c.matches =
        complete_users(line.substr(user_start), users, self_id, /*with_all=*/cmd == "/file");
    return c;
  }
  if (cmd != "/file") return c;  // message text or a finished /verify: nothing to offer
  // Word 3 (the rest of the line, blanks included): a file path.
  while (i < line.size() && is_blank(line[i])) ++i;
  return complete_path(line, i, list_dir);
}

std::vector<std::string> command_names() {
  return {kCommands.begin(), kCommands.end()};
}

std::string common_prefix(const std::vector<std::string>& matches) {
  if (matches.empty()) return {};
  std::string_view p = matches.front();
  for (const std::string& m : matches) {
    std::size_t k = 0;
    while (k < p.size() && k < m.size() && p[k] == m[k]) ++k;
    p = p.substr(0, k);
  }
  // Back off to a code point boundary: never leave a lead byte without its continuation.
  std::size_t end = p.size();
  std::size_t k = end;
  while (k > 0 && (static_cast<unsigned char>(p[k - 1]) & 0xc0) == 0x80) --k;
  if (k > 0 && static_cast<unsigned char>(p[k - 1]) >= 0xc0) {
    const unsigned char lead = static_cast<unsigned char>(p[k - 1]);
    const std::size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
    if (end - (k - 1) < need) end = k - 1;
  }
  return std::string(p.substr(0, end));
}

std::string format_candidates(const std::vector<std::string>& matches, std::size_t columns) {
  // Measured as printed: a raw escape sequence takes no column, its printable form does.
  std::vector<std::string> shown;
  shown.reserve(matches.size());
  std::size_t width = 0;
  for (const std::string& m : matches) {
    shown.push_back(printable(m));
    width = std::max(width, visible_width(shown.back()));
  }
  width += 2;
  const std::size_t per_row = std::max<std::size_t>(1, (columns > 0 ? columns - 1 : 0) / width);
  std::string text;
  for (std::size_t i = 0; i < shown.size(); ++i) {
    if (i % per_row == 0 && i > 0) text += "\n";
    text += shown[i];
    if (i % per_row != per_row - 1 && i + 1 < shown.size()) {
      text.append(width - visible_width(shown[i]), ' ');
    }
  }
  return text;
}

std::vector<DirEntry> list_directory(const std::string& dir) {
  std::vector<DirEntry> out;
  const std::string path = dir.empty() ? "." : dir;
  DIR* d = ::opendir(path.c_str());
  if (!d) return out;
  constexpr std::size_t kMaxEntries = 10000;  // a huge folder must not stall the prompt
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) {
      struct stat st;
      is_dir = ::stat((path + "/" + name).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    }
    out.push_back({name, is_dir});
    if (out.size() >= kMaxEntries) break;
  }
  ::closedir(d);
  return out;
}

}  // namespace socp::cli
