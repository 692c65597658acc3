// File transfers: what sender and receiver must agree on (the signed manifest), the bounded
// set of finished transfers, and the file events.
#include "core/client/client_files.h"

namespace socp::client {
namespace {

constexpr std::size_t kDoneCapacity = 1024;

json::Value make(const char* name, json::Object fields) {
  fields["event"] = name;
  return json::Value(std::move(fields));
}

json::Value num(std::uint64_t v) {
  return json::Value(static_cast<std::int64_t>(v));
}

}  // namespace

std::string file_manifest_bytes(const std::string& file_id, const std::string& from,
                                const std::string& mode, const std::string& name,
                                const std::string& sha256_hex, std::uint64_t size,
                                const std::string& to) {
  return json::canonical(json::Object{{"file_id", file_id},
                                      {"from", from},
                                      {"mode", mode},
                                      {"name", name},
                                      {"sha256", sha256_hex},
                                      {"size", num(size)},
                                      {"to", to}});
}

std::string file_chunk_ad(const std::string& sender, const std::string& key_id,
                          const std::string& file_id, std::int64_t index) {
  return "socp-file-v1|" + sender + "|" + key_id + "|" + file_id + "|" + std::to_string(index);
}

void FileTransfers::mark_done(const std::string& file_id) {
  if (!done.insert(file_id).second) return;
  done_order.push_back(file_id);
  while (done_order.size() > kDoneCapacity) {
    done.erase(done_order.front());
    done_order.pop_front();
  }
}

namespace ev {

json::Value file_progress(const std::string& file_id, const std::string& name,
                          const std::string& direction, std::uint64_t bytes, std::uint64_t total) {
  return make("file_progress", {{"file_id", file_id},
                                {"name", name},
                                {"direction", direction},
                                {"bytes", num(bytes)},
                                {"total", num(total)}});
}

json::Value file_sent(const std::string& file_id, const std::string& name, const std::string& to,
                      const std::string& to_name, std::uint64_t size) {
  return make("file_sent", {{"file_id", file_id},
                            {"name", name},
                            {"to", to},
                            {"to_name", to_name},
                            {"size", num(size)}});
}

namespace {

/// A transfer whose manifest nobody signed says so (docs/interop.md "Files from G43").
json::Value weaker(json::Value e, const IncomingFile& f) {
  if (f.sender_server.empty() || !e.is_object()) return e;
  e.as_object()["manifest_signed"] = false;
  e.as_object()["sender_server"] = f.sender_server;
  return e;
}

}  // namespace

json::Value file_incoming(const IncomingFile& f) {
  return weaker(make("file_incoming", {{"file_id", f.file_id},
                                       {"name", f.name},
                                       {"from", f.from},
                                       {"from_name", f.from_name},
                                       {"size", num(f.size)},
                                       {"mode", f.mode}}),
                f);
}

json::Value file_received(const IncomingFile& f, const std::string& path) {
  return weaker(make("file_received", {{"file_id", f.file_id},
                                       {"name", f.name},
                                       {"path", path},
                                       {"from", f.from},
                                       {"from_name", f.from_name},
                                       {"size", num(f.size)},
                                       {"sha256", f.sha256_hex},
                                       {"mode", f.mode}}),
                f);
}

json::Value file_failed(const std::string& file_id, const std::string& name,
                        const std::string& direction, const std::string& reason,
                        const std::string& peer, const std::string& peer_name) {
  // `peer`: the recipient ("to") of a send, the sender ("from") of a receive.
  const bool send = direction == "send";
  return make("file_failed", {{"file_id", file_id},
                              {"name", name},
                              {"direction", direction},
                              {"reason", reason},
                              {send ? "to" : "from", peer},
                              {send ? "to_name" : "from_name", peer_name}});
}

}  // namespace ev
}  // namespace socp::client
