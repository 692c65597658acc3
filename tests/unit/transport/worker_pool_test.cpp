#include <catch2/catch.hpp>

#include <algorithm>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "socp/ws_host.h"

using namespace socp;

TEST_CASE("WorkerPool: runs every task, on more than one thread", "[transport]") {
  std::mutex mu;
  std::condition_variable cv;
  std::set<std::thread::id> ids;
  int done = 0;
  int entered = 0;
  const int kTasks = 16;
  {
    WorkerPool pool(2);
    CHECK(pool.threads() == 2);
    for (int i = 0; i < kTasks; ++i) {
      pool.submit([&] {
        std::unique_lock<std::mutex> lk(mu);
        ids.insert(std::this_thread::get_id());
        // The first two tasks meet each other: proves two threads run at once (bounded wait).
        if (++entered <= 2) {
          cv.notify_all();
          cv.wait_for(lk, std::chrono::seconds(3), [&] { return entered >= 2; });
        }
        ++done;
        cv.notify_all();
      });
    }
    std::unique_lock<std::mutex> lk(mu);
    REQUIRE(cv.wait_for(lk, std::chrono::seconds(5), [&] { return done == kTasks; }));
  }
  CHECK(ids.size() == 2);
  CHECK(ids.count(std::this_thread::get_id()) == 0);
}

TEST_CASE("WorkerPool: a throwing task does not kill the pool", "[transport]") {
  std::mutex mu;
  std::condition_variable cv;
  bool ran = false;
  WorkerPool pool(1);
  pool.submit([] { throw std::runtime_error("task failure"); });
  pool.submit([&] {
    std::lock_guard<std::mutex> lk(mu);
    ran = true;
    cv.notify_all();
  });
  std::unique_lock<std::mutex> lk(mu);
  CHECK(cv.wait_for(lk, std::chrono::seconds(3), [&] { return ran; }));
}

TEST_CASE("WorkerPool: destruction with queued tasks joins promptly", "[transport]") {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  bool started = false;
  int ran = 0;
  {
    WorkerPool pool(1);
    pool.submit([&] {
      std::unique_lock<std::mutex> lk(mu);
      started = true;
      cv.notify_all();
      cv.wait_for(lk, std::chrono::seconds(3), [&] { return release; });
      ++ran;
    });
    {
      std::unique_lock<std::mutex> lk(mu);
      REQUIRE(cv.wait_for(lk, std::chrono::seconds(3), [&] { return started; }));
    }
    for (int i = 0; i < 100; ++i)
      pool.submit([&] {
        std::lock_guard<std::mutex> lk(mu);
        ++ran;
      });
    {
      std::lock_guard<std::mutex> lk(mu);
      release = true;
    }
    cv.notify_all();
  }  // joins: the running task finishes, queued ones may be dropped
  std::lock_guard<std::mutex> lk(mu);
  CHECK(ran >= 1);
  CHECK(ran <= 101);
}

TEST_CASE("worker pool runs normal tasks before low-priority ones", "[transport]") {
  socp::WorkerPool pool(1);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::vector<std::string> order;
  bool done = false;
  pool.submit([&] {
    std::unique_lock<std::mutex> lk(mu);
    cv.wait(lk, [&] { return release; });
  });
  for (int i = 0; i < 3; ++i) {
    pool.submit(
        [&, i] {
          std::lock_guard<std::mutex> lk(mu);
          order.push_back("bulk" + std::to_string(i));
          if (order.size() == 4) {
            done = true;
            cv.notify_all();
          }
        },
        /*low_priority=*/true);
  }
  pool.submit([&] {
    std::lock_guard<std::mutex> lk(mu);
    order.push_back("normal");
  });
  {
    std::lock_guard<std::mutex> lk(mu);
    release = true;
  }
  cv.notify_all();
  std::unique_lock<std::mutex> lk(mu);
  REQUIRE(cv.wait_for(lk, std::chrono::seconds(10), [&] { return done; }));
  REQUIRE(order == std::vector<std::string>{"normal", "bulk0", "bulk1", "bulk2"});
}

TEST_CASE("worker pool: owners take turns, one backlog does not hold another owner back",
          "[transport]") {
  WorkerPool pool(1);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::vector<int> order;
  pool.submit([&] {  // holds the only worker while the queues fill
    std::unique_lock<std::mutex> lk(mu);
    cv.wait(lk, [&] { return release; });
  });
  for (int i = 0; i < 100; ++i) {
    pool.submit(
        [&] {
          std::lock_guard<std::mutex> lk(mu);
          order.push_back(1);
          cv.notify_all();
        },
        false, /*owner=*/1);
  }
  pool.submit(
      [&] {
        std::lock_guard<std::mutex> lk(mu);
        order.push_back(2);
        cv.notify_all();
      },
      false, /*owner=*/2);
  CHECK(pool.queued() >= 101);  // (the first task may not have started yet)
  {
    std::lock_guard<std::mutex> lk(mu);
    release = true;
  }
  cv.notify_all();
  std::unique_lock<std::mutex> lk(mu);
  REQUIRE(cv.wait_for(lk, std::chrono::seconds(10), [&] { return order.size() == 101; }));
  const auto pos = std::find(order.begin(), order.end(), 2) - order.begin();
  CHECK(pos <= 1);  // owner 2 waits for at most one task of owner 1
}
