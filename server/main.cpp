// socp-server: parse options, open the store and identity, build the core and runtime, run
// until SIGINT/SIGTERM. Everything else lives in libsocp.
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "options.h"
#include "signal_watcher.h"
#include "socp/bytes.h"
#include "socp/client_core.h"  // format_fingerprint
#include "socp/crypto.h"
#include "socp/server_core.h"
#include "socp/store.h"
#include "socp/ws_host.h"

namespace {

int fail(const std::string& msg) {
  std::fprintf(stderr, "socp-server: %s\n", msg.c_str());
  return 1;
}

void wipe(std::string& s) {
  if (!s.empty()) sodium_memzero(&s[0], s.size());
  s.clear();
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread exists, so that every thread inherits the blocked mask.
  socp_server::SignalWatcher::block_signals();

  socp_server::Options opt;
  if (auto rc = socp_server::parse_options(argc, argv, opt)) return *rc;

  const socp::LogFn log =
      socp_server::make_stderr_logger(socp_server::parse_log_level(opt.log_level));
  socp_server::SignalWatcher signals;

  // ---- store and identity -------------------------------------------------------------------
  socp::LmdbOptions lmdb;
  lmdb.map_size = opt.db_map_size_mib << 20;
  auto store = socp::LmdbStore::open(opt.data_dir, lmdb);
  if (!store)
    return fail("cannot open data directory " + opt.data_dir + ": " + store.error().detail);

  auto identity = store.value()->get_identity();
  if (!identity && identity.code() != socp::Errc::NotFound) {
    return fail("cannot read the server identity in " + opt.data_dir + ": " +
                identity.error().detail);
  }
  std::string server_id;
  std::optional<socp::PrivateKey> key;
  if (identity) {
    auto k = socp::PrivateKey::from_pem(identity.value().private_key_pem);
    wipe(identity.value().private_key_pem);
    if (!k)
      return fail("server identity in " + opt.data_dir + " is unreadable: " + k.error().detail);
    key.emplace(std::move(k.value()));
    server_id = identity.value().server_id;
    if (opt.multi_prime) log(socp::LogLevel::Info, "--multi-prime ignored: identity exists");
  } else {
    std::fprintf(stderr, "generating server identity (RSA-4096)\xe2\x80\xa6\n");
    auto k = socp::PrivateKey::generate(opt.multi_prime ? 4 : 2);
    if (!k) return fail("cannot generate a key: " + k.error().detail);
    key.emplace(std::move(k.value()));
    socp::ServerIdentity id;
    id.server_id = socp::new_uuid_v4();
    socp::SecretBytes pem = key->to_pem();
    id.private_key_pem.assign(pem.view());
    socp::Status st = store.value()->put_identity(id);
    wipe(id.private_key_pem);
    if (!st)
      return fail("cannot store the server identity in " + opt.data_dir + ": " + st.error().detail);
    server_id = id.server_id;
  }

  const socp::PublicKey pub = key->public_key();
  const std::string fingerprint = "SHA256:" + socp::format_fingerprint(pub.fingerprint_hex());
  if (opt.print_identity) {
    std::printf("server_id   %s\npublic_key  %s\nfingerprint %s\n", server_id.c_str(),
                pub.b64url().c_str(), fingerprint.c_str());
    return 0;
  }

  // ---- core and runtime ---------------------------------------------------------------------
  auto cfg = socp_server::to_server_config(opt, log);
  if (!cfg) return fail(cfg.error().detail);
  if (opt.advertise_host.empty() && (opt.host == "0.0.0.0" || opt.host == "::")) {
    log(socp::LogLevel::Warn, "advertising " + opt.host +
                                  " to other servers: set --advertise-host to a reachable address");
  }
  auto clock = [] {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  };
  log(socp::LogLevel::Info,
      "server key fingerprint " + fingerprint + " (public key: socp-server --print-identity)");

  socp::ServerRuntimeOptions ro;
  ro.listen_host = opt.host;
  ro.listen_port = opt.port;
  ro.sign_threads = opt.sign_threads;
  ro.max_frame = std::max(opt.max_user_frame, opt.max_server_frame);
  // Accepted connections start at the core's pre-authentication limit; the core raises it
  // (Action::SetFrameLimit) after a login or a server handshake.
  ro.max_frame_unauthenticated = cfg.value().max_frame_unauthenticated;
  ro.max_connections = opt.max_connections;
  ro.max_connections_per_ip = opt.max_connections_per_ip;
  ro.tls_cert_file = opt.tls_cert;
  ro.tls_key_file = opt.tls_key;
  ro.tls_ca_file = opt.tls_ca_file;
  ro.outgoing_tls = opt.tls_links;
  ro.log = log;
  // The listener is bound first, so that with --port 0 the core advertises the real port.
  const socp::PublicKey& server_pub = pub;
  std::optional<socp::ServerCore> core;  // outlives the runtime (declared before it)
  // Log lines of the core name remote addresses (known once the runtime exists).
  auto runtime_ref = std::make_shared<socp::ServerRuntime*>(nullptr);
  auto make_core = [&](std::uint16_t bound_port) -> socp::ServerCore& {
    socp::ServerConfig c = std::move(cfg.value());
    if (c.port == 0) c.port = bound_port;
    c.peer_address = [runtime_ref](socp::ConnId id) {
      return *runtime_ref ? (*runtime_ref)->peer_address(id) : std::string();
    };
    core.emplace(std::move(c), server_id, server_pub, *store.value(), clock);
    return *core;
  };
  auto runtime = socp::ServerRuntime::create(make_core, std::move(*key), ro);
  key.reset();
  if (!runtime) return fail(runtime.error().detail);
  *runtime_ref = runtime.value().get();

  signals.attach(runtime.value().get());
  if (signals.stop_requested()) {  // interrupted during start-up
    signals.attach(nullptr);
    return 0;
  }

  const bool v6 = opt.host.find(':') != std::string::npos;
  const std::string shown_host = v6 ? "[" + opt.host + "]" : opt.host;
  std::printf("socp-server %s listening on %s://%s:%u (data: %s)\n", core->server_id().c_str(),
              opt.tls_cert.empty() ? "ws" : "wss", shown_host.c_str(),
              static_cast<unsigned>(runtime.value()->listen_port()), opt.data_dir.c_str());
  std::fflush(stdout);

  const int rc = runtime.value()->run();
  signals.attach(nullptr);
  log(socp::LogLevel::Info, rc == 0 ? "stopped" : "stopped with errors");
  return rc == 0 ? 0 : 1;
}
