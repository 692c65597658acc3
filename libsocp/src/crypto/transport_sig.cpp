// Transport signatures: PSS over the canonical payload bytes (docs/protocol.md §4).
#include "crypto/key_impl.h"

namespace socp {

Result<std::string> sign_canonical(const PrivateKey& key, std::string_view canonical_bytes,
                                   PssSalt salt) {
  auto sig = key.sign(canonical_bytes, salt);
  if (!sig) return sig.error();
  return b64url_encode(*sig);
}

Result<std::string> sign_payload(const PrivateKey& key, const json::Value& payload, PssSalt salt) {
  return sign_canonical(key, json::canonical(payload), salt);
}

SigForm verify_payload(const PublicKey& key, const json::Value& payload, std::string_view sig_b64) {
  if (sig_b64.empty()) return SigForm::None;
  auto sig = b64_decode(sig_b64);
  if (!sig || sig->size() != crypto::kModulusBytes) return SigForm::None;

  // Forms in order of how often peers use them; a form identical to one already tried (pure
  // ASCII payloads, or "{}") is skipped so a bad signature costs as few RSA verifies as possible.
  const std::string canon = json::canonical(payload);
  if (key.verify(canon, *sig)) return SigForm::Canonical;
  const std::string utf8 = json::canonical_utf8(payload);
  if (utf8 != canon && key.verify(utf8, *sig)) return SigForm::Utf8;
  const std::string spaced = json::canonical_spaced(payload);
  if (spaced != canon && spaced != utf8 && key.verify(spaced, *sig)) return SigForm::Spaced;
  return SigForm::None;
}

}  // namespace socp
