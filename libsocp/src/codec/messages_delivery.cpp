// Store-and-forward and receipt payloads (socp/1 extensions, docs/protocol-notes.md
// "Nothing lost").
#include "codec/message_fields.h"
#include "socp/messages.h"

namespace socp::msg {

using namespace detail;  // NOLINT(google-build-using-namespace): field readers

namespace {

constexpr std::size_t kMaxIdsPerFrame = 4096;
constexpr std::size_t kMaxIdChars = 64;

Result<std::vector<std::string>> id_list(const json::Value& v, const char* key) {
  std::vector<std::string> ids;
  SOCP_CODEC_ASSIGN(ids, opt_string_array(v, key));
  if (ids.size() > kMaxIdsPerFrame) return bad(std::string("too many ids in '") + key + "'");
  for (const auto& id : ids) {
    if (id.empty() || id.size() > kMaxIdChars) {
      return bad(std::string("ids in '") + key + "' must have 1..64 characters");
    }
  }
  return ids;
}

template <typename T>
Result<std::vector<T>> opt_list(const json::Value& v, const char* key) {
  const json::Value* a = v.find(key);
  if (a == nullptr || a->is_null()) return std::vector<T>{};
  if (!a->is_array()) return bad(std::string("field '") + key + "' must be an array");
  if (a->as_array().size() > kMaxIdsPerFrame) {
    return bad(std::string("too many entries in '") + key + "'");
  }
  return decode_array<T>(a->as_array(), key);
}

}  // namespace

Result<DeliveredMessage> DeliveredMessage::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v, "message"));
  DeliveredMessage m;
  SOCP_CODEC_ASSIGN(m.msg_id, opt_string(v, "msg_id"));
  SOCP_CODEC_ASSIGN(m.sender, req_string(v, "sender"));
  SOCP_CODEC_ASSIGN(m.sender_pub, req_string(v, "sender_pub"));
  SOCP_CODEC_ASSIGN(m.ciphertext, req_string(v, "ciphertext"));
  SOCP_CODEC_ASSIGN(m.content_sig, req_string(v, "content_sig"));
  SOCP_CODEC_ASSIGN(m.ts, req_int(v, "ts"));
  SOCP_CODEC_ASSIGN(m.parts, opt_parts(v));
  return m;
}

json::Value DeliveredMessage::to_json() const {
  json::Object o{{"sender", sender},
                 {"sender_pub", sender_pub},
                 {"ciphertext", ciphertext},
                 {"content_sig", content_sig},
                 {"ts", ts}};
  if (!msg_id.empty()) o.emplace("msg_id", msg_id);
  if (!parts.is_null()) o.emplace("parts", parts);
  return o;
}

Result<UserDeliverBatch> UserDeliverBatch::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  UserDeliverBatch b;
  const json::Array* list = nullptr;
  SOCP_CODEC_ASSIGN(list, req_array(v, "messages"));
  if (list->size() > kMaxIdsPerFrame) return bad("too many messages");
  SOCP_CODEC_ASSIGN(b.messages, decode_array<DeliveredMessage>(*list, "messages"));
  return b;
}

json::Value UserDeliverBatch::to_json() const {
  return json::Object{{"messages", encode_array(messages)}};
}

Result<DeliveryAck> DeliveryAck::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  DeliveryAck a;
  SOCP_CODEC_ASSIGN(a.ids, id_list(v, "ids"));
  return a;
}

json::Value DeliveryAck::to_json() const {
  return json::Object{{"ids", encode_strings(ids)}};
}

Result<FailedReceipt> FailedReceipt::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v, "failed entry"));
  FailedReceipt f;
  SOCP_CODEC_ASSIGN(f.msg_id, req_string(v, "msg_id"));
  SOCP_CODEC_ASSIGN(f.sender, opt_string(v, "sender"));
  SOCP_CODEC_ASSIGN(f.code, opt_string(v, "code"));
  SOCP_CODEC_ASSIGN(f.reason, opt_string(v, "reason"));
  if (f.msg_id.empty() || f.msg_id.size() > kMaxIdChars) return bad("bad msg_id");
  return f;
}

json::Value FailedReceipt::to_json() const {
  json::Object o{{"msg_id", msg_id}, {"code", code}, {"reason", reason}};
  if (!sender.empty()) o.emplace("sender", sender);
  return o;
}

Result<Receipts> Receipts::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  Receipts r;
  SOCP_CODEC_ASSIGN(r.queued, id_list(v, "queued"));
  SOCP_CODEC_ASSIGN(r.delivered, id_list(v, "delivered"));
  SOCP_CODEC_ASSIGN(r.failed, opt_list<FailedReceipt>(v, "failed"));
  return r;
}

json::Value Receipts::to_json() const {
  return json::Object{{"queued", encode_strings(queued)},
                      {"delivered", encode_strings(delivered)},
                      {"failed", encode_array(failed)}};
}

Result<MessageRef> MessageRef::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v, "message ref"));
  MessageRef r;
  SOCP_CODEC_ASSIGN(r.sender, req_string(v, "sender"));
  SOCP_CODEC_ASSIGN(r.msg_id, req_string(v, "msg_id"));
  if (r.msg_id.empty() || r.msg_id.size() > kMaxIdChars) return bad("bad msg_id");
  return r;
}

json::Value MessageRef::to_json() const {
  return json::Object{{"sender", sender}, {"msg_id", msg_id}};
}

Result<DeliveryReceipts> DeliveryReceipts::from_json(const json::Value& v) {
  SOCP_TRY(require_object(v));
  DeliveryReceipts r;
  SOCP_CODEC_ASSIGN(r.acked, opt_list<MessageRef>(v, "acked"));
  SOCP_CODEC_ASSIGN(r.delivered, opt_list<MessageRef>(v, "delivered"));
  SOCP_CODEC_ASSIGN(r.failed, opt_list<FailedReceipt>(v, "failed"));
  return r;
}

json::Value DeliveryReceipts::to_json() const {
  return json::Object{{"acked", encode_array(acked)},
                      {"delivered", encode_array(delivered)},
                      {"failed", encode_array(failed)}};
}

}  // namespace socp::msg
