// Receiving bulk files (socp extension; docs/protocol.md "Bulk files").
//
// FILE_BULK_START is the sender's signed manifest (its server signature is checked by the
// dispatcher; its content_sig here, against the sender's pinned key). The file key is
// unwrapped with our RSA key, then each FILE_BULK_CHUNK must be the next index, match its
// digest in the manifest and open under the key (bulk::Receiver) before its plaintext is
// written to a hidden partial file; after the last one the whole-file SHA-256 must match and
// the file gets its name. Any failure removes the partial file, emits file_failed and tells
// the sender (FILE_BULK_ACK "failed"). Memory: one chunk at a time.
#include <sodium.h>

#include "core/client/client_events.h"
#include "core/client/client_files.h"
#include "core/client/client_impl.h"
#include "socp/bytes.h"
#include "socp/messages.h"

namespace socp {
namespace {

using Impl = ClientCore::Impl;
constexpr int kProgressStep = 5;
constexpr std::size_t kMaxReason = 200;

void progress(Impl& s, client::IncomingBulk& f) {
  client::IncomingFile& i = f.info;
  i.bytes = f.rx ? f.rx->bytes() : 0;
  const int pct = i.size == 0 ? 100 : static_cast<int>(i.bytes * 100 / i.size);
  if (pct == i.last_pct) return;
  if (pct < 100 && i.last_pct >= 0 && pct < i.last_pct + kProgressStep) return;
  i.last_pct = pct;
  s.emit(client::ev::file_progress(i.file_id, i.name, "receive", i.bytes, i.size));
}

// Ends an incoming transfer: partial file removed, file_failed, the sender told.
void fail_in(Impl& s, const std::string& file_id, const std::string& reason, bool tell = true) {
  auto it = s.files.bulk_in.find(file_id);
  if (it == s.files.bulk_in.end()) return;
  client::IncomingBulk& f = it->second;
  f.out.discard();
  const std::int64_t got = f.rx ? f.rx->received() : 0;
  s.emit(client::ev::file_failed(file_id, f.info.name, "receive", reason, f.info.from,
                                 f.info.from_name));
  const std::string to = f.info.from;
  s.files.mark_done(file_id);
  s.files.bulk_in.erase(it);
  if (tell) s.send_bulk_ack(to, file_id, got, "failed", reason);
}

void on_start(Impl& s, const Envelope& env, const std::string& sender) {
  auto m = msg::FileBulkStart::from_json(env.payload);
  if (!m) {
    s.emit(
        client::ev::warning("malformed FILE_BULK_START from " + sender + ": " + m.error().detail));
    return;
  }
  const std::string file_id = m->file_id;
  if (s.files.bulk_in.count(file_id) || s.files.in.count(file_id) || s.files.done.count(file_id)) {
    return;  // a duplicate
  }
  client::IncomingBulk f;
  f.info.file_id = file_id;
  f.info.name = client::safe_file_name(m->name, file_id);
  f.info.from = sender;
  f.info.from_name = s.dir.name_of(sender);
  f.info.mode = "dm";
  f.info.size = static_cast<std::uint64_t>(m->size);
  f.info.sha256_hex = m->sha256;
  f.last_activity = s.now();
  auto reject = [&](const std::string& reason) {
    s.emit(
        client::ev::file_failed(file_id, f.info.name, "receive", reason, sender, f.info.from_name));
    s.files.mark_done(file_id);
    s.send_bulk_ack(sender, file_id, 0, "failed", reason);
  };
  auto spub = PublicKey::parse(m->sender_pub);
  if (!spub) return reject("bad sender key");
  const client::KnownUser* known = s.dir.find(sender);
  const bool first_contact = !known || !known->key;
  if (!first_contact && *known->key != spub.value()) return reject("sender key mismatch");
  auto sig = b64_decode(m->content_sig);
  if (!sig || !spub->verify(client::bulk::manifest_bytes(*m, sender, s.me()), sig.value())) {
    return reject("bad manifest signature");
  }
  if (f.info.size > s.cfg.max_file_size) {
    return reject("too large: " + std::to_string(f.info.size) + " bytes (limit " +
                  std::to_string(s.cfg.max_file_size) + ")");
  }
  if (s.cfg.download_dir.empty()) return reject("no download folder configured");
  if (s.files.in.size() + s.files.bulk_in.size() >= s.cfg.max_incoming_files) {
    return reject("too many files arriving at once (limit " +
                  std::to_string(s.cfg.max_incoming_files) + ")");
  }
  auto wrapped = b64_decode(m->wrapped_key);
  if (!wrapped) return reject("wrapped_key is not base64");
  auto key = s.cfg.key->decrypt(wrapped.value());
  if (!key || key->size() != client::bulk::kKeyBytes) return reject("cannot unwrap the file key");
  auto out = client::PartialFile::create(s.cfg.download_dir, file_id);
  if (!out) return reject("cannot write: " + out.error().detail);
  if (first_contact) (void)s.dir.offer_key(sender, spub.value());

  f.rx.emplace(std::move(m).value(), std::move(key).value());
  f.out = std::move(out).value();
  s.emit(client::ev::file_incoming(f.info));
  client::IncomingBulk& in = s.files.bulk_in.emplace(file_id, std::move(f)).first->second;
  progress(s, in);
}

void on_chunk(Impl& s, const Envelope& env, const std::string& sender) {
  auto c = msg::FileBulkChunk::from_json(env.payload);
  if (!c) return;
  auto it = s.files.bulk_in.find(c->file_id);
  if (it == s.files.bulk_in.end()) return;  // finished, failed, refused or never announced
  client::IncomingBulk& f = it->second;
  if (f.info.from != sender) {
    s.emit(client::ev::warning("FILE_BULK_CHUNK for " + c->file_id + " from " + sender +
                               ", who is not its sender: ignored"));
    return;
  }
  f.last_activity = s.now();
  auto plain = f.rx->accept(*c);
  if (!plain) return fail_in(s, c->file_id, plain.error().detail);
  Status st = f.out.append(plain.value());
  sodium_memzero(plain->data(), plain->size());
  if (!st) return fail_in(s, c->file_id, "cannot write: " + st.error().detail);
  progress(s, f);
  if (!f.rx->complete()) {
    if (f.rx->received() % client::bulk::kAckEvery == 0) {
      s.send_bulk_ack(sender, c->file_id, f.rx->received(), "ok");
    }
    return;
  }
  if (Status done = f.rx->finish(); !done) return fail_in(s, c->file_id, done.error().detail);
  auto path = f.out.commit(f.info.name);
  if (!path) return fail_in(s, c->file_id, "cannot write: " + path.error().detail);
  s.emit(client::ev::file_received(f.info, path.value()));
  const std::int64_t n = f.rx->received();
  const std::string id = c->file_id;
  s.files.mark_done(id);
  s.files.bulk_in.erase(it);
  s.send_bulk_ack(sender, id, n, "done");
}

}  // namespace

void ClientCore::Impl::send_bulk_ack(const std::string& to, const std::string& file_id,
                                     std::int64_t received, const std::string& status,
                                     const std::string& reason) {
  msg::FileBulkAck a;
  a.file_id = file_id;
  a.received = received;
  a.status = status;
  a.reason = reason.size() > kMaxReason ? reason.substr(0, kMaxReason) : reason;
  // (A reason cut inside a UTF-8 sequence would make the frame invalid: keep ASCII-safe.)
  while (!a.reason.empty() && (static_cast<unsigned char>(a.reason.back()) & 0x80) != 0) {
    a.reason.pop_back();
  }
  send(MessageType::FileBulkAck, to, next_ts(), a.to_json(), false);
}

void ClientCore::Impl::on_bulk_frame(const Envelope& env) {
  const std::string* sender = json::get_string(env.payload, "sender");
  if (!sender || sender->empty()) {
    emit(client::ev::warning("dropped " + env.type_name + " without a sender"));
    return;
  }
  switch (*env.type) {
    case MessageType::FileBulkStart:
      return on_start(*this, env, *sender);
    case MessageType::FileBulkChunk:
      return on_chunk(*this, env, *sender);
    case MessageType::FileBulkAck: {
      // The sender gave up on a file we receive, or the recipient reports on one we send.
      auto a = msg::FileBulkAck::from_json(env.payload);
      if (!a) return;
      auto in = files.bulk_in.find(a->file_id);
      if (in != files.bulk_in.end() && in->second.info.from == *sender) {
        if (a->status == "failed")
          fail_in(*this, a->file_id, "the sender gave up: " + a->reason, false);
        return;
      }
      return on_bulk_ack(env);
    }
    default:
      return;
  }
}

void ClientCore::Impl::tick_bulk() {
  const std::int64_t t = now();
  std::vector<std::string> stale;
  for (const auto& [id, f] : files.bulk_in) {
    if (t - f.last_activity > cfg.file_timeout_ms) stale.push_back(id);
  }
  for (const std::string& id : stale) {
    const client::IncomingBulk& f = files.bulk_in.at(id);
    fail_in(*this, id,
            "timeout: incomplete (" + std::to_string(f.rx ? f.rx->received() : 0) + " of " +
                std::to_string(f.rx ? f.rx->manifest().chunks : 0) + " chunks)");
  }
  for (auto it = files.bulk_out.begin(); it != files.bulk_out.end();) {
    if (t - it->last_activity <= cfg.file_timeout_ms) {
      ++it;
      continue;
    }
    emit(client::ev::file_failed(it->file_id, it->name, "send",
                                 "timeout: no acknowledgement from the recipient", it->to,
                                 it->to_name));
    it = files.bulk_out.erase(it);
  }
  pump_bulk();
}

}  // namespace socp
