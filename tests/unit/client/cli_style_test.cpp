// socp-cli text styling (client/style.h): colours, per-user colours, visible widths.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <set>

#include "style.h"

using namespace socp::cli;

TEST_CASE("cli style: paint only when colour is on", "[cli]") {
  CHECK(paint(false, sgr::kRed, "oops") == "oops");
  CHECK(paint(true, sgr::kRed, "oops") == "\033[31moops\033[0m");
  CHECK(paint(true, "", "plain") == "plain");
}

TEST_CASE("cli style: a stable colour per user, never red or yellow", "[cli]") {
  const std::string a = "a11ce000-0000-4000-8000-000000000001";
  const std::string b = "b0b00000-0000-4000-8000-000000000002";
  CHECK(user_color(a) == user_color(a));
  std::set<std::string_view> seen;
  for (int i = 0; i < 64; ++i) {
    const std::string_view c = user_color("user-" + std::to_string(i));
    CHECK(c != "31");
    CHECK(c != "33");
    CHECK(c != "91");
    CHECK(c != "93");
    seen.insert(c);
  }
  CHECK(seen.size() >= 6);  // the hash spreads users over the palette
  (void)b;
}

TEST_CASE("cli style: visible width ignores escapes and counts code points", "[cli]") {
  CHECK(visible_width("") == 0);
  CHECK(visible_width("alice> ") == 7);
  CHECK(visible_width("\033[1;31malice\033[0m") == 5);
  CHECK(visible_width("gr\xc3\xbc\xc3\x9f"
                      "e") == 5);                         // grüße
  CHECK(visible_width("\xe6\x97\xa5\xe6\x9c\xac") == 4);  // 日本: wide
  CHECK(visible_width("\xf0\x9f\x91\x8b") == 2);          // 👋
  CHECK(visible_width("e\xcc\x81") == 1);                 // e + combining acute
  CHECK(visible_width("\xff\xfe") == 2);                  // ill-formed bytes: one each
}

TEST_CASE("cli style: truncate to a width with an ellipsis", "[cli]") {
  CHECK(truncate_visible("report.pdf", 20) == "report.pdf");
  CHECK(truncate_visible("report.pdf", 10) == "report.pdf");
  CHECK(truncate_visible("report.pdf", 7) == "report\xe2\x80\xa6");
  CHECK(visible_width(truncate_visible("report.pdf", 7)) == 7);
  CHECK(truncate_visible("report.pdf", 0).empty());
  // Never inside a code point; escapes are kept and closed.
  CHECK(truncate_visible("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 4) == "\xe6\x97\xa5\xe2\x80\xa6");
  const std::string styled = truncate_visible("\033[1mabcdefgh\033[0m", 4);
  CHECK(styled == "\033[1mabc\xe2\x80\xa6\033[0m");
}

TEST_CASE("cli style: colour only on a terminal, never with NO_COLOR or --no-color", "[cli]") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  ::unsetenv("NO_COLOR");
  CHECK_FALSE(color_wanted(fds[1], false));  // a pipe is not a terminal
  CHECK_FALSE(color_wanted(fds[1], true));
  ::close(fds[0]);
  ::close(fds[1]);
  // On a terminal it would depend on the flags; NO_COLOR and --no-color win regardless.
  ::setenv("NO_COLOR", "1", 1);
  CHECK_FALSE(color_wanted(STDOUT_FILENO, false));
  ::setenv("NO_COLOR", "", 1);  // empty = unset (no-color.org)
  CHECK(color_wanted(STDOUT_FILENO, false) == (::isatty(STDOUT_FILENO) != 0));
  CHECK_FALSE(color_wanted(STDOUT_FILENO, true));
  ::unsetenv("NO_COLOR");
}
