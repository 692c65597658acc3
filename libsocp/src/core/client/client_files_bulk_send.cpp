// Sending bulk files (socp extension; docs/protocol.md "Bulk files").
//
// Two passes over the file, one chunk in memory at a time: the first seals every chunk to
// hash it (the signed manifest lists every chunk's digest, and the whole file's SHA-256), the
// second seals each chunk again as it is sent (the nonce is derived from the index, so the
// bytes are identical; a file that changed in between no longer matches its digest and the
// transfer fails). The sender keeps at most bulk::kWindow chunks unacknowledged.
#include <algorithm>

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

void progress(Impl& s, client::OutgoingBulk& f) {
  const auto total = static_cast<std::uint64_t>(f.manifest.size);
  const std::uint64_t bytes = std::min<std::uint64_t>(
      total, static_cast<std::uint64_t>(f.acked) * client::bulk::kChunkBytes);
  const int pct = total == 0 ? 100 : static_cast<int>(bytes * 100 / total);
  if (pct == f.last_pct) return;
  if (pct < 100 && f.last_pct >= 0 && pct < f.last_pct + kProgressStep) return;
  f.last_pct = pct;
  s.emit(client::ev::file_progress(f.file_id, f.name, "send", bytes, total));
}

// Chunk i of the file, sealed. `last` is whether it is the final chunk.
Result<Bytes> sealed_chunk(const client::OutgoingBulk& f, std::int64_t i) {
  const std::uint64_t off = static_cast<std::uint64_t>(i) * client::bulk::kChunkBytes;
  auto plain = f.src.read_at(off, client::bulk::kChunkBytes);
  if (!plain) return plain.error();
  const bool last = i == f.manifest.chunks - 1;
  const std::uint64_t expect =
      last ? f.src.size() - off : static_cast<std::uint64_t>(client::bulk::kChunkBytes);
  if (plain->size() != expect) return make_error(Errc::Io, "the file changed while being sent");
  auto sealed = client::bulk::seal_chunk(f.key, f.file_id, i, last, plain.value());
  sodium_memzero(plain->data(), plain->size());
  return sealed;
}

std::deque<client::OutgoingBulk>::iterator find_out(Impl& s, const std::string& file_id) {
  return std::find_if(s.files.bulk_out.begin(), s.files.bulk_out.end(),
                      [&](const client::OutgoingBulk& f) { return f.file_id == file_id; });
}

void fail_out(Impl& s, std::deque<client::OutgoingBulk>::iterator it, const std::string& why) {
  s.emit(client::ev::file_failed(it->file_id, it->name, "send", why, it->to, it->to_name));
  s.files.bulk_out.erase(it);
}

}  // namespace

bool ClientCore::Impl::start_bulk(const client::KnownUser& recipient, const std::string& path) {
  auto src = client::FileSource::open(path, cfg.max_file_size);
  if (!src) {
    emit(client::ev::error(src.code() == Errc::TooLarge ? "TOO_LARGE" : "IO", src.error().detail,
                           ""));
    return false;
  }
  client::OutgoingBulk f;
  f.file_id = new_uuid_v4();
  f.name = client::safe_file_name(client::base_name(path), "");
  f.path = path;
  f.to = recipient.user_id;
  f.to_name = recipient.display_name;
  f.src = std::move(src).value();
  f.key = client::bulk::new_key();
  f.last_activity = now();
  msg::FileBulkStart& m = f.manifest;
  m.file_id = f.file_id;
  m.name = f.name;
  m.size = static_cast<std::int64_t>(f.src.size());
  m.chunk_size = static_cast<std::int64_t>(client::bulk::kChunkBytes);
  m.chunks = client::bulk::chunk_count(f.src.size());
  client::bulk::Sha256 whole;
  for (std::int64_t i = 0; i < m.chunks; ++i) {
    const std::uint64_t off = static_cast<std::uint64_t>(i) * client::bulk::kChunkBytes;
    auto plain = f.src.read_at(off, client::bulk::kChunkBytes);
    if (!plain) {
      emit(client::ev::error("IO", plain.error().detail, ""));
      return false;
    }
    whole.update(plain.value());
    auto sealed = client::bulk::seal_chunk(f.key, f.file_id, i, i == m.chunks - 1, plain.value());
    sodium_memzero(plain->data(), plain->size());
    if (!sealed) {
      emit(client::ev::error("CRYPTO", sealed.error().detail, ""));
      return false;
    }
    m.chunk_sha256.push_back(hex_encode(sha256(sealed->data(), sealed->size())));
  }
  m.sha256 = whole.hex();
  auto wrapped = recipient.key->encrypt(f.key.data(), f.key.size());
  if (!wrapped) {
    emit(client::ev::error("CRYPTO", "cannot wrap the file key: " + wrapped.error().detail, ""));
    return false;
  }
  m.wrapped_key = b64url_encode(wrapped.value());
  m.sender_pub = cfg.key->public_key().b64url();
  auto sig = cfg.key->sign(client::bulk::manifest_bytes(m, me(), f.to));
  if (!sig) {
    emit(client::ev::error("CRYPTO", "cannot sign the file manifest: " + sig.error().detail, ""));
    return false;
  }
  m.content_sig = b64url_encode(sig.value());
  if (!send(MessageType::FileBulkStart, f.to, next_ts(), m.to_json(), true)) return false;
  progress(*this, f);
  files.bulk_out.push_back(std::move(f));
  return true;
}

