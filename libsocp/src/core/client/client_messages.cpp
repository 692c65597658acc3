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
    w.texts.push_back(text);
    return Step::Done;
  }
  send_text(*r.user, text);
  return Step::Done;
}

void ClientCore::Impl::send_text(const client::KnownUser& u, const std::string& text) {
  std::vector<std::string> pieces = split_utf8(text, kOaepMaxPlaintext);
  for (const std::string& piece : pieces) {
    if (!send_piece(u, piece)) return;
  }
  emit(client::ev::sent(u.user_id, u.display_name, text.size(), pieces.size()));
}

bool ClientCore::Impl::send_piece(const client::KnownUser& u, const std::string& piece) {
  auto ct = u.key->encrypt(piece);
  if (!ct) {
    emit(client::ev::error("CRYPTO", "cannot encrypt for " + u.user_id + ": " + ct.error().detail,
                           ""));
    return false;
  }
  const std::int64_t ts = next_ts();
  auto csig = sign_content(*cfg.key, ct.value(), me(), u.user_id, ts);
  if (!csig) {
    emit(client::ev::error("CRYPTO", "cannot sign: " + csig.error().detail, ""));
    return false;
  }
  msg::MsgDirect m;
  m.ciphertext = b64url_encode(ct.value());
  m.sender_pub = cfg.key->public_key().b64url();
  m.content_sig = std::move(csig).value();
  return send(MessageType::MsgDirect, u.user_id, ts, m.to_json(), true);
}

void ClientCore::Impl::on_user_deliver(const Envelope& env) {
  auto d = msg::UserDeliver::from_json(env.payload);
  if (!d) {
    const std::string* s = json::get_string(env.payload, "sender");
    std::string from = s ? *s : std::string();
    emit(client::ev::rejected("malformed USER_DELIVER: " + d.error().detail, from,
                              dir.name_of(from), env.ts));
    return;
  }
  const std::string& from = d->sender;
  auto reject = [&](const std::string& reason) {
    emit(client::ev::rejected(reason, from, dir.name_of(from), env.ts));
  };

  auto sender_pub = PublicKey::parse(d->sender_pub);
  if (!sender_pub) return reject("bad sender key");
  const client::KnownUser* known = dir.find(from);
  const bool first_contact = !known || !known->key;
  if (!first_contact && *known->key != sender_pub.value()) return reject("sender key mismatch");

  // content_sig binds ciphertext, sender, recipient (us) and the original ts end to end.
  if (!verify_content(sender_pub.value(), d->ciphertext, from, me(), env.ts, d->content_sig)) {
    return reject("bad content signature");
  }
  auto ct = b64_decode(d->ciphertext);
  if (!ct) return reject("cannot decrypt");
  auto plain = cfg.key->decrypt(ct.value());
  if (!plain) return reject("cannot decrypt");

  // Trust on first use, and only for a message that passed every check.
  if (first_contact) (void)dir.offer_key(from, sender_pub.value());
  emit(client::ev::message(from, dir.name_of(from), me(), std::string(plain.value().view()), env.ts,
                           first_contact));
}

}  // namespace socp
