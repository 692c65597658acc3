// socp-server: parse options, lock the data directory, open the store and identity, build the
// core and runtime, run until SIGINT/SIGTERM (SIGHUP reloads). `socp-server check` and
// `socp-server admin` are dispatched first. Everything else lives in libsocp.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "admin.h"
#include "config_check.h"
#include "core_poster.h"
#include "data_lock.h"
#include "identity.h"
#include "log_sink.h"
#include "metrics.h"
#include "options.h"
#include "pid_file.h"
#include "reload.h"
#include "sd_notify.h"
#include "signal_watcher.h"
#include "socp/allocator.h"
#include "socp/crypto.h"
#include "socp/server_core.h"
#include "socp/store.h"
#include "socp/ws_host.h"

namespace {

int fail(const std::string& msg) {
  std::fprintf(stderr, "socp-server: %s\n", msg.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread exists, so that every thread inherits the blocked mask and the heap
  // settings apply from the first frame.
  socp_server::SignalWatcher::block_signals();
  socp::keep_large_buffers();

  const std::string_view command = argc > 1 ? argv[1] : "";
  if (command == "admin") return socp_server::admin_main(argc - 1, argv + 1);
  socp_server::Options opt;
  if (command == "check") {
    if (auto rc = socp_server::parse_options(argc - 1, argv + 1, opt)) return *rc;
    return socp_server::run_check(opt, opt.config_file);
  }
  if (auto rc = socp_server::parse_options(argc, argv, opt)) return *rc;

  socp_server::LogSink sink(socp_server::parse_log_level(opt.log_level));
  if (!opt.log_file.empty()) {
    if (auto st = sink.open_file(opt.log_file); !st) return fail(st.error().detail);
  }
  const socp::LogFn log = sink.fn();
  socp_server::SignalWatcher signals;

  // ---- data directory, store and identity ----------------------------------------------------
  auto lock = socp_server::DataLock::acquire(opt.data_dir);
  if (!lock) {
    if (opt.print_identity && lock.code() == socp::Errc::Busy) {
      return socp_server::print_identity(opt.data_dir, opt.db_map_size_mib);
    }
    return fail(lock.error().detail);
  }
  socp::LmdbOptions lmdb;
  lmdb.map_size = opt.db_map_size_mib << 20;
  auto store = socp::LmdbStore::open(opt.data_dir, lmdb);
  if (!store)
    return fail("cannot open data directory " + opt.data_dir + ": " + store.error().detail);

  auto identity = socp_server::load_or_create_identity(*store.value(), opt.data_dir,
                                                       opt.multi_prime, opt.test_identity_file);
  if (!identity) return fail(identity.error().detail);
  (void)identity.value().created;  // --two-prime/--multi-prime only choose a new identity
  const std::string server_id = identity.value().server_id;
  std::optional<socp::PrivateKey> key(std::move(identity.value().key));
  const socp::PublicKey pub = key->public_key();
  if (opt.print_identity) {
    std::fputs(socp_server::describe_identity(server_id, pub).c_str(), stdout);
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
  log(socp::LogLevel::Info, "server key fingerprint " + socp_server::fingerprint(pub) +
                                " (public key: socp-server --print-identity)");

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
  // GET /health and /metrics on the listener (loop thread: the core may be read directly).
  ro.http = [&core, &clock, runtime_ref](std::string_view,
                                         std::string_view path) -> socp::HttpResponse {
    socp::HttpResponse r;
    if (!core || (path != "/health" && path != "/metrics")) return r;  // 404
    socp_server::RuntimeSamples rs;
    if (*runtime_ref) {
      const auto smp = (*runtime_ref)->samples();
      rs.sign_latency = socp_server::LatencySummary{smp.signatures, smp.sign_seconds};
    }
    const auto snap = socp_server::snapshot(*core, clock(), rs);
    const auto body =
        path == "/health" ? socp_server::render_health(snap) : socp_server::render_metrics(snap);
    r.status = body.status;
    r.content_type = body.content_type;
    r.body = body.body;
    return r;
  };
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

  std::optional<socp_server::PidFile> pid_file;
  if (!opt.pid_file.empty()) {
    auto pf = socp_server::PidFile::write(opt.pid_file);
    if (!pf) return fail(pf.error().detail);
    pid_file.emplace(std::move(pf.value()));
  }
  signals.on_reload(
      socp_server::Reloader(argc, argv, opt, sink, socp_server::core_poster(*runtime.value())));
  signals.on_stopping([] { socp_server::notify_stopping(); });
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
  socp_server::notify_ready("listening on " + shown_host + ":" +
                            std::to_string(runtime.value()->listen_port()));

  const int rc = runtime.value()->run();
  signals.on_reload(nullptr);
  signals.attach(nullptr);
  log(socp::LogLevel::Info, rc == 0 ? "stopped" : "stopped with errors");
  return rc == 0 ? 0 : 1;
}
