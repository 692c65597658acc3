// Helpers for the directory tests: keys are opaque strings here (the directory never parses
// them), server ids are short names that sort as their letters ("srv-a" < "srv-b" < "srv-c").
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "socp/directory.h"

namespace socp::test {

inline const std::string kSelf = "srv-a";
inline const std::string kB = "srv-b";
inline const std::string kC = "srv-c";
inline const std::string kKeyAlice = "KEY-alice";
inline const std::string kKeyBob = "KEY-bob";
inline const std::string kKeyCarol = "KEY-carol";
inline const std::string kKeyMallory = "KEY-mallory";

inline const char* kind_name(DirectoryEventKind k) {
  switch (k) {
    case DirectoryEventKind::Online:
      return "Online";
    case DirectoryEventKind::Offline:
      return "Offline";
    case DirectoryEventKind::Moved:
      return "Moved";
    case DirectoryEventKind::KeyConflict:
      return "KeyConflict";
    case DirectoryEventKind::Evicted:
      return "Evicted";
  }
  return "?";
}

/// "Kind user@server" (plus "<detail" when the detail matters), compact for REQUIRE output.
inline std::string ev_str(const DirectoryEvent& e, bool with_detail = false) {
  std::string s = std::string(kind_name(e.kind)) + " " + e.user_id + "@" + e.server_id;
  if (with_detail) s += "<" + e.detail;
  return s;
}

/// Subscribes to a directory and records every event as a string.
class Recorder {
 public:
  explicit Recorder(DirectoryService& d, bool with_detail = false) : d_(d), detail_(with_detail) {
    token_ = d.subscribe([this](const DirectoryEvent& e) {
      events_.push_back(ev_str(e, detail_));
      raw_.push_back(e);
    });
  }
  ~Recorder() { d_.unsubscribe(token_); }
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  /// Returns the events so far and forgets them.
  std::vector<std::string> take() {
    auto out = std::move(events_);
    events_.clear();
    raw_.clear();
    return out;
  }
  const std::vector<DirectoryEvent>& raw() const { return raw_; }
  std::size_t count(DirectoryEventKind k) const {
    std::size_t n = 0;
    for (const auto& e : raw_) n += e.kind == k ? 1 : 0;
    return n;
  }

 private:
  DirectoryService& d_;
  bool detail_;
  int token_ = 0;
  std::vector<std::string> events_;
  std::vector<DirectoryEvent> raw_;
};

using Events = std::vector<std::string>;

inline msg::UserAdvertise advert(const std::string& user, const std::string& server,
                                 const std::string& key, std::optional<std::int64_t> since = {},
                                 json::Value meta = json::Object{}) {
  msg::UserAdvertise a;
  a.user_id = user;
  a.server_id = server;
  a.pubkey = key;
  a.meta = std::move(meta);
  a.since = since;
  return a;
}

/// A verified login at time `ts` (digest "login-<ts>" unless given).
inline LoginStamp stamp(std::int64_t ts, std::string digest = {}) {
  LoginStamp st;
  st.ts = ts;
  st.digest = digest.empty() ? "login-" + std::to_string(ts) : std::move(digest);
  return st;
}

inline msg::UserRemove removal(const std::string& user, const std::string& server) {
  msg::UserRemove r;
  r.user_id = user;
  r.server_id = server;
  return r;
}

inline msg::DirectoryEntry entry(const std::string& user, const std::string& server,
                                 const std::string& key, bool online,
                                 json::Value meta = json::Object{}) {
  msg::DirectoryEntry e;
  e.user_id = user;
  e.server_id = server;
  e.pubkey = key;
  e.meta = std::move(meta);
  e.online = online;
  return e;
}

inline json::Value display(const std::string& name) {
  return json::Object{{"display_name", name}};
}

/// "user@server:on/off" for a record, or "none".
inline std::string where(const DirectoryService& d, const std::string& user) {
  const UserInfo* u = d.find(user);
  if (u == nullptr) return "none";
  return u->user_id + "@" + u->server_id + (u->online ? ":on" : ":off");
}

}  // namespace socp::test
