// File transfer payloads (docs/protocol.md §6): FILE_START, FILE_CHUNK, FILE_END.
#include "codec/message_fields.h"
#include "socp/messages.h"

namespace socp::msg {

using namespace detail;  // NOLINT(google-build-using-namespace): field readers

// mode defaults to "dm" (peers that predate public file sends omit it); its value is not
// checked here: the core decides what to do with a mode it does not know.
Result<FileStart> FileStart::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  FileStart f;
  SOCP_CODEC_ASSIGN(f.file_id, req_string(v, "file_id"));
  SOCP_CODEC_ASSIGN(f.name, req_string(v, "name"));
  SOCP_CODEC_ASSIGN(f.size, req_non_negative(v, "size"));
  SOCP_CODEC_ASSIGN(f.sha256, req_string(v, "sha256"));
  SOCP_CODEC_ASSIGN(f.mode, opt_string(v, "mode", "dm"));
  return f;
}

json::Value FileStart::to_json() const {
  return json::Object{
      {"file_id", file_id}, {"name", name}, {"size", size}, {"sha256", sha256}, {"mode", mode}};
}

Result<FileChunk> FileChunk::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  FileChunk c;
  SOCP_CODEC_ASSIGN(c.file_id, req_string(v, "file_id"));
  SOCP_CODEC_ASSIGN(c.index, req_non_negative(v, "index"));
  SOCP_CODEC_ASSIGN(c.ciphertext, req_string(v, "ciphertext"));
  return c;
}

json::Value FileChunk::to_json() const {
  return json::Object{{"file_id", file_id}, {"index", index}, {"ciphertext", ciphertext}};
}

Result<FileEnd> FileEnd::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  FileEnd e;
  SOCP_CODEC_ASSIGN(e.file_id, req_string(v, "file_id"));
  return e;
}

json::Value FileEnd::to_json() const {
  return json::Object{{"file_id", file_id}};
}

}  // namespace socp::msg
