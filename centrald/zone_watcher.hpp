#pragma once
// Keeps the published snapshot in step with the database, zone by zone. Every zone has a
// version in the store (id, generation; schema 3, kept by triggers whoever writes). A
// thread polls the cheap data_version every `interval`; when it moved, it reads every
// zone's version and reloads only the zones whose version changed, drops the zones that
// are gone and adds the new ones; unchanged zones keep their ZoneData (shared by pointer).
// A change committed by another process (dnszone import) is thus served within about one
// interval plus the time to load the changed zones.
//
// ADD publishes without reading the store (publishChanges): its writer knows what it
// added, and the zone it served is the base, with a small delta on top (ZoneView). Only
// when the served zone is not exactly the version the write started from (another process
// changed it too) is the zone loaded from the store instead; and when the delta grows past
// a limit, the zone is loaded afresh (compaction).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "centrald/snapshot_holder.hpp"
#include "centrald/store/store.hpp"
#include "centrald/zone_change.hpp"
#include "centrald/zone_data.hpp"
#include "dnswire/error.hpp"

namespace centrald {

// A delta is folded into a freshly loaded zone past kMaxDeltaNames names, or past one
// eighth of the zone's names (but small zones may take kMinDeltaNames): each ADD round
// rebuilds only the delta, so its size bounds the cost of publishing.
inline constexpr size_t kMaxDeltaNames = 2048;
inline constexpr size_t kMinDeltaNames = 64;

class ZoneWatcher {
 public:
  // Where the zones come from; every call is made under the watcher's lock, one at a time
  // (they may share one store connection).
  struct Source {
    // A value that changes whenever the data may have changed (PRAGMA data_version).
    std::function<dnswire::Result<uint64_t>()> dataVersion;
    std::function<dnswire::Result<std::vector<ZoneVersion>>()> zoneVersions;
    // One zone, built; null when it has no SOA; StoreError::NoSuchZone when it is gone.
    std::function<dnswire::Result<std::shared_ptr<ZoneData>>(const dnswire::Name&)> loadZone;
  };
  // The source reading `store` (zone_loader); the store must outlive the watcher.
  static Source fromStore(Store& store);
  using LogFn = std::function<void(const std::string&)>;

  ZoneWatcher(SnapshotHolder& holder, Source source, LogFn log,
              std::chrono::milliseconds interval = std::chrono::milliseconds(500));
  ~ZoneWatcher();
  ZoneWatcher(const ZoneWatcher&) = delete;
  ZoneWatcher& operator=(const ZoneWatcher&) = delete;

  // Brings the snapshot up to date now, whatever data_version says: reloads the zones
  // whose version differs from the one served. Thread-safe. A zone that fails to load
  // keeps being served as it was (and the error is returned); the others go ahead.
  dnswire::Result<void> reload();

  // The ADD writer starts a round of commits: until the matching publishChanges, the poll
  // leaves the zones alone (it would otherwise see the commits first and reload whole
  // zones that the writer is about to publish as small deltas).
  void beginWrites();
  // Ends the round begun by beginWrites (always call it, `changes` may be empty):
  // publishes the committed ADD changes, in order, as one new snapshot (see above); then,
  // when `othersWrote` (another connection committed meanwhile), does what a poll does.
  // Thread-safe. On failure the data is still committed; the next poll catches up.
  dnswire::Result<void> publishChanges(const std::vector<ZoneChange>& changes, bool othersWrote = false);

  // Zones loaded from the source since construction (a test and log aid).
  uint64_t zonesLoaded() const;

  // Starts / stops the polling thread (stop() is idempotent and joins).
  void start();
  void stop();

 private:
  struct Known {
    int64_t id = 0;
    uint64_t generation = 0;
  };
  void run();
  dnswire::Result<void> refreshLocked(bool& changed);  // mutex_ held

  SnapshotHolder& holder_;
  Source source_;
  LogFn log_;
  std::chrono::milliseconds interval_;

  // One update at a time, published in order; also serializes every use of the source.
  mutable std::mutex mutex_;
  uint64_t lastDataVersion_ = 0;
  bool haveDataVersion_ = false;
  // The version of each stored zone as served (zones without an SOA too, so that they are
  // not reloaded on every poll).
  std::unordered_map<dnswire::Name, Known, dnswire::NameHash> known_;
  uint64_t zonesLoaded_ = 0;
  std::atomic<int> writesPending_{0};
  // A big zone was reloaded: the one it replaced is freed once the workers have moved to
  // the new snapshot (at their next query), and the next poll tick returns its pages.
  std::atomic<bool> trimOwed_{false};

  std::mutex stopMutex_;
  std::condition_variable stopCv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace centrald
