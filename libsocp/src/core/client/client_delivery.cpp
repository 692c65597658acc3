// Nothing lost, client side (docs/protocol-notes.md "Nothing lost"): receipts for what we
// sent, stored and live deliveries with their acknowledgements, long texts in pieces,
// resending after a reconnect, and /wait.
#include <algorithm>
#include <cstdlib>

#include "codec/utf8.h"
#include "core/client/client_events.h"
#include "core/client/client_impl.h"
#include "socp/messages.h"

namespace socp {
namespace {

using Step = ClientCore::Impl::Step;

// DELIVERY_ACK frames carry at most this many ids (servers accept up to 4096).
constexpr std::size_t kAcksPerFrame = 1024;
constexpr std::int64_t kDefaultWaitMs = 30'000;

json::Value receipt_event(const client::ReceiptChange& c, const ClientCore::Impl& s) {
  const client::OutDm& dm = *c.dm;
  json::Object o{
      {"event", c.event}, {"msg_id", dm.id}, {"to", dm.to}, {"to_name", s.dir.name_of(dm.to)}};
  if (dm.cmd != 0) o["cmd"] = static_cast<std::int64_t>(dm.cmd);
  if (c.event == "failed") {
    o["code"] = dm.fail_code;
    o["reason"] = dm.fail_reason;
  }
  return o;
}

}  // namespace

// ---- incoming ------------------------------------------------------------------------------

void ClientCore::Impl::on_incoming(const Incoming& m) {
  const std::string& from = m.sender;
  const bool named = !m.msg_id.empty() && m.msg_id.size() <= 64;
  // A copy of something already shown (our ack was lost, or the sender resent it): the
  // server needs the ack again, the user does not need the message again.
  if (named && seen.contains(from, m.msg_id)) {
    pending_acks.push_back(m.msg_id);
    return;
  }
  auto reject = [&](const std::string& reason) {
    emit(client::ev::rejected(reason, from, dir.name_of(from), m.ts));
    // Acknowledged although rejected: the check would fail the same way every time, and an
    // unacknowledged message is redelivered at every login until it expires on the server.
    // The user has been told ("rejected"); nothing is shown as genuine.
    if (named) pending_acks.push_back(m.msg_id);
  };

  auto sender_pub = PublicKey::parse(m.sender_pub);
  if (!sender_pub) return reject("bad sender key");
  const client::KnownUser* known = dir.find(from);
  const bool first_contact = !known || !known->key;
  if (!first_contact && *known->key != sender_pub.value()) return reject("sender key mismatch");
  // content_sig binds ciphertext, sender, recipient (us) and the original ts end to end.
  if (!verify_content(sender_pub.value(), m.ciphertext, from, me(), m.ts, m.content_sig)) {
    return reject("bad content signature");
  }
  auto ct = b64_decode(m.ciphertext);
  if (!ct) return reject("cannot decrypt");
  auto plain = cfg.key->decrypt(ct.value());
  if (!plain) return reject("cannot decrypt");
  // Trust on first use, and only for a message that passed every check.
  if (first_contact) (void)dir.offer_key(from, sender_pub.value());

  auto show = [&](std::string text, std::int64_t ts, const std::vector<std::string>& ids,
                  std::size_t pieces) {
    json::Value e =
        client::ev::message(from, dir.name_of(from), me(), std::move(text), ts, first_contact);
    if (named)
      e.as_object()["msg_id"] = m.parts.is_object() ? *json::get_string(m.parts, "id") : m.msg_id;
    if (pieces > 1) e.as_object()["pieces"] = static_cast<std::int64_t>(pieces);
    emit(std::move(e));
    ++messages_received;
    // Acknowledged only now that it was verified and shown.
    for (const std::string& id : ids) {
      if (id.empty()) continue;
      seen.insert(from, id);
      pending_acks.push_back(id);
    }
  };

  if (!m.parts.is_object()) {
    return show(std::string(plain.value().view()), m.ts, {named ? m.msg_id : std::string()}, 1);
  }
  client::Piece p;
  p.msg_id = named ? m.msg_id : std::string();
  p.index = *json::get_int(m.parts, "index");  // the codec checked {id, index, count}
  p.count = *json::get_int(m.parts, "count");
  p.ts = m.ts;
  p.text = std::string(plain.value().view());
  client::Assembled done;
  std::vector<client::Abandoned> pushed_out;
  const auto verdict =
      reassembly.add(from, *json::get_string(m.parts, "id"), std::move(p), done, now(), pushed_out);
  for (const client::Abandoned& a : pushed_out) {
    // Not acknowledged: the server keeps the pieces and hands them over again at the next
    // login, when the missing ones may be there.
    emit(client::ev::rejected("incomplete long message: " + std::to_string(a.received) + " of " +
                                  std::to_string(a.count) + " pieces (too many open)",
                              a.sender, dir.name_of(a.sender), a.ts));
  }
  switch (verdict) {
    case client::Reassembly::Verdict::Incomplete:
      return;
    case client::Reassembly::Verdict::Bad:
      return reject("bad long message parts");
    case client::Reassembly::Verdict::Complete:
      return show(std::move(done.text), done.ts, done.msg_ids, done.msg_ids.size());
  }
}

void ClientCore::Impl::on_deliver_batch(const Envelope& env) {
  // Entry by entry: one malformed entry must not hold back (or unacknowledge) the others.
  const json::Value* list = env.payload.find("messages");
  if (!list || !list->is_array()) {
    emit(client::ev::warning("malformed USER_DELIVER_BATCH: no 'messages' array"));
    return;
  }
  for (const json::Value& v : list->as_array()) {
    auto d = msg::DeliveredMessage::from_json(v);
    if (!d) {
      const std::string* from = json::get_string(v, "sender");
      const std::string sender = from ? *from : std::string();
      const auto ts = json::get_int(v, "ts");
      emit(client::ev::rejected("malformed USER_DELIVER_BATCH entry: " + d.error().detail, sender,
                                dir.name_of(sender), ts ? *ts : 0));
      // Never shown, and it would fail the same way every time: acknowledged.
      const std::string* id = json::get_string(v, "msg_id");
      if (id && !id->empty() && id->size() <= 64) pending_acks.push_back(*id);
      continue;
    }
    on_incoming(
        {d->msg_id, d->sender, d->sender_pub, d->ciphertext, d->content_sig, d->ts, d->parts});
  }
}

void ClientCore::Impl::flush_acks() {
  if (pending_acks.empty()) return;
  std::vector<std::string> ids = std::exchange(pending_acks, {});
  for (std::size_t i = 0; i < ids.size(); i += kAcksPerFrame) {
    msg::DeliveryAck a;
    a.ids.assign(
        ids.begin() + static_cast<std::ptrdiff_t>(i),
        ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), i + kAcksPerFrame)));
    // Unsigned: it only lets the server forget what it kept for us on this connection.
    send(MessageType::DeliveryAck, server_to(), next_ts(), a.to_json(), false);
  }
}

