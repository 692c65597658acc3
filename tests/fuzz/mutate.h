// A small deterministic mutator for the replay test: the same seed list and PRNG seed always
// give the same inputs, so a failure in CI reproduces exactly (the failing input is printed).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace socp::fuzz {

class Mutator {
 public:
  Mutator(std::vector<std::string> seeds, std::uint64_t prng_seed);
  /// The next input: a seed with 1..4 mutations (bit flips, interesting bytes, inserted or
  /// deleted runs, duplicated runs, JSON tokens, splices with another seed).
  std::string next();

 private:
  std::uint64_t rand();
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rand() % n); }
  void mutate_once(std::string& s);

  std::vector<std::string> seeds_;
  std::uint64_t state_;
};

}  // namespace socp::fuzz
