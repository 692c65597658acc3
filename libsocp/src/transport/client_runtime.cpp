// transport/client_runtime.cpp — ClientRuntime: a ClientCore on a core thread of its own,
// driven by a client-only WsHost; reconnects with exponential backoff.
//
// Which state lives where:
//   loop thread  `current` connection id, `open`, the reconnect deadline;
//   core thread  the ClientCore, `core_connected`, `closed`, the reconnect attempt count.
// The two talk only through WsHost::post (loop side) and WorkerPool::submit (core side),
// each FIFO. Frames the core produced for a connection that has gone meanwhile reach the
// loop when `open` is false (or a newer connection is not open yet) and are dropped: the
// core resends what matters after the next login.
//
// Lifetime: the pool is declared last, so it is joined first (a running task finishes, and
// may still post to the host), then the host, then the core.
#include <algorithm>
#include <atomic>
#include <chrono>

#include "socp/client_runtime.h"

namespace socp {
namespace {

std::int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

struct ClientRuntime::Impl final : WsHost::Handler {
  explicit Impl(ClientRuntimeOptions o) : opt(std::move(o)) {}

  ClientRuntimeOptions opt;
  std::atomic<std::uint64_t> next_cmd{1};

  // ---- loop thread
  ConnId current = 0;
  bool open = false;
  std::uint64_t next_conn = 1;
  std::int64_t reconnect_at = 0;  ///< 0 = no reconnect scheduled

  // ---- core thread
  bool core_connected = false;
  bool close_requested = false;
  bool closed = false;
  int attempts = 0;
  std::int64_t lost_since = 0;

  // Declaration order matters (see the file comment).
  std::unique_ptr<ClientCore> core;
  std::unique_ptr<WsHost> host;
  std::unique_ptr<WorkerPool> pool;

  void on_core(std::function<void()> fn) { pool->submit(std::move(fn)); }

  // ---- WsHost::Handler (loop thread) --------------------------------------------------------
  void on_open(ConnId conn) override {
    if (conn != current) return;
    open = true;
    on_core([this] {
      core_connected = true;
      close_requested = false;
      core->on_connected();
      pump();
    });
  }
  void on_frame(ConnId conn, std::string frame) override {
    if (conn != current) return;
    on_core([this, f = std::move(frame)] {
      core->on_frame(f);
      pump();
    });
  }
  void on_close(ConnId conn) override {
    if (conn != current) return;
    open = false;
    current = 0;
    on_core([this] { after_close(); });
  }

  void dial() {
    current = kOutgoingBit | next_conn++;
    host->connect(current, opt.host, opt.port, opt.connect);
  }

  void tick() {
    if (reconnect_at != 0 && wall_ms() >= reconnect_at) {
      reconnect_at = 0;
      dial();
    }
    on_core([this] {
      if (closed) return;
      core->on_tick();
      pump();
      if (!core_connected && lost_since != 0 && opt.give_up_ms > 0 &&
          wall_ms() - lost_since > opt.give_up_ms) {
        finish();
      }
    });
  }

  // ---- core thread --------------------------------------------------------------------------
  void deliver(const json::Value& e) {
    if (!opt.on_event) return;
    try {
      opt.on_event(e, *core);
    } catch (...) {
      // The callback's own failure must not take the client down (documented: must not throw).
    }
  }

  void pump() {
    std::vector<std::string> frames = core->take_frames();
    if (!frames.empty()) {
      host->post([this, fs = std::move(frames)]() mutable {
        if (!open) return;  // for a connection that is gone: see the file comment
        for (std::string& f : fs) host->send(current, std::move(f));
      });
    }
    for (const json::Value& e : core->take_events()) {
      const std::string* name = json::get_string(e, "event");
      if (name && *name == "logged_in") {
        attempts = 0;
        lost_since = 0;
      }
      deliver(e);
    }
    if (closed || !core->wants_close()) return;
    if (core_connected) {
      if (!close_requested) {
        close_requested = true;
        host->post([this] {
          if (open) host->close(current, 1000);  // after the frames queued before
        });
      }
    } else {
      finish();
    }
  }

