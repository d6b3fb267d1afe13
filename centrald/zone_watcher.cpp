#include "centrald/zone_watcher.hpp"

#include <fmt/format.h>

#include <utility>

namespace centrald {

ZoneWatcher::ZoneWatcher(SnapshotHolder& holder, VersionFn version, LoadFn load, LogFn log,
                         std::chrono::milliseconds interval)
    : holder_(holder), version_(std::move(version)), load_(std::move(load)), log_(std::move(log)),
      interval_(interval) {}

ZoneWatcher::~ZoneWatcher() { stop(); }

dnswire::Result<void> ZoneWatcher::reload() {
  std::lock_guard lock(reloadMutex_);
  // Read the version before loading: a commit landing during the load bumps it again and
  // the next poll reloads, so no change is missed.
  auto version = version_();
  auto zones = load_();
  if (!zones) return zones.error();
  auto previous = holder_.current();
  holder_.publish(ZoneSnapshot::build(*zones, previous.get()));
  if (version) {
    lastVersion_ = *version;
    haveVersion_ = true;
  }
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
      auto version = version_();
      if (!version) {
        if (log_) log_(fmt::format("zone watcher: cannot read data version: {}", version.error().message()));
        continue;
      }
      bool changed;
      {
        std::lock_guard lock(reloadMutex_);
        changed = !haveVersion_ || *version != lastVersion_;
      }
      if (!changed) continue;
      auto result = reload();
      if (!result) {
        // Do not retry the same version every poll: the next commit will bump it.
        {
          std::lock_guard lock(reloadMutex_);
          lastVersion_ = *version;
          haveVersion_ = true;
        }
        if (log_) log_(fmt::format("zone reload failed, still serving the previous data: {}", result.error().message()));
      } else if (log_) {
        auto snapshot = holder_.current();
        log_(fmt::format("zones reloaded: {} zones, {} records", snapshot->zoneCount(), snapshot->recordCount()));
      }
    } catch (const std::exception& e) {
      // A failing reload must not take the server down: keep serving what we have.
      if (log_) log_(fmt::format("zone reload failed: {}", e.what()));
    }
  }
}

}  // namespace centrald
