// libFuzzer entry point; SOCP_FUZZ_HARNESS names the harness (fuzz_harness.h) this binary runs.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  socp::fuzz::run_harness(SOCP_FUZZ_HARNESS,
                          std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
