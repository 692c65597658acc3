// ClientCore: dispatch, the command queue, timeouts and the end of the session.
#include <algorithm>

#include "core/client/client_events.h"
#include "core/client/client_impl.h"
#include "socp/messages.h"

namespace socp {

using Phase = ClientCore::Impl::Phase;
using Step = ClientCore::Impl::Step;

// ---- Impl helpers ------------------------------------------------------------------------

std::int64_t ClientCore::Impl::next_ts() {
  // Strictly increasing: the pieces of one long message keep their order and never share
  // a (ts, from, to) with each other.
  std::int64_t t = std::max(now(), last_ts + 1);
  last_ts = t;
  return t;
}

void ClientCore::Impl::emit(json::Value e) {
  if (cur_cmd != 0 && e.is_object() && !e.find("cmd")) {
    e.as_object()["cmd"] = static_cast<std::int64_t>(cur_cmd);
  }
  events.push_back(std::move(e));
}

void ClientCore::Impl::set_phase(Phase p) {
  phase = p;
  phase_since = now();
}

bool ClientCore::Impl::send(MessageType type, const std::string& to, std::int64_t ts,
                            json::Value payload, bool sign) {
  // Before recovery the user id may be unknown; `from` must still be a UUID (docs/protocol.md §2).
  static const std::string kNoUserYet = "00000000-0000-4000-8000-000000000000";
  Envelope env = make_envelope(type, me().empty() ? kNoUserYet : me(), to, ts, std::move(payload));
  if (sign) {
    if (!cfg.key) {
      fail(ClientOutcome::ProtocolError, "INTERNAL", "no private key to sign with", "");
      return false;
    }
    auto sig = sign_payload(*cfg.key, env.payload);
    if (!sig) {
      fail(ClientOutcome::ProtocolError, "INTERNAL", "signing failed: " + sig.error().detail, "");
      return false;
    }
    env.sig = std::move(sig).value();
  }
  frames.push_back(serialize(env));
  return true;
}

void ClientCore::Impl::fail(ClientOutcome o, const std::string& code, const std::string& detail,
                            const std::string& msg_ref) {
  emit(client::ev::error(code, detail, msg_ref));
  if (!fatal) {
    fatal = o;
    failure_code = code;
  }
  want_close = true;
  queue.clear();
}

void ClientCore::Impl::request_list(bool user_visible) {
  send(MessageType::ListRequest, server_to(), next_ts(), json::Object{}, false);
  lists_in_flight.push_back({user_visible, user_visible ? cur_cmd : 0});
  if (!user_visible) {
    list_blocking = true;
    list_since = now();
  }
}

void ClientCore::Impl::drain() {
  // Bounded: each iteration pops a line or stops.
  check_wait();
  while (!queue.empty() && phase == Phase::Ready && !list_blocking && !want_close && !wait.active) {
    client::Command c = client::parse_command(queue.front().line);
    cur_cmd = queue.front().cmd;
    const Step step = run_command(c);
    cur_cmd = 0;
    if (step == Step::NeedList) {
      request_list(false);
      break;  // the line stays at the front and runs again after the refresh
    }
    if (!queue.empty()) queue.pop_front();  // run_command may have cleared it (/quit)
    check_wait();
  }
  maybe_finish();
}

void ClientCore::Impl::maybe_finish() {
  if (!input_done || want_close || phase != Phase::Ready) return;
  // Outgoing files are sent to the end first, and DMs wait for a first receipt (the server
  // has them) unless the server sends none or the wait timed out (tick_delivery).
  const bool dms_settled = !server_socp || outgoing.unacknowledged_count() == 0 ||
                           (finish_since != 0 && now() - finish_since > cfg.request_timeout_ms);
  if (queue.empty() && lists_in_flight.empty() && await_key.empty() && files.out.empty() &&
      files.bulk_out.empty()) {
    if (finish_since == 0) finish_since = now();
    if (dms_settled) want_close = true;
  }
}

Step ClientCore::Impl::run_command(const client::Command& c) {
  using K = client::Command::Kind;
  switch (c.kind) {
    case K::Empty:
      return Step::Done;
    case K::List:
      request_list(true);
      return Step::Done;
    case K::Tell:
      return cmd_tell(c.target, c.text);
    case K::All:
      return cmd_all(c.text);
    case K::File:
      return cmd_file(c.target, c.text);
    case K::WhoAmI:
      emit(client::ev::whoami(me(), cfg.display_name, server_id,
                              cfg.key ? cfg.key->public_key().fingerprint_hex() : ""));
      return Step::Done;
    case K::Verify: {
      client::Resolution r = dir.resolve(c.target);
      if (!r.user && r.candidates.empty() && !list_received) return Step::NeedList;
      if (!r.candidates.empty()) {
        emit(client::ev::ambiguous(c.target, r.candidates));
      } else if (!r.user) {
        emit(client::ev::error("USER_NOT_FOUND", "no known user '" + c.target + "'", ""));
      } else if (!r.user->key) {
        emit(client::ev::error("NO_KEY", "no key pinned yet for " + r.user->user_id, ""));
      } else {
        emit(client::ev::fingerprint(*r.user));
      }
      return Step::Done;
    }
    case K::Wait:
      return cmd_wait(c.text);
    case K::Help:
      emit(client::ev::help(client::help_text()));
      return Step::Done;
    case K::Quit:
      want_close = true;
      queue.clear();
      return Step::Done;
    case K::Usage:
      emit(client::ev::error("USAGE", c.error, ""));
      return Step::Done;
    case K::Unknown:
      emit(client::ev::error("UNKNOWN_COMMAND", c.error, ""));
      return Step::Done;
  }
  return Step::Done;
}

// ---- ClientCore --------------------------------------------------------------------------

ClientCore::ClientCore(ClientConfig cfg) : impl_(std::make_unique<Impl>(std::move(cfg))) {
  impl_->load_trust();
}
ClientCore::~ClientCore() = default;

void ClientCore::on_connected() {
  Impl& s = *impl_;
  if (s.connected || s.phase == Phase::Closed) return;
  s.connected = true;
  s.emit(client::ev::connected(s.cfg.server_label));
  s.start_session();
}

void ClientCore::on_frame(std::string_view text) {
  Impl& s = *impl_;
  if (!s.connected || s.phase == Phase::Closed) return;
  json::ParseLimits limits;
  limits.max_bytes = s.cfg.max_frame_bytes;
  auto parsed = parse_envelope(text, limits);
  if (!parsed) {
    s.emit(client::ev::warning("malformed frame from server: " + parsed.error().detail));
    return;
  }
  Envelope& env = parsed.value();
  if (s.phase != Phase::Ready) {  // (USER_CHALLENGE may be a type the codec does not know)
    s.on_prelogin_frame(env);
    s.drain();
    s.persist(false);
    return;
  }

  if (!env.type) return;  // a type this client does not know: nothing to do with it

  // Logged in: everything the server sends must verify with the key pinned at login --
  // except a bulk file chunk from a socp/1 server, which no server signs: the sender's signed
  // manifest covers it (docs/protocol-notes.md "Bulk files"). Other servers' chunks are not
  // taken unsigned.
  const bool unsigned_chunk = *env.type == MessageType::FileBulkChunk && env.sig.empty();
  bool sig_ok = unsigned_chunk ? s.server_socp && s.cfg.file_bulk
                               : s.server_pub && verify_payload(*s.server_pub, env.payload,
                                                                env.sig) != SigForm::None;
  if (!sig_ok) {
    if (*env.type == MessageType::UserDeliver) {
      const std::string* sender = json::get_string(env.payload, "sender");
      std::string from = sender ? *sender : std::string();
      s.emit(client::ev::rejected("bad server signature", from, s.dir.name_of(from), env.ts));
    } else {
      s.emit(client::ev::warning("dropped " + env.type_name +
                                 " frame: server signature does not verify"));
    }
    return;
  }

  switch (*env.type) {
    case MessageType::UserDeliver:
      s.on_user_deliver(env);
      break;
    case MessageType::UserDeliverBatch:
      s.on_deliver_batch(env);
      break;
    case MessageType::Receipts:
      s.on_receipts(env);
      break;
    case MessageType::UserAdvertise:
      s.on_advertise(env);
      break;
    case MessageType::UserRemove:
      s.on_remove(env);
      break;
    case MessageType::ListResponse:
      s.on_list_response(env);
      break;
    case MessageType::PubkeyResponse:
      s.on_pubkey_response(env);
      break;
    case MessageType::Error:
      if (!s.on_file_error(env)) s.on_error_frame(env, false);
      break;
    case MessageType::FileStart:
    case MessageType::FileChunk:
    case MessageType::FileEnd:
      s.on_file_frame(env);
      break;
    case MessageType::FileBulkStart:
    case MessageType::FileBulkChunk:
    case MessageType::FileBulkAck:
      s.on_bulk_frame(env);
      break;
    case MessageType::MsgPublicChannel:
      client::public_on_post(s, env);
      break;
    case MessageType::PublicChannelKeyShare:
      client::public_on_key_share(s, env);
      break;
    case MessageType::PublicChannelUpdated:
      client::public_on_updated(s, env);
      break;
    default:
      break;  // ACKs, heartbeats: nothing to do
  }
  client::public_after_frame(s, env);  // new members learn our channel key
  s.flush_acks();
  s.drain();
  s.persist(false);
}

void ClientCore::on_closed() {
  Impl& s = *impl_;
  if (s.phase == Phase::Closed) return;
  if (s.fatal) {
    s.outcome = *s.fatal;
  } else if (!s.connected) {
    s.outcome = ClientOutcome::ConnectFailed;
  } else if (s.want_close) {
    s.outcome = ClientOutcome::Done;
  } else {
    s.outcome = ClientOutcome::ConnectionLost;
  }
  s.abort_files("connection closed");
  client::public_closed(s);
  s.set_phase(Phase::Closed);
  s.want_close = true;
  s.queue.clear();
  s.await_key.clear();
  s.lists_in_flight.clear();
  s.list_pages.clear();
  s.cfg.password.wipe();
  s.persist(true);
  s.emit(client::ev::closed(s.outcome, s.failure_code));
}

void ClientCore::command(std::string_view line, std::uint64_t cmd_id) {
  Impl& s = *impl_;
  if (s.phase == Phase::Closed || s.want_close || s.input_done) return;
  s.queue.push_back({std::string(line), cmd_id});
  s.drain();
}

void ClientCore::on_disconnected() {
  Impl& s = *impl_;
  if (s.phase == Phase::Closed) return;
  s.disconnect();
}

std::size_t ClientCore::unacknowledged() const noexcept {
  return impl_->outgoing.unacknowledged_count();
}

bool ClientCore::can_reconnect() const noexcept {
  const Impl& s = *impl_;
  return s.phase != Phase::Closed && !s.want_close && !s.fatal && s.was_logged_in &&
         s.cfg.key.has_value();
}

void ClientCore::input_closed() {
  Impl& s = *impl_;
  s.input_done = true;
  s.drain();
}

void ClientCore::on_tick() {
  Impl& s = *impl_;
  const std::int64_t t = s.now();
  const bool prelogin = s.phase == Phase::Registering || s.phase == Phase::Recovering ||
                        s.phase == Phase::Challenging || s.phase == Phase::LoggingIn;
  if (prelogin && !s.want_close && t - s.phase_since > s.cfg.login_timeout_ms) {
    s.fail(ClientOutcome::ProtocolError, "TIMEOUT", "no answer from the server", "");
    return;
  }
  s.check_wait();  // a /wait times out while disconnected too
  if (s.phase != Phase::Ready) return;
  if (s.list_blocking && t - s.list_since > s.cfg.request_timeout_ms) {
    // Go on with what we know rather than hang; queued commands resolve against it.
    s.emit(client::ev::warning("directory refresh timed out"));
    s.list_blocking = false;
    s.list_received = true;
    s.lists_in_flight.clear();
    s.list_pages.clear();
  }
  for (auto it = s.await_key.begin(); it != s.await_key.end();) {
    if (t - it->second.since > s.cfg.request_timeout_ms) {
      for (const auto& text : it->second.texts) {
        s.cur_cmd = text.second;
        s.emit(client::ev::error("TIMEOUT", "no public key for " + it->first + "; message not sent",
                                 "PUBKEY_REQUEST"));
      }
      s.cur_cmd = 0;
      it = s.await_key.erase(it);
    } else {
      ++it;
    }
  }
  client::public_tick(s);
  s.tick_delivery();
  s.tick_files();
  s.tick_bulk();
  s.drain();
  s.persist(false);
}

std::vector<std::string> ClientCore::take_frames() {
  return std::exchange(impl_->frames, {});
}
std::vector<json::Value> ClientCore::take_events() {
  return std::exchange(impl_->events, {});
}
bool ClientCore::wants_close() const noexcept {
  return impl_->want_close;
}
ClientOutcome ClientCore::outcome() const noexcept {
  return impl_->outcome;
}
const std::string& ClientCore::failure_code() const noexcept {
  return impl_->failure_code;
}
const std::string& ClientCore::user_id() const noexcept {
  return impl_->cfg.user_id;
}
const std::string& ClientCore::recovered_vault() const noexcept {
  return impl_->recovered_vault;
}
bool ClientCore::logged_in() const noexcept {
  return impl_->phase == Phase::Ready;
}

}  // namespace socp
