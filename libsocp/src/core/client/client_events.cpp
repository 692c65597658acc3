#include "core/client/client_events.h"

namespace socp::client::ev {
namespace {

json::Value make(const char* name, json::Object fields) {
  fields["event"] = name;
  return json::Value(std::move(fields));
}

}  // namespace

const char* outcome_name(ClientOutcome o) noexcept {
  switch (o) {
    case ClientOutcome::Running:
      return "running";
    case ClientOutcome::Done:
      return "done";
    case ClientOutcome::ConnectFailed:
      return "connect_failed";
    case ClientOutcome::ConnectionLost:
      return "connection_lost";
    case ClientOutcome::AuthFailed:
      return "auth_failed";
    case ClientOutcome::ProtocolError:
      return "protocol_error";
  }
  return "running";
}

json::Value connected(const std::string& server) {
  return make("connected", {{"server", server}});
}

json::Value closed(ClientOutcome outcome, const std::string& code) {
  return make("closed", {{"outcome", outcome_name(outcome)}, {"code", code}});
}

json::Value registered(const std::string& user_id, const std::string& display_name) {
  return make("registered", {{"user_id", user_id}, {"display_name", display_name}});
}

json::Value recovered(const std::string& user_id, const std::string& display_name) {
  return make("recovered", {{"user_id", user_id}, {"display_name", display_name}});
}

json::Value logged_in(const std::string& user_id, const std::string& display_name,
                      const std::string& server_id, bool challenge) {
  return make("logged_in", {{"user_id", user_id},
                            {"display_name", display_name},
                            {"server_id", server_id},
                            {"challenge", challenge}});
}

json::Value presence(const KnownUser& u) {
  return make("presence", {{"user_id", u.user_id},
                           {"display_name", u.display_name},
                           {"server_id", u.server_id},
                           {"online", u.online}});
}

json::Value key_changed(const KnownUser& u, const PublicKey& offered, const std::string& source) {
  return make("key_changed",
              {{"kind", "user"},
               {"user_id", u.user_id},
               {"display_name", u.display_name},
               {"pinned_fingerprint", u.key ? u.key->fingerprint_hex() : std::string()},
               {"pinned_since", u.pinned_since},
               {"offered_fingerprint", offered.fingerprint_hex()},
               {"source", source}});
}

json::Value server_key_changed(const std::string& address, const std::string& server_id,
                               const std::string& pinned_fingerprint, std::int64_t pinned_since,
                               const PublicKey& offered, const std::string& source) {
  return make("key_changed", {{"kind", "server"},
                              {"user_id", server_id},
                              {"display_name", address},
                              {"server", address},
                              {"pinned_fingerprint", pinned_fingerprint},
                              {"pinned_since", pinned_since},
                              {"offered_fingerprint", offered.fingerprint_hex()},
                              {"source", source}});
}

json::Value list(const std::vector<const KnownUser*>& users) {
  json::Array arr;
  arr.reserve(users.size());
  for (const KnownUser* u : users) {
    json::Object entry;
    entry["user_id"] = u->user_id;
    entry["display_name"] = u->display_name;
    entry["server_id"] = u->server_id;
    entry["online"] = u->online;
    arr.emplace_back(std::move(entry));
  }
  return make("list", {{"users", std::move(arr)}});
}

json::Value sent(const std::string& to, const std::string& to_name, std::size_t bytes,
                 std::size_t pieces) {
  return make("sent", {{"to", to},
                       {"to_name", to_name},
                       {"bytes", static_cast<std::int64_t>(bytes)},
                       {"pieces", static_cast<std::int64_t>(pieces)}});
}

json::Value sent_all(std::size_t recipients, std::size_t bytes, std::size_t skipped) {
  return make("sent_all", {{"recipients", static_cast<std::int64_t>(recipients)},
                           {"bytes", static_cast<std::int64_t>(bytes)},
                           {"skipped", static_cast<std::int64_t>(skipped)}});
}

json::Value message(const std::string& from, const std::string& from_name, const std::string& to,
                    std::string text, std::int64_t ts, bool first_contact) {
  return make("message", {{"from", from},
                          {"from_name", from_name},
                          {"to", to},
                          {"text", std::move(text)},
                          {"ts", ts},
                          {"verified", true},
                          {"first_contact", first_contact}});
}

json::Value rejected(const std::string& reason, const std::string& from,
                     const std::string& from_name, std::int64_t ts) {
  return make("rejected",
              {{"reason", reason}, {"from", from}, {"from_name", from_name}, {"ts", ts}});
}

json::Value error(const std::string& code, const std::string& detail, const std::string& msg_ref) {
  return make("error", {{"code", code}, {"detail", detail}, {"msg_ref", msg_ref}});
}

json::Value ambiguous(const std::string& who, const std::vector<std::string>& candidates) {
  json::Array ids(candidates.begin(), candidates.end());
  return make("error",
              {{"code", "AMBIGUOUS"},
               {"detail", "display name '" + who + "' matches several users; use a user id"},
               {"msg_ref", ""},
               {"candidates", std::move(ids)}});
}

json::Value warning(const std::string& detail) {
  return make("warning", {{"detail", detail}});
}

json::Value whoami(const std::string& user_id, const std::string& display_name,
                   const std::string& server_id, const std::string& fingerprint) {
  return make("whoami", {{"user_id", user_id},
                         {"display_name", display_name},
                         {"server_id", server_id},
                         {"fingerprint", fingerprint}});
}

json::Value fingerprint(const KnownUser& u) {
  return make("fingerprint", {{"user_id", u.user_id},
                              {"display_name", u.display_name},
                              {"fingerprint", u.key ? u.key->fingerprint_hex() : std::string()}});
}

json::Value help(const std::string& text) {
  return make("help", {{"text", text}});
}

}  // namespace socp::client::ev
