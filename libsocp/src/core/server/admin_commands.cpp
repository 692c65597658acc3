// Operator commands and settings (socp/server_core.h, docs/deploy.md "Admin"): the admin
// tools write them into the store, possibly while the server runs (LMDB allows another
// process); the core looks for them every admin_poll_ms and carries them out in a turn.
#include <sstream>

#include "core/server/core_impl.h"

namespace socp {

namespace {

void run_command(ServerCore::Impl& s, const std::string& text) {
  std::istringstream in(text);
  std::string kind, arg;
  in >> kind >> arg;
  if (kind == "delete-user" && !arg.empty()) {
    if (!s.delete_account(arg)) {
      s.log(LogLevel::Warn, "admin: delete-user " + arg + ": no such account here");
    }
  } else if (kind == "forget-server" && !arg.empty()) {
    if (s.peers.count(arg) == 0) {
      s.log(LogLevel::Warn, "admin: forget-server " + arg + ": unknown server");
    } else {
      s.forget_peer(arg, "operator request");
    }
  } else {
    s.log(LogLevel::Warn, "admin: ignored unknown command '" + text.substr(0, 80) + "'");
  }
}

}  // namespace

bool ServerCore::Impl::delete_account(const std::string& user_id) {
  auto acc = store.get_user(user_id);
  if (!acc) return false;
  if (auto it = sessions.find(user_id); it != sessions.end()) {
    core::ErrorOpts o;
    o.to = user_id;
    o.fatal = true;
    o.close_code = 1000;
    o.close_reason = "account deleted";
    out.error(it->second, Errc::UserNotFound, "this account was deleted by the operator",
              std::move(o));
    if (core::Conn* c = conn(it->second)) drop_user_session(*c);
  }
  dir.remove(user_id);
  user_adverts.erase(user_id);
  (void)store.delete_user(user_id);
  count(Counter::AccountsDeleted);
  log(LogLevel::Info, "account " + user_id + " deleted by the operator");
  return true;
}

void ServerCore::Impl::poll_admin() {
  const std::int64_t t = now();
  if (t - last_admin_poll < cfg.admin_poll_ms) return;
  last_admin_poll = t;
  auto cmds = store.list_settings(kSettingCommandPrefix);
  if (!cmds) return;
  for (const auto& [key, text] : *cmds) {
    log(LogLevel::Info, "admin command: " + text.substr(0, 120));
    run_command(*this, text);
    (void)store.delete_setting(key);
  }
}

}  // namespace socp
