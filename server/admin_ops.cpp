// server/admin_ops.cpp — store edits of `socp-server admin`, safe beside a running server.
#include "admin_ops.h"

#include <sys/stat.h>

#include <chrono>
#include <thread>

#include "data_lock.h"
#include "socp/bytes.h"
#include "socp/json.h"
#include "socp/server_core.h"

namespace socp_server {

using socp::Errc;
using socp::make_error;

namespace {

bool has_database(const std::string& dir) {
  struct stat st {};
  return ::stat((dir + "/data.mdb").c_str(), &st) == 0;
}

socp::Result<std::unique_ptr<socp::LmdbStore>> open_store(const AdminTarget& t, bool read_only) {
  if (!has_database(t.data_dir)) {
    return make_error(Errc::NotFound, "no socp database in " + t.data_dir +
                                          " (wrong --data-dir? start the server once first)");
  }
  socp::LmdbOptions o;
  o.read_only = read_only;
  o.map_size = t.map_size_mib << 20;
  auto s = socp::LmdbStore::open(t.data_dir, o);
  if (!s) return make_error(s.code(), "cannot open " + t.data_dir + ": " + s.error().detail);
  return s;
}

/// Queues `text` for the running server and waits until it has taken it (the key is gone).
socp::Status run_on_server(socp::Store& store, const AdminTarget& t, const std::string& text,
                           long pid) {
  const std::string key = std::string(socp::kSettingCommandPrefix) + socp::new_uuid_v4();
  if (auto st = store.put_setting(key, text); !st) {
    return make_error(st.code(), "cannot queue the command: " + st.error().detail);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(t.wait_ms);
  while (store.get_setting(key)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return make_error(Errc::Timeout,
                        "queued, but the running server (pid " + std::to_string(pid) +
                            ") has not carried it out within " + std::to_string(t.wait_ms / 1000) +
                            " s; it will when it polls again");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return socp::ok_status();
}

socp::Result<socp::UserRecord> find_account(socp::Store& store, const std::string& who) {
  if (auto u = store.get_user(who)) return u;
  auto all = store.list_users();
  if (!all) return all.error();
  std::vector<socp::UserRecord> named;
  for (auto& u : *all) {
    if (display_name_of(u.meta_json) == who) named.push_back(u);
  }
  if (named.size() == 1) return named.front();
  if (named.empty()) return make_error(Errc::UserNotFound, "no account " + who + " here");
  std::string ids;
  for (const auto& u : named) ids += " " + u.user_id;
  return make_error(Errc::InvalidArgument, std::to_string(named.size()) + " accounts are named " +
                                               who + ": give the user id (" + ids.substr(1) + ")");
}

}  // namespace

std::string display_name_of(const std::string& meta_json) {
  auto v = socp::json::parse(meta_json);
  if (!v) return {};
  const std::string* name = socp::json::get_string(*v, "display_name");
  return name ? *name : std::string();
}

socp::Result<std::vector<socp::UserRecord>> list_accounts(const AdminTarget& t) {
  auto s = open_store(t, true);
  if (!s) return s.error();
  return s.value()->list_users();
}

socp::Result<std::vector<socp::ServerRecord>> list_servers(const AdminTarget& t) {
  auto s = open_store(t, true);
  if (!s) return s.error();
  return s.value()->list_servers();
}

socp::Result<std::vector<std::pair<std::string, std::string>>> list_invites(const AdminTarget& t) {
  auto s = open_store(t, true);
  if (!s) return s.error();
  auto all = s.value()->list_settings(socp::kSettingInvitePrefix);
  if (!all) return all.error();
  const std::size_t skip = std::string(socp::kSettingInvitePrefix).size();
  for (auto& [key, value] : *all) key = key.substr(skip);
  return all;
}

socp::Result<std::string> get_registration(const AdminTarget& t) {
  auto s = open_store(t, true);
  if (!s) return s.error();
  auto v = s.value()->get_setting(socp::kSettingRegistration);
  if (!v && v.code() == Errc::NotFound) return std::string("open");
  return v;
}

socp::Result<AdminOutcome> delete_account(const AdminTarget& t, const std::string& who) {
  auto s = open_store(t, false);
  if (!s) return s.error();
  socp::Store& store = *s.value();
  auto acc = find_account(store, who);
  if (!acc) return acc.error();
  const std::string id = acc.value().user_id;
  const std::string name = display_name_of(acc.value().meta_json);
  AdminOutcome out;
  out.what = "account " + id + (name.empty() ? "" : " (" + name + ")") + " deleted";

  auto lock = DataLock::acquire(t.data_dir, /*write_pid=*/false);
  if (!lock) {
    const auto pid = DataLock::holder(t.data_dir);
    if (lock.code() != Errc::Busy || !pid) return lock.error();
    if (auto st = run_on_server(store, t, "delete-user " + id, *pid); !st) return st.error();
    if (store.get_user(id)) {
      return make_error(Errc::Internal, "the running server (pid " + std::to_string(*pid) +
                                            ") did not delete " + id + ": see its log");
    }
    out.server_pid = *pid;
    return out;
  }
  socp::WriteBatch b;
  b.delete_user(id);
  if (store.get_directory(id)) b.delete_directory(id);
  if (auto st = store.apply(b); !st) return st.error();
  return out;
}

socp::Result<AdminOutcome> forget_server(const AdminTarget& t, const std::string& server_id) {
  auto s = open_store(t, false);
  if (!s) return s.error();
  socp::Store& store = *s.value();
  if (!store.get_server(server_id)) {
    return make_error(Errc::NotFound, "no server " + server_id +
                                          " is known here (socp-server admin servers lists them)");
  }
  AdminOutcome out;
  auto lock = DataLock::acquire(t.data_dir, /*write_pid=*/false);
  if (!lock) {
    const auto pid = DataLock::holder(t.data_dir);
    if (lock.code() != Errc::Busy || !pid) return lock.error();
    if (auto st = run_on_server(store, t, "forget-server " + server_id, *pid); !st) {
      return st.error();
    }
    if (store.get_server(server_id)) {
      return make_error(Errc::Internal, "the running server (pid " + std::to_string(*pid) +
                                            ") did not forget " + server_id + ": see its log");
    }
    out.server_pid = *pid;
    out.what = "server " + server_id + " forgotten";
    return out;
  }
  // The same as the core's forget_peer: the pin and address, and the users last seen there.
  socp::WriteBatch b;
  b.delete_server(server_id);
  std::size_t users = 0;
  if (auto dir = store.list_directory()) {
    for (const auto& rec : *dir) {
      if (rec.server_id != server_id || store.get_user(rec.user_id)) continue;
      b.delete_directory(rec.user_id);
      ++users;
    }
  }
  if (auto st = store.apply(b); !st) return st.error();
  out.what =
      "server " + server_id + " forgotten, and " + std::to_string(users) + " users last seen there";
  return out;
}

socp::Status set_registration(const AdminTarget& t, const std::string& policy) {
  if (policy != "open" && policy != "closed" && policy != "invite") {
    return make_error(Errc::InvalidArgument,
                      "registration must be open, closed or invite (not '" + policy + "')");
  }
  auto s = open_store(t, false);
  if (!s) return s.error();
  return s.value()->put_setting(socp::kSettingRegistration, policy);
}

socp::Result<std::string> create_invite(const AdminTarget& t, std::int64_t now_ms) {
  auto s = open_store(t, false);
  if (!s) return s.error();
  const std::string token = socp::b64url_encode(socp::random_bytes(18));
  if (auto st = s.value()->put_setting(socp::kSettingInvitePrefix + token,
                                       "created " + std::to_string(now_ms));
      !st) {
    return st.error();
  }
  return token;
}

socp::Status revoke_invite(const AdminTarget& t, const std::string& token) {
  auto s = open_store(t, false);
  if (!s) return s.error();
  auto st = s.value()->delete_setting(socp::kSettingInvitePrefix + token);
  if (!st && st.code() == Errc::NotFound) {
    return make_error(Errc::NotFound, "no invitation " + token + " (already used or revoked?)");
  }
  return st;
}

}  // namespace socp_server