void ClientCore::Impl::pump_bulk() {
  if (phase != Phase::Ready || fatal) return;
  for (auto it = files.bulk_out.begin(); it != files.bulk_out.end();) {
    client::OutgoingBulk& f = *it;
    bool failed = false;
    while (f.next < f.manifest.chunks && f.next - f.acked < client::bulk::kWindow) {
      auto sealed = sealed_chunk(f, f.next);
      if (sealed && hex_encode(sha256(sealed->data(), sealed->size())) !=
                        f.manifest.chunk_sha256[static_cast<std::size_t>(f.next)]) {
        sealed = make_error(Errc::Io, "the file changed while being sent");
      }
      if (!sealed) {
        // Tell the receiver too, so its partial file goes now rather than at its timeout.
        send_bulk_ack(f.to, f.file_id, f.next, "failed", sealed.error().detail);
        emit(client::ev::file_failed(f.file_id, f.name, "send", sealed.error().detail, f.to,
                                     f.to_name));
        failed = true;
        break;
      }
      msg::FileBulkChunk c;
      c.file_id = f.file_id;
      c.index = f.next;
      c.last = f.next == f.manifest.chunks - 1;
      c.ciphertext = b64url_encode(sealed.value());
      // Unsigned: the manifest's signature covers this chunk's digest.
      if (!send(MessageType::FileBulkChunk, f.to, std::max(now(), std::int64_t{1}), c.to_json(),
                false)) {
        return;
      }
      ++f.next;
    }
    it = failed ? files.bulk_out.erase(it) : std::next(it);
  }
}

void ClientCore::Impl::on_bulk_ack(const Envelope& env) {
  const std::string* sender = json::get_string(env.payload, "sender");
  auto a = msg::FileBulkAck::from_json(env.payload);
  if (!sender || !a) return;
  auto it = find_out(*this, a->file_id);
  if (it == files.bulk_out.end() || it->to != *sender) return;  // not ours, or over already
  client::OutgoingBulk& f = *it;
  f.last_activity = now();
  if (a->status == "failed") {
    return fail_out(*this, it, "the recipient refused it: " + a->reason);
  }
  f.acked = std::max(f.acked, std::min(a->received, f.next));
  progress(*this, f);
  if (a->status == "done") {
    if (f.acked != f.manifest.chunks) {
      return fail_out(*this, it, "the recipient reported done early");
    }
    emit(client::ev::file_sent(f.file_id, f.name, f.to, f.to_name,
                               static_cast<std::uint64_t>(f.manifest.size)));
    files.bulk_out.erase(it);
    return;
  }
  pump_bulk();
}

bool ClientCore::Impl::on_bulk_error(const Envelope& env) {
  const std::string* ref = json::get_string(env.payload, "msg_ref");
  if (!ref || ref->rfind("FILE_BULK_", 0) != 0) return false;
  const std::string* fid = json::get_string(env.payload, "file_id");
  auto it = fid ? find_out(*this, *fid) : files.bulk_out.end();
  if (it == files.bulk_out.end()) return true;  // about an ACK of ours, or a file gone already
  const std::string* code = json::get_string(env.payload, "code");
  const std::string* detail = json::get_string(env.payload, "detail");
  const std::string reason =
      (code ? *code : std::string("ERROR")) + ": " + (detail ? *detail : std::string());
  if (it->acked == 0 && (!code || *code != "TOO_LARGE")) {
    // Some hop cannot carry bulk frames (a recipient's client or server without it): the
    // spec's RSA chunks go everywhere. A new file id: the failed one is remembered as failed.
    const client::KnownUser* r = dir.find(it->to);
    emit(client::ev::warning("bulk transfer of " + it->name + " refused (" + reason +
                             "); sending it with RSA chunks"));
    const std::string path = it->path;
    files.bulk_out.erase(it);
    if (r && r->key) send_file_rsa(*r, path);
    return true;
  }
  fail_out(*this, it, reason);
  return true;
}

}  // namespace socp
