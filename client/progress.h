// File-transfer progress for humans: byte counts ("1.2 MiB") and a one-line progress bar
// ("report.pdf  [#######.....]  58%  1.2 MiB/2.0 MiB"). Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace socp::cli {

/// "0 B", "512 B", "1.0 KiB", "12.3 KiB", "1.2 MiB", "2.0 GiB" (binary units, one decimal).
std::string format_bytes(std::uint64_t bytes);

/// Percent done, 0..100, rounded down (100 only when done >= total; total 0 counts as done).
unsigned percent_done(std::uint64_t done, std::uint64_t total);

/// One line, at most `width` columns (width >= 20 for a useful bar): the name (cut with "…"
/// when needed), a bar of '#' done and '.' to do, the percentage, and done/total. `name` must
/// already be printable (no control characters).
std::string format_progress(std::string_view name, std::uint64_t done, std::uint64_t total,
                            std::size_t width);

}  // namespace socp::cli
