// PublicKey: parsing every encoding peers send (docs/protocol.md §3), validation, cached encodings.
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/x509.h>
#include <algorithm>
#include <iterator>

#include "crypto/key_impl.h"

namespace socp {
namespace crypto {
namespace {

// A 4096-bit SPKI is 550 DER bytes; its PEM inside base64 is ~1.1 KB. Anything much larger is
// not a key we accept, and refusing it early bounds the work a hostile peer can cause.
constexpr std::size_t kMaxKeyText = 8192;

Error bad_key(std::string detail) {
  return make_error(Errc::BadKey, std::move(detail));
}

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

// PEM: "PUBLIC KEY" (SPKI) or "RSA PUBLIC KEY" (PKCS#1). The label is checked first so that a
// private key pasted by mistake is refused instead of silently yielding its public half.
Result<PkeyPtr> decode_pem(std::string_view pem) {
  pem = trim(pem);
  if (!starts_with(pem, "-----BEGIN PUBLIC KEY-----") &&
      !starts_with(pem, "-----BEGIN RSA PUBLIC KEY-----")) {
    return bad_key("PEM is not a public key");
  }
  EVP_PKEY* raw = nullptr;
  OSSL_DECODER_CTX* dctx = OSSL_DECODER_CTX_new_for_pkey(&raw, "PEM", nullptr, "RSA",
                                                         EVP_PKEY_PUBLIC_KEY, nullptr, nullptr);
  if (dctx == nullptr) return bad_key(ossl_error_text("PEM decoder"));
  auto data = reinterpret_cast<const unsigned char*>(pem.data());
  std::size_t len = pem.size();
  const int ok = OSSL_DECODER_from_data(dctx, &data, &len);
  OSSL_DECODER_CTX_free(dctx);
  PkeyPtr pkey(raw);
  if (ok != 1 || !pkey) return bad_key(ossl_error_text("PEM public key"));
  return pkey;
}

// DER: SubjectPublicKeyInfo (what socp emits), else a bare PKCS#1 RSAPublicKey. The whole
// buffer must be consumed: trailing bytes would make two texts name one key.
Result<PkeyPtr> decode_der(const std::uint8_t* der, std::size_t n) {
  if (n == 0 || n > kMaxKeyText) return bad_key("DER key has a bad size");
  const long len = static_cast<long>(n);
  const unsigned char* p = der;
  PkeyPtr pkey(d2i_PUBKEY(nullptr, &p, len));
  if (!pkey || p != der + n) {
    p = der;
    pkey.reset(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, len));
    if (!pkey || p != der + n) {
      clear_ossl_errors();
      return bad_key("not a DER public key");
    }
  }
  clear_ossl_errors();  // the failed SPKI attempt may have left entries
  return pkey;
}

}  // namespace

Status check_rsa4096(const EVP_PKEY* pkey) {
  if (pkey == nullptr || !EVP_PKEY_is_a(pkey, "RSA")) return bad_key("not an RSA key");
  if (EVP_PKEY_get_bits(pkey) != kModulusBits) return bad_key("RSA modulus is not 4096 bits");
  BIGNUM* e_raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e_raw) != 1) {
    return bad_key(ossl_error_text("RSA exponent"));
  }
  BnPtr e(e_raw);
  if (!BN_is_word(e.get(), 65537)) return bad_key("RSA exponent is not 65537");
  return ok_status();
}

