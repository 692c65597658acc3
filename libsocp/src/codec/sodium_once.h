// Private: one-time libsodium initialisation for the codec layer.
#pragma once

namespace socp::codec {

/// Calls sodium_init() once per process (thread-safe; sodium_init is idempotent anyway).
/// Throws std::runtime_error if libsodium cannot initialise (no usable randomness source):
/// a broken environment, not bad input.
void ensure_sodium();

}  // namespace socp::codec
