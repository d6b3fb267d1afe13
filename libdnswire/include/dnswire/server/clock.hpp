#pragma once
// Time as the daemons see it. Logic that depends on time (TTL countdown, TSIG's time
// check, deadlines) takes a Clock so that tests can drive it by hand. The event loop's
// own timers always use the real monotonic clock (epoll waits on real time).

#include <atomic>
#include <chrono>
#include <cstdint>

namespace dnswire::server {

class Clock {
 public:
  using Duration = std::chrono::steady_clock::duration;
  using TimePoint = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;
  // Monotonic time, for intervals and deadlines. Never goes backwards.
  virtual TimePoint now() const = 0;
  // Seconds since the Unix epoch, for TSIG's "time signed" (RFC 8945 §5.2.3).
  virtual int64_t wallSeconds() const = 0;
};

// The real clocks. Thread-safe; use instance() rather than making new ones.
class SystemClock final : public Clock {
 public:
  static const SystemClock& instance();
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
  int64_t wallSeconds() const override;
};

// A clock that moves only when told (tests). Thread-safe: reads and advances are atomic.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint{} + std::chrono::hours(1),
                       int64_t wallStart = 1'800'000'000)
      : steadyNs_(start.time_since_epoch().count()), wall_(wallStart) {}

  TimePoint now() const override { return TimePoint(Duration(steadyNs_.load(std::memory_order_acquire))); }
  int64_t wallSeconds() const override { return wall_.load(std::memory_order_acquire); }

  // Moves both clocks forward by `d` (the wall clock by whole seconds of d).
  void advance(Duration d);
  void setWallSeconds(int64_t seconds) { wall_.store(seconds, std::memory_order_release); }

 private:
  std::atomic<Duration::rep> steadyNs_;
  std::atomic<int64_t> wall_;
  std::atomic<Duration::rep> wallRemainder_{0};
};

}  // namespace dnswire::server
