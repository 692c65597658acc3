// Private: the crypto of bulk file mode (socp extension; docs/protocol.md "Bulk files",
// docs/protocol-notes.md "Bulk files"). Pure: no I/O, no clock.
//
//   key        32 random bytes per file (XChaCha20-Poly1305-IETF), wrapped once with
//              RSA-OAEP-SHA256 for the recipient; never reused for another file.
//   chunk i    plaintext bytes [i*chunk_size, (i+1)*chunk_size) of the file (one chunk,
//              empty, for an empty file), sealed as ciphertext || 16-byte tag with
//              nonce = "socp-bulk-v1" (12 bytes) || 4 zero bytes || i (8 bytes, big-endian)
//              -- deterministic, so the sender can hash a chunk before sending it and
//              produce the same bytes again when it sends; unique because the key is.
//   AD         "socp-bulk-v1|" + file_id + "|" + i + "|" + (last ? "1" : "0").
//   manifest   canonical JSON of {chunk_sha256, chunk_size, chunks, file_id, from, name,
//              sha256, size, to, v: "socp-bulk-v1", wrapped_key}, signed by the sender
//              (RSASSA-PSS-SHA256, like content_sig). chunk_sha256[i] = SHA-256 of chunk i's
//              ciphertext || tag; sha256 = SHA-256 of the whole plaintext.
// Thread-safety: free functions are pure; a Receiver belongs to one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "socp/bytes.h"
#include "socp/crypto.h"
#include "socp/messages.h"
#include "socp/result.h"

namespace socp::client::bulk {

/// Plaintext bytes per chunk. 256 KiB: its base64url frame (~350 KB) stays well under the
/// 1 MiB a server accepts from a user (Limits::max_user_frame) and the 1 MiB JSON string
/// limit, while 64 MiB is 256 chunks (a 17 KB manifest) and a chunk's crypto (~0.3 ms)
/// dwarfs its per-frame overhead.
inline constexpr std::size_t kChunkBytes = 256 * 1024;
/// Flow control: the sender keeps at most kWindow chunks unacknowledged (4 MiB of
/// plaintext, ~5.3 MiB of frames in the whole path per transfer); the receiver acknowledges
/// every kAckEvery chunks and at the end.
inline constexpr std::int64_t kWindow = 16;
inline constexpr std::int64_t kAckEvery = 4;
inline constexpr std::size_t kKeyBytes = 32;
inline constexpr std::size_t kTagBytes = 16;

/// Chunks a file of `size` bytes has: max(1, ceil(size / chunk)).
std::int64_t chunk_count(std::uint64_t size, std::uint64_t chunk = kChunkBytes);
/// A fresh random file key.
SecretBytes new_key();
/// "socp-bulk-v1|" + file_id + "|" + index + "|" + (last ? "1" : "0").
std::string chunk_ad(std::string_view file_id, std::int64_t index, bool last);
/// ciphertext || tag of chunk `index`. InvalidArgument for a key that is not 32 bytes.
Result<Bytes> seal_chunk(const SecretBytes& key, std::string_view file_id, std::int64_t index,
                         bool last, std::string_view plain);
/// The plaintext of a chunk. Crypto if it does not open (wrong key, file, index, last flag,
/// or altered bytes); BadFrame if shorter than a tag.
Result<std::string> open_chunk(const SecretBytes& key, std::string_view file_id, std::int64_t index,
                               bool last, const Bytes& sealed);
/// The bytes the sender signs (see above). `to` is the recipient's user id.
std::string manifest_bytes(const msg::FileBulkStart& m, std::string_view from, std::string_view to);

/// Incremental SHA-256 (OpenSSL, like socp::sha256: it uses the CPU's SHA extensions,
/// several times faster than a portable implementation). Move-only.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  void update(std::string_view d);
  /// Lowercase hex; the state is spent afterwards.
  std::string hex();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

/// Checks a transfer chunk by chunk against a manifest whose signature the caller already
/// verified, holding only the key, the manifest and a running hash (no chunk is kept).
class Receiver {
 public:
  Receiver(msg::FileBulkStart manifest, SecretBytes key);
  /// The next chunk, or why it is refused: an index other than the next one (reordered,
  /// replayed, skipped), a wrong last flag, ciphertext not matching the manifest's digest
  /// (altered, or from another file), an AEAD failure, or more bytes than the declared size.
  /// After a refusal the transfer is over (every later call is refused too).
  Result<std::string> accept(const msg::FileBulkChunk& c);
  /// After the last chunk: total size and whole-file SHA-256 against the manifest. Before
  /// it: "incomplete" (a truncated transfer).
  Status finish();
  bool complete() const noexcept { return next_ == m_.chunks; }
  std::int64_t received() const noexcept { return next_; }
  std::uint64_t bytes() const noexcept { return bytes_; }
  const msg::FileBulkStart& manifest() const noexcept { return m_; }

 private:
  msg::FileBulkStart m_;
  SecretBytes key_;
  Sha256 whole_;
  std::int64_t next_ = 0;
  std::uint64_t bytes_ = 0;
  bool broken_ = false;
};

}  // namespace socp::client::bulk
