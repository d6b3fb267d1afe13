#include "dnswire/server/event_loop.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "dnswire/server/clock.hpp"

using namespace std::chrono_literals;
using dnswire::server::EventLoop;
using dnswire::server::Interest;
using dnswire::server::Readiness;

namespace {

// Runs the loop until `done` or `limit` elapses.
template <class Pred>
void runUntil(EventLoop& loop, Pred done, std::chrono::milliseconds limit = 2000ms) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < until) loop.runOnce(10ms);
}

}  // namespace

TEST_CASE("EventLoop timers fire in deadline order and can be cancelled", "[unit]") {
  EventLoop loop;
  std::vector<int> order;
  loop.addTimer(30ms, [&] { order.push_back(3); });
  loop.addTimer(10ms, [&] { order.push_back(1); });
  auto cancelled = loop.addTimer(15ms, [&] { order.push_back(99); });
  loop.addTimer(20ms, [&] { order.push_back(2); });
  CHECK(loop.pendingTimers() == 4);
  CHECK(loop.cancelTimer(cancelled));
  CHECK_FALSE(loop.cancelTimer(cancelled));
  auto start = std::chrono::steady_clock::now();
  runUntil(loop, [&] { return order.size() >= 3; });
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(order == std::vector<int>{1, 2, 3});
  CHECK(elapsed >= 30ms);
  CHECK(loop.pendingTimers() == 0);
}

TEST_CASE("EventLoop timer callbacks may add and cancel timers", "[unit]") {
  EventLoop loop;
  int fired = 0;
  EventLoop::TimerId victim = 0;
  loop.addTimer(5ms, [&] {
    ++fired;
    loop.cancelTimer(victim);  // due in the same iteration: must not run
    loop.addTimer(0ms, [&] { fired += 10; });
  });
  victim = loop.addTimer(5ms, [&] { fired += 100; });
  runUntil(
      loop, [&] { return fired >= 11; }, 500ms);
  loop.runOnce(20ms);
  CHECK(fired == 11);
}

TEST_CASE("EventLoop post() runs functions from other threads on the loop thread", "[unit]") {
  EventLoop loop;
  std::atomic<int> ran{0};
  std::thread::id loopThread = std::this_thread::get_id();
  bool allOnLoop = true;
  std::vector<std::thread> posters;
  for (int t = 0; t < 4; ++t) {
    posters.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        loop.post([&] {
          if (std::this_thread::get_id() != loopThread || !loop.inLoopThread()) allOnLoop = false;
          ran.fetch_add(1);
        });
      }
    });
  }
  for (auto& p : posters) p.join();
  runUntil(loop, [&] { return ran.load() == 400; });
  CHECK(ran.load() == 400);
  CHECK(allOnLoop);
}

TEST_CASE("EventLoop run() returns after stop() from another thread", "[unit]") {
  EventLoop loop;
  std::atomic<bool> running{false};
  loop.post([&] { running = true; });
  std::thread t([&] { loop.run(); });
  while (!running) std::this_thread::sleep_for(1ms);
  auto start = std::chrono::steady_clock::now();
  loop.stop();
  t.join();
  CHECK(std::chrono::steady_clock::now() - start < 500ms);
  CHECK(loop.stopped());
}

