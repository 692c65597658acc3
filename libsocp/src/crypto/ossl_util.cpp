#include "crypto/ossl_util.h"

#include <openssl/err.h>

namespace socp::crypto {

std::string ossl_error_text(const char* what) {
  std::string out(what);
  // Only the oldest entry is reported: it is the root cause; later ones are call-stack noise.
  const unsigned long e = ERR_get_error();
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += ": ";
    out += buf;
  }
  ERR_clear_error();
  return out;
}

void clear_ossl_errors() noexcept {
  ERR_clear_error();
}

}  // namespace socp::crypto
