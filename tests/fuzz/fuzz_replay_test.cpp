// The fuzz harnesses as an ordinary test (any compiler, no libFuzzer): every file of
// tests/fuzz/corpus/<harness> and tests/fuzz/regressions/<harness>, then deterministic
// mutations of them. A harness aborts on a finding, which fails the test; the input that was
// running is printed first (hex) so it can be saved and replayed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fuzz_harness.h"
#include "mutate.h"

namespace fs = std::filesystem;
using namespace socp::fuzz;

namespace {

std::vector<std::string> read_dir(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  for (const fs::path& p : files) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    out.push_back(ss.str());
  }
  return out;
}

// Written to stderr before each input, overwritten by the next: after a crash the last one
// is what crashed. Kept quiet otherwise (a few thousand inputs per run).
struct Current {
  std::string label;
  std::string input;
  void announce() const {
    if (!std::getenv("SOCP_FUZZ_VERBOSE")) return;
    std::fprintf(stderr, "%s (%zu bytes)\n", label.c_str(), input.size());
  }
};

void run_all(const std::string& harness, std::size_t mutations) {
  const fs::path root(SOCP_FUZZ_DIR);
  std::vector<std::string> seeds = read_dir(root / "corpus" / harness);
  const std::vector<std::string> regressions = read_dir(root / "regressions" / harness);
  REQUIRE(!seeds.empty());
  Current cur;
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    cur = {harness + " seed " + std::to_string(i), seeds[i]};
    cur.announce();
    REQUIRE(run_harness(harness, cur.input));
  }
  for (std::size_t i = 0; i < regressions.size(); ++i) {
    cur = {harness + " regression " + std::to_string(i), regressions[i]};
    cur.announce();
    run_harness(harness, cur.input);
  }
  seeds.insert(seeds.end(), regressions.begin(), regressions.end());
  Mutator m(seeds, 0x50c9f022 + harness.size());
  for (std::size_t i = 0; i < mutations; ++i) {
    cur = {harness + " mutation " + std::to_string(i), m.next()};
    cur.announce();
    run_harness(harness, cur.input);
  }
  SUCCEED(seeds.size() << " seeds and regressions, " << mutations << " mutations");
}

}  // namespace

TEST_CASE("fuzz replay: codec", "[fuzz]") {
  run_all("codec", 5000);
}
TEST_CASE("fuzz replay: server", "[fuzz]") {
  run_all("server", 600);
}
TEST_CASE("fuzz replay: server with real signatures", "[fuzz]") {
  const fs::path root(SOCP_FUZZ_DIR);
  const std::vector<std::string> seeds = read_dir(root / "corpus" / "server");
  REQUIRE(!seeds.empty());
  for (std::size_t i = 0; i < seeds.size(); i += 4) server(seeds[i], Jobs::Real);
}
TEST_CASE("fuzz replay: client_login", "[fuzz]") {
  run_all("client_login", 250);
}
TEST_CASE("fuzz replay: client_ready", "[fuzz]") {
  run_all("client_ready", 200);
}
TEST_CASE("fuzz replay: client_files", "[fuzz]") {
  run_all("client_files", 150);
}
