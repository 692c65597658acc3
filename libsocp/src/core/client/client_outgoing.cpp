#include "core/client/client_outgoing.h"

#include <algorithm>

namespace socp::client {
namespace {

using State = OutPiece::State;
using Report = OutDm::Report;

bool acknowledged(const OutDm& dm) {
  return std::none_of(dm.pieces.begin(), dm.pieces.end(),
                      [](const OutPiece& p) { return p.state == State::Sent; });
}

bool final_report(Report r) {
  return r == Report::Delivered || r == Report::Failed;
}

}  // namespace

void OutgoingDms::add(OutDm dm) {
  for (const OutPiece& p : dm.pieces) owner_[p.msg_id] = dm.id;
  dms_.push_back(std::move(dm));
  trim();
}

std::optional<ReceiptChange> OutgoingDms::on_queued(const std::string& msg_id) {
  return update(msg_id, State::Queued, "", "");
}
std::optional<ReceiptChange> OutgoingDms::on_delivered(const std::string& msg_id) {
  return update(msg_id, State::Delivered, "", "");
}
std::optional<ReceiptChange> OutgoingDms::on_failed(const std::string& msg_id,
                                                    const std::string& code,
                                                    const std::string& reason) {
  return update(msg_id, State::Failed, code, reason);
}

std::optional<ReceiptChange> OutgoingDms::update(const std::string& msg_id, State st,
                                                 const std::string& code,
                                                 const std::string& reason) {
  auto o = owner_.find(msg_id);
  if (o == owner_.end()) return std::nullopt;
  auto it =
      std::find_if(dms_.begin(), dms_.end(), [&](const OutDm& d) { return d.id == o->second; });
  if (it == dms_.end()) return std::nullopt;
  OutDm& dm = *it;
  for (OutPiece& p : dm.pieces) {
    if (p.msg_id != msg_id) continue;
    // Receipts only move forward: a late "queued" never undoes "delivered" or "failed".
    if (p.state == State::Failed || (p.state == State::Delivered && st != State::Failed)) break;
    if (st == State::Queued && p.state != State::Sent) break;
    p.state = st;
  }
  if (final_report(dm.reported)) return std::nullopt;
  if (st == State::Failed) {
    dm.reported = Report::Failed;
    dm.fail_code = code;
    dm.fail_reason = reason;
    return ReceiptChange{"failed", &dm};
  }
  const bool all_delivered = std::all_of(dm.pieces.begin(), dm.pieces.end(), [](const OutPiece& p) {
    return p.state == State::Delivered;
  });
  if (all_delivered) {
    dm.reported = Report::Delivered;
    return ReceiptChange{"delivered", &dm};
  }
  if (dm.reported == Report::None && acknowledged(dm)) {
    dm.reported = Report::Queued;
    return ReceiptChange{"queued", &dm};
  }
  return std::nullopt;
}

std::vector<OutDm*> OutgoingDms::unacknowledged() {
  std::vector<OutDm*> out;
  for (OutDm& dm : dms_) {
    if (!final_report(dm.reported) && !acknowledged(dm)) out.push_back(&dm);
  }
  return out;
}

std::size_t OutgoingDms::not_final() const {
  return static_cast<std::size_t>(std::count_if(
      dms_.begin(), dms_.end(), [](const OutDm& d) { return !final_report(d.reported); }));
}

std::size_t OutgoingDms::unacknowledged_count() const {
  return static_cast<std::size_t>(std::count_if(dms_.begin(), dms_.end(), [](const OutDm& d) {
    return !final_report(d.reported) && !acknowledged(d);
  }));
}

void OutgoingDms::trim() {
  // Forget finished DMs first, then queued ones (their receipts can no longer be reported);
  // a DM still waiting for its first receipt is never forgotten here.
  auto forget = [this](auto pred) {
    for (auto it = dms_.begin(); it != dms_.end() && dms_.size() > kMaxKept;) {
      if (pred(*it)) {
        for (const OutPiece& p : it->pieces) owner_.erase(p.msg_id);
        it = dms_.erase(it);
      } else {
        ++it;
      }
    }
  };
  forget([](const OutDm& d) { return final_report(d.reported); });
  forget([](const OutDm& d) { return acknowledged(d); });
}

}  // namespace socp::client
