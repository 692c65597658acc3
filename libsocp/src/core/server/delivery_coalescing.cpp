// Coalescing of live deliveries (delivery_coalescing.h).
#include "core/server/delivery_coalescing.h"

namespace socp::core {

namespace {

bool signing(const std::shared_ptr<SignedPayload>& sp) {
  return sp && !sp->ready && !sp->failed;
}
bool signing(const Conn& c) {
  return signing(c.delivery_signing);
}

/// Takes the first `n` of `parked` out, in order, and hands them to `send` in chunks of at
/// most ReceiptBatches::kBatch (one signed batch frame each).
template <class T, class Send>
void in_batches(ServerCore::Impl& s, std::vector<T>& parked, std::size_t n, Send send) {
  const auto first = parked.begin();
  for (std::size_t i = 0; i < n; i += ReceiptBatches::kBatch) {
    const std::size_t end = std::min(n, i + ReceiptBatches::kBatch);
    send(std::vector<T>(std::make_move_iterator(first + static_cast<std::ptrdiff_t>(i)),
                        std::make_move_iterator(first + static_cast<std::ptrdiff_t>(end))));
    s.count(Counter::DeliveriesCoalesced, end - i);
  }
  parked.erase(first, first + static_cast<std::ptrdiff_t>(n));
}

/// The parked DMs of `c`; the last batch's frame becomes the one later deliveries wait for.
void send_parked(ServerCore::Impl& s, Conn& c) {
  in_batches(s, c.parked_deliveries, c.parked_deliveries.size(),
             [&](std::vector<msg::DeliveredMessage>&& chunk) {
               msg::UserDeliverBatch batch{std::move(chunk)};
               SendOpts o;
               o.lane = lane_of(c.user_id);
               c.delivery_signing =
                   s.out.send(c.id, MessageType::UserDeliverBatch, c.user_id, batch.to_json(), o);
             });
}

/// The parked SERVER_DELIVERs of one lane of `link`, as far as the lane's bound allows.
void send_parked_forwards(ServerCore::Impl& s, Conn& link, std::uint64_t lane,
                          Conn::ParkedForwards& p) {
  const std::size_t room = kMaxUnackedPerLane - std::min(p.unacked, kMaxUnackedPerLane);
  const std::size_t n = std::min(room, p.deliveries.size());
  p.unacked += n;
  in_batches(s, p.deliveries, n, [&](std::vector<json::Value>&& chunk) {
    json::Object payload;
    payload.emplace("deliveries", std::move(chunk));  // json::Array is a vector of Values
    SendOpts o;
    o.lane = lane;
    p.signing = s.out.send(link.id, MessageType::ServerDeliverBatch, link.server_id,
                           json::Value(std::move(payload)), o);
  });
}

/// Sends what is parked on `c` whose previous frame is signed; true if nothing stays parked.
bool release(ServerCore::Impl& s, Conn& c) {
  if (!c.parked_deliveries.empty() && !signing(c)) send_parked(s, c);
  for (auto it = c.parked_forwards.begin(); it != c.parked_forwards.end();) {
    if (!it->second.deliveries.empty() && !signing(it->second.signing)) {
      send_parked_forwards(s, c, it->first, it->second);
    }
    // A lane with nothing signing, parked or unacknowledged is forgotten (lanes are senders).
    if (it->second.deliveries.empty() && !signing(it->second.signing) && it->second.unacked == 0) {
      it = c.parked_forwards.erase(it);
    } else {
      ++it;
    }
  }
  if (!c.parked_deliveries.empty()) return false;
  for (const auto& [lane, p] : c.parked_forwards) {
    if (!p.deliveries.empty()) return false;
  }
  return true;
}

}  // namespace

void offer_server_delivery(ServerCore::Impl& s, Conn& link, const std::string& server_id,
                           json::Value payload, std::uint64_t lane) {
  SendOpts o;
  o.ts = s.next_ts();  // a resend gets a fresh signed context (receivers drop stale frames)
  o.lane = lane;
  if (!link.deliver_batch) {
    s.out.send(link.id, MessageType::ServerDeliver, server_id, std::move(payload), o);
    return;
  }
  Conn::ParkedForwards& p = link.parked_forwards[lane];
  if (!signing(p.signing) && p.deliveries.empty() && p.unacked < kMaxUnackedPerLane) {
    p.signing = s.out.send(link.id, MessageType::ServerDeliver, server_id, std::move(payload), o);
    ++p.unacked;
    return;
  }
  p.deliveries.push_back(std::move(payload));
  s.parked_delivery_conns.insert(link.id);
  if (p.deliveries.size() >= ReceiptBatches::kBatch) send_parked_forwards(s, link, lane, p);
}

void forward_acked(ServerCore::Impl& s, const std::string& server_id, const std::string& sender) {
  auto peer = s.peers.find(server_id);
  Conn* link = peer == s.peers.end() ? nullptr : s.conn(peer->second.link);
  if (!link) return;  // sent on an older link: the new one starts with its own count
  auto it = link->parked_forwards.find(lane_of(sender));
  if (it == link->parked_forwards.end() || it->second.unacked == 0) return;
  --it->second.unacked;
  if (!it->second.deliveries.empty()) {
    s.parked_delivery_conns.insert(link->id);
    release_parked_deliveries(s);
  } else if (it->second.unacked == 0 && !signing(it->second.signing)) {
    link->parked_forwards.erase(it);  // one entry per sender with DMs in flight, no more
  }
}

json::Value user_deliver(const StoredDm& dm) {
  msg::UserDeliver d{dm.ciphertext, dm.sender, dm.sender_pub, dm.content_sig,
                     dm.msg_id,     dm.parts,  dm.is_public};
  return d.to_json();
}

msg::DeliveredMessage delivered_entry(const StoredDm& dm) {
  return {dm.msg_id, dm.sender, dm.sender_pub, dm.ciphertext, dm.content_sig, dm.ts, dm.parts};
}

void offer_delivery(ServerCore::Impl& s, Conn& c, const StoredDm& dm) {
  // A public copy (is_public) has no place in a batch entry: it goes alone, after what is
  // parked, so the order of arrival holds.
  if (dm.is_public || (!signing(c) && c.parked_deliveries.empty())) {
    if (!c.parked_deliveries.empty()) send_parked(s, c);
    SendOpts o;
    o.ts = dm.ts;  // content_sig covers the original ts
    o.lane = lane_of(dm.sender);
    c.delivery_signing =
        s.out.send(c.id, MessageType::UserDeliver, dm.recipient, user_deliver(dm), o);
    return;
  }
  c.parked_deliveries.push_back(delivered_entry(dm));
  s.parked_delivery_conns.insert(c.id);
  if (c.parked_deliveries.size() >= ReceiptBatches::kBatch) send_parked(s, c);
}

void release_parked_deliveries(ServerCore::Impl& s) {
  for (auto it = s.parked_delivery_conns.begin(); it != s.parked_delivery_conns.end();) {
    Conn* c = s.conn(*it);
    // A dropped connection's DMs stay in the mailbox or outbox they are kept in.
    if (!c || c->closing || release(s, *c)) {
      it = s.parked_delivery_conns.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace socp::core
