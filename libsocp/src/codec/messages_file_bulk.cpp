// Bulk file payloads (socp extension, docs/protocol.md "Bulk files"): FILE_BULK_START,
// FILE_BULK_CHUNK, FILE_BULK_ACK. Untrusted input: every limit is checked here and reported
// as BadFrame; nothing throws.
#include <cctype>

#include "codec/message_fields.h"
#include "socp/messages.h"

namespace socp::msg {

using namespace detail;  // NOLINT(google-build-using-namespace): field readers

namespace {

// 64 hex digits, lowercased in place.
bool hex64(std::string& s) {
  if (s.size() != 64) return false;
  for (char& c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return true;
}

Result<std::string> file_id_of(const json::Value& v) {
  auto id = req_string(v, "file_id");
  if (!id) return id.error();
  if (id->empty() || id->size() > kBulkMaxFileId) {
    return bad("file_id must have 1 to " + std::to_string(kBulkMaxFileId) + " characters");
  }
  return id;
}

// base64url length of n bytes, unpadded (an upper bound for padded input minus the padding).
constexpr std::size_t b64_len(std::size_t n) {
  return (n * 4 + 2) / 3 + 2;
}

}  // namespace

Result<FileBulkStart> FileBulkStart::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  FileBulkStart f;
  SOCP_CODEC_ASSIGN(f.file_id, file_id_of(v));
  SOCP_CODEC_ASSIGN(f.name, req_string(v, "name"));
  SOCP_CODEC_ASSIGN(f.size, req_non_negative(v, "size"));
  SOCP_CODEC_ASSIGN(f.chunk_size, req_int(v, "chunk_size"));
  SOCP_CODEC_ASSIGN(f.chunks, req_int(v, "chunks"));
  SOCP_CODEC_ASSIGN(f.sha256, req_string(v, "sha256"));
  SOCP_CODEC_ASSIGN(f.wrapped_key, req_string(v, "wrapped_key"));
  SOCP_CODEC_ASSIGN(f.sender_pub, req_string(v, "sender_pub"));
  SOCP_CODEC_ASSIGN(f.content_sig, req_string(v, "content_sig"));
  if (f.name.size() > kBulkMaxName) return bad("name is too long");
  if (f.chunk_size < kBulkMinChunkBytes || f.chunk_size > kBulkMaxChunkBytes) {
    return bad("chunk_size must be in [" + std::to_string(kBulkMinChunkBytes) + ", " +
               std::to_string(kBulkMaxChunkBytes) + "]");
  }
  if (f.chunks < 1 || f.chunks > kBulkMaxChunks) {
    return bad("chunks must be in [1, " + std::to_string(kBulkMaxChunks) + "]");
  }
  // Overflow-free: size / chunk_size < chunks <= kBulkMaxChunks is checked first.
  if (f.size / f.chunk_size > kBulkMaxChunks) return bad("size does not match chunks");
  const std::int64_t expect = f.size == 0 ? 1 : (f.size + f.chunk_size - 1) / f.chunk_size;
  if (f.chunks != expect) return bad("chunks does not match size and chunk_size");
  if (!hex64(f.sha256)) return bad("sha256 must be 64 hex digits");
  if (f.wrapped_key.size() > 2048) return bad("wrapped_key is too long");
  const json::Value* hashes = v.find("chunk_sha256");
  if (!hashes || !hashes->is_array()) return bad("missing field 'chunk_sha256' (an array)");
  const json::Array& arr = hashes->as_array();
  if (static_cast<std::int64_t>(arr.size()) != f.chunks) {
    return bad("chunk_sha256 must have one digest per chunk");
  }
  f.chunk_sha256.reserve(arr.size());
  for (const json::Value& h : arr) {
    if (!h.is_string()) return bad("chunk_sha256 entries must be strings");
    std::string d = h.as_string();
    if (!hex64(d)) return bad("chunk_sha256 entries must be 64 hex digits");
    f.chunk_sha256.push_back(std::move(d));
  }
  return f;
}

json::Value FileBulkStart::to_json() const {
  return json::Object{{"file_id", file_id},
                      {"name", name},
                      {"size", size},
                      {"chunk_size", chunk_size},
                      {"chunks", chunks},
                      {"chunk_sha256", encode_strings(chunk_sha256)},
                      {"sha256", sha256},
                      {"wrapped_key", wrapped_key},
                      {"sender_pub", sender_pub},
                      {"content_sig", content_sig}};
}

Result<FileBulkChunk> FileBulkChunk::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  FileBulkChunk c;
  SOCP_CODEC_ASSIGN(c.file_id, file_id_of(v));
  SOCP_CODEC_ASSIGN(c.index, req_non_negative(v, "index"));
  if (c.index >= kBulkMaxChunks) return bad("index out of range");
  const json::Value* last = v.find("last");
  if (!last || !last->is_bool()) return bad("missing field 'last' (a boolean)");
  c.last = last->as_bool();
  SOCP_CODEC_ASSIGN(c.ciphertext, req_string(v, "ciphertext"));
  if (c.ciphertext.size() > b64_len(static_cast<std::size_t>(kBulkMaxChunkBytes) + 16) + 2) {
    return bad("ciphertext is larger than a chunk");
  }
  return c;
}

// Built member by member: an initializer list would copy the ~350 KB ciphertext twice.
json::Value FileBulkChunk::to_json() const& {
  return FileBulkChunk(*this).to_json();
}

json::Value FileBulkChunk::to_json() && {
  json::Object o;
  o.emplace("file_id", std::move(file_id));
  o.emplace("index", index);
  o.emplace("last", last);
  o.emplace("ciphertext", std::move(ciphertext));
  return json::Value(std::move(o));
}

Result<FileBulkAck> FileBulkAck::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  FileBulkAck a;
  SOCP_CODEC_ASSIGN(a.file_id, file_id_of(v));
  SOCP_CODEC_ASSIGN(a.received, req_non_negative(v, "received"));
  if (a.received > kBulkMaxChunks) return bad("received out of range");
  SOCP_CODEC_ASSIGN(a.status, req_string(v, "status"));
  if (a.status != "ok" && a.status != "done" && a.status != "failed") {
    return bad("status must be \"ok\", \"done\" or \"failed\"");
  }
  SOCP_CODEC_ASSIGN(a.reason, opt_string(v, "reason"));
  if (a.reason.size() > 200) return bad("reason is longer than 200 bytes");
  return a;
}

json::Value FileBulkAck::to_json() const {
  json::Object o{{"file_id", file_id}, {"received", received}, {"status", status}};
  if (!reason.empty()) o["reason"] = reason;
  return o;
}

}  // namespace socp::msg
