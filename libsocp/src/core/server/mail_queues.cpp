// MailQueues (mail_queues.h).
#include "core/server/mail_queues.h"

#include <algorithm>

namespace socp::core {

json::Value StoredDm::to_json() const {
  json::Object o{{"msg_id", msg_id},
                 {"sender", sender},
                 {"recipient", recipient},
                 {"ciphertext", ciphertext},
                 {"sender_pub", sender_pub},
                 {"content_sig", content_sig},
                 {"ts", ts},
                 {"reply_to", reply_to}};
  if (!parts.is_null()) o.emplace("parts", parts);
  if (is_public) o.emplace("public", true);
  return o;
}

Result<StoredDm> StoredDm::from_json(const json::Value& v) {
  StoredDm d;
  auto str = [&v](const char* k, std::string& out) {
    const std::string* s = json::get_string(v, k);
    if (!s) return false;
    out = *s;
    return true;
  };
  const std::int64_t* ts = json::get_int(v, "ts");
  if (!str("msg_id", d.msg_id) || !str("sender", d.sender) || !str("recipient", d.recipient) ||
      !str("ciphertext", d.ciphertext) || !str("sender_pub", d.sender_pub) ||
      !str("content_sig", d.content_sig) || !str("reply_to", d.reply_to) || !ts) {
    return make_error(Errc::Corrupt, "undecodable queued message");
  }
  d.ts = *ts;
  if (const json::Value* p = v.find("parts")) d.parts = *p;
  if (const json::Value* p = v.find("public"); p && p->is_bool()) d.is_public = p->as_bool();
  return d;
}

Status MailQueues::load() {
  auto all = store_.list_queued("");
  if (!all) return all.error();
  queues_.clear();
  total_ = 0;
  for (const QueuedMessage& m : *all) {
    auto body = json::parse(m.body);
    if (!body) continue;
    auto dm = StoredDm::from_json(*body);
    if (!dm) continue;
    Queue& q = queues_[m.queue];
    q.entries.push_back({m.seq, dm->sender, dm->msg_id, dm->reply_to, m.body.size(), m.at});
    q.bytes += m.body.size();
    ++total_;
    next_seq_ = std::max(next_seq_, m.seq + 1);
  }
  return ok_status();
}

Status MailQueues::put(const std::string& queue, const StoredDm& dm, std::int64_t now,
                       const QueueLimits& limits) {
  Queue& q = queues_[queue];
  const std::string body = json::canonical(dm.to_json());
  if (q.entries.size() >= limits.max_messages || q.bytes + body.size() > limits.max_bytes) {
    return make_error(Errc::TooLarge, "the recipient's mailbox is full (" +
                                          std::to_string(q.entries.size()) + " messages)");
  }
  QueuedMessage m{queue, next_seq_++, body, now};
  SOCP_TRY(store_.put_queued(m));
  q.entries.push_back({m.seq, dm.sender, dm.msg_id, dm.reply_to, body.size(), now});
  q.bytes += body.size();
  ++total_;
  return ok_status();
}

bool MailQueues::contains(const std::string& queue, const std::string& sender,
                          const std::string& msg_id) const {
  auto it = queues_.find(queue);
  if (it == queues_.end()) return false;
  for (const Entry& e : it->second.entries) {
    if (e.msg_id == msg_id && e.sender == sender) return true;
  }
  return false;
}

std::optional<MailQueues::Entry> MailQueues::remove(const std::string& queue,
                                                    const std::string& sender,
                                                    const std::string& msg_id) {
  auto it = queues_.find(queue);
  if (it == queues_.end()) return std::nullopt;
  auto& entries = it->second.entries;
  for (auto e = entries.begin(); e != entries.end(); ++e) {
    if (e->msg_id != msg_id || (!sender.empty() && e->sender != sender)) continue;
    Entry out = *e;
    (void)store_.delete_queued(queue, e->seq);
    it->second.bytes -= e->bytes;
    entries.erase(e);
    --total_;
    if (entries.empty()) queues_.erase(it);
    return out;
  }
  return std::nullopt;
}

std::vector<std::pair<MailQueues::Entry, StoredDm>> MailQueues::read(const std::string& queue) {
  std::vector<std::pair<Entry, StoredDm>> out;
  auto it = queues_.find(queue);
  if (it == queues_.end()) return out;
  auto stored = store_.list_queued(queue);
  if (!stored) return out;
  std::map<std::uint64_t, const QueuedMessage*> by_seq;
  for (const QueuedMessage& m : *stored) {
    if (m.queue == queue) by_seq[m.seq] = &m;
  }
  for (const Entry& e : it->second.entries) {
    auto m = by_seq.find(e.seq);
    if (m == by_seq.end()) continue;
    auto body = json::parse(m->second->body);
    if (!body) continue;
    auto dm = StoredDm::from_json(*body);
    if (dm) out.emplace_back(e, std::move(dm).value());
  }
  return out;
}

std::vector<std::pair<std::string, StoredDm>> MailQueues::expire(std::int64_t before) {
  std::vector<std::pair<std::string, StoredDm>> out;
  std::vector<std::string> names;
  for (const auto& [name, q] : queues_) {
    if (!q.entries.empty() && q.entries.front().at < before) names.push_back(name);
  }
  for (const std::string& name : names) {
    for (auto& [e, dm] : read(name)) {
      if (e.at >= before) break;
      remove(name, e.sender, e.msg_id);
      out.emplace_back(name, std::move(dm));
    }
  }
  return out;
}

std::size_t MailQueues::size(const std::string& queue) const {
  auto it = queues_.find(queue);
  return it == queues_.end() ? 0 : it->second.entries.size();
}

}  // namespace socp::core
