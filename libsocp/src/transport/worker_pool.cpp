// transport/worker_pool.cpp — fixed-size thread pool for CPU-heavy jobs (RSA signing,
// Argon2id) that must stay off the event-loop thread. Two FIFO lanes: workers always take
// normal tasks before low-priority (bulk) ones.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "socp/ws_host.h"

namespace socp {

struct WorkerPool::Impl {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> queue;  // guarded by mu
  std::deque<std::function<void()>> low;    // guarded by mu: bulk lane
  bool stopping = false;                    // guarded by mu
  std::vector<std::thread> threads;

  void worker() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lk(mu);
        cv.wait(lk, [this] { return stopping || !queue.empty() || !low.empty(); });
        if (stopping) return;  // queued tasks are dropped (see header)
        std::deque<std::function<void()>>& lane = queue.empty() ? low : queue;
        fn = std::move(lane.front());
        lane.pop_front();
      }
      try {
        fn();
      } catch (...) {
        // A task must report its own failures; a throwing task must not kill the pool.
      }
    }
  }
};

WorkerPool::WorkerPool(std::size_t threads) : impl_(std::make_unique<Impl>()) {
  if (threads == 0) threads = 1;
  impl_->threads.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) {
    impl_->threads.emplace_back([p = impl_.get()] { p->worker(); });
  }
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    impl_->stopping = true;
    impl_->queue.clear();
    impl_->low.clear();
  }
  impl_->cv.notify_all();
  for (auto& t : impl_->threads) t.join();
}

void WorkerPool::submit(std::function<void()> fn, bool low_priority) {
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    if (impl_->stopping) return;
    (low_priority ? impl_->low : impl_->queue).push_back(std::move(fn));
  }
  impl_->cv.notify_one();
}

std::size_t WorkerPool::threads() const noexcept {
  return impl_->threads.size();
}

}  // namespace socp
