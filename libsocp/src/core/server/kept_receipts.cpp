// Receipts for a sender who is offline when they are due: kept in the store (setting
// "receipts/<user id>", a RECEIPTS payload) and sent with the next login, so `delivered` is
// never lost because the sender closed the client first (docs/protocol-notes.md "Nothing
// lost"). At most kMaxKept ids per user are kept (the oldest dropped).
#include "core/server/core_impl.h"

namespace socp::core {

namespace {

constexpr std::size_t kMaxKept = 10'000;

std::string key_of(const std::string& user) {
  return "receipts/" + user;
}

template <typename T>
void append_capped(std::vector<T>& to, std::vector<T>& from) {
  for (auto& x : from) to.push_back(std::move(x));
  if (to.size() > kMaxKept) to.erase(to.begin(), to.end() - kMaxKept);
}

}  // namespace

void keep_receipts(ServerCore::Impl& s, const std::string& user, msg::Receipts r) {
  msg::Receipts kept;
  if (auto text = s.store.get_setting(key_of(user))) {
    if (auto v = json::parse(*text)) {
      if (auto old = msg::Receipts::from_json(*v)) kept = std::move(old).value();
    }
  }
  append_capped(kept.queued, r.queued);
  append_capped(kept.delivered, r.delivered);
  append_capped(kept.failed, r.failed);
  if (Status st = s.store.put_setting(key_of(user), json::canonical(kept.to_json())); !st.ok()) {
    s.log(LogLevel::Warn, "cannot keep receipts for " + user + ": " + st.error().detail);
  }
}

void send_kept_receipts(ServerCore::Impl& s, Conn& c) {
  auto text = s.store.get_setting(key_of(c.user_id));
  if (!text) return;
  (void)s.store.delete_setting(key_of(c.user_id));
  if (!c.acks) return;  // a client without socp/1 does not read RECEIPTS
  auto v = json::parse(*text);
  if (!v) return;
  auto r = msg::Receipts::from_json(*v);
  if (!r) return;
  s.out.send(c.id, MessageType::Receipts, c.user_id, r->to_json());
}

}  // namespace socp::core