// ---- outgoing ------------------------------------------------------------------------------

void ClientCore::Impl::on_receipts(const Envelope& env) {
  auto r = msg::Receipts::from_json(env.payload);
  if (!r) {
    emit(client::ev::warning("malformed RECEIPTS: " + r.error().detail));
    return;
  }
  auto report = [this](std::optional<client::ReceiptChange> c) {
    if (c) emit(receipt_event(*c, *this));
  };
  for (const std::string& id : r->queued) report(outgoing.on_queued(id));
  for (const std::string& id : r->delivered) report(outgoing.on_delivered(id));
  for (const msg::FailedReceipt& f : r->failed)
    report(outgoing.on_failed(f.msg_id, f.code, f.reason));
}

void ClientCore::Impl::resend_unacknowledged() {
  std::size_t resent = 0;
  for (client::OutDm* dm : outgoing.unacknowledged()) {
    for (const client::OutPiece& p : dm->pieces) {
      if (p.state != client::OutPiece::State::Sent) continue;
      if (!send_piece(dm->to, p.ciphertext, p.msg_id, p.parts)) return;
      ++resent;
    }
  }
  emit(json::Object{{"event", "reconnected"},
                    {"resent", static_cast<std::int64_t>(resent)},
                    {"server_id", server_id}});
}

