#pragma once
// Keeps the published snapshot in step with the database: a thread polls the store's data
// version every `interval` and, when it changed, rebuilds the snapshot and swaps it in.
// A change committed by another process (dnszone import) is thus served within about
// one interval plus the rebuild time.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "centrald/snapshot_holder.hpp"
#include "dnswire/error.hpp"
#include "dnswire/zonefile.hpp"

namespace centrald {

class ZoneWatcher {
 public:
  // A value that changes whenever the data changes (SQLite's PRAGMA data_version).
  using VersionFn = std::function<dnswire::Result<uint64_t>()>;
  using LoadFn = std::function<dnswire::Result<std::vector<dnswire::Zone>>()>;
  using LogFn = std::function<void(const std::string&)>;

  ZoneWatcher(SnapshotHolder& holder, VersionFn version, LoadFn load, LogFn log,
              std::chrono::milliseconds interval = std::chrono::milliseconds(500));
  ~ZoneWatcher();
  ZoneWatcher(const ZoneWatcher&) = delete;
  ZoneWatcher& operator=(const ZoneWatcher&) = delete;

  // Loads every zone, builds and publishes a snapshot now, whatever the version says.
  // Thread-safe; the ADD stage calls it after its commit so that the change is served at
  // once. On failure the current snapshot stays.
  dnswire::Result<void> reload();

  // Starts / stops the polling thread (stop() is idempotent and joins).
  void start();
  void stop();

 private:
  void run();
  dnswire::Result<void> reloadLocked();  // reloadMutex_ held

  SnapshotHolder& holder_;
  VersionFn version_;
  LoadFn load_;
  LogFn log_;
  std::chrono::milliseconds interval_;

  // One rebuild at a time, published in order; also serializes every use of the store
  // connection behind version_ and load_.
  std::mutex reloadMutex_;
  uint64_t lastVersion_ = 0;
  bool haveVersion_ = false;

  std::mutex stopMutex_;
  std::condition_variable stopCv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace centrald
