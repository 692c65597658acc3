// socp-cli progress bars (client/progress.h).
#include <catch2/catch.hpp>

#include "progress.h"
#include "style.h"

using namespace socp::cli;

TEST_CASE("cli progress: byte counts in binary units", "[cli]") {
  CHECK(format_bytes(0) == "0 B");
  CHECK(format_bytes(1023) == "1023 B");
  CHECK(format_bytes(1024) == "1.0 KiB");
  CHECK(format_bytes(1536) == "1.5 KiB");
  CHECK(format_bytes(1048575) == "1.0 MiB");  // not "1024.0 KiB"
  CHECK(format_bytes(1258291) == "1.2 MiB");
  CHECK(format_bytes(2097152) == "2.0 MiB");
  CHECK(format_bytes(3ull << 30) == "3.0 GiB");
}

TEST_CASE("cli progress: percent done", "[cli]") {
  CHECK(percent_done(0, 100) == 0);
  CHECK(percent_done(58, 100) == 58);
  CHECK(percent_done(999, 1000) == 99);  // 100 only when complete
  CHECK(percent_done(1000, 1000) == 100);
  CHECK(percent_done(0, 0) == 100);
  CHECK(percent_done(5, 3) == 100);
  CHECK(percent_done(~0ull - 1, ~0ull) == 99);  // no overflow
}

TEST_CASE("cli progress: the bar line", "[cli]") {
  const std::uint64_t total = 2097152, done = 1216349;  // 58 %
  const std::string line = format_progress("report.pdf", done, total, 80);
  CHECK(line == "report.pdf  [#################.............]  58%  1.2 MiB/2.0 MiB");
  CHECK(format_progress("a", 0, 10, 80).find("[" + std::string(30, '.') + "]   0%") !=
        std::string::npos);
  CHECK(format_progress("a", 10, 10, 80).find("[" + std::string(30, '#') + "] 100%") !=
        std::string::npos);
  // Narrow terminals: shorter bar, then a shortened name; the line fits.
  for (std::size_t width : {40u, 50u, 60u, 100u}) {
    const std::string l = format_progress("a-rather-long-file-name.tar.gz", done, total, width);
    CAPTURE(width, l);
    CHECK(visible_width(l) <= width);
    CHECK(l.find(" 58%  1.2 MiB/2.0 MiB") != std::string::npos);
  }
  CHECK(format_progress("a-rather-long-file-name.tar.gz", done, total, 40).find("\xe2\x80\xa6") !=
        std::string::npos);
}