  void after_close() {
    core_connected = false;
    if (closed) return;
    if (!opt.reconnect || !core->can_reconnect()) return finish();
    if (lost_since == 0) lost_since = wall_ms();
    if (opt.give_up_ms > 0 && wall_ms() - lost_since > opt.give_up_ms) return finish();
    core->on_disconnected();
    pump();
    ++attempts;
    std::int64_t delay = std::max<std::int64_t>(1, opt.reconnect_min_ms);
    for (int i = 1; i < attempts && delay < opt.reconnect_max_ms; ++i) delay *= 2;
    delay = std::min(delay, std::max<std::int64_t>(1, opt.reconnect_max_ms));
    deliver(json::Object{{"event", "reconnecting"},
                         {"attempt", static_cast<std::int64_t>(attempts)},
                         {"delay_ms", delay},
                         {"unacknowledged", static_cast<std::int64_t>(core->unacknowledged())}});
    host->post([this, delay] { reconnect_at = wall_ms() + delay; });
  }

  void finish() {
    if (closed) return;
    closed = true;
    core->on_closed();  // emits "closed", the last event
    for (const json::Value& e : core->take_events()) deliver(e);
    (void)core->take_frames();
    host->post([this] {
      reconnect_at = 0;
      host->stop();
    });
  }

  std::uint64_t command(std::string line) {
    const std::uint64_t id = next_cmd.fetch_add(1);
    on_core([this, l = std::move(line), id] {
      if (closed) return;
      core->command(l, id);
      pump();
    });
    return id;
  }
};

ClientRuntime::ClientRuntime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ClientRuntime::~ClientRuntime() {
  if (!impl_) return;
  impl_->pool.reset();  // join the core thread before anything it uses goes away
}

Result<std::unique_ptr<ClientRuntime>> ClientRuntime::create(ClientConfig cfg,
                                                             ClientRuntimeOptions opt) {
  if (!cfg.clock) cfg.clock = wall_ms;
  cfg.max_frame_bytes = std::min(cfg.max_frame_bytes, opt.max_frame);
  auto impl = std::make_unique<Impl>(std::move(opt));
  impl->core = std::make_unique<ClientCore>(std::move(cfg));
  WsHostOptions wo;
  wo.listen_port = 0;
  wo.max_frame = impl->opt.max_frame;
  wo.max_queue_bytes = std::max<std::size_t>(wo.max_queue_bytes, 2 * impl->opt.max_frame);
  wo.tls_ca_file = impl->opt.tls_ca_file;
  wo.log = impl->opt.log;
  auto host = WsHost::create(std::move(wo), *impl);
  if (!host) return host.error();
  impl->host = std::move(host).value();
  impl->pool = std::make_unique<WorkerPool>(1);
  Impl* p = impl.get();
  impl->host->set_tick(std::max<std::int64_t>(10, impl->opt.tick_ms), [p] { p->tick(); });
  return std::unique_ptr<ClientRuntime>(new ClientRuntime(std::move(impl)));
}

int ClientRuntime::run() {
  impl_->dial();
  return impl_->host->run();
}

void ClientRuntime::stop() {
  Impl* p = impl_.get();
  p->on_core([p] {
    if (p->closed) return;
    if (p->core_connected) {
      p->core->command("/quit");
      p->pump();
    } else {
      p->finish();
    }
  });
}

std::uint64_t ClientRuntime::send_dm(const std::string& to, const std::string& text) {
  return impl_->command("/tell " + to + " " + text);
}
std::uint64_t ClientRuntime::post_all(const std::string& text) {
  return impl_->command("/all " + text);
}
std::uint64_t ClientRuntime::send_file(const std::string& to, const std::string& path) {
  return impl_->command("/file " + to + " " + path);
}
std::uint64_t ClientRuntime::list() {
  return impl_->command("/list");
}
std::uint64_t ClientRuntime::wait(const std::string& args) {
  return impl_->command("/wait " + args);
}
std::uint64_t ClientRuntime::quit() {
  return impl_->command("/quit");
}
std::uint64_t ClientRuntime::command(const std::string& line) {
  return impl_->command(line);
}
void ClientRuntime::input_closed() {
  Impl* p = impl_.get();
  p->on_core([p] {
    if (p->closed) return;
    p->core->input_closed();
    p->pump();
  });
}

ClientOutcome ClientRuntime::outcome() const {
  return impl_->core->outcome();
}
const std::string& ClientRuntime::failure_code() const {
  return impl_->core->failure_code();
}

}  // namespace socp
