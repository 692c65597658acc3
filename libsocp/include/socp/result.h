// socp/result.h — error values for expected failures.
//
// Contract: every operation that can fail on untrusted input, I/O or crypto returns
// `Result<T>` (or `Status` == `Result<void>`). Exceptions are reserved for programmer errors
// (e.g. calling value() on an error) and never cross a C callback boundary.
// The set of codes is closed; `wire_code()` maps each to the string sent in a SOCP `ERROR`
// frame — this header is the only place that mapping lives.
// Thread-safety: plain value types; safe to move between threads.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace socp {

/// The closed set of failure codes. The first six are the SOCP v1.3 wire codes.
enum class Errc : std::uint8_t {
  UserNotFound,  ///< USER_NOT_FOUND: unknown or unreachable user
  InvalidSig,    ///< INVALID_SIG: a signature did not verify
  BadKey,        ///< BAD_KEY: malformed key, not RSA-4096/e=65537, or key mismatch
  Timeout,       ///< TIMEOUT: something did not arrive in time
  UnknownType,   ///< UNKNOWN_TYPE: message type not understood
  NameInUse,     ///< NAME_IN_USE: user already online / id already registered
  // socp additions (sent on the wire with the names below; peers show them as-is)
  BadFrame,          ///< BAD_FRAME: not JSON, not an object, missing/mistyped field, bad encoding
  TooLarge,          ///< TOO_LARGE: frame, string or file over a configured limit
  TooDeep,           ///< TOO_DEEP: JSON nested deeper than the limit
  NotAuthenticated,  ///< NOT_AUTHENTICATED: frame other than a hello/register before login
  BadPassword,       ///< BAD_PASSWORD: password/proof did not match
  Busy,              ///< BUSY: server is shedding load (bounded work queue full)
  Offline,           ///< OFFLINE: recipient known but not online anywhere
  Internal,          ///< INTERNAL: unexpected internal failure (bug or resource exhaustion)
  NotAdmitted,       ///< NOT_ADMITTED: a server this server's admission rules do not let in
  RateLimited,       ///< RATE_LIMITED: too many attempts; retry after the time in the detail
  // local-only codes (never expected on the wire, mapped to INTERNAL if they ever are)
  Io,               ///< file or database I/O failed
  StoreFull,        ///< LMDB map full (MDB_MAP_FULL)
  Corrupt,          ///< database or sealed blob unreadable / corrupt
  Crypto,           ///< decryption or other crypto operation failed
  NotFound,         ///< local lookup found nothing
  InvalidArgument,  ///< caller passed an invalid argument
};

/// Wire name of a code ("USER_NOT_FOUND", ...).
std::string_view wire_code(Errc code) noexcept;
/// Parses a wire name; unknown names give Errc::Internal with `known == false`.
Errc errc_from_wire(std::string_view name, bool* known = nullptr) noexcept;

/// An error: a code plus a human-readable detail (never contains secrets).
struct Error {
  Errc code = Errc::Internal;
  std::string detail;
};

inline Error make_error(Errc code, std::string detail = {}) {
  return Error{code, std::move(detail)};
}

/// Result<T>: either a T or an Error. [[nodiscard]] so failures are not silently ignored.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}      // NOLINT implicit
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT implicit

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & {
    check();
    return std::get<0>(v_);
  }
  const T& value() const& {
    check();
    return std::get<0>(v_);
  }
  T&& value() && {
    check();
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& {
    if (ok()) throw std::logic_error("socp::Result::error() on a value");
    return std::get<1>(v_);
  }
  Errc code() const { return error().code; }

 private:
  void check() const {
    if (!ok()) throw std::logic_error("socp::Result::value() on error: " + std::get<1>(v_).detail);
  }
  std::variant<T, Error> v_;
};

/// Status: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)), ok_(false) {}  // NOLINT implicit
  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const& {
    if (ok_) throw std::logic_error("socp::Status::error() on success");
    return err_;
  }
  Errc code() const { return error().code; }

 private:
  Error err_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status ok_status() {
  return Status();
}

}  // namespace socp

/// Propagates an error from a Result-returning expression.
#define SOCP_TRY(expr)                                 \
  do {                                                 \
    auto&& socp_try_r_ = (expr);                       \
    if (!socp_try_r_.ok()) return socp_try_r_.error(); \
  } while (0)
