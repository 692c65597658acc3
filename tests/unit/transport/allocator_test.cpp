// socp::keep_large_buffers (socp/allocator.h): the C library takes both settings.
#include <catch2/catch.hpp>

#include "socp/allocator.h"

TEST_CASE("keep_large_buffers: glibc accepts the heap settings", "[transport]") {
#if defined(__GLIBC__)
  CHECK(socp::keep_large_buffers());
#else
  CHECK_FALSE(socp::keep_large_buffers());
#endif
}