void ClientCore::Impl::disconnect() {
  connected = false;
  abort_files("connection lost");
  client::public_closed(*this);
  // What waited for an answer on the old connection runs again on the new one, in order and
  // with its command id.
  std::deque<Queued> again;
  for (const ListAsk& l : lists_in_flight) {
    if (l.visible) again.push_back({"/list", l.cmd});
  }
  for (auto& [user, w] : await_key) {
    for (auto& [text, cmd] : w.texts) again.push_back({"/tell " + user + " " + text, cmd});
  }
  queue.insert(queue.begin(), again.begin(), again.end());
  lists_in_flight.clear();
  list_pages.clear();
  await_key.clear();
  list_blocking = false;
  pending_acks.clear();  // the server hands those over again; they are recognised as seen
  // The next connection logs in with the key we hold (after Register or Recover too).
  cfg.mode = ClientMode::Login;
  cfg.password.wipe();
  set_phase(Phase::Idle);
}

void ClientCore::Impl::tick_delivery() {
  for (const client::Abandoned& a : reassembly.expire(now(), parts_timeout_ms)) {
    // Not acknowledged (see on_incoming): handed over again at the next login.
    emit(client::ev::rejected("incomplete long message: " + std::to_string(a.received) + " of " +
                                  std::to_string(a.count) + " pieces (timed out)",
                              a.sender, dir.name_of(a.sender), a.ts));
  }
  check_wait();
}

// ---- /wait ---------------------------------------------------------------------------------

Step ClientCore::Impl::cmd_wait(const std::string& args) {
  Wait w;
  w.cmd = cur_cmd;
  std::int64_t timeout_ms = kDefaultWaitMs;
  bool any_mode = false;
  std::vector<std::string> words;
  for (std::size_t i = 0; i < args.size();) {
    std::size_t j = args.find_first_of(" \t", i);
    if (j == std::string::npos) j = args.size();
    if (j > i) words.push_back(args.substr(i, j - i));
    i = j + 1;
  }
  auto number = [](const std::string& t, std::int64_t& out) {
    if (t.empty() || t.size() > 9 || t.find_first_not_of("0123456789") != std::string::npos) {
      return false;
    }
    out = std::atoll(t.c_str());
    return true;
  };
  for (std::size_t i = 0; i < words.size(); ++i) {
    std::int64_t n = 0;
    if (words[i] == "queued") {
      w.receipts = any_mode = true;
    } else if (words[i] == "delivered") {
      w.delivered = any_mode = true;
    } else if (words[i] == "messages" && i + 1 < words.size() && number(words[i + 1], n)) {
      w.messages = static_cast<std::uint64_t>(n);
      any_mode = true;
      ++i;
    } else if (words[i] == "timeout" && i + 1 < words.size() && number(words[i + 1], n)) {
      timeout_ms = n * 1000;
      ++i;
    } else {
      emit(client::ev::error("USAGE",
                             "usage: /wait [queued|delivered] [messages N] [timeout SECONDS]", ""));
      return Step::Done;
    }
  }
  if (!any_mode) w.delivered = true;
  w.active = true;
  w.deadline = now() + timeout_ms;
  wait = w;
  return Step::Done;  // drain() stops while the wait is active
}

void ClientCore::Impl::check_wait() {
  if (!wait.active) return;
  const std::size_t not_final = outgoing.not_final();
  const std::size_t unacked = outgoing.unacknowledged_count();
  const bool ok = (!wait.delivered || not_final == 0) && (!wait.receipts || unacked == 0) &&
                  messages_received >= wait.messages;
  const bool timed_out = !ok && now() >= wait.deadline;
  if (!ok && !timed_out) return;
  cur_cmd = wait.cmd;
  if (timed_out) {
    emit(client::ev::error("TIMEOUT", "/wait: condition not met in time", ""));
  }
  emit(json::Object{{"event", "waited"},
                    {"ok", ok},
                    {"pending", static_cast<std::int64_t>(wait.delivered ? not_final : unacked)},
                    {"received", static_cast<std::int64_t>(messages_received)}});
  cur_cmd = 0;
  wait = Wait{};
}

}  // namespace socp
