// ACK and ERROR payloads (docs/protocol.md §6).
#include "codec/message_fields.h"
#include "socp/messages.h"

namespace socp::msg {

using namespace detail;  // NOLINT(google-build-using-namespace): field readers

Result<Ack> Ack::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  Ack a;
  SOCP_CODEC_ASSIGN(a.msg_ref, req_string(v, "msg_ref"));
  SOCP_CODEC_ASSIGN(a.server_id, opt_string(v, "server_id"));
  SOCP_CODEC_ASSIGN(a.server_pub, opt_string(v, "server_pub"));
  return a;
}

json::Value Ack::to_json() const {
  json::Object o{{"msg_ref", msg_ref}};
  if (!server_id.empty()) o.emplace("server_id", server_id);
  if (!server_pub.empty()) o.emplace("server_pub", server_pub);
  return o;
}

// `code` is kept as the string received: clients show codes they do not know as-is.
Result<ErrorMsg> ErrorMsg::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  ErrorMsg e;
  SOCP_CODEC_ASSIGN(e.code, req_string(v, "code"));
  SOCP_CODEC_ASSIGN(e.detail, opt_string(v, "detail"));
  SOCP_CODEC_ASSIGN(e.msg_ref, opt_string(v, "msg_ref"));
  return e;
}

json::Value ErrorMsg::to_json() const {
  json::Object o{{"code", code}, {"detail", detail}};
  if (!msg_ref.empty()) o.emplace("msg_ref", msg_ref);
  return o;
}

}  // namespace socp::msg
