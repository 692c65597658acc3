#include "core/client/client_incoming.h"

namespace socp::client {

bool SeenIds::contains(const std::string& sender, const std::string& msg_id) const {
  return keys_.count(sender + "|" + msg_id) != 0;
}

void SeenIds::insert(const std::string& sender, const std::string& msg_id) {
  std::string k = sender + "|" + msg_id;
  if (!keys_.insert(k).second) return;
  order_.push_back(std::move(k));
  while (order_.size() > capacity_) {
    keys_.erase(order_.front());
    order_.pop_front();
  }
}

Abandoned Reassembly::abandoned(const Open& o) {
  Abandoned a;
  a.sender = o.sender;
  a.received = static_cast<std::int64_t>(o.pieces.size());
  a.count = o.count;
  a.ts = o.pieces.empty() ? 0 : o.pieces.begin()->second.ts;
  return a;
}

Reassembly::Verdict Reassembly::add(const std::string& sender, const std::string& parts_id, Piece p,
                                    Assembled& out, std::int64_t now,
                                    std::vector<Abandoned>& pushed_out) {
  if (p.count < 1 || p.count > kMaxPieces || p.index < 0 || p.index >= p.count) {
    return Verdict::Bad;
  }
  const std::string key = sender + "|" + parts_id;
  auto it = open_.find(key);
  if (it == open_.end()) {
    while (open_.size() >= kMaxOpen) {  // push out the one that started first
      auto oldest = open_.begin();
      for (auto o = open_.begin(); o != open_.end(); ++o) {
        if (o->second.started < oldest->second.started) oldest = o;
      }
      pushed_out.push_back(abandoned(oldest->second));
      open_.erase(oldest);
    }
    Open o;
    o.sender = sender;
    o.count = p.count;
    o.started = now;
    it = open_.emplace(key, std::move(o)).first;
  }
  Open& o = it->second;
  if (o.count != p.count || o.bytes + p.text.size() > kMaxBytes) {
    open_.erase(it);
    return Verdict::Bad;
  }
  o.last = now;
  if (o.pieces.count(p.index) == 0) {
    o.bytes += p.text.size();
    o.pieces.emplace(p.index, std::move(p));
  }
  if (static_cast<std::int64_t>(o.pieces.size()) < o.count) return Verdict::Incomplete;
  out = Assembled{};
  out.ts = o.pieces.begin()->second.ts;
  out.text.reserve(o.bytes);
  for (auto& [i, piece] : o.pieces) {
    out.text += piece.text;
    out.msg_ids.push_back(piece.msg_id);
  }
  open_.erase(it);
  return Verdict::Complete;
}

std::vector<Abandoned> Reassembly::expire(std::int64_t now, std::int64_t timeout_ms) {
  std::vector<Abandoned> gone;
  for (auto it = open_.begin(); it != open_.end();) {
    if (now - it->second.last > timeout_ms) {
      gone.push_back(abandoned(it->second));
      it = open_.erase(it);
    } else {
      ++it;
    }
  }
  return gone;
}

}  // namespace socp::client