TEST_CASE("EventLoop watches fds for reading and writing", "[unit]") {
  EventLoop loop;
  int fds[2];
  REQUIRE(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
  std::vector<char> got;
  bool writable = false;
  REQUIRE(loop.watch(fds[0], Interest::readable(),
                     [&](Readiness r) {
                       if (!r.readable) return;
                       char buf[16];
                       ssize_t n = ::read(fds[0], buf, sizeof buf);
                       for (ssize_t i = 0; i < n; ++i) got.push_back(buf[i]);
                     })
              .ok());
  REQUIRE(
      loop.watch(fds[1], Interest::writable(), [&](Readiness r) { writable = writable || r.writable; }).ok());
  CHECK_FALSE(loop.watch(fds[0], Interest::readable(), [](Readiness) {}).ok());  // already watched
  runUntil(
      loop, [&] { return writable; }, 500ms);
  CHECK(writable);
  REQUIRE(loop.modify(fds[1], Interest{}).ok());
  REQUIRE(::write(fds[1], "hi", 2) == 2);
  runUntil(
      loop, [&] { return got.size() == 2; }, 500ms);
  CHECK(got == std::vector<char>{'h', 'i'});

  loop.unwatch(fds[0]);
  CHECK_FALSE(loop.watching(fds[0]));
  REQUIRE(::write(fds[1], "x", 1) == 1);
  loop.runOnce(20ms);
  CHECK(got.size() == 2);  // not called after unwatch
  loop.unwatch(fds[1]);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_CASE("EventLoop callbacks may unwatch their own and other fds", "[unit]") {
  EventLoop loop;
  int a[2];
  int b[2];
  REQUIRE(::pipe2(a, O_NONBLOCK | O_CLOEXEC) == 0);
  REQUIRE(::pipe2(b, O_NONBLOCK | O_CLOEXEC) == 0);
  int calls = 0;
  // Both become readable in the same iteration; whichever runs first unwatches both.
  auto cb = [&](Readiness) {
    ++calls;
    loop.unwatch(a[0]);
    loop.unwatch(b[0]);
  };
  REQUIRE(loop.watch(a[0], Interest::readable(), cb).ok());
  REQUIRE(loop.watch(b[0], Interest::readable(), cb).ok());
  REQUIRE(::write(a[1], "1", 1) == 1);
  REQUIRE(::write(b[1], "1", 1) == 1);
  loop.runOnce(100ms);
  loop.runOnce(20ms);
  CHECK(calls == 1);
  for (int fd : {a[0], a[1], b[0], b[1]}) ::close(fd);
}

TEST_CASE("EventLoop pause() silences a ready fd until resume(), which reports it at once", "[unit]") {
  EventLoop loop;
  int fds[2];
  REQUIRE(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
  int calls = 0;
  Readiness last;
  REQUIRE(loop.watch(fds[0], Interest{}, [&](Readiness r) {
                ++calls;
                last = r;
              }).ok());
  CHECK_FALSE(loop.pause(fds[1]).ok());  // not watched
  CHECK_FALSE(loop.resume(fds[1]).ok());
  REQUIRE(loop.pause(fds[0]).ok());
  REQUIRE(loop.pause(fds[0]).ok());  // twice is harmless
  CHECK(loop.paused(fds[0]));
  CHECK(loop.watching(fds[0]));
  // Readable and asked for while paused: nothing is reported.
  REQUIRE(loop.modify(fds[0], Interest::readable()).ok());
  REQUIRE(::write(fds[1], "x", 1) == 1);
  loop.runOnce(20ms);
  CHECK(calls == 0);
  // Back in the set with the interest given while paused, and reported in the next round.
  REQUIRE(loop.resume(fds[0]).ok());
  CHECK_FALSE(loop.paused(fds[0]));
  loop.runOnce(100ms);
  CHECK(calls == 1);
  CHECK(last.readable);
  // Unwatching a paused fd forgets it.
  REQUIRE(loop.pause(fds[0]).ok());
  loop.unwatch(fds[0]);
  CHECK_FALSE(loop.watching(fds[0]));
  CHECK_FALSE(loop.paused(fds[0]));
  REQUIRE(loop.watch(fds[0], Interest::readable(), [&](Readiness) { ++calls; }).ok());
  loop.runOnce(100ms);
  CHECK(calls == 2);
  loop.unwatch(fds[0]);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_CASE("ManualClock moves only when advanced", "[unit]") {
  dnswire::server::ManualClock clock;
  auto t0 = clock.now();
  auto w0 = clock.wallSeconds();
  clock.advance(1500ms);
  CHECK(clock.now() - t0 == 1500ms);
  CHECK(clock.wallSeconds() == w0 + 1);
  clock.advance(500ms);
  CHECK(clock.wallSeconds() == w0 + 2);
  clock.setWallSeconds(42);
  CHECK(clock.wallSeconds() == 42);
  auto& sys = dnswire::server::SystemClock::instance();
  CHECK(sys.wallSeconds() > 1'600'000'000);
}
