// Checks for a file whose manifest nobody signed (client_files.h, "transfers with an unsigned
// manifest"): G43 content-signs each FILE_CHUNK on its own, and that signature covers only the
// chunk's ciphertext, sender, recipient and ts — not the file, the index or the count. What
// is bound here: every chunk is the sender's and meant for us (signature), no chunk is used
// twice, the pieces have the layout of one cut file, and they were signed in index order.
// The whole file is checked against the manifest's size and SHA-256 when it completes
// (client_files_recv.cpp). What stays open is in docs/interop.md "Files from G43".
#include "core/client/client_files.h"

namespace socp::client {

std::string check_unsigned_chunk(IncomingFile& f, const PublicKey& key, const std::string& me,
                                 const json::Value& payload, std::int64_t index, std::int64_t ts) {
  const std::string at = "chunk " + std::to_string(index);
  const std::string* spub = json::get_string(payload, "sender_pub");
  if (spub && *spub != key.b64url()) {  // another form of the same key still passes
    auto k = PublicKey::parse(*spub);
    if (!k || *k != key) return at + ": sender_pub is not the sender's key";
  }
  const std::string* csig = json::get_string(payload, "content_sig");
  const std::string* ct = json::get_string(payload, "ciphertext");
  if (!csig || !ct) return at + ": no content signature";
  if (!verify_content(key, *ct, f.from, me, ts, *csig)) return at + ": bad content signature";
  auto [it, fresh] = f.chunk_sigs.emplace(*csig, index);
  if (!fresh && it->second != index) {
    return at + ": the same signed chunk as chunk " + std::to_string(it->second);
  }
  f.chunk_ts[index] = ts;
  return {};
}

std::string check_unsigned_layout(const IncomingFile& f) {
  if (f.pieces.size() > 1) {
    const std::size_t cut = f.pieces.begin()->second.size();
    for (auto it = f.pieces.begin(); it != f.pieces.end(); ++it) {
      const bool last = std::next(it) == f.pieces.end();
      if (last ? it->second.size() > cut : it->second.size() != cut) {
        return "chunk " + std::to_string(it->first) + " does not fit the file's chunk size";
      }
    }
  }
  std::int64_t prev = 0;
  for (const auto& [index, ts] : f.chunk_ts) {
    if (ts < prev) return "chunk " + std::to_string(index) + " was signed before the one ahead";
    prev = ts;
  }
  return {};
}

}  // namespace socp::client
