// socp_fuzz_seeds <dir>: records the seed corpora (fuzz_harness.h, write_seeds) into <dir>.
// The committed corpus (tests/fuzz/corpus) was made with it; run it again after a protocol
// change and commit the difference.
#include <cstdio>
#include <exception>

#include "fuzz_harness.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <output dir>\n", argv[0]);
    return 2;
  }
  try {
    const std::size_t n = socp::fuzz::write_seeds(argv[1]);
    std::printf("%zu seed files written to %s\n", n, argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
