// Direct messages: /tell (OAEP to the recipient + content_sig), and USER_DELIVER
// (sender key pinning, content_sig check, decryption). A rejected message is never shown as
// a genuine one.
#include "codec/utf8.h"
#include "core/client/client_events.h"
#include "core/client/client_impl.h"
#include "socp/messages.h"
#include "socp/protocol.h"

namespace socp {
namespace {

using Step = ClientCore::Impl::Step;

// A user cannot queue unbounded text behind a PUBKEY_REQUEST that never comes back.
constexpr std::size_t kMaxAwaitingTexts = 64;

}  // namespace

std::vector<std::string> split_utf8(std::string_view text, std::size_t max_bytes) {
  std::vector<std::string> pieces;
  if (max_bytes < 4) max_bytes = 4;  // room for any code point
  std::size_t start = 0, i = 0;
  while (i < text.size()) {
    std::size_t next = i;
    (void)codec::decode_utf8(text, next);  // ill-formed bytes advance by one
    if (next - start > max_bytes) {
      pieces.emplace_back(text.substr(start, i - start));
      start = i;
    }
    i = next;
  }
  if (start < text.size()) pieces.emplace_back(text.substr(start));
  return pieces;
}

std::string format_fingerprint(std::string_view hex) {
  std::string out;
  out.reserve(hex.size() + hex.size() / 4);
  for (std::size_t i = 0; i < hex.size(); ++i) {
    if (i > 0 && i % 4 == 0) out.push_back(' ');
    out.push_back(hex[i]);
  }
  return out;
}

Step ClientCore::Impl::cmd_tell(const std::string& target, const std::string& text) {
  if (!codec::valid_utf8(text)) {
    emit(client::ev::error("USAGE", "text is not valid UTF-8", ""));
    return Step::Done;
  }
  client::Resolution r = dir.resolve(target);
  if (!r.candidates.empty()) {
    emit(client::ev::ambiguous(target, r.candidates));
    return Step::Done;
  }
  if (!r.user) {
    // Adverts may still be on their way right after login: refresh once before giving up.
    if (!list_received) return Step::NeedList;
    emit(client::ev::error("USER_NOT_FOUND", "no known user '" + target + "'", ""));
    return Step::Done;
  }
  if (!r.user->key) {
    AwaitKey& w = await_key[r.user->user_id];
    if (w.texts.size() >= kMaxAwaitingTexts) {
      emit(client::ev::error("BUSY", "too many messages waiting for a key", ""));
      return Step::Done;
    }
    if (w.texts.empty()) {
      w.since = now();
      send(MessageType::PubkeyRequest, server_to(), next_ts(),
           msg::PubkeyRequest{r.user->user_id}.to_json(), false);
    }
    w.texts.emplace_back(text, cur_cmd);
    return Step::Done;
  }
  send_text(*r.user, text);
  return Step::Done;
}

void ClientCore::Impl::send_text(const client::KnownUser& u, const std::string& text) {
  std::vector<std::string> pieces = split_utf8(text, kOaepMaxPlaintext);
  if (pieces.size() > static_cast<std::size_t>(client::Reassembly::kMaxPieces)) {
    emit(client::ev::error("TOO_LARGE",
                           "a direct message is limited to " +
                               std::to_string(client::Reassembly::kMaxPieces) + " pieces of " +
                               std::to_string(kOaepMaxPlaintext) + " bytes",
                           ""));
    return;
  }
  client::OutDm dm;
  dm.cmd = cur_cmd;
  dm.to = u.user_id;
  dm.to_name = u.display_name;
  // Every piece has its own msg_id (servers dedupe and send receipts per piece); the pieces
  // of a long text share parts.id, the DM's id.
  const std::string parts_id = pieces.size() > 1 ? new_uuid_v4() : std::string();
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    auto ct = u.key->encrypt(pieces[i]);
    if (!ct) {
      emit(client::ev::error("CRYPTO", "cannot encrypt for " + u.user_id + ": " + ct.error().detail,
                             ""));
      return;
    }
    client::OutPiece p;
    p.msg_id = new_uuid_v4();
    p.ciphertext = b64url_encode(ct.value());
    if (!parts_id.empty()) {
      p.parts = json::Object{{"id", parts_id},
                             {"index", static_cast<std::int64_t>(i)},
                             {"count", static_cast<std::int64_t>(pieces.size())}};
    }
    dm.pieces.push_back(std::move(p));
  }
  for (const client::OutPiece& p : dm.pieces) {
    if (!send_piece(u.user_id, p.ciphertext, p.msg_id, p.parts)) return;
  }
  dm.id = parts_id.empty() ? dm.pieces.front().msg_id : parts_id;
  json::Value e = client::ev::sent(u.user_id, u.display_name, text.size(), pieces.size());
  e.as_object()["msg_id"] = dm.id;
  emit(std::move(e));
  // Only a socp/1 server sends receipts: elsewhere nothing would ever settle the DM.
  if (server_socp) outgoing.add(std::move(dm));
}

bool ClientCore::Impl::send_piece(const std::string& to, const std::string& ciphertext_b64,
                                  const std::string& msg_id, const json::Value& parts) {
  auto ct = b64_decode(ciphertext_b64);
  if (!ct) {
    emit(client::ev::error("INTERNAL", "unreadable ciphertext", ""));
    return false;
  }
  // A fresh ts each time (a resend too): content_sig covers it, and servers drop frames
  // whose signed ts they have seen or that are stale.
  const std::int64_t ts = next_ts();
  // Clients of a G43 server verify only the SHA-256 form (docs/interop.md); socp's own and
  // every other client accept the raw form.
  const client::KnownUser* ku = dir.find(to);
  const ContentSigForm form = client::content_sig_form_for(ku ? ku->server_dialect : "");
  auto csig = sign_content(*cfg.key, ct.value(), me(), to, ts, form);
  if (!csig) {
    emit(client::ev::error("CRYPTO", "cannot sign: " + csig.error().detail, ""));
    return false;
  }
  msg::MsgDirect m;
  m.ciphertext = ciphertext_b64;
  m.sender_pub = cfg.key->public_key().b64url();
  m.content_sig = std::move(csig).value();
  m.msg_id = msg_id;
  m.parts = parts;
  return send(MessageType::MsgDirect, to, ts, m.to_json(), true);
}

void ClientCore::Impl::on_user_deliver(const Envelope& env) {
  auto d = msg::UserDeliver::from_json(env.payload);
  if (!d) {
    const std::string* s = json::get_string(env.payload, "sender");
    std::string from = s ? *s : std::string();
    emit(client::ev::rejected("malformed USER_DELIVER: " + d.error().detail, from,
                              dir.name_of(from), env.ts));
    // Never shown, so it can never be shown later either: acknowledged (see on_incoming).
    const std::string* id = json::get_string(env.payload, "msg_id");
    if (id && !id->empty() && id->size() <= 64) pending_acks.push_back(*id);
    return;
  }
  Incoming m;
  m.msg_id = d->msg_id;
  m.sender = d->sender;
  m.sender_pub = d->sender_pub;
  m.ciphertext = d->ciphertext;
  m.content_sig = d->content_sig;
  m.ts = env.ts;  // the original send time (servers keep it), covered by content_sig
  m.parts = d->parts;
  on_incoming(m);
}

}  // namespace socp
