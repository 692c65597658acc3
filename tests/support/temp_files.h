// Test helpers for tests that write files: a temporary directory removed on scope exit,
// deterministic random contents, whole-file reads, and a string field of a JSON event.
#pragma once

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <system_error>

#include "socp/json.h"

namespace socp::test {

/// mkdtemp under the system temp directory; everything in it is removed with it.
struct TempDir {
  std::string path;
  explicit TempDir(const std::string& prefix = "socp-test-") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

/// `n` pseudo-random bytes, the same for the same seed.
inline std::string bytes_of(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

/// The whole file ("" if it cannot be read).
inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

/// A string field of a JSON object (an event), or "<missing>".
inline std::string str(const json::Value& e, const char* key) {
  const std::string* s = json::get_string(e, key);
  return s ? *s : "<missing>";
}

}  // namespace socp::test
