#include "centrald/zone_watcher.hpp"

#include <fmt/format.h>

#include <utility>

namespace centrald {

ZoneWatcher::ZoneWatcher(SnapshotHolder& holder, VersionFn version, LoadFn load, LogFn log,
                         std::chrono::milliseconds interval)
    : holder_(holder),
      version_(std::move(version)),
      load_(std::move(load)),
      log_(std::move(log)),
      interval_(interval) {}

ZoneWatcher::~ZoneWatcher() { stop(); }

dnswire::Result<void> ZoneWatcher::reload() {
  std::lock_guard lock(reloadMutex_);
  return reloadLocked();
}

dnswire::Result<void> ZoneWatcher::reloadLocked() {
  // Read the version before loading: a commit landing during the load bumps it again and
  // the next poll reloads, so no change is missed.
  auto version = version_();
  auto zones = load_();
  if (version) {
    // Also after a failure: the same broken data is not retried every poll; the next
    // commit bumps the version again.
    lastVersion_ = *version;
    haveVersion_ = true;
  }
  if (!zones) return zones.error();
  auto previous = holder_.current();
  holder_.publish(ZoneSnapshot::build(*zones, previous.get()));
  return {};
}

void ZoneWatcher::start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(stopMutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void ZoneWatcher::stop() {
  {
    std::lock_guard lock(stopMutex_);
    stopping_ = true;
  }
  stopCv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ZoneWatcher::run() {
  for (;;) {
    {
      std::unique_lock lock(stopMutex_);
      if (stopCv_.wait_for(lock, interval_, [this] { return stopping_; })) return;
    }
    try {
      // Under the reload lock: the version and the load go through the same store
      // connection as reload() calls from other threads (ADD), one thread at a time.
      std::unique_lock lock(reloadMutex_);
      auto version = version_();
      if (!version) {
        lock.unlock();
        if (log_) log_(fmt::format("zone watcher: cannot read data version: {}", version.error().message()));
        continue;
      }
      if (haveVersion_ && *version == lastVersion_) continue;
      auto result = reloadLocked();
      lock.unlock();
      if (!result) {
        if (log_)
          log_(fmt::format("zone reload failed, still serving the previous data: {}",
                           result.error().message()));
      } else if (log_) {
        auto snapshot = holder_.current();
        log_(fmt::format("zones reloaded: {} zones, {} records", snapshot->zoneCount(),
                         snapshot->recordCount()));
      }
    } catch (const std::exception& e) {
      // A failing reload must not take the server down: keep serving what we have.
      if (log_) log_(fmt::format("zone reload failed: {}", e.what()));
    }
  }
}

}  // namespace centrald
