// Router: route_to_user of docs/protocol.md §7, over the directory and the live links.
#pragma once

#include <string>

#include "core/server/core_impl.h"

namespace socp::core {

struct Route {
  enum class Kind { Local, Remote, Offline, Unknown } kind = Kind::Unknown;
  ConnId conn = 0;        ///< Local: the user's session; Remote: the link to their server
  std::string server_id;  ///< Remote/Offline: where the user is (or was)
};

Route route_to_user(ServerCore::Impl& s, const std::string& user_id);

}  // namespace socp::core
