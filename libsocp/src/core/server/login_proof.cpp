// Login proofs (login_proof.h).
#include "core/server/login_proof.h"

#include "socp/bytes.h"
#include "socp/messages.h"

namespace socp::core {

json::Value make_login_proof(const json::Value& hello_payload, const std::string& sig) {
  return json::Object{{"hello", hello_payload}, {"sig", sig}};
}

std::string login_digest(const json::Value& hello_payload) {
  return hex_encode(sha256(json::canonical(hello_payload)));
}

Result<LoginStamp> verify_login_proof(PublicKeyCache& keys, const json::Value& proof,
                                      const std::string& user_pubkey, const std::string& origin) {
  SOCP_TRY(msg::require_only_fields(proof, {"hello", "sig"}, "proof"));
  const json::Value* hello = proof.find("hello");
  const std::string* sig = json::get_string(proof, "sig");
  if (!hello || !hello->is_object() || !sig) {
    return make_error(Errc::BadFrame, "proof needs a hello object and a sig");
  }
  auto h = msg::UserHello::from_json(*hello);
  if (!h) return h.error();
  if (!h->ts) return make_error(Errc::BadFrame, "proof hello has no signed ts");
  auto key = keys.get(h->pubkey);
  if (!key || key->b64url() != user_pubkey) {
    return make_error(Errc::InvalidSig, "proof hello is not signed by the user's pinned key");
  }
  if (!h->server_id.empty() && h->server_id != origin) {
    return make_error(Errc::InvalidSig, "proof is of a login at another server");
  }
  if (verify_payload(*key, *hello, *sig) == SigForm::None) {
    return make_error(Errc::InvalidSig, "proof signature does not verify");
  }
  LoginStamp st;
  st.ts = *h->ts;
  st.digest = login_digest(*hello);
  st.proof = proof;
  return st;
}

}  // namespace socp::core
