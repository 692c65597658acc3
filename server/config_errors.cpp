// server/config_errors.cpp — naming the bad key of a config file.
#include "config_errors.h"

#include <algorithm>
#include <vector>

namespace socp_server {

namespace {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string config_path(const CLI::App& app) {
  const CLI::Option* opt = app.get_config_ptr();
  if (opt == nullptr || opt->count() == 0 || opt->results().empty()) return {};
  return opt->results().back();
}

std::string suggest_key(const CLI::App& app, const std::string& key) {
  std::string dashed = key;
  std::replace(dashed.begin(), dashed.end(), '_', '-');
  std::string best;
  std::size_t best_d = 3;  // at most two edits away
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->get_group().empty() || opt->get_lnames().empty()) continue;
    const std::string& name = opt->get_lnames().front();
    if (name == "help" || name == "version" || name == "config") continue;
    const std::size_t d = edit_distance(dashed, name);
    if (d < best_d) {
      best_d = d;
      best = name;
    }
  }
  return best;
}

std::string explain_config_error(const CLI::App& app, const CLI::ConfigError& e) {
  const std::string path = config_path(app);
  if (path.empty()) return e.what();
  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_file(path);
  } catch (const CLI::Error&) {
    return "config file " + path + ": " + e.what();
  }
  for (const CLI::ConfigItem& item : items) {
    if (item.name == "++" || item.name == "--") continue;  // section markers
    if (!item.parents.empty() && !(item.parents.size() == 1 && item.parents[0] == "default")) {
      return "config file " + path + ": section [" + item.parents.front() +
             "] is not used: put every key at the top of the file";
    }
    if (app.get_option_no_throw("--" + item.name) != nullptr) continue;
    const std::string hint = suggest_key(app, item.name);
    return "config file " + path + ": unknown key '" + item.name + "'" +
           (hint.empty() ? std::string(" (socp-server --help lists the options)")
                         : " (did you mean '" + hint + "'?)");
  }
  return "config file " + path + ": " + e.what();
}

}  // namespace socp_server
