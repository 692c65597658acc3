// echo_bot: logs in with an identity socp-cli created and sends every direct message back
// to its sender. Shows ClientRuntime: events arrive on the runtime's core thread; commands
// (send_dm) may be called from there, they are queued.
//
//   echo_bot <home> <name> <password-file> <host:port>
//
// Prints each event as a JSON line on stdout. Runs until killed or the session ends.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>

#include "socp/bytes.h"
#include "socp/client_runtime.h"
#include "socp/identity.h"

namespace {

int fail(const std::string& why) {
  std::fprintf(stderr, "echo_bot: %s\n", why.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) return fail("usage: echo_bot <home> <name> <password-file> <host:port>");
  const std::string home = argv[1], name = argv[2], server = argv[4];
  auto id = socp::identity::load(home, name);
  if (!id) return fail(id.error().detail);
  socp::SecretBytes password;
  {
    std::ifstream in(argv[3]);
    std::string line;
    if (!std::getline(in, line)) return fail("cannot read the password file");
    password = socp::SecretBytes(line);
    std::fill(line.begin(), line.end(), '\0');
  }
  auto key = socp::identity::unlock(id.value(), password.view());  // Argon2id, before the loop
  password.wipe();
  if (!key) return fail(key.error().detail);

  socp::ClientConfig cfg;
  cfg.mode = socp::ClientMode::Login;
  cfg.user_id = id->user_id;
  cfg.display_name = name;
  cfg.key = std::move(key).value();
  cfg.client_name = "echo_bot/0.1.0";
  cfg.server_label = server;

  socp::ClientRuntimeOptions opt;
  const auto colon = server.rfind(':');
  if (colon == std::string::npos) return fail("server must be host:port");
  opt.host = server.substr(0, colon);
  opt.port = static_cast<std::uint16_t>(std::stoi(server.substr(colon + 1)));
  opt.reconnect_min_ms = 200;
  socp::ClientRuntime* rt = nullptr;
  opt.on_event = [&rt, &id](const socp::json::Value& e, const socp::ClientCore&) {
    std::printf("%s\n", socp::json::canonical_utf8(e).c_str());
    std::fflush(stdout);
    const std::string* ev = socp::json::get_string(e, "event");
    const std::string* from = socp::json::get_string(e, "from");
    const std::string* text = socp::json::get_string(e, "text");
    // Direct messages only (public posts have "channel"), never our own.
    if (ev && *ev == "message" && from && text && !e.find("channel") && *from != id->user_id) {
      rt->send_dm(*from, "echo: " + *text);
    }
  };
  auto created = socp::ClientRuntime::create(std::move(cfg), std::move(opt));
  if (!created) return fail(created.error().detail);
  rt = created.value().get();
  rt->run();
  return rt->outcome() == socp::ClientOutcome::Done ? 0 : 2;
}
