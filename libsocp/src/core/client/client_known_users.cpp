// ClientCore::known_users(): a presentation snapshot of the directory (socp-cli completion).
#include <algorithm>

#include "core/client/client_impl.h"

namespace socp {

std::vector<std::pair<std::string, std::string>> ClientCore::known_users() const {
  std::vector<const client::KnownUser*> users;
  users.reserve(impl_->dir.size());
  for (const auto& entry : impl_->dir.all()) users.push_back(&entry.second);
  std::sort(users.begin(), users.end(), [](const client::KnownUser* a, const client::KnownUser* b) {
    return client::display_order(*a, *b);
  });
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(users.size());
  for (const client::KnownUser* u : users) out.emplace_back(u->user_id, u->display_name);
  return out;
}

}  // namespace socp
