#include "dnswire/server/clock.hpp"

#include <ctime>

namespace dnswire::server {

const SystemClock& SystemClock::instance() {
  static const SystemClock clock;
  return clock;
}

int64_t SystemClock::wallSeconds() const {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec);
}

void ManualClock::advance(Duration d) {
  if (d.count() <= 0) return;
  steadyNs_.fetch_add(d.count(), std::memory_order_acq_rel);
  // Carry sub-second remainders so that many small steps still move the wall clock.
  constexpr auto kSecond = std::chrono::duration_cast<Duration>(std::chrono::seconds(1)).count();
  auto total = wallRemainder_.fetch_add(d.count(), std::memory_order_acq_rel) + d.count();
  auto whole = total / kSecond;
  if (whole > 0) {
    wallRemainder_.fetch_sub(whole * kSecond, std::memory_order_acq_rel);
    wall_.fetch_add(whole, std::memory_order_acq_rel);
  }
}

}  // namespace dnswire::server
