// Private: file transfers of ClientCore (/file, docs/protocol-notes.md "Files").
//
//   client_files_send.cpp  /file: read, hash, FILE_START (content-signed manifest), paced
//                          FILE_CHUNKs (one RSA-OAEP block each, or the channel key in public
//                          mode), FILE_END; progress events; server errors about our files.
//   client_files_recv.cpp  FILE_START checks (server sig is checked by the dispatcher; the
//                          manifest's content_sig with the sender's pinned key, size limit),
//                          idempotent out-of-order reassembly, size + SHA-256 check, timeout.
//   client_file_io.cpp     the file system: reading a file to send, safe names, O_EXCL writes.
//   client_files.cpp       the manifest bytes and the event builders (client/README-json.md).
//   client_files_bulk_send.cpp / client_files_bulk_recv.cpp  bulk mode between socp clients
//                          on socp/1 servers (file_bulk.h; docs/protocol.md "Bulk files").
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/client/file_bulk.h"
#include "socp/crypto.h"
#include "socp/json.h"
#include "socp/protocol.h"
#include "socp/result.h"

namespace socp::client {

/// Plaintext bytes per chunk: one RSA-OAEP block (docs/protocol.md §3). Public mode uses the same
/// split so both modes have the same chunk layout.
inline constexpr std::size_t kFileChunkBytes = kOaepMaxPlaintext;

/// Number of chunks a socp sender makes for `size` bytes (0 for an empty file).
inline std::int64_t chunk_count(std::uint64_t size) {
  return static_cast<std::int64_t>((size + kFileChunkBytes - 1) / kFileChunkBytes);
}

/// The bytes a FILE_START's content_sig covers: canonical JSON of
/// {file_id, from, mode, name, sha256, size, to} (to = recipient id, or "public").
std::string file_manifest_bytes(const std::string& file_id, const std::string& from,
                                const std::string& mode, const std::string& name,
                                const std::string& sha256_hex, std::uint64_t size,
                                const std::string& to);

/// Associated data of a public-mode chunk (XChaCha20-Poly1305 under the sender's channel key):
/// "socp-file-v1|" + sender + "|" + key_id + "|" + file_id + "|" + decimal index — a chunk
/// cannot be passed off as a channel post, another file's chunk or another position.
std::string file_chunk_ad(const std::string& sender, const std::string& key_id,
                          const std::string& file_id, std::int64_t index);

struct OutgoingFile {
  std::string file_id, name;
  std::string to;       ///< recipient user id, or "public"
  std::string to_name;  ///< display name (or "public")
  std::string mode;     ///< "dm" or "public"
  std::string data;     ///< the whole file, read once (it is hashed before FILE_START anyway)
  std::optional<PublicKey> key;  ///< DM: the recipient's pinned key
  std::string key_id;            ///< public: id of our channel key K
  std::int64_t next_index = 0;
  std::int64_t chunks = 0;
  int last_pct = -1;  ///< last progress event, in percent
  /// Clients of a G43 server verify every chunk on its own: each FILE_CHUNK then carries
  /// sender_pub and a content_sig of this form over the chunk (docs/interop.md).
  std::optional<ContentSigForm> chunk_sig;
};

struct IncomingFile {
  std::string file_id, name, from, from_name, sha256_hex, mode;
  std::string key_id;  ///< public: the sender's channel key id
  /// An unsigned manifest from a user of this (non-socp) server, which named no sender
  /// (G43, docs/interop.md "Files from G43"): `from` is empty until the first chunk binds
  /// it, and every chunk must be content-signed by that sender's directory key.
  std::string sender_server;
  std::map<std::int64_t, std::int64_t> chunk_ts;   ///< unsigned manifest: signed ts by index
  std::map<std::string, std::int64_t> chunk_sigs;  ///< unsigned manifest: index by content_sig
  std::uint64_t size = 0;
  std::uint64_t bytes = 0;                     ///< plaintext received so far
  std::map<std::int64_t, std::string> pieces;  ///< by chunk index
  std::optional<std::int64_t> end_chunks;      ///< FILE_END's count, once it came
  std::int64_t last_activity = 0;
  int last_pct = -1;
};

// ---- transfers with an unsigned manifest (client_files_unsigned.cpp) -----------------------
// G43 signs each chunk on its own (content_sig over ciphertext, sender, recipient and ts) and
// nothing else: these checks bind what can be bound (docs/interop.md "Files from G43").

/// Checks one chunk of such a transfer, from `f.from` (already bound), whose directory key is
/// `key`: `sender_pub`, if present, is that key; `content_sig` verifies with it over the
/// chunk's ciphertext, `f.from`, `me` and the chunk's `ts`; no other index of this file used
/// the same signature. Records the chunk's ts and signature. Empty = fine, else why to abort.
std::string check_unsigned_chunk(IncomingFile& f, const PublicKey& key, const std::string& me,
                                 const json::Value& payload, std::int64_t index, std::int64_t ts);
/// At completion: the pieces are cut as one sender cuts a file (every piece but the last of one
/// size, the last no longer) and were signed in index order (ts never decreasing). Empty =
/// fine, else why to refuse the file.
std::string check_unsigned_layout(const IncomingFile& f);

// ---- file system handles for streamed (bulk) transfers (client_file_io.cpp) ---------------

/// A regular file opened for reading by offset. Owns its descriptor; move-only.
class FileSource {
 public:
  /// Opens `path` (a regular file of at most `max` bytes). Errors as read_file_for_send.
  static Result<FileSource> open(const std::string& path, std::uint64_t max);
  FileSource() = default;
  FileSource(FileSource&& o) noexcept;
  FileSource& operator=(FileSource&& o) noexcept;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  ~FileSource();
  std::uint64_t size() const noexcept { return size_; }
  /// Exactly `n` bytes at `offset` (fewer only at the end of the file). Io on errors.
  Result<std::string> read_at(std::uint64_t offset, std::size_t n) const;

