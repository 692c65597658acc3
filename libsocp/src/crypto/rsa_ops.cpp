// RSA-OAEP-SHA256 and RSASSA-PSS-SHA256 (docs/protocol.md §3). Every operation builds its own
// EVP_PKEY_CTX / EVP_MD_CTX: the shared EVP_PKEY is only read, so const methods are
// thread-safe.
#include <openssl/rsa.h>
#include <sodium.h>

#include <array>

#include "crypto/key_impl.h"

namespace socp {
namespace {

bool set_oaep(EVP_PKEY_CTX* ctx) {
  // Empty label is OpenSSL's default; MGF1 must be set explicitly (it defaults to the OAEP md
  // only in some versions).
  return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1;
}

bool set_pss(EVP_PKEY_CTX* ctx, int saltlen) {
  return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, saltlen) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1;
}

}  // namespace

Result<Bytes> PublicKey::encrypt(const std::uint8_t* data, std::size_t n) const {
  if (n > crypto::kOaepMaxPlaintext) {
    return make_error(Errc::TooLarge, "RSA-OAEP plaintext over 446 bytes");
  }
  crypto::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, impl_->pkey.get(), nullptr));
  Bytes out(crypto::kModulusBytes);
  std::size_t out_len = out.size();
  static const std::uint8_t kEmpty = 0;  // OpenSSL wants a non-null pointer even for n == 0
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 || !set_oaep(ctx.get()) ||
      EVP_PKEY_encrypt(ctx.get(), out.data(), &out_len, n ? data : &kEmpty, n) != 1) {
    return make_error(Errc::Crypto, crypto::ossl_error_text("RSA-OAEP encrypt"));
  }
  out.resize(out_len);
  return out;
}

bool PublicKey::verify(const std::uint8_t* msg, std::size_t n, const Bytes& sig) const noexcept {
  if (sig.size() != crypto::kModulusBytes) return false;
  crypto::MdCtxPtr md(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by md
  static const std::uint8_t kEmpty = 0;
  const bool ok = md &&
                  EVP_DigestVerifyInit_ex(md.get(), &pctx, "SHA256", nullptr, nullptr,
                                          impl_->pkey.get(), nullptr) == 1 &&
                  set_pss(pctx, RSA_PSS_SALTLEN_AUTO) &&
                  EVP_DigestVerify(md.get(), sig.data(), sig.size(), n ? msg : &kEmpty, n) == 1;
  // A bad signature leaves entries in the queue; they are expected, not errors to report.
  crypto::clear_ossl_errors();
  return ok;
}

Result<Bytes> PrivateKey::sign(const std::uint8_t* msg, std::size_t n, PssSalt salt) const {
  const int saltlen = salt == PssSalt::Max ? RSA_PSS_SALTLEN_MAX : 32;
  crypto::MdCtxPtr md(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by md
  Bytes sig(crypto::kModulusBytes);
  std::size_t sig_len = sig.size();
  static const std::uint8_t kEmpty = 0;
  if (!md ||
      EVP_DigestSignInit_ex(md.get(), &pctx, "SHA256", nullptr, nullptr, impl_->pkey.get(),
                            nullptr) != 1 ||
      !set_pss(pctx, saltlen) ||
      EVP_DigestSign(md.get(), sig.data(), &sig_len, n ? msg : &kEmpty, n) != 1) {
    return make_error(Errc::Crypto, crypto::ossl_error_text("RSA-PSS sign"));
  }
  sig.resize(sig_len);
  return sig;
}

Result<SecretBytes> PrivateKey::decrypt(const Bytes& ciphertext) const {
  if (ciphertext.size() != crypto::kModulusBytes) {
    return make_error(Errc::Crypto, "RSA-OAEP ciphertext is not 512 bytes");
  }
  crypto::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, impl_->pkey.get(), nullptr));
  std::array<std::uint8_t, crypto::kModulusBytes> buf;
  std::size_t len = buf.size();
  if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) != 1 || !set_oaep(ctx.get()) ||
      EVP_PKEY_decrypt(ctx.get(), buf.data(), &len, ciphertext.data(), ciphertext.size()) != 1) {
    sodium_memzero(buf.data(), buf.size());
    // One generic message whatever the cause: distinguishing padding failures would be an
    // oracle.
    crypto::clear_ossl_errors();
    return make_error(Errc::Crypto, "RSA-OAEP decryption failed");
  }
  SecretBytes out(buf.data(), len);
  sodium_memzero(buf.data(), buf.size());
  return out;
}

}  // namespace socp
