// transport/server_runtime.cpp — ServerRuntime: drives a ServerCore with a WsHost, runs its
// jobs on worker pools and hands results back to the loop thread with post().
//
// Lifetime/ordering: members are declared so that the worker pools are destroyed (joined)
// before the host. A job still running at shutdown finishes and post()s its result to a
// host whose loop has ended, which drops it; queued jobs are discarded. Nothing touches a
// destroyed host.
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <utility>

#include "socp/ws_host.h"

namespace socp {

namespace {
constexpr std::int64_t kTickMs = 500;
// After shutdown() queued the polite closes, give the loop this long to write them.
constexpr std::int64_t kShutdownGraceMs = 300;
}  // namespace

struct ServerRuntime::Impl final : WsHost::Handler {
  Impl(PrivateKey k, ServerRuntimeOptions o) : key(std::move(k)), opt(std::move(o)) {}

  ServerCore* core_ptr = nullptr;  ///< set right after the host is bound (see create)
  ServerCore& core() { return *core_ptr; }
  const PrivateKey key;
  ServerRuntimeOptions opt;
  std::atomic<bool> stop_requested{false};
  // Signing latency for /metrics (written by workers, read by anyone).
  std::atomic<std::uint64_t> signs_done{0};
  std::atomic<std::uint64_t> signs_submitted{0};
  std::atomic<std::uint64_t> sign_micros{0};
  bool shut_down = false;

  // Declaration order matters: pools after host, so they are joined before it goes away.
  std::unique_ptr<WsHost> host;
  std::unique_ptr<WorkerPool> sign_pool;
  std::unique_ptr<WorkerPool> password_pool;
  std::unique_ptr<WorkerPool> commit_pool;  ///< one thread: store commits (Action::Commit)
  /// The last commit's outcome, also kept here for shutdown: its post to the loop is dropped
  /// once the loop has stopped, and the core must still learn whether it is durable.
  std::mutex commit_mu;
  std::uint64_t commit_epoch_done = 0;  // guarded by commit_mu
  Status commit_status;                 // guarded by commit_mu

  void log(LogLevel lvl, std::string_view msg) const {
    if (opt.log) opt.log(lvl, msg);
  }

  // ---- WsHost::Handler ----------------------------------------------------------------------
  void on_open(ConnId conn) override {
    // One line per WebSocket with its remote address, so that later lines about `conn` can
    // be traced to a peer (the core itself never sees addresses).
    log(LogLevel::Info, std::string(conn & kOutgoingBit ? "link " : "connection ") +
                            std::to_string(conn & ~kOutgoingBit) + " open " +
                            (conn & kOutgoingBit ? "to " : "from ") + host->peer_address(conn));
    core().on_open(conn);
    apply();
  }
  void on_frame(ConnId conn, std::string frame) override {
    core().on_frame(conn, frame);
    apply();
  }
  void on_close(ConnId conn) override {
    core().on_close(conn);
    apply();
  }
  void on_activity(ConnId conn) override { core().on_activity(conn); }

  void on_tick() {
    core().on_tick();
    apply();
  }

  /// Performs the core's pending actions, in order (loop thread).
  void apply() {
    for (Action& a : core().take_actions()) {
      switch (a.kind) {
        case Action::Kind::Send:
          host->send(a.conn, std::move(a.text));
          break;
        case Action::Kind::Close:
          host->close(a.conn, a.close_code, a.text);
          break;
        case Action::Kind::Connect: {
          ConnectOptions co;
          co.tls = opt.outgoing_tls;
          host->connect(a.conn, a.host, a.port, co);
          break;
        }
        case Action::Kind::RunJob:
          submit(std::move(a.job));
          break;
        case Action::Kind::SetFrameLimit:
          host->set_max_frame(a.conn, a.limit);
          break;
        case Action::Kind::Commit:
          commit(std::move(a));
          break;
      }
    }
  }

  void submit(Job job) {
    WorkerPool& pool = job.is_password_job() ? *password_pool : *sign_pool;
    const bool low = job.bulk;
    const std::uint64_t owner = job.owner;
    const bool sign = job.kind == Job::Kind::Sign;
    const auto t0 = std::chrono::steady_clock::now();
    if (sign) signs_submitted.fetch_add(1, std::memory_order_relaxed);
    pool.submit(
        [this, sign, t0, job = std::move(job)] {
          JobResult r;
          try {
            r = run_job(job, key);
          } catch (const std::exception& e) {
            r.id = job.id;
            r.status = make_error(Errc::Internal, std::string("job failed: ") + e.what());
          } catch (...) {
            r.id = job.id;
            r.status = make_error(Errc::Internal, "job failed");
          }
          if (sign) {
            const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::steady_clock::now() - t0);
            sign_micros.fetch_add(static_cast<std::uint64_t>(us.count()),
                                  std::memory_order_relaxed);
            signs_done.fetch_add(1, std::memory_order_relaxed);
          }
          // Back to the loop thread; dropped if the loop has already stopped.
          host->post([this, r = std::move(r)]() mutable {
            core().on_job_done(std::move(r));
            apply();
          });
        },
        low, owner);
  }

  /// Store commits run on their own thread, never on the loop's nor a signer's (an fsync
  /// waits for the disk, and signing threads must stay busy signing).
  void commit(Action a) {
    commit_pool->submit([this, a = std::move(a)] {
      Status st;
      try {
        st = a.store->apply(*a.batch);
      } catch (...) {
        st = make_error(Errc::Internal, "store commit threw");
      }
      {
        std::lock_guard<std::mutex> lk(commit_mu);
        commit_epoch_done = a.epoch;
        commit_status = st;
      }
      host->post([this, epoch = a.epoch, st]() mutable {
        core().on_commit_done(epoch, std::move(st));
        apply();
      });
    });
  }

