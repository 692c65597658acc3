// server/core_poster.h — running code on the server's loop thread, where the core lives.
//
// ServerCore is not thread-safe: a SIGHUP reload must call ServerCore::reload on the loop
// thread. ServerRuntime::post (thread-safe) runs a function there and then performs the
// actions it caused; CorePoster is that capability as a value, so the reloader can be tested
// without a runtime.
#pragma once

#include <functional>
#include <utility>

#include "socp/server_core.h"
#include "socp/ws_host.h"

namespace socp_server {

/// Runs fn(core) on the loop thread soon. May be empty (nothing can be applied).
using CorePoster = std::function<void(std::function<void(socp::ServerCore&)>)>;

/// A CorePoster for runtime `rt` (which must outlive it).
inline CorePoster core_poster(socp::ServerRuntime& rt) {
  return [&rt](std::function<void(socp::ServerCore&)> fn) { rt.post(std::move(fn)); };
}

}  // namespace socp_server
