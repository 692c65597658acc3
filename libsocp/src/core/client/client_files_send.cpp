// Sending files: /file <user> <path> and /file all <path>.
//
// DM mode: each 446-byte piece is RSA-OAEP-encrypted to the recipient. Public mode: each piece
// is sealed with our public-channel sender key K (XChaCha20-Poly1305, client_public.h), which
// the channel code shares with every member before FILE_START goes out; the associated data
// binds sender, key id, file id and chunk index.
// The file is read and hashed once (it must be hashed before FILE_START anyway, and the
// limit bounds it: 64 MiB by default); chunk frames are made lazily, a few at a time, paced
// at cfg.file_chunks_per_second, so at most about one second of ciphertext frames exists at
// once and chat typed meanwhile goes out between the chunks.
#include <algorithm>

#include "core/client/channel_cipher.h"
#include "core/client/client_events.h"
#include "core/client/client_files.h"
#include "core/client/client_impl.h"
#include "core/client/client_public.h"
#include "socp/bytes.h"
#include "socp/messages.h"

namespace socp {
namespace {

using Step = ClientCore::Impl::Step;

constexpr std::size_t kRecentSent = 64;
// After a file failed on an error naming no file_id, further such errors are swallowed this
// long (the chunks already sent draw one each).
constexpr std::int64_t kQuietAfterFailMs = 10'000;
constexpr const char* kPublic = "public";

// Percent steps between progress events.
constexpr int kProgressStep = 5;

void progress(ClientCore::Impl& s, client::OutgoingFile& f, std::uint64_t bytes) {
  const std::uint64_t total = f.data.size();
  const int pct = total == 0 ? 100 : static_cast<int>(bytes * 100 / total);
  if (pct == f.last_pct) return;
  if (pct < 100 && f.last_pct >= 0 && pct < f.last_pct + kProgressStep) return;
  f.last_pct = pct;
  s.emit(client::ev::file_progress(f.file_id, f.name, "send", bytes, total));
}

// One FILE_CHUNK. False (file_failed emitted by the caller) on a crypto failure.
bool send_chunk(ClientCore::Impl& s, client::OutgoingFile& f, std::string* why) {
  const std::size_t off = static_cast<std::size_t>(f.next_index) * client::kFileChunkBytes;
  const std::string_view piece = std::string_view(f.data).substr(off, client::kFileChunkBytes);
  json::Object p{{"file_id", f.file_id}, {"index", f.next_index}};
  Result<Bytes> ct = make_error(Errc::Internal, "no key");
  if (f.mode == kPublic) {
    const client::ChannelState& ch = s.channel;
    if (!ch.key) {
      *why = "the public channel key is gone";
      return false;
    }
    ct = client::channel::seal(*ch.key, piece,
                               client::file_chunk_ad(s.me(), f.key_id, f.file_id, f.next_index));
    p["key_id"] = f.key_id;
  } else {
    ct = f.key->encrypt(piece);
  }
  if (!ct) {
    *why = "cannot encrypt: " + ct.error().detail;
    return false;
  }
  p["ciphertext"] = b64url_encode(ct.value());
  // Chunks are not signed one by one: the manifest's content_sig fixes size and SHA-256,
  // which the receiver checks over the whole file. `ts` is the clock, not next_ts(): a burst
  // of chunks must not push our timestamps ahead of real time.
  const std::int64_t ts = std::max(s.now(), std::int64_t{1});
  if (f.chunk_sig) {  // except towards clients that verify each chunk (G43's)
    auto csig = sign_content(*s.cfg.key, ct.value(), s.me(), f.to, ts, *f.chunk_sig);
    if (!csig) {
      *why = "cannot sign a chunk: " + csig.error().detail;
      return false;
    }
    p["sender_pub"] = s.cfg.key->public_key().b64url();
    p["content_sig"] = std::move(csig).value();
  }
  return s.send(MessageType::FileChunk, f.to, ts, json::Value(std::move(p)), false);
}

// Builds and sends FILE_START; queues the transfer. False after an error event.
bool start_transfer(ClientCore::Impl& s, client::OutgoingFile f) {
  const std::string sha = hex_encode(sha256(f.data));
  const std::uint64_t size = f.data.size();
  const std::string manifest =
      client::file_manifest_bytes(f.file_id, s.me(), f.mode, f.name, sha, size, f.to);
  auto sig = s.cfg.key->sign(manifest);
  if (!sig) {
    s.emit(client::ev::error("CRYPTO", "cannot sign the file manifest: " + sig.error().detail, ""));
    return false;
  }
  json::Object p{{"file_id", f.file_id},
                 {"name", f.name},
                 {"size", static_cast<std::int64_t>(size)},
                 {"sha256", sha},
                 {"mode", f.mode},
                 {"sender_pub", s.cfg.key->public_key().b64url()},
                 {"content_sig", b64url_encode(sig.value())}};
  if (f.mode == kPublic) p["key_id"] = f.key_id;
  if (!s.send(MessageType::FileStart, f.to, s.next_ts(), json::Value(std::move(p)), true)) {
    return false;
  }
  f.chunks = client::chunk_count(size);
  progress(s, f, 0);
  s.files.out.push_back(std::move(f));
  return true;
}

// Our public-channel sender key, made if this session has none yet, and shared with every
// member that lacks it (the channel code sends the KEY_SHAREs now, so they precede the
// FILE_START on every path and receivers hold K before the first chunk).
bool ensure_channel_key(ClientCore::Impl& s) {
  client::ChannelState& ch = s.channel;
  if (!ch.key) {
    ch.key = client::channel::new_key();
    ch.key_id = client::channel::new_key_id();
    ch.shared_with.clear();
  }
  // public_after_frame shares our key with the members that do not have it yet; an empty
  // LIST_RESPONSE names no new member, so that is all it does here.
  Envelope none;
  none.type = MessageType::ListResponse;
  none.payload = json::Object{{"users", json::Array{}}};
  client::public_after_frame(s, none);
  return !s.want_close;
}

void remember_sent(ClientCore::Impl& s, const client::OutgoingFile& f) {
  client::OutgoingFile r;
  r.file_id = f.file_id;
  r.name = f.name;
  r.to = f.to;
  r.to_name = f.to_name;
  s.files.recent_sent.push_back(std::move(r));
  while (s.files.recent_sent.size() > kRecentSent) s.files.recent_sent.pop_front();
}

}  // namespace

Step ClientCore::Impl::cmd_file(const std::string& target, const std::string& path) {
  const bool to_all = target == "all";
  const client::KnownUser* recipient = nullptr;  // DM mode
  if (to_all) {
    // Sharing our channel key needs every member's key: the directory must be complete.
    if (!list_received) return Step::NeedList;
  } else {
    client::Resolution r = dir.resolve(target);
    if (!r.candidates.empty()) {
      emit(client::ev::ambiguous(target, r.candidates));
      return Step::Done;
    }
    if (!r.user || !r.user->key) {
      if (!list_received) return Step::NeedList;  // adverts may still be on their way
      emit(r.user ? client::ev::error("NO_KEY", "no key pinned yet for " + r.user->user_id, "")
                  : client::ev::error("USER_NOT_FOUND", "no known user '" + target + "'", ""));
      return Step::Done;
    }
    recipient = r.user;
  }

  if (!to_all && cfg.file_bulk && server_socp && recipient->file_bulk) {
    // Bulk mode (docs/protocol.md "Bulk files"): both clients are socp clients on socp/1
    // servers. A server on the way that cannot carry it answers with an ERROR, and the file
    // goes as RSA chunks instead (on_bulk_error).
    if (start_bulk(*recipient, path)) pump_bulk();
    return Step::Done;
  }
  if (!to_all) {
    send_file_rsa(*recipient, path);
    return Step::Done;
  }

  auto data = client::read_file_for_send(path, cfg.max_file_size);
  if (!data) {
    emit(client::ev::error(data.code() == Errc::TooLarge ? "TOO_LARGE" : "IO", data.error().detail,
                           ""));
    return Step::Done;
  }
  client::OutgoingFile f;
  f.file_id = new_uuid_v4();
  f.name = client::safe_file_name(client::base_name(path), "");
  f.data = std::move(data).value();
  if (!ensure_channel_key(*this)) return Step::Done;
  f.to = f.to_name = f.mode = kPublic;
  f.key_id = channel.key_id;
  if (start_transfer(*this, std::move(f))) pump_files();
  return Step::Done;
}

void ClientCore::Impl::send_file_rsa(const client::KnownUser& recipient, const std::string& path) {
  auto data = client::read_file_for_send(path, cfg.max_file_size);
  if (!data) {
    emit(client::ev::error(data.code() == Errc::TooLarge ? "TOO_LARGE" : "IO", data.error().detail,
                           ""));
    return;
  }
  client::OutgoingFile f;
  f.file_id = new_uuid_v4();
  f.name = client::safe_file_name(client::base_name(path), "");
  f.data = std::move(data).value();
  f.to = recipient.user_id;
  f.to_name = recipient.display_name;
  f.mode = "dm";
  f.key = recipient.key;
  if (recipient.server_dialect == "g43") {
    f.chunk_sig = client::content_sig_form_for(recipient.server_dialect);
  }
  if (start_transfer(*this, std::move(f))) pump_files();
}

void ClientCore::Impl::pump_files() {
  if (files.out.empty() || phase != Phase::Ready || fatal) return;
  const std::uint32_t rate = cfg.file_chunks_per_second;
  const std::int64_t t = now();
  if (rate > 0) {
    // A token bucket: `rate` chunks per second, at most one second's worth at once.
    if (files.budget < 0) {
      files.budget = rate;
    } else if (t > files.budget_at) {
      files.budget = std::min<double>(rate, files.budget + (t - files.budget_at) * rate / 1000.0);
    }
    files.budget_at = t;
  }
  while (!files.out.empty() && (rate == 0 || files.budget >= 1.0)) {
    client::OutgoingFile& f = files.out.front();
    if (f.next_index < f.chunks) {
      std::string why;
      if (!send_chunk(*this, f, &why)) {
        emit(client::ev::file_failed(f.file_id, f.name, "send", why, f.to, f.to_name));
        files.out.pop_front();
        continue;
      }
      if (rate > 0) files.budget -= 1.0;
      ++f.next_index;
      progress(*this, f,
               std::min<std::uint64_t>(f.data.size(), static_cast<std::uint64_t>(f.next_index) *
                                                          client::kFileChunkBytes));
      continue;
    }
    json::Object end{{"file_id", f.file_id}, {"chunks", f.chunks}};
    if (!send(MessageType::FileEnd, f.to, std::max(now(), std::int64_t{1}),
              json::Value(std::move(end)), false)) {
      return;
    }
    progress(*this, f, f.data.size());
    emit(client::ev::file_sent(f.file_id, f.name, f.to, f.to_name, f.data.size()));
    remember_sent(*this, f);
    files.out.pop_front();
  }
}

bool ClientCore::Impl::on_file_error(const Envelope& env) {
  if (on_bulk_error(env)) return true;
  const std::string* fid = json::get_string(env.payload, "file_id");
  const std::string* ref = json::get_string(env.payload, "msg_ref");
  const bool file_ref = ref && (*ref == "FILE_START" || *ref == "FILE_CHUNK" ||
                                *ref == "FILE_END" || ref->rfind("USER_FILE_", 0) == 0);
  const std::string* code = json::get_string(env.payload, "code");
  const std::string* detail = json::get_string(env.payload, "detail");
  const std::string reason =
      (code ? *code : std::string("ERROR")) + ": " + (detail ? *detail : std::string());
  if (!fid) {
    if (!file_ref) return false;
    // A server that names no file (another implementation, or one that does not relay files
    // at all): the file being sent is the one it refuses. The errors its other chunks draw
    // are not shown one by one.
    if (!files.out.empty()) {
      const client::OutgoingFile& f = files.out.front();
      emit(client::ev::file_failed(f.file_id, f.name, "send", reason, f.to, f.to_name));
      files.out.pop_front();
      files.quiet_until = now() + kQuietAfterFailMs;
      return true;
    }
    return now() < files.quiet_until;
  }
  for (auto it = files.out.begin(); it != files.out.end(); ++it) {
    if (it->file_id != *fid) continue;
    emit(client::ev::file_failed(it->file_id, it->name, "send", reason, it->to, it->to_name));
    files.out.erase(it);
    return true;
  }
  // Already handed over entirely (the recipient left while the chunks were on their way).
  for (auto it = files.recent_sent.begin(); it != files.recent_sent.end(); ++it) {
    if (it->file_id != *fid) continue;
    emit(client::ev::file_failed(it->file_id, it->name, "send", reason, it->to, it->to_name));
    files.recent_sent.erase(it);
    return true;
  }
  return file_ref;  // about a file that already failed: reported once already
}

}  // namespace socp