  /// After the loop stopped: waits for the commit thread, tells the core how the last commit
  /// went (its post was dropped) and commits whatever is still pending, on this thread.
  void finish_commits() {
    commit_pool.reset();
    std::uint64_t epoch = 0;
    Status st;
    {
      std::lock_guard<std::mutex> lk(commit_mu);
      epoch = commit_epoch_done;
      st = commit_status;
    }
    if (epoch != 0) core().on_commit_done(epoch, st);
    Status last = core().commit_pending();
    if (!last.ok()) log(LogLevel::Error, "final store commit failed: " + last.error().detail);
    (void)core().take_actions();  // the loop is gone: nothing more is sent
  }

  /// Loop thread: polite shutdown, then stop the loop after a short grace period.
  void shutdown_now() {
    if (shut_down) return;
    shut_down = true;
    log(LogLevel::Info, "shutting down");
    core().shutdown();
    apply();
    host->set_tick(kShutdownGraceMs, [this] { host->stop(); });
  }
};

ServerRuntime::ServerRuntime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ServerRuntime::~ServerRuntime() {
  if (!impl_) return;
  // Join the pools first (running jobs finish, their posts are dropped), then the host.
  impl_->password_pool.reset();
  impl_->sign_pool.reset();
  impl_->commit_pool.reset();
  impl_->host.reset();
}

Result<std::unique_ptr<ServerRuntime>> ServerRuntime::create(ServerCore& core, PrivateKey key,
                                                             ServerRuntimeOptions opt) {
  return create([&core](std::uint16_t) -> ServerCore& { return core; }, std::move(key),
                std::move(opt));
}

Result<std::unique_ptr<ServerRuntime>> ServerRuntime::create(
    const std::function<ServerCore&(std::uint16_t bound_port)>& core_for_port, PrivateKey key,
    ServerRuntimeOptions opt) {
  auto impl = std::make_unique<Impl>(std::move(key), std::move(opt));
  WsHostOptions ho;
  ho.listen_host = impl->opt.listen_host;
  ho.listen_port = impl->opt.listen_port;
  ho.listen = true;  // a server always listens; port 0 = ephemeral
  ho.max_frame = impl->opt.max_frame;
  ho.max_frame_unauthenticated = impl->opt.max_frame_unauthenticated;
  ho.max_connections = impl->opt.max_connections;
  ho.max_connections_per_ip = impl->opt.max_connections_per_ip;
  ho.tls_cert_file = impl->opt.tls_cert_file;
  ho.tls_key_file = impl->opt.tls_key_file;
  ho.tls_ca_file = impl->opt.tls_ca_file;
  ho.http = impl->opt.http;
  ho.log = impl->opt.log;
  auto host = WsHost::create(std::move(ho), *impl);
  if (!host) return host.error();
  impl->host = std::move(host.value());
  impl->core_ptr = &core_for_port(impl->host->listen_port());

  std::size_t sign_threads = impl->opt.sign_threads;
  if (sign_threads == 0) sign_threads = std::thread::hardware_concurrency();
  if (sign_threads == 0) sign_threads = 1;
  impl->sign_pool = std::make_unique<WorkerPool>(sign_threads);
  impl->commit_pool = std::make_unique<WorkerPool>(1);
  impl->password_pool = std::make_unique<WorkerPool>(
      impl->opt.password_threads == 0 ? 1 : impl->opt.password_threads);

  Impl* self = impl.get();
  self->host->set_tick(kTickMs, [self] { self->on_tick(); });
  return std::unique_ptr<ServerRuntime>(new ServerRuntime(std::move(impl)));
}

int ServerRuntime::run() {
  Impl& s = *impl_;
  Status st = s.core().start();
  if (!st) {
    s.log(LogLevel::Error, "cannot start the server: " + st.error().detail);
    return 1;
  }
  s.apply();
  const int rc = s.host->run();
  s.finish_commits();
  return rc;
}

std::uint16_t ServerRuntime::listen_port() const noexcept {
  return impl_->host->listen_port();
}

std::string ServerRuntime::peer_address(ConnId conn) const {
  return impl_->host->peer_address(conn);
}

void ServerRuntime::post(std::function<void(ServerCore&)> fn) {
  Impl* self = impl_.get();
  self->host->post([self, fn = std::move(fn)] {
    fn(self->core());
    self->apply();
  });
}

ServerRuntime::Samples ServerRuntime::samples() const {
  Samples s;
  s.signatures = impl_->signs_done.load(std::memory_order_relaxed);
  s.sign_seconds = static_cast<double>(impl_->sign_micros.load(std::memory_order_relaxed)) / 1e6;
  const std::uint64_t submitted = impl_->signs_submitted.load(std::memory_order_relaxed);
  s.sign_waiting = submitted > s.signatures ? submitted - s.signatures : 0;
  return s;
}

void ServerRuntime::stop() {
  Impl& s = *impl_;
  if (s.stop_requested.exchange(true)) {
    s.host->stop();  // asked twice: stop the loop now, without the grace period
    return;
  }
  Impl* self = &s;
  s.host->post([self] { self->shutdown_now(); });
}

}  // namespace socp
