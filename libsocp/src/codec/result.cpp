// Errc <-> wire names. The only place the mapping lives (see socp/result.h).
#include "socp/result.h"

#include <array>
#include <utility>

namespace socp {
namespace {

// Codes that may appear on the wire, in enum order. Local-only codes are absent on purpose:
// they are reported to peers as INTERNAL.
constexpr std::array<std::pair<Errc, std::string_view>, 16> kWireCodes{{
    {Errc::UserNotFound, "USER_NOT_FOUND"},
    {Errc::InvalidSig, "INVALID_SIG"},
    {Errc::BadKey, "BAD_KEY"},
    {Errc::Timeout, "TIMEOUT"},
    {Errc::UnknownType, "UNKNOWN_TYPE"},
    {Errc::NameInUse, "NAME_IN_USE"},
    {Errc::BadFrame, "BAD_FRAME"},
    {Errc::TooLarge, "TOO_LARGE"},
    {Errc::TooDeep, "TOO_DEEP"},
    {Errc::NotAuthenticated, "NOT_AUTHENTICATED"},
    {Errc::BadPassword, "BAD_PASSWORD"},
    {Errc::Busy, "BUSY"},
    {Errc::Offline, "OFFLINE"},
    {Errc::Internal, "INTERNAL"},
    {Errc::NotAdmitted, "NOT_ADMITTED"},
    {Errc::RateLimited, "RATE_LIMITED"},
}};

}  // namespace

std::string_view wire_code(Errc code) noexcept {
  for (const auto& [c, name] : kWireCodes) {
    if (c == code) return name;
  }
  return "INTERNAL";
}

Errc errc_from_wire(std::string_view name, bool* known) noexcept {
  for (const auto& [c, n] : kWireCodes) {
    if (n == name) {
      if (known) *known = true;
      return c;
    }
  }
  if (known) *known = false;
  return Errc::Internal;
}

}  // namespace socp
