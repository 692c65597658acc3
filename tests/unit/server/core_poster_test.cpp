// core_poster(): uses ServerRuntime::post(fn(ServerCore&)) when the runtime has it.
#include <catch2/catch.hpp>

#include "core_poster.h"

namespace {

struct RuntimeWithPost {
  std::function<void(socp::ServerCore&)> posted;
  void post(std::function<void(socp::ServerCore&)> fn) { posted = std::move(fn); }
};

struct RuntimeWithoutPost {
  void stop() {}
};

}  // namespace

TEST_CASE("core_poster hands the function to a runtime that can post") {
  RuntimeWithPost rt;
  auto post = socp_server::core_poster(rt);
  REQUIRE(post);
  bool ran = false;
  post([&ran](socp::ServerCore&) { ran = true; });
  REQUIRE(rt.posted);
  CHECK_FALSE(ran);  // only the runtime runs it, on its loop thread
}

TEST_CASE("core_poster is empty for a runtime without post") {
  RuntimeWithoutPost rt;
  CHECK_FALSE(socp_server::core_poster(rt));
}
