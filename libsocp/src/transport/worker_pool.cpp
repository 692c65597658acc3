// transport/worker_pool.cpp — fixed-size thread pool for CPU-heavy jobs (RSA signing,
// Argon2id) that must stay off the event-loop thread. Two lanes: workers always take normal
// tasks before low-priority (bulk) ones. Within a lane, tasks are kept per owner (the
// connection a signature is for) and owners take turns: one connection's backlog of a
// thousand signatures delays another connection's next one by at most one task per other
// busy owner, not by the whole backlog.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "socp/ws_host.h"

namespace socp {

namespace {

/// Per-owner FIFOs taken in turn (round robin over owners with work).
class FairLane {
 public:
  void push(std::uint64_t owner, std::function<void()> fn) {
    auto& q = by_owner_[owner];
    if (q.empty()) turn_.push_back(owner);
    q.push_back(std::move(fn));
    ++size_;
  }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }
  std::function<void()> pop() {
    const std::uint64_t owner = turn_.front();
    turn_.pop_front();
    auto it = by_owner_.find(owner);
    std::function<void()> fn = std::move(it->second.front());
    it->second.pop_front();
    if (it->second.empty()) {
      by_owner_.erase(it);
    } else {
      turn_.push_back(owner);  // its next task waits for everyone else's turn
    }
    --size_;
    return fn;
  }
  void clear() {
    by_owner_.clear();
    turn_.clear();
    size_ = 0;
  }

 private:
  std::unordered_map<std::uint64_t, std::deque<std::function<void()>>> by_owner_;
  std::deque<std::uint64_t> turn_;
  std::size_t size_ = 0;
};

}  // namespace

struct WorkerPool::Impl {
  std::mutex mu;
  std::condition_variable cv;
  FairLane queue;         // guarded by mu
  FairLane low;           // guarded by mu: bulk lane
  bool stopping = false;  // guarded by mu
  std::vector<std::thread> threads;

  void worker() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lk(mu);
        cv.wait(lk, [this] { return stopping || !queue.empty() || !low.empty(); });
        if (stopping) return;  // queued tasks are dropped (see header)
        FairLane& lane = queue.empty() ? low : queue;
        fn = lane.pop();
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

void WorkerPool::submit(std::function<void()> fn, bool low_priority, std::uint64_t owner) {
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    if (impl_->stopping) return;
    (low_priority ? impl_->low : impl_->queue).push(owner, std::move(fn));
  }
  impl_->cv.notify_one();
}

std::size_t WorkerPool::queued() const {
  std::lock_guard<std::mutex> lk(impl_->mu);
  return impl_->queue.size() + impl_->low.size();
}

std::size_t WorkerPool::threads() const noexcept {
  return impl_->threads.size();
}

}  // namespace socp
