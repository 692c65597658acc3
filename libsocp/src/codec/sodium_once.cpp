#include "codec/sodium_once.h"

#include <sodium.h>

#include <stdexcept>

namespace socp::codec {

void ensure_sodium() {
  // Magic static: initialised exactly once, thread-safely (C++11).
  static const int rc = sodium_init();
  if (rc < 0) throw std::runtime_error("libsodium initialisation failed");
}

}  // namespace socp::codec
