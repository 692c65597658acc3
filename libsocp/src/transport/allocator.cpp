// socp::keep_large_buffers (socp/allocator.h).
#include "socp/allocator.h"

#include <cstdlib>  // defines __GLIBC__ when the C library is glibc

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace socp {

bool keep_large_buffers() noexcept {
#if defined(__GLIBC__)
  // A fixed mmap threshold also stops glibc's own adjustment of the trim threshold.
  const bool mmap_ok = mallopt(M_MMAP_THRESHOLD, 16 << 20) == 1;
  const bool trim_ok = mallopt(M_TRIM_THRESHOLD, 64 << 20) == 1;
  return mmap_ok && trim_ok;
#else
  return false;
#endif
}

}  // namespace socp
