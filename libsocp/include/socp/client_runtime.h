// socp/client_runtime.h — a ClientCore driven by a WsHost: the ready-made SOCP user client
// for programs (socp-cli, bots). Connects, logs in, reconnects with exponential backoff,
// resends what the server has not acknowledged, and reports typed events.
//
// Threads: run() runs the network loop on the calling thread. The ClientCore lives on a
// second thread of its own (a one-thread WorkerPool, "the core thread"): every RSA private-key
// operation (signing, decryption) and Argon2id (opening a recovered key vault) happen there,
// never on the loop thread, so a slow signature never stalls the socket.
//
// Reconnect: when a connection that had logged in is lost, the runtime emits
// {"event":"reconnecting","attempt":n,"delay_ms":d,"unacknowledged":u} and dials again after
// d = min(reconnect_max_ms, reconnect_min_ms * 2^(n-1)); the unlocked key stays in memory, so
// no password is asked again. Once logged in again the core emits "reconnected" {resent} and
// sends every DM without a receipt again (same msg_id: servers drop copies). After
// `give_up_ms` without a login the session ends ("closed" with outcome connection_lost). A
// first connection or login that fails is not retried (the caller sees "closed" at once).
//
// Thread-safety: create() and run() on one thread. Every other member function may be called
// from any thread, including from the event callback: commands are posted to the core thread
// and run there in call order. The event callback runs on the core thread, one event at a
// time, in order; it must not block for long and must not throw (a throw is caught and
// dropped). Events are json objects (client/README-json.md).
// Ownership: the runtime owns the host, the core (and the private key in it, wiped when the
// runtime is destroyed). The destructor stops the loop if needed and joins the core thread.
// Errors: create() fails (Io) if the loop cannot be set up. Nothing else throws; failures
// are events ("error", "failed", "closed").
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "socp/client_core.h"
#include "socp/json.h"
#include "socp/result.h"
#include "socp/ws_host.h"

namespace socp {

struct ClientRuntimeOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = kDefaultPort;
  ConnectOptions connect;   ///< tls (wss://), certificate pin, path
  std::string tls_ca_file;  ///< CAs for wss:// (default: the system store)
  std::size_t max_frame = 64u << 20;
  std::int64_t tick_ms = 500;  ///< how often the core's timers are driven
  bool reconnect = true;       ///< false: a lost connection ends the session
  std::int64_t reconnect_min_ms = 500;
  std::int64_t reconnect_max_ms = 30'000;
  std::int64_t give_up_ms = 0;  ///< 0 = keep trying forever
  /// Every event, on the core thread. `core` may be read (user_id(), recovered_vault(),
  /// known_users()) during the call only.
  std::function<void(const json::Value& event, const ClientCore& core)> on_event;
  LogFn log;  ///< transport diagnostics (optional)
};

class ClientRuntime {
 public:
  /// Sets up the loop; nothing is dialled before run(). cfg.clock defaults to the wall clock.
  static Result<std::unique_ptr<ClientRuntime>> create(ClientConfig cfg, ClientRuntimeOptions opt);
  ~ClientRuntime();
  ClientRuntime(const ClientRuntime&) = delete;
  ClientRuntime& operator=(const ClientRuntime&) = delete;

  /// Connects and runs the loop on this thread until the session ended ("closed" was the
  /// last event) or stop(). Returns 0 (see outcome()).
  int run();
  /// Ends the session now without waiting for anything ("closed" follows). Any thread.
  void stop();

  /// Typed commands; each returns the command id its answering events carry as "cmd".
  /// `to` is a user id or exact display name.
  std::uint64_t send_dm(const std::string& to, const std::string& text);
  std::uint64_t post_all(const std::string& text);
  std::uint64_t send_file(const std::string& to, const std::string& path);  ///< to "all": public
  std::uint64_t list();
  /// /wait (see ClientCore): `args` e.g. "delivered timeout 30", "messages 2".
  std::uint64_t wait(const std::string& args);
  /// Leaves: the connection is closed politely, then "closed".
  std::uint64_t quit();
  /// Any command line as typed (/tell, /all, ...).
  std::uint64_t command(const std::string& line);
  /// No more commands: the session ends once everything queued is done and sent DMs were
  /// acknowledged (or request_timeout_ms passed).
  void input_closed();

  /// After run() returned: how the session ended.
  ClientOutcome outcome() const;
  const std::string& failure_code() const;

  struct Impl;

 private:
  explicit ClientRuntime(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace socp
