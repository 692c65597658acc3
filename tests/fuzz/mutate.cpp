#include "mutate.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace socp::fuzz {
namespace {

constexpr std::array<std::string_view, 24> kTokens = {"\"",
                                                      "{",
                                                      "}",
                                                      "[",
                                                      "]",
                                                      ",",
                                                      ":",
                                                      "\\",
                                                      "\x1e",
                                                      "null",
                                                      "true",
                                                      "-1",
                                                      "0",
                                                      "1e3",
                                                      "1.5",
                                                      "\\u0000",
                                                      "\\ud800",
                                                      "\"\"",
                                                      "9223372036854775808",
                                                      "[[[[[[[[",
                                                      "{}",
                                                      "\xc3\x28",
                                                      "\xf4\x90\x80\x80",
                                                      "\x1b[2J"};

}  // namespace

Mutator::Mutator(std::vector<std::string> seeds, std::uint64_t prng_seed)
    : seeds_(std::move(seeds)), state_(prng_seed) {
  if (seeds_.empty()) seeds_.emplace_back();
}

std::uint64_t Mutator::rand() {  // splitmix64
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string Mutator::next() {
  std::string s = seeds_[below(seeds_.size())];
  const std::size_t n = 1 + below(4);
  for (std::size_t i = 0; i < n; ++i) mutate_once(s);
  return s;
}

void Mutator::mutate_once(std::string& s) {
  const std::size_t pos = below(s.size() + 1);
  switch (below(7)) {
    case 0:  // flip a bit
      if (!s.empty()) s[below(s.size())] ^= static_cast<char>(1u << below(8));
      break;
    case 1:  // an interesting byte
      if (!s.empty()) s[below(s.size())] = "\0\xff\x7f\x80\"{}[]:,\\0"[below(13)];
      break;
    case 2:  // insert a token
      s.insert(pos, kTokens[below(kTokens.size())]);
      break;
    case 3: {  // delete a run
      if (s.empty()) break;
      const std::size_t start = std::min(pos, s.size() - 1);
      s.erase(start, 1 + below(std::min<std::size_t>(s.size() - start, 64)));
      break;
    }
    case 4: {  // duplicate a run
      if (s.empty()) break;
      const std::size_t start = below(s.size());
      const std::size_t len = 1 + below(std::min<std::size_t>(s.size() - start, 256));
      s.insert(pos, s.substr(start, len));
      break;
    }
    case 5: {  // replace a digit run with another number
      const std::size_t d = s.find_first_of("0123456789", pos);
      if (d == std::string::npos) break;
      std::size_t e = d;
      while (e < s.size() && s[e] >= '0' && s[e] <= '9') ++e;
      s.replace(d, e - d, std::to_string(rand() % 4 == 0 ? rand() : below(1000)));
      break;
    }
    default: {  // splice with another seed
      const std::string& o = seeds_[below(seeds_.size())];
      if (o.empty()) break;
      const std::size_t from = below(o.size());
      s = s.substr(0, std::min(pos, s.size())) + o.substr(from);
      break;
    }
  }
}

}  // namespace socp::fuzz