 private:
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

/// A file being received: written under a hidden temporary name inside the download folder
/// (".socp-part-<id>", O_EXCL, 0600) and given its real name only by commit(). Destroying an
/// uncommitted PartialFile (or discard()) removes it: a failed transfer leaves nothing.
class PartialFile {
 public:
  static Result<PartialFile> create(const std::string& dir, std::string_view file_id);
  PartialFile() = default;
  PartialFile(PartialFile&& o) noexcept;
  PartialFile& operator=(PartialFile&& o) noexcept;
  PartialFile(const PartialFile&) = delete;
  PartialFile& operator=(const PartialFile&) = delete;
  ~PartialFile();
  Status append(std::string_view data);
  /// fsync, then links it as `name` (or "stem (1).ext", ... : never replacing a file) and
  /// removes the temporary name. Returns the final path.
  Result<std::string> commit(const std::string& name);
  void discard();
  const std::string& temp_path() const noexcept { return tmp_; }

 private:
  int fd_ = -1;
  std::string dir_, tmp_;
};

struct OutgoingBulk {
  std::string file_id, name, path, to, to_name;
  msg::FileBulkStart manifest;
  SecretBytes key;  ///< the file key (zeroed when this is destroyed)
  FileSource src;
  std::int64_t next = 0;   ///< next chunk to send
  std::int64_t acked = 0;  ///< chunks the receiver confirmed
  std::int64_t last_activity = 0;
  int last_pct = -1;
};

struct IncomingBulk {
  IncomingFile info;  ///< names, sender, size, sha256 for the events (no pieces)
  std::optional<bulk::Receiver> rx;
  PartialFile out;
  std::int64_t last_activity = 0;
};

struct FileTransfers {
  std::deque<OutgoingBulk> bulk_out;            ///< bulk sends in progress (each windowed)
  std::map<std::string, IncomingBulk> bulk_in;  ///< by file_id
  std::deque<OutgoingFile> out;                 ///< sent in order, one at a time
  std::deque<OutgoingFile> recent_sent;         ///< fully sent (without data): late server errors
  std::map<std::string, IncomingFile> in;       ///< by file_id
  /// Incoming file ids already finished (received or failed): late or duplicated frames of
  /// them are ignored quietly. Bounded, oldest dropped first.
  std::deque<std::string> done_order;
  std::set<std::string> done;
  /// Chunk pacing: whole chunks we may send now, refilled at file_chunks_per_second.
  double budget = -1;  ///< < 0: not started
  std::int64_t budget_at = 0;
  /// File errors without a file_id are swallowed until then (see on_file_error).
  std::int64_t quiet_until = 0;

  void mark_done(const std::string& file_id);
};

// ---- file system (client_file_io.cpp) ------------------------------------------------------

/// Reads a regular file of at most `max` bytes. Errors: NotFound / Io (missing, unreadable,
/// a directory or other non-regular file) and TooLarge, each with a detail for the user.
Result<std::string> read_file_for_send(const std::string& path, std::uint64_t max);
/// The last path component ("/a/b/c.txt" -> "c.txt"; trailing slashes ignored).
std::string base_name(std::string_view path);
/// A name that is safe to create inside the download folder: the basename of `name` with
/// control characters, path separators and leading dots removed; "." / ".." / empty (or
/// over-long) names become "file-<id>" (id reduced to [A-Za-z0-9-]).
std::string safe_file_name(std::string_view name, std::string_view file_id);
/// Creates `dir` (and its parents) with mode 0700 if missing. Io on failure.
Status ensure_dir(const std::string& dir);
/// Writes `data` to a NEW file in `dir` named `name`, or "stem (1).ext", "stem (2).ext", ...
/// if that exists (O_CREAT|O_EXCL, mode 0600: never overwrites). Returns the path written.
/// On a write error the partial file is removed.
Result<std::string> write_new_file(const std::string& dir, const std::string& name,
                                   std::string_view data);
/// "3-5, 9 (4 of 12)" — the indices in [0, total) missing from `have`, as ranges.
std::string missing_ranges(const std::map<std::int64_t, std::string>& have, std::int64_t total);

// ---- events (client_files.cpp; schema in client/README-json.md) ----------------------------
namespace ev {
/// direction: "send" or "receive".
json::Value file_progress(const std::string& file_id, const std::string& name,
                          const std::string& direction, std::uint64_t bytes, std::uint64_t total);
json::Value file_sent(const std::string& file_id, const std::string& name, const std::string& to,
                      const std::string& to_name, std::uint64_t size);
json::Value file_incoming(const IncomingFile& f);
json::Value file_received(const IncomingFile& f, const std::string& path);
json::Value file_failed(const std::string& file_id, const std::string& name,
                        const std::string& direction, const std::string& reason,
                        const std::string& peer, const std::string& peer_name);
}  // namespace ev

}  // namespace socp::client
