// server/admin.cpp — the `socp-server admin` command line and its output.
#include "admin.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "admin_ops.h"
#include "identity.h"
#include "socp/json.h"

namespace socp_server {

namespace json = socp::json;

namespace {

constexpr const char* kDescription =
    "socp-server admin: look at and change a socp-server's data directory.\n"
    "Safe while the server runs: account deletions and forgotten servers are carried out by\n"
    "the running server itself (within a second); on a stopped server they are made directly.";

constexpr const char* kFooter =
    "Examples:\n"
    "  socp-server admin --data-dir /var/lib/socp accounts\n"
    "  socp-server admin --config /etc/socp/socp-server.conf registration invite\n"
    "  socp-server admin --data-dir ./socp-data --json servers\n"
    "Run it as the user the server runs as (with the Debian package: sudo -u socp ...).";

std::string utc(std::int64_t ms) {
  if (ms <= 0) return "-";
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

int error(const std::string& msg) {
  std::fprintf(stderr, "socp-server admin: %s\n", msg.c_str());
  return 1;
}

void print_json(const json::Value& v) {
  std::printf("%s\n", json::canonical(v).c_str());
}

/// Columns padded to the widest cell; the last column is not padded.
void print_table(const std::vector<std::vector<std::string>>& rows) {
  if (rows.empty()) return;
  std::vector<std::size_t> width(rows.front().size(), 0);
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
}

int cmd_accounts(const AdminTarget& t, bool as_json) {
  auto users = list_accounts(t);
  if (!users) return error(users.error().detail);
  if (as_json) {
    json::Array a;
    for (const auto& u : *users) {
      json::Object o;
      o["user_id"] = u.user_id;
      o["display_name"] = display_name_of(u.meta_json);
      o["created_at"] = u.created_at;
      o["tofu"] = u.tofu;
      a.emplace_back(std::move(o));
    }
    print_json(json::Value(std::move(a)));
    return 0;
  }
  if (users->empty()) {
    std::printf("no accounts\n");
    return 0;
  }
  std::vector<std::vector<std::string>> rows{{"USER ID", "NAME", "CREATED", "TOFU"}};
  for (const auto& u : *users) {
    rows.push_back(
        {u.user_id, display_name_of(u.meta_json), utc(u.created_at), u.tofu ? "yes" : "no"});
  }
  print_table(rows);
  return 0;
}

int cmd_servers(const AdminTarget& t, bool as_json) {
  auto servers = list_servers(t);
  if (!servers) return error(servers.error().detail);
  if (as_json) {
    json::Array a;
    for (const auto& s : *servers) {
      json::Object o;
      o["server_id"] = s.server_id;
      o["host"] = s.host;
      o["port"] = static_cast<std::int64_t>(s.port);
      o["last_seen"] = s.last_seen;
      o["socp"] = s.socp;
      o["introduced_by"] = s.introduced_by;
      a.emplace_back(std::move(o));
    }
    print_json(json::Value(std::move(a)));
    return 0;
  }
  if (servers->empty()) {
    std::printf("no other servers known\n");
    return 0;
  }
  std::vector<std::vector<std::string>> rows{
      {"SERVER ID", "ADDRESS", "LAST SEEN", "SOCP", "INTRODUCED BY"}};
  for (const auto& s : *servers) {
    rows.push_back({s.server_id, s.host + ":" + std::to_string(s.port), utc(s.last_seen),
                    s.socp ? "yes" : "no", s.introduced_by.empty() ? "-" : s.introduced_by});
  }
  print_table(rows);
  return 0;
}

int cmd_invites(const AdminTarget& t, bool as_json) {
  auto invites = list_invites(t);
  if (!invites) return error(invites.error().detail);
  auto created = [](const std::string& v) -> std::int64_t {
    return v.rfind("created ", 0) == 0 ? std::atoll(v.c_str() + 8) : 0;
  };
  if (as_json) {
    json::Array a;
    for (const auto& [token, value] : *invites) {
      json::Object o;
      o["token"] = token;
      o["created_at"] = created(value);
      a.emplace_back(std::move(o));
    }
    print_json(json::Value(std::move(a)));
    return 0;
  }
  if (invites->empty()) {
    std::printf("no open invitations\n");
    return 0;
  }
  std::vector<std::vector<std::string>> rows{{"TOKEN", "CREATED"}};
  for (const auto& [token, value] : *invites) rows.push_back({token, utc(created(value))});
  print_table(rows);
  return 0;
}

int report_change(const socp::Result<AdminOutcome>& r, bool as_json) {
  if (!r) return error(r.error().detail);
  if (as_json) {
    json::Object o;
    o["done"] = r.value().what;
    o["by_running_server"] = r.value().server_pid.has_value();
    print_json(json::Value(std::move(o)));
    return 0;
  }
  std::printf(
      "%s%s\n", r.value().what.c_str(),
      r.value().server_pid
          ? (" by the running server (pid " + std::to_string(*r.value().server_pid) + ")").c_str()
          : "");
  return 0;
}

}  // namespace

int print_identity(const std::string& data_dir, std::size_t map_size_mib) {
  socp::LmdbOptions o;
  o.read_only = true;
  o.map_size = map_size_mib << 20;
  auto store = socp::LmdbStore::open(data_dir, o);
  if (!store) return error("cannot open " + data_dir + ": " + store.error().detail);
  auto id = load_identity(*store.value(), data_dir);
  if (!id && id.code() == socp::Errc::NotFound) {
    return error("no identity in " + data_dir + " yet (created on the server's first start)");
  }
  if (!id) return error(id.error().detail);
  std::fputs(describe_identity(id.value().server_id, id.value().key.public_key()).c_str(), stdout);
  return 0;
}

int admin_main(int argc, char** argv) {
  CLI::App app{kDescription, "socp-server admin"};
  app.footer(kFooter);
  app.require_subcommand(1);
  app.set_config("--config", "", "Take --data-dir and --db-map-size from the server's config file");
  app.allow_config_extras(CLI::config_extras_mode::ignore);
  AdminTarget t;
  t.data_dir = "./socp-data";
  bool as_json = false;
  app.add_option("--data-dir", t.data_dir, "The server's data directory")->capture_default_str();
  app.add_option("--db-map-size", t.map_size_mib, "LMDB map size in MiB (as the server's)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  app.add_flag("--json", as_json, "Print one JSON document instead of text");

  std::function<int()> run;
  auto sub = [&](const char* name, const char* help, std::function<int()> fn) {
    CLI::App* c = app.add_subcommand(name, help);
    c->fallthrough();  // --json and --data-dir may also follow the command
    c->callback([&run, fn] { run = fn; });
    return c;
  };
  sub("accounts", "List the accounts registered here (id, name, created, tofu)",
      [&] { return cmd_accounts(t, as_json); });
  std::string who;
  sub("delete-account", "Delete an account (and end its session if the server runs)",
      [&] { return report_change(delete_account(t, who), as_json); })
      ->add_option("ID", who, "User id, or a display name unique here")
      ->required();
  std::string policy;
  sub("registration", "Show or set who may register: open, closed or invite",
      [&]() -> int {
        if (policy.empty()) {
          auto p = get_registration(t);
          if (!p) return error(p.error().detail);
          as_json ? print_json(json::Value(json::Object{{"registration", *p}}))
                  : (void)std::printf("registration %s\n", p->c_str());
          return 0;
        }
        if (auto st = set_registration(t, policy); !st) return error(st.error().detail);
        as_json ? print_json(json::Value(json::Object{{"registration", policy}}))
                : (void)std::printf("registration %s\n", policy.c_str());
        return 0;
      })
      ->add_option("POLICY", policy, "open | closed | invite")
      ->check(CLI::IsMember({"open", "closed", "invite"}));
  sub("invite", "Create a single-use invitation token and print it", [&]() -> int {
    auto tok = create_invite(t, now_ms());
    if (!tok) return error(tok.error().detail);
    as_json ? print_json(json::Value(json::Object{{"token", *tok}}))
            : (void)std::printf("%s\n", tok->c_str());
    return 0;
  });
  sub("invites", "List the invitations not used yet", [&] { return cmd_invites(t, as_json); });
  std::string token;
  sub("revoke-invite", "Delete an invitation",
      [&]() -> int {
        if (auto st = revoke_invite(t, token); !st) return error(st.error().detail);
        as_json ? print_json(json::Value(json::Object{{"revoked", token}}))
                : (void)std::printf("invitation %s revoked\n", token.c_str());
        return 0;
      })
      ->add_option("TOKEN", token, "The token")
      ->required();
  sub("servers", "List the other servers known here", [&] { return cmd_servers(t, as_json); });
  std::string server_id;
  sub("forget-server", "Forget a server: its pinned key, address and users last seen there",
      [&] { return report_change(forget_server(t, server_id), as_json); })
      ->add_option("ID", server_id, "Server id")
      ->required();
  sub("identity", "Print this server's id, public key and fingerprint",
      [&] { return print_identity(t.data_dir, t.map_size_mib); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  return run ? run() : 2;
}

}  // namespace socp_server
