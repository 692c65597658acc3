// The fixed pre-login ERROR payloads (error_policy.h).
#include "core/server/error_policy.h"

#include "socp/protocol.h"

namespace socp::core {

namespace {

std::string_view fixed_detail(Errc code) {
  switch (code) {
    case Errc::BadFrame:
      return "malformed frame";
    case Errc::TooLarge:
      return "frame too large";
    case Errc::TooDeep:
      return "frame nested too deeply";
    case Errc::UnknownType:
      return "unknown first frame: send USER_HELLO first";
    case Errc::NotAuthenticated:
      return "send USER_HELLO (or a server hello) first";
    case Errc::UserNotFound:
      return "no such account on this server";
    case Errc::BadKey:
      return "key refused";
    case Errc::InvalidSig:
      return "signature or login proof refused";
    case Errc::NameInUse:
      return "user id already in use or online";
    case Errc::BadPassword:
      return "password does not match";
    case Errc::Busy:
      return "server busy, retry later";
    case Errc::NotAdmitted:
      return "not admitted here (server admission, or registration closed / by invitation)";
    case Errc::RateLimited:
      return "too many attempts, retry later";
    default:
      return "request refused";
  }
}

bool fixed_ref(std::string_view r) {
  return r == "USER_HELLO" || r == "USER_REGISTER" || r == "KEY_RECOVER" ||
         r == "USER_CHALLENGE_REQUEST" || r == "SERVER_HELLO_JOIN" || r == "SERVER_HELLO_LINK" ||
         r == "SERVER_ANNOUNCE";
}

}  // namespace

json::Value fixed_error_payload(Errc code, std::string_view msg_ref) {
  json::Object o{{"code", std::string(wire_code(code))},
                 {"detail", std::string(fixed_detail(code))}};
  if (fixed_ref(msg_ref)) o["msg_ref"] = std::string(msg_ref);
  return o;
}

std::string clip_detail(std::string_view d) {
  if (d.size() <= kMaxDetailBytes) return std::string(d);
  std::size_t n = kMaxDetailBytes;
  while (n > 0 && (static_cast<unsigned char>(d[n]) & 0xC0) == 0x80) --n;
  return std::string(d.substr(0, n)) + "...";
}

}  // namespace socp::core
