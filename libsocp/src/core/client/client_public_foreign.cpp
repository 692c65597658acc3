// /all towards public-channel members whose home server does not speak socp/1: such servers
// do not relay MSG_PUBLIC_CHANNEL and their clients hold no channel key, so each of them gets
// the post as one MSG_DIRECT {public: true}, encrypted to them with RSA-OAEP and signed in the
// content_sig form their clients verify (docs/interop.md). Members are known from
// LIST_RESPONSE.server_dialect. A post longer than one RSA-OAEP block is not sent this way
// (those clients do not reassemble pieces); a warning says so.
#include "core/client/client_events.h"
#include "core/client/client_impl.h"
#include "socp/bytes.h"
#include "socp/messages.h"

namespace socp {

std::size_t ClientCore::Impl::send_public_to_foreign(const std::string& text) {
  std::vector<const client::KnownUser*> targets;
  for (const auto& [id, u] : dir.all()) {
    if (id != me() && !u.server_dialect.empty() && u.key) targets.push_back(&u);
  }
  if (targets.empty()) return 0;
  if (text.size() > kOaepMaxPlaintext) {
    emit(client::ev::warning("/all longer than " + std::to_string(kOaepMaxPlaintext) +
                             " bytes does not reach the " + std::to_string(targets.size()) +
                             " members on servers without socp/1"));
    return 0;
  }
  std::size_t sent = 0;
  for (const client::KnownUser* u : targets) {
    auto ct = u->key->encrypt(text);
    if (!ct) continue;
    const std::int64_t ts = next_ts();
    const ContentSigForm form = client::content_sig_form_for(u->server_dialect);
    auto csig = sign_content(*cfg.key, ct.value(), me(), u->user_id, ts, form);
    if (!csig) continue;
    msg::MsgDirect m;
    m.ciphertext = b64url_encode(ct.value());
    m.sender_pub = cfg.key->public_key().b64url();
    m.content_sig = std::move(csig).value();
    m.msg_id = new_uuid_v4();
    m.is_public = true;
    if (send(MessageType::MsgDirect, u->user_id, ts, m.to_json(), true)) ++sent;
  }
  return sent;
}

}  // namespace socp
