// PrivateKey: generation (2 or 4 primes), PEM load/store.
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "crypto/key_impl.h"

namespace socp {
namespace {

// A 4-prime 4096-bit PKCS#8 PEM is ~3.5 KB; leave ample room but bound the work.
constexpr std::size_t kMaxPrivatePem = 32 * 1024;

Error bad_key(std::string detail) {
  return make_error(Errc::BadKey, std::move(detail));
}

// OpenSSL's default passphrase callback prompts on the terminal; ours refuses instead, so an
// encrypted key is simply a BadKey.
int no_passphrase(char*, int, int, void*) {
  return -1;
}

Result<PrivateKey::Impl> wrap(crypto::PkeyPtr pkey) {
  auto pub = crypto::make_public_impl(pkey.get());
  if (!pub) return pub.error();
  PrivateKey::Impl impl;
  impl.pkey = std::move(pkey);
  impl.pub = std::move(pub).value();
  return impl;
}

}  // namespace

PrivateKey::PrivateKey(std::shared_ptr<const Impl> impl)
    : impl_(std::move(impl)), pub_(impl_->pub) {}

Result<PrivateKey> PrivateKey::generate(int primes) {
  if (primes != 2 && primes != 4) {
    return make_error(Errc::InvalidArgument, "RSA key generation supports 2 or 4 primes");
  }
  crypto::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), crypto::kModulusBits) != 1 ||
      EVP_PKEY_CTX_set_rsa_keygen_primes(ctx.get(), primes) != 1 ||
      EVP_PKEY_generate(ctx.get(), &raw) != 1) {
    return make_error(Errc::Crypto, crypto::ossl_error_text("RSA key generation"));
  }
  auto impl = wrap(crypto::PkeyPtr(raw));  // default e is 65537; wrap re-checks anyway
  if (!impl) return make_error(Errc::Crypto, impl.error().detail);
  return PrivateKey(std::make_shared<const Impl>(std::move(impl).value()));
}

Result<PrivateKey> PrivateKey::from_pem(std::string_view pem) {
  if (pem.size() > kMaxPrivatePem) return bad_key("private key PEM too long");
  const auto start = pem.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return bad_key("empty private key");
  const std::string_view body = pem.substr(start);
  if (body.rfind("-----BEGIN PRIVATE KEY-----", 0) != 0 &&
      body.rfind("-----BEGIN RSA PRIVATE KEY-----", 0) != 0) {
    return bad_key("not an unencrypted PKCS#8 or RSA private key PEM");
  }
  // Read-only memory BIO: reads straight from the caller's buffer, no copy of the secret.
  crypto::BioPtr bio(BIO_new_mem_buf(body.data(), static_cast<int>(body.size())));
  if (!bio) return make_error(Errc::Internal, crypto::ossl_error_text("BIO_new_mem_buf"));
  crypto::PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!pkey) return bad_key(crypto::ossl_error_text("private key PEM"));
  auto impl = wrap(std::move(pkey));
  if (!impl) return impl.error();
  return PrivateKey(std::make_shared<const Impl>(std::move(impl).value()));
}

SecretBytes PrivateKey::to_pem() const {
  // Secure-memory BIO: its buffer is cleansed when freed (and lives in the secure heap when
  // the application enabled one), so the only copy that outlives this call is the SecretBytes.
  crypto::BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), impl_->pkey.get(), nullptr, nullptr, 0, nullptr,
                                       nullptr) != 1) {
    crypto::clear_ossl_errors();
    return SecretBytes();
  }
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  if (n <= 0 || data == nullptr) return SecretBytes();
  return SecretBytes(reinterpret_cast<const std::uint8_t*>(data), static_cast<std::size_t>(n));
}

const PublicKey& PrivateKey::public_key() const noexcept {
  return pub_;
}

}  // namespace socp
