#include "progress.h"

#include <algorithm>
#include <cstdio>
#include <iterator>

#include "style.h"

namespace socp::cli {

std::string format_bytes(std::uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes) / 1024.0;
  std::size_t u = 0;
  // 1023.95 KiB would print as "1024.0 KiB": move up a unit before rounding does.
  while (v >= 1023.95 && u + 1 < std::size(kUnits)) {
    v /= 1024.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  return buf;
}

unsigned percent_done(std::uint64_t done, std::uint64_t total) {
  if (total == 0 || done >= total) return 100;
  // done < total here, so the result is < 100; computed without overflowing 64 bits.
  const long double p = static_cast<long double>(done) * 100.0L / static_cast<long double>(total);
  return std::min(99u, static_cast<unsigned>(p));
}

std::string format_progress(std::string_view name, std::uint64_t done, std::uint64_t total,
                            std::size_t width) {
  const unsigned pct = percent_done(done, total);
  char pct_buf[8];
  std::snprintf(pct_buf, sizeof pct_buf, "%3u%%", pct);
  const std::string tail = std::string(" ") + pct_buf + "  " + format_bytes(std::min(done, total)) +
                           "/" + format_bytes(total);

  // Layout: name, two blanks, [bar], tail. The bar takes 30 cells when there is room, else
  // 20, else what is left after a short name (at least 5); the name gets the rest.
  const std::size_t name_w = std::max<std::size_t>(visible_width(name), 1);
  const std::size_t want_name = std::min<std::size_t>(name_w, 12);
  const std::size_t fixed = tail.size() + 2 + 2;  // tail, the blanks, the brackets
  const std::size_t avail = width > fixed ? width - fixed : 0;
  const std::size_t bar = avail >= name_w + 30      ? 30
                          : avail >= want_name + 20 ? 20
                          : avail > want_name + 5   ? avail - want_name
                                                    : 5;
  const std::size_t name_room = avail > bar ? avail - bar : 0;
  const std::size_t filled = bar * pct / 100;
  std::string line = truncate_visible(name, name_room);
  line += "  [";
  line.append(filled, '#');
  line.append(bar - filled, '.');
  line += "]";
  line += tail;
  return line;
}

}  // namespace socp::cli
