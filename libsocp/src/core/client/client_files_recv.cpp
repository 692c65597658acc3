// Receiving files: FILE_START / FILE_CHUNK / FILE_END (the server's signature is already
// verified by the dispatcher).
//
// A transfer is accepted only if its manifest (FILE_START) is content-signed by the sender's
// pinned key (pinned here on first contact) and within our size limit. Chunks may arrive out
// of order or twice: they are kept by index (a duplicate is ignored before decrypting it).
// The file is complete when FILE_END's count of chunks is present — or, before FILE_END, when
// chunks 0..k-1 hold exactly `size` bytes — and is then checked against the signed size and
// SHA-256 and written once, under a new name, inside the download folder. Pieces stay in
// memory until then (bounded by max_file_size and max_incoming_files), so a transfer that
// fails leaves nothing on disk.
#include <algorithm>
#include <cctype>

#include "core/client/channel_cipher.h"
#include "core/client/client_events.h"
#include "core/client/client_files.h"
#include "core/client/client_impl.h"
#include "socp/bytes.h"
#include "socp/messages.h"

namespace socp {
namespace {

using Impl = ClientCore::Impl;
constexpr int kProgressStep = 5;
constexpr const char* kPublic = "public";

void progress(Impl& s, client::IncomingFile& f) {
  const int pct = f.size == 0 ? 100 : static_cast<int>(f.bytes * 100 / f.size);
  if (pct == f.last_pct) return;
  if (pct < 100 && f.last_pct >= 0 && pct < f.last_pct + kProgressStep) return;
  f.last_pct = pct;
  s.emit(client::ev::file_progress(f.file_id, f.name, "receive", f.bytes, f.size));
}

// Ends a transfer with file_failed; its pieces are dropped with it.
void fail_file(Impl& s, const std::string& file_id, const std::string& reason) {
  auto it = s.files.in.find(file_id);
  if (it == s.files.in.end()) return;
  const client::IncomingFile& f = it->second;
  s.emit(client::ev::file_failed(f.file_id, f.name, "receive", reason, f.from, f.from_name));
  s.files.mark_done(file_id);
  s.files.in.erase(it);
}

void finish(Impl& s, client::IncomingFile& f) {
  std::string data;
  data.reserve(static_cast<std::size_t>(f.size));
  for (auto& [index, piece] : f.pieces) {
    data += piece;
    std::string().swap(piece);
  }
  if (data.size() != f.size) {
    return fail_file(s, f.file_id,
                     "size mismatch: got " + std::to_string(data.size()) + " bytes, expected " +
                         std::to_string(f.size));
  }
  if (hex_encode(sha256(data)) != f.sha256_hex) return fail_file(s, f.file_id, "sha256 mismatch");
  if (!f.sender_server.empty()) {
    if (std::string why = client::check_unsigned_layout(f); !why.empty()) {
      return fail_file(s, f.file_id, why);
    }
  }
  if (Status st = client::ensure_dir(s.cfg.download_dir); !st) {
    return fail_file(s, f.file_id, "cannot write: " + st.error().detail);
  }
  auto path = client::write_new_file(s.cfg.download_dir, f.name, data);
  if (!path) return fail_file(s, f.file_id, "cannot write: " + path.error().detail);
  progress(s, f);
  s.emit(client::ev::file_received(f, path.value()));
  const std::string id = f.file_id;
  s.files.mark_done(id);
  s.files.in.erase(id);
}

// Completes the transfer if every chunk is there.
void check_complete(Impl& s, client::IncomingFile& f) {
  const auto n = static_cast<std::int64_t>(f.pieces.size());
  const bool contiguous = n == 0 || f.pieces.rbegin()->first == n - 1;
  const bool complete =
      f.end_chunks ? (n == *f.end_chunks && contiguous) : (f.bytes == f.size && contiguous);
  if (complete) finish(s, f);
}

// The sender's public-channel key with this id, if we hold it.
const SecretBytes* channel_key(Impl& s, const std::string& sender, const std::string& key_id) {
  auto it = s.channel.keys.find(sender);
  if (it == s.channel.keys.end()) return nullptr;
  for (const auto& [id, k] : it->second) {
    if (id == key_id) return &k;
  }
  return nullptr;
}

bool is_hex64(std::string& s) {
  if (s.size() != 64) return false;
  for (char& c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return true;
}

// The checks every manifest passes whoever signed it, then the transfer starts. A transfer
// with an unsigned manifest is announced (file_incoming) once its first chunk names the sender.
template <typename Reject>
void admit(Impl& s, client::IncomingFile& f, const Reject& reject) {
  if (!is_hex64(f.sha256_hex)) return reject("malformed sha256");
  if (f.size > s.cfg.max_file_size) {
    return reject("too large: " + std::to_string(f.size) + " bytes (limit " +
                  std::to_string(s.cfg.max_file_size) + ")");
  }
  if (s.cfg.download_dir.empty()) return reject("no download folder configured");
  if (s.files.in.size() >= s.cfg.max_incoming_files) {
    return reject("too many files arriving at once (limit " +
                  std::to_string(s.cfg.max_incoming_files) + ")");
  }
  const bool bound = f.sender_server.empty();
  if (bound) s.emit(client::ev::file_incoming(f));
  const std::string file_id = f.file_id;
  client::IncomingFile& in = s.files.in.emplace(file_id, std::move(f)).first->second;
  if (!bound) return;  // announced once a chunk names its sender
  progress(s, in);
  check_complete(s, in);  // an empty file needs no chunk
}

// `sender` empty: an unsigned manifest from a user of `via` (IncomingFile::sender_server).
void on_start(Impl& s, const Envelope& env, const std::string& sender,
              const std::string& via = std::string()) {
  auto m = msg::FileStart::from_json(env.payload);
  if (!m) {
    s.emit(client::ev::warning("malformed FILE_START from " + sender + ": " + m.error().detail));
    return;
  }
  const std::string& file_id = m->file_id;
  if (file_id.empty() || file_id.size() > 128) {
    s.emit(client::ev::warning("FILE_START from " + sender + " with an unusable file_id"));
    return;
  }
  if (s.files.in.count(file_id) || s.files.done.count(file_id)) return;  // a duplicate

  client::IncomingFile f;
  f.file_id = file_id;
  f.name = client::safe_file_name(m->name, file_id);
  f.from = sender;
  f.from_name = s.dir.name_of(sender);
  f.mode = m->mode;
  f.size = static_cast<std::uint64_t>(m->size);
  f.sha256_hex = m->sha256;
  f.sender_server = via;
  f.last_activity = s.now();
  auto reject = [&](const std::string& reason) {
    s.emit(client::ev::file_failed(file_id, f.name, "receive", reason, f.from, f.from_name));
    s.files.mark_done(file_id);
  };

  if (f.mode != "dm" && f.mode != kPublic) return reject("unknown mode '" + f.mode + "'");
  if (!via.empty()) {
    // Nothing to verify yet: the first chunk names the sender and is checked with their key.
    if (f.mode != "dm") return reject("an unsigned manifest must be mode dm");
    if (f.size == 0) return reject("an empty file with an unsigned manifest names no sender");
    f.from_name.clear();
    return admit(s, f, reject);
  }
  const std::string* spub_text = json::get_string(env.payload, "sender_pub");
  const std::string* csig = json::get_string(env.payload, "content_sig");
  if (!spub_text || !csig) return reject("unsigned manifest (no sender_pub/content_sig)");
  auto spub = PublicKey::parse(*spub_text);
  if (!spub) return reject("bad sender key");
  const client::KnownUser* known = s.dir.find(sender);
  const bool first_contact = !known || !known->key;
  if (!first_contact && *known->key != spub.value()) return reject("sender key mismatch");
  auto sig = b64_decode(*csig);
  const std::string manifest = client::file_manifest_bytes(
      file_id, sender, f.mode, m->name, m->sha256, f.size, f.mode == kPublic ? kPublic : s.me());
  if (!sig || !spub->verify(manifest, sig.value())) return reject("bad content signature");
  if (f.mode == kPublic) {
    // Public mode: chunks are sealed with the sender's channel key, whose share travels
    // ahead of FILE_START on the same path.
    const std::string* key_id = json::get_string(env.payload, "key_id");
    if (!key_id || !channel_key(s, sender, *key_id)) return reject("no channel key");
    f.key_id = *key_id;
  }
  if (first_contact) (void)s.dir.offer_key(sender, spub.value());
  admit(s, f, reject);
}

// The plaintext of one chunk, or an error reason.
Result<std::string> open_chunk(Impl& s, const client::IncomingFile& f, const msg::FileChunk& c) {
  auto ct = b64_decode(c.ciphertext);
  if (!ct) return make_error(Errc::BadFrame, "chunk " + std::to_string(c.index) + " is not base64");
  const std::string bad = "cannot decrypt chunk " + std::to_string(c.index);
  if (f.mode == kPublic) {
    const SecretBytes* k = channel_key(s, f.from, f.key_id);
    if (!k) return make_error(Errc::Crypto, bad + ": the channel key is gone");
    auto plain = client::channel::open(*k, ct.value(),
                                       client::file_chunk_ad(f.from, f.key_id, f.file_id, c.index));
    if (!plain) return make_error(Errc::Crypto, bad);
    return std::move(plain).value();
  }
  auto plain = s.cfg.key->decrypt(ct.value());
  if (!plain) return make_error(Errc::Crypto, bad);
  return std::string(plain.value().view());
}

// A chunk of a transfer with an unsigned manifest. The first one binds the transfer to its
// sender, who must live at the server that relayed the manifest and whose directory key
// verifies the chunk; every later chunk must be theirs too. Empty = fine, else why to abort.
std::string check_unsigned(Impl& s, client::IncomingFile& f, const Envelope& env,
                           const msg::FileChunk& c, const std::string& sender) {
  if (!f.from.empty() && f.from != sender) return "chunk from " + sender + ", not its sender";
  const client::KnownUser* u = s.dir.find(sender);
  if (!u || !u->key) return "chunk from " + sender + ", whose key we do not know";
  if (u->server_id != f.sender_server) {
    return "chunk from " + sender + ", who does not live at the server that sent the manifest";
  }
  const bool binds = f.from.empty();
  f.from = sender;  // what the chunk's signature is checked against
  std::string why = client::check_unsigned_chunk(f, *u->key, s.me(), env.payload, c.index, env.ts);
  if (!binds) return why;
  if (!why.empty()) {
    f.from.clear();  // nobody vouched for this transfer: its failure names no sender
    return why;
  }
  f.from_name = s.dir.name_of(sender);
  s.emit(client::ev::file_incoming(f));
  return {};
}

void on_chunk(Impl& s, const Envelope& env, const std::string& sender) {
  auto c = msg::FileChunk::from_json(env.payload);
  if (!c) return;
  auto it = s.files.in.find(c->file_id);
  if (it == s.files.in.end()) return;  // finished, failed, refused or never announced
  client::IncomingFile& f = it->second;
  if (!f.sender_server.empty()) {
    if (std::string why = check_unsigned(s, f, env, *c, sender); !why.empty()) {
      return fail_file(s, f.file_id, why);
    }
  } else if (f.from != sender) {
    s.emit(client::ev::warning("FILE_CHUNK for " + f.file_id + " from " + sender +
                               ", who is not its sender: ignored"));
    return;
  }
  f.last_activity = s.now();
  if (f.pieces.count(c->index)) return;  // a duplicate: nothing new (and no 3 ms decrypt)
  // Every piece carries at least one byte, so a file has at most `size` chunks.
  const std::int64_t limit = f.end_chunks ? *f.end_chunks : static_cast<std::int64_t>(f.size);
  if (c->index >= limit) {
    return fail_file(s, f.file_id, "chunk index " + std::to_string(c->index) + " out of range");
  }
  auto piece = open_chunk(s, f, *c);
  if (!piece) return fail_file(s, f.file_id, piece.error().detail);
  if (piece->empty()) return fail_file(s, f.file_id, "empty chunk " + std::to_string(c->index));
  if (f.bytes + piece->size() > f.size) {
    return fail_file(s, f.file_id,
                     "more data than the declared size of " + std::to_string(f.size) + " bytes");
  }
  f.bytes += piece->size();
  f.pieces.emplace(c->index, std::move(piece).value());
  progress(s, f);
  check_complete(s, f);
}

// `sender` empty: an end without a sender, relayed from `via` (as its unsigned manifest was).
void on_end(Impl& s, const Envelope& env, const std::string& sender,
            const std::string& via = std::string()) {
  auto e = msg::FileEnd::from_json(env.payload);
  if (!e) return;
  auto it = s.files.in.find(e->file_id);
  if (it == s.files.in.end()) return;
  client::IncomingFile& f = it->second;
  if (sender.empty() ? via != f.sender_server : f.from != sender) return;
  f.last_activity = s.now();
  if (const std::int64_t* n = json::get_int(env.payload, "chunks")) {
    const bool too_many = *n < 0 || *n > static_cast<std::int64_t>(f.size);
    if (too_many || (!f.pieces.empty() && f.pieces.rbegin()->first >= *n)) {
      return fail_file(s, f.file_id, "FILE_END announces " + std::to_string(*n) + " chunks");
    }
    f.end_chunks = *n;
  }
  check_complete(s, f);
}

}  // namespace

void ClientCore::Impl::on_file_frame(const Envelope& env) {
  const std::string* sender = json::get_string(env.payload, "sender");
  if (!sender || sender->empty()) {
    // A manifest or end its origin relayed without a sender (G43): only the server is named.
    const std::string* via = json::get_string(env.payload, "sender_server");
    if (via && !via->empty() && *env.type == MessageType::FileStart) {
      return on_start(*this, env, std::string(), *via);
    }
    if (via && !via->empty() && *env.type == MessageType::FileEnd) {
      return on_end(*this, env, std::string(), *via);
    }
    emit(client::ev::warning("dropped " + env.type_name + " without a sender"));
    return;
  }
  switch (*env.type) {
    case MessageType::FileStart:
      return on_start(*this, env, *sender);
    case MessageType::FileChunk:
      return on_chunk(*this, env, *sender);
    case MessageType::FileEnd:
      return on_end(*this, env, *sender);
    default:
      return;
  }
}

void ClientCore::Impl::tick_files() {
  const std::int64_t t = now();
  std::vector<std::string> stale;
  for (const auto& [id, f] : files.in) {
    if (t - f.last_activity > cfg.file_timeout_ms) stale.push_back(id);
  }
  for (const std::string& id : stale) {
    const client::IncomingFile& f = files.in.at(id);
    std::int64_t expected = f.end_chunks ? *f.end_chunks : client::chunk_count(f.size);
    if (!f.pieces.empty()) expected = std::max(expected, f.pieces.rbegin()->first + 1);
    const bool gaps = static_cast<std::int64_t>(f.pieces.size()) < expected;
    fail_file(*this, id,
              gaps ? "timeout: missing chunks " + client::missing_ranges(f.pieces, expected)
                   : "timeout: incomplete (" + std::to_string(f.bytes) + " of " +
                         std::to_string(f.size) + " bytes)");
  }
  pump_files();
}

void ClientCore::Impl::abort_files(const std::string& reason) {
  for (const client::OutgoingFile& f : files.out) {
    emit(client::ev::file_failed(f.file_id, f.name, "send", reason, f.to, f.to_name));
  }
  files.out.clear();
  for (const client::OutgoingBulk& f : files.bulk_out) {
    emit(client::ev::file_failed(f.file_id, f.name, "send", reason, f.to, f.to_name));
  }
  files.bulk_out.clear();
  for (auto& [id, f] : files.bulk_in) {
    f.out.discard();
    emit(
        client::ev::file_failed(id, f.info.name, "receive", reason, f.info.from, f.info.from_name));
    files.mark_done(id);
  }
  files.bulk_in.clear();
  std::vector<std::string> ids;
  for (const auto& [id, f] : files.in) ids.push_back(id);
  for (const std::string& id : ids) fail_file(*this, id, reason);
}

}  // namespace socp
