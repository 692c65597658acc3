// Private: RAII owners for OpenSSL handles and OpenSSL error-queue helpers.
//
// Every OpenSSL call that can fail pushes onto a thread-local error queue; a failure we turn
// into a Result must drain that queue (ossl_error_text / clear_ossl_errors), otherwise a stale
// entry would be misreported by the next unrelated caller on the same thread.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>

#include <memory>
#include <string>

namespace socp::crypto {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const noexcept { EVP_PKEY_CTX_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const noexcept { BIO_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const noexcept { BN_free(p); }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

/// "<what>: <first OpenSSL reason>" and empties this thread's error queue.
std::string ossl_error_text(const char* what);
/// Empties this thread's OpenSSL error queue.
void clear_ossl_errors() noexcept;

}  // namespace socp::crypto
