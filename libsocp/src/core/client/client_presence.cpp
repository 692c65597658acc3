// Who is where: USER_ADVERTISE, USER_REMOVE, LIST_RESPONSE, PUBKEY_RESPONSE, and key pinning.
#include <algorithm>

#include "core/client/client_events.h"
#include "core/client/client_impl.h"
#include "socp/messages.h"

namespace socp {

void ClientCore::Impl::offer_key(const std::string& user_id, const std::string& key_text,
                                 const std::string& source) {
  if (key_text.empty()) return;
  auto key = PublicKey::parse(key_text);
  if (!key) {
    emit(client::ev::warning("unusable public key for " + user_id + " (" + source +
                             "): " + key.error().detail));
    return;
  }
  if (dir.offer_key(user_id, key.value()) == client::PinResult::Changed) {
    emit(client::ev::key_changed(*dir.find(user_id), key.value(), source));
  }
}

void ClientCore::Impl::on_advertise(const Envelope& env) {
  auto ad = msg::UserAdvertise::from_json(env.payload);
  if (!ad || ad->user_id.empty()) {
    emit(client::ev::warning("malformed USER_ADVERTISE ignored"));
    return;
  }
  client::KnownUser& u = dir.upsert(ad->user_id);
  dir.set_name(u, msg::display_name_of(ad->meta, ad->user_id));
  u.server_id = ad->server_id;
  u.online = true;
  // The client's capabilities as its meta states them. Whether every server on the way can
  // carry bulk frames is not known from an advert: a server that cannot refuses the manifest
  // and the file falls back to RSA chunks (client_files_bulk_send.cpp).
  u.file_bulk = false;
  if (const json::Value* caps = ad->meta.find("caps"); caps && caps->is_array()) {
    for (const json::Value& c : caps->as_array()) {
      if (c.is_string() && c.as_string() == kFileBulkCapability) u.file_bulk = true;
    }
  }
  offer_key(ad->user_id, ad->pubkey, "advertise");
  emit(client::ev::presence(*dir.find(ad->user_id)));
}

void ClientCore::Impl::on_remove(const Envelope& env) {
  auto rm = msg::UserRemove::from_json(env.payload);
  if (!rm) {
    emit(client::ev::warning("malformed USER_REMOVE ignored"));
    return;
  }
  client::KnownUser* u = dir.find_mut(rm->user_id);
  if (!u) return;
  // A remove from the user's old server after they moved elsewhere is stale.
  if (!u->server_id.empty() && !rm->server_id.empty() && u->server_id != rm->server_id) return;
  u->online = false;
  emit(client::ev::presence(*u));
}

void ClientCore::Impl::learn_list_page(const std::vector<msg::ListEntry>& entries,
                                       std::vector<std::string>& ids) {
  for (const msg::ListEntry& e : entries) {
    if (e.user_id.empty()) continue;
    client::KnownUser& u = dir.upsert(e.user_id);
    if (!e.display_name.empty()) dir.set_name(u, e.display_name);
    if (!e.server_id.empty()) u.server_id = e.server_id;
    u.server_dialect = e.server_dialect;
    u.file_bulk = std::find(e.caps.begin(), e.caps.end(), kFileBulkCapability) != e.caps.end();
    u.online = e.online;
    offer_key(e.user_id, e.pubkey, "list");
    ids.push_back(e.user_id);
  }
}

void ClientCore::Impl::on_list_response(const Envelope& env) {
  auto lr = msg::ListResponse::from_json(env.payload);
  if (lr && !lr->next.empty() && lr->next > (list_pages.empty() ? "" : list_pages.back()) &&
      list_pages.size() < 10'000'000) {
    // A paged answer (docs/protocol-notes.md "Paged answers"): learn this page, ask for the
    // next; the list event comes with the last page. The same in-flight entry stays first.
    learn_list_page(lr->users, list_pages);
    msg::ListRequest next;
    next.after = lr->next;
    send(MessageType::ListRequest, server_to(), next_ts(), next.to_json(), false);
    return;
  }
  bool user_visible = true;
  if (!lists_in_flight.empty()) {
    user_visible = lists_in_flight.front().visible;
    cur_cmd = lists_in_flight.front().cmd;
    lists_in_flight.pop_front();
  }
  struct ResetCmd {
    std::uint64_t& c;
    ~ResetCmd() { c = 0; }
  } reset{cur_cmd};
  list_blocking = false;
  list_received = true;
  if (!lr) {
    emit(client::ev::warning("malformed LIST_RESPONSE: " + lr.error().detail));
    return;
  }
  std::vector<std::string> ids = std::move(list_pages);
  list_pages.clear();
  learn_list_page(lr->users, ids);
  if (!user_visible) return;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::vector<const client::KnownUser*> users;
  for (const std::string& id : ids) users.push_back(dir.find(id));
  std::sort(users.begin(), users.end(), [](const client::KnownUser* a, const client::KnownUser* b) {
    return client::display_order(*a, *b);
  });
  emit(client::ev::list(users));
}

void ClientCore::Impl::on_pubkey_response(const Envelope& env) {
  auto pr = msg::PubkeyResponse::from_json(env.payload);
  if (!pr) {
    emit(client::ev::warning("malformed PUBKEY_RESPONSE: " + pr.error().detail));
    return;
  }
  // dir_sig = server PSS over user_id || pubkey (docs/protocol-notes.md).
  auto dir_sig = b64_decode(pr->dir_sig);
  if (!dir_sig || !server_pub->verify(pr->user_id + pr->pubkey, dir_sig.value())) {
    emit(client::ev::warning("PUBKEY_RESPONSE for " + pr->user_id + ": dir_sig does not verify"));
    return;
  }
  client::KnownUser& u = dir.upsert(pr->user_id);
  if (!pr->server_id.empty()) u.server_id = pr->server_id;
  offer_key(pr->user_id, pr->pubkey, "pubkey");

  auto it = await_key.find(pr->user_id);
  if (it == await_key.end()) return;
  auto texts = std::move(it->second.texts);
  await_key.erase(it);
  const client::KnownUser* target = dir.find(pr->user_id);
  for (const auto& [text, cmd] : texts) {
    cur_cmd = cmd;
    if (target && target->key) {
      send_text(*target, text);
    } else {
      emit(client::ev::error("NO_KEY", "no usable key for " + pr->user_id + "; message not sent",
                             "PUBKEY_REQUEST"));
    }
    cur_cmd = 0;
  }
}

}  // namespace socp