Result<std::shared_ptr<const PublicKey::Impl>> make_public_impl(const EVP_PKEY* pkey) {
  SOCP_TRY(check_rsa4096(pkey));
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(pkey, &der);
  if (n <= 0) return bad_key(ossl_error_text("encoding public key"));
  Bytes der_bytes(der, der + n);
  OPENSSL_free(der);

  // A public-only handle: for a private key this drops the private half from the PublicKey.
  const unsigned char* p = der_bytes.data();
  auto impl = std::make_shared<PublicKey::Impl>();
  impl->pkey.reset(d2i_PUBKEY(nullptr, &p, static_cast<long>(der_bytes.size())));
  if (!impl->pkey) return bad_key(ossl_error_text("re-reading public key"));
  impl->der_b64url = b64url_encode(der_bytes);
  impl->fingerprint = hex_encode(sha256(der_bytes.data(), der_bytes.size()));
  return std::shared_ptr<const PublicKey::Impl>(std::move(impl));
}

}  // namespace crypto

Result<PublicKey> PublicKey::parse(std::string_view any_form) {
  if (any_form.size() > crypto::kMaxKeyText) return crypto::bad_key("key text too long");
  const std::string_view text = crypto::trim(any_form);
  if (text.empty()) return crypto::bad_key("empty key");

  Result<crypto::PkeyPtr> pkey = crypto::bad_key("unparsed");
  if (crypto::starts_with(text, "-----BEGIN")) {
    pkey = crypto::decode_pem(text);
  } else {
    // base64url(DER), standard base64 DER, or base64url(PEM text) ("LS0tLS1CRUdJTi...").
    auto bytes = b64_decode(text);
    if (!bytes) return crypto::bad_key("key is neither PEM nor base64");
    const std::string_view as_text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
    if (crypto::starts_with(as_text, "-----BEGIN")) {
      pkey = crypto::decode_pem(as_text);
    } else {
      pkey = crypto::decode_der(bytes->data(), bytes->size());
    }
  }
  if (!pkey) return pkey.error();
  auto impl = crypto::make_public_impl(pkey->get());
  if (!impl) return impl.error();
  return PublicKey(std::move(impl).value());
}

Result<PublicKey> PublicKey::from_der(const Bytes& der) {
  auto pkey = crypto::decode_der(der.data(), der.size());
  if (!pkey) return pkey.error();
  auto impl = crypto::make_public_impl(pkey->get());
  if (!impl) return impl.error();
  return PublicKey(std::move(impl).value());
}

bool PublicKey::is_canonical_text(std::string_view text) noexcept {
  // SEQUENCE { SEQUENCE { rsaEncryption OID, NULL }, BIT STRING { SEQUENCE { INTEGER n,
  // INTEGER 65537 } } } with n of 512 bytes, top bit set (a leading 0x00 keeps it positive).
  static constexpr std::uint8_t kHead[] = {0x30, 0x82, 0x02, 0x22, 0x30, 0x0d, 0x06, 0x09, 0x2a,
                                           0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05,
                                           0x00, 0x03, 0x82, 0x02, 0x0f, 0x00, 0x30, 0x82, 0x02,
                                           0x0a, 0x02, 0x82, 0x02, 0x01, 0x00};
  static constexpr std::uint8_t kTail[] = {0x02, 0x03, 0x01, 0x00, 0x01};
  constexpr std::size_t kDer = sizeof kHead + crypto::kModulusBytes + sizeof kTail;  // 550
  constexpr std::size_t kChars = (kDer * 4 + 2) / 3;                                 // 734
  if (text.size() != kChars) return false;
  for (char ch : text) {
    const bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
    if (!ok) return false;
  }
  auto der = b64_decode(text);
  if (!der || der->size() != kDer) return false;
  const std::uint8_t* d = der->data();
  if (!std::equal(std::begin(kHead), std::end(kHead), d)) return false;
  if ((d[sizeof kHead] & 0x80) == 0) return false;  // not a 4096-bit modulus
  if (!std::equal(std::begin(kTail), std::end(kTail), d + kDer - sizeof kTail)) return false;
  return b64url_encode(*der) == text;  // no stray bits in the last character
}

const std::string& PublicKey::b64url() const noexcept {
  return impl_->der_b64url;
}

const std::string& PublicKey::fingerprint_hex() const noexcept {
  return impl_->fingerprint;
}

}  // namespace socp
