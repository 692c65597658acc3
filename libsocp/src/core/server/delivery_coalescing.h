// Live deliveries, coalesced while the server is busy signing: to a socp client
// (USER_DELIVER_BATCH) and to a socp server that takes them (SERVER_DELIVER_BATCH).
//
// A DM for a local user costs its home server one signature (the USER_DELIVER). During a
// burst for one recipient those signatures queue up behind each other, so the last DM of the
// burst waits for all of them. Instead, while one delivery frame for a connection is waiting
// for its signature, the DMs that arrive for that connection are parked; once that signature
// is ready they leave together in one USER_DELIVER_BATCH (at most ReceiptBatches::kBatch
// messages, one signature). A recipient whose deliveries keep pace is unaffected: its DMs go
// out one USER_DELIVER each, as before, and a parked DM never waits longer than it would have
// waited in the signing queue. Only socp/1 clients get batches (they take them at login too);
// every message in a batch is still verified by the client against its sender's content_sig.
// Parked DMs are in the recipient's mailbox already, so a connection that drops loses nothing:
// they are handed over again at the next login. The same holds between servers: a parked
// SERVER_DELIVER is in the outbox towards its server until that server acknowledges it, and
// is sent again when the link comes back. docs/protocol-notes.md "Coalesced deliveries".
// Thread-safety: none; service thread only.
#pragma once

#include "core/server/core_impl.h"

namespace socp::core {

/// Hands `dm` (already in the recipient's mailbox) to the socp/1 client on `c`: as its own
/// USER_DELIVER if no delivery frame of `c` is waiting for its signature, else parked for the
/// next batch.
void offer_delivery(ServerCore::Impl& s, Conn& c, const StoredDm& dm);

/// What a local client is handed for a kept DM: the USER_DELIVER payload (its envelope ts must
/// be dm.ts, which content_sig covers), or its entry in a USER_DELIVER_BATCH.
json::Value user_deliver(const StoredDm& dm);
msg::DeliveredMessage delivered_entry(const StoredDm& dm);

/// Sends the SERVER_DELIVER `payload` (a DM of lane `lane` for a user of `server_id`) on the
/// server link `link`: as its own frame, or, on a link that takes SERVER_DELIVER_BATCH, parked
/// while the link's previous SERVER_DELIVER(_BATCH) of the same lane waits for its signature
/// or kMaxUnackedPerLane of the lane's DMs wait for the peer's acknowledgement. Other lanes
/// (other senders) are never parked behind it.
void offer_server_delivery(ServerCore::Impl& s, Conn& link, const std::string& server_id,
                           json::Value payload, std::uint64_t lane);

/// At most this many DMs of one lane (sender) are on a link and not yet acknowledged by the
/// peer (DELIVERY_RECEIPTS); more wait parked. So one sender's flood never fills the link
/// and the peer's input ahead of other senders' DMs (their DMs wait behind at most this many).
inline constexpr std::size_t kMaxUnackedPerLane = 128;

/// The peer `server_id` acknowledged (or failed) one DM of `sender` that we sent it: frees
/// room on its lane and sends what was parked there.
void forward_acked(ServerCore::Impl& s, const std::string& server_id, const std::string& sender);

/// After a signature completed: every connection whose delivery frame is now signed gets its
/// parked DMs in one USER_DELIVER_BATCH or SERVER_DELIVER_BATCH.
void release_parked_deliveries(ServerCore::Impl& s);

}  // namespace socp::core
