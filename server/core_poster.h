// server/core_poster.h — running code on the server's loop thread, where the core lives.
//
// ServerCore is not thread-safe: a SIGHUP reload must call ServerCore::reload on the loop
// thread. The runtime offers that as `ServerRuntime::post(std::function<void(ServerCore&)>)`
// (thread-safe; runs fn on the loop thread, then performs the actions it caused). core_poster()
// adapts to a runtime without that member by returning an empty CorePoster, so callers can
// say what could not be applied instead of failing to build.
#pragma once

#include <functional>
#include <type_traits>
#include <utility>

#include "socp/server_core.h"

namespace socp_server {

/// Runs fn(core) on the loop thread soon. Empty when the runtime cannot.
using CorePoster = std::function<void(std::function<void(socp::ServerCore&)>)>;

template <typename R, typename = void>
struct HasCorePost : std::false_type {};
template <typename R>
struct HasCorePost<R, std::void_t<decltype(std::declval<R&>().post(
                          std::declval<std::function<void(socp::ServerCore&)>>()))>>
    : std::true_type {};

/// A CorePoster for runtime `rt` (which must outlive it), or an empty one.
template <typename R>
CorePoster core_poster(R& rt) {
  if constexpr (HasCorePost<R>::value) {
    return [&rt](std::function<void(socp::ServerCore&)> fn) { rt.post(std::move(fn)); };
  } else {
    return {};
  }
}

}  // namespace socp_server
