#include "signal_watcher.h"

#include <pthread.h>
#include <signal.h>

namespace socp_server {

namespace {
sigset_t wait_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);  // only used to wake the watcher for exit
  return set;
}
}  // namespace

void SignalWatcher::block_signals() {
  sigset_t set = wait_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

SignalWatcher::SignalWatcher() : thread_([this] { loop(); }) {}

SignalWatcher::~SignalWatcher() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    done_ = true;
    rt_ = nullptr;
  }
  pthread_kill(thread_.native_handle(), SIGUSR1);
  thread_.join();
}

void SignalWatcher::attach(socp::ServerRuntime* rt) {
  std::lock_guard<std::mutex> lk(mu_);
  rt_ = rt;
}

void SignalWatcher::on_reload(std::function<void()> fn) {
  std::lock_guard<std::mutex> lk(reload_mu_);
  reload_ = std::move(fn);
}

void SignalWatcher::on_stopping(std::function<void()> fn) {
  std::lock_guard<std::mutex> lk(mu_);
  stopping_ = std::move(fn);
}

bool SignalWatcher::stop_requested() {
  std::lock_guard<std::mutex> lk(mu_);
  return stop_requested_;
}

void SignalWatcher::loop() {
  const sigset_t set = wait_set();
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    std::unique_lock<std::mutex> lk(mu_);
    if (done_) return;
    if (sig == SIGUSR1) continue;
    if (sig == SIGHUP) {
      lk.unlock();  // the hook may take a while (re-reads the config file)
      std::lock_guard<std::mutex> hook(reload_mu_);
      if (reload_) reload_();
      continue;
    }
    if (!stop_requested_ && stopping_) stopping_();
    stop_requested_ = true;
    if (rt_) rt_->stop();
  }
}

}  // namespace socp_server
