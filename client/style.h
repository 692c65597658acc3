// Text styling for socp-cli's human output: ANSI colours (only when enabled), a stable colour
// per user, and the visible width of text that may contain escape sequences. Pure.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace socp::cli {

/// SGR parameter strings used by the printer.
namespace sgr {
inline constexpr std::string_view kBold = "1";
inline constexpr std::string_view kDim = "2";
inline constexpr std::string_view kRed = "31";
inline constexpr std::string_view kBoldRed = "1;31";
inline constexpr std::string_view kYellow = "33";
inline constexpr std::string_view kBoldYellow = "1;33";
}  // namespace sgr

/// `text` wrapped in ESC[<code>m ... ESC[0m when `on`, else unchanged.
std::string paint(bool on, std::string_view code, std::string_view text);

/// The SGR code of a user's colour: one of eight non-red, non-yellow colours, chosen by a
/// hash of the user id, so a user keeps the same colour across lines and runs.
std::string_view user_color(std::string_view user_id);

/// Whether to colour a stream: it is a terminal, NO_COLOR is unset or empty
/// (https://no-color.org), and --no-color was not given.
bool color_wanted(int fd, bool no_color_flag);

/// Columns `text` takes on a terminal: ANSI escape sequences take none, UTF-8 code points
/// one each (two for East Asian wide ones / most emoji, approximated), combining marks none.
std::size_t visible_width(std::string_view text);

/// `text` cut to at most `width` visible columns (escape sequences kept, never cut inside a
/// code point); "…" replaces the tail when something was cut and width > 0.
std::string truncate_visible(std::string_view text, std::size_t width);

}  // namespace socp::cli
