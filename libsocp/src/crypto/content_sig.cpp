// End-to-end content signatures (docs/protocol.md §6, vectors/content_sig.json).
#include <string>

#include "crypto/key_impl.h"

namespace socp {
namespace {

void append(Bytes& out, std::string_view s) {
  out.insert(out.end(), s.begin(), s.end());
}

// from || to || decimal ts, with `to` left out for the public channel (empty `to`).
void append_tail(Bytes& out, std::string_view from, std::string_view to, std::int64_t ts) {
  append(out, from);
  append(out, to);
  append(out, std::to_string(ts));
}

}  // namespace

Bytes content_message(const Bytes& ciphertext, std::string_view from, std::string_view to,
                      std::int64_t ts) {
  Bytes msg(ciphertext);
  append_tail(msg, from, to, ts);
  return msg;
}

Result<std::string> sign_content(const PrivateKey& key, const Bytes& ciphertext,
                                 std::string_view from, std::string_view to, std::int64_t ts,
                                 ContentSigForm form) {
  Bytes msg;
  if (form == ContentSigForm::B64Text) {
    const std::string text = b64url_encode(ciphertext);
    msg.assign(text.begin(), text.end());
    append_tail(msg, from, to, ts);
  } else {
    msg = content_message(ciphertext, from, to, ts);
  }
  if (form == ContentSigForm::Sha256) msg = sha256(msg.data(), msg.size());
  auto sig = key.sign(msg.data(), msg.size());
  if (!sig) return sig.error();
  return b64url_encode(*sig);
}

// Variants in the order peers most often use them (B is what socp emits). An invalid
// signature costs five RSA verifies (~0.3 ms), acceptable for an end-to-end check done once
// per displayed message.
bool verify_content(const PublicKey& key, std::string_view ciphertext_b64, std::string_view from,
                    std::string_view to, std::int64_t ts, std::string_view content_sig_b64) {
  if (content_sig_b64.empty()) return false;
  const auto sig = b64_decode(content_sig_b64);
  if (!sig || sig->size() != crypto::kModulusBytes) return false;
  const auto verify = [&](const Bytes& m) { return key.verify(m.data(), m.size(), *sig); };

  // B_raw and C_sha256_raw need the ciphertext bytes; a ciphertext that is not base64 can
  // still match the text variants.
  const auto ct = b64_decode(ciphertext_b64);
  Bytes b_msg;
  if (ct) {
    b_msg = content_message(*ct, from, to, ts);
    if (verify(b_msg)) return true;
  }
  Bytes a_msg(ciphertext_b64.begin(), ciphertext_b64.end());
  append_tail(a_msg, from, to, ts);
  if (verify(a_msg)) return true;
  if (ct && verify(sha256(b_msg.data(), b_msg.size()))) return true;
  if (verify(sha256(a_msg.data(), a_msg.size()))) return true;

  json::Object obj;
  obj.emplace("ciphertext", json::Value(ciphertext_b64));
  obj.emplace("from", json::Value(from));
  if (!to.empty()) obj.emplace("to", json::Value(to));
  obj.emplace("ts", json::Value(ts));
  const std::string e_msg = json::canonical(json::Value(std::move(obj)));
  return key.verify(e_msg, *sig);
}

}  // namespace socp
