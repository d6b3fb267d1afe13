#include "centrald/zone_watcher.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_set>
#include <utility>

#include "centrald/zone_loader.hpp"

namespace centrald {

using dnswire::Name;

namespace {

// A fresh ZoneData continues the rotation of the zone it replaces (base and delta).
std::shared_ptr<const ZoneView> freshView(std::shared_ptr<ZoneData> data, const ZoneView* old) {
  if (old != nullptr) {
    data->carryRotationFrom(*old->base());
    if (old->delta()) data->carryRotationFrom(*old->delta());
  }
  return std::make_shared<const ZoneView>(std::move(data));
}

bool deltaTooBig(const ZoneView& view, const ZoneChange& change) {
  const size_t names = view.addedNames() + change.added.size();
  return names > kMaxDeltaNames || names > std::max(kMinDeltaNames, view.base()->nodeCount() / 8);
}

}  // namespace

ZoneWatcher::Source ZoneWatcher::fromStore(Store& store) {
  return Source{[&store] { return store.dataVersion(); }, [&store] { return store.zoneVersions(); },
                [&store](const Name& origin) { return loadZoneData(store, origin); }};
}

ZoneWatcher::ZoneWatcher(SnapshotHolder& holder, Source source, LogFn log, std::chrono::milliseconds interval)
    : holder_(holder), source_(std::move(source)), log_(std::move(log)), interval_(interval) {}

ZoneWatcher::~ZoneWatcher() { stop(); }

uint64_t ZoneWatcher::zonesLoaded() const {
  std::lock_guard lock(mutex_);
  return zonesLoaded_;
}

dnswire::Result<void> ZoneWatcher::reload() {
  std::lock_guard lock(mutex_);
  bool changed = false;
  return refreshLocked(changed);
}

dnswire::Result<void> ZoneWatcher::refreshLocked(bool& changed) {
  // Versions first, then the zones: a commit landing during the loads moves the versions
  // again and the next poll reloads, so no change is missed.
  auto dataVersion = source_.dataVersion();
  if (!dataVersion) return dataVersion.error();
  auto versions = source_.zoneVersions();
  if (!versions) return versions.error();
  // Also after a failed zone below: the same broken data is not retried every poll; the
  // next commit moves the version again.
  lastDataVersion_ = *dataVersion;
  haveDataVersion_ = true;

  const auto current = holder_.current();
  std::vector<std::shared_ptr<const ZoneView>> replaced;
  std::vector<Name> removed;
  std::optional<dnswire::Error> failure;
  std::unordered_set<Name, dnswire::NameHash> stored;
  for (const auto& version : *versions) {
    stored.insert(version.name);
    auto it = known_.find(version.name);
    if (it != known_.end() && it->second.id == version.id && it->second.generation == version.generation)
      continue;
    auto data = source_.loadZone(version.name);
    ++zonesLoaded_;
    if (!data) {
      // Deleted since the versions were read: the next poll drops it.
      if (data.error().code == make_error_code(StoreError::NoSuchZone)) continue;
      if (!failure) failure = data.error();
      continue;
    }
    known_[version.name] = Known{version.id, version.generation};
    if (*data == nullptr) {  // no SOA at its origin: not served
      removed.push_back(version.name);
      continue;
    }
    if ((*data)->recordCount() >= kTrimAfterRecords) trimOwed_ = true;
    replaced.push_back(freshView(std::move(*data), current->zone(version.name).get()));
  }
  for (auto it = known_.begin(); it != known_.end();) {
    if (stored.count(it->first) != 0) {
      ++it;
      continue;
    }
    removed.push_back(it->first);
    it = known_.erase(it);
  }
  if (!replaced.empty() || !removed.empty()) {
    holder_.publish(current->with(replaced, removed));
    changed = true;
  }
  if (failure) return *failure;
  return {};
}

void ZoneWatcher::beginWrites() { writesPending_.fetch_add(1, std::memory_order_acq_rel); }

dnswire::Result<void> ZoneWatcher::publishChanges(const std::vector<ZoneChange>& changes, bool othersWrote) {
  std::lock_guard lock(mutex_);
  // Ends the writer's round however this returns (beginWrites was called before).
  struct EndRound {
    std::atomic<int>& pending;
    ~EndRound() {
      if (pending.load(std::memory_order_acquire) > 0) pending.fetch_sub(1, std::memory_order_acq_rel);
    }
  } endRound{writesPending_};
  const auto current = holder_.current();
  // The zones of this round as they will be published (a zone may change twice).
  std::unordered_map<Name, std::shared_ptr<const ZoneView>, dnswire::NameHash> next;
  auto served = [&](const Name& origin) {
    auto it = next.find(origin);
    return it != next.end() ? it->second : current->zone(origin);
  };
  std::optional<dnswire::Error> failure;
  for (const auto& change : changes) {
    auto it = known_.find(change.origin);
    const bool sameZone = it != known_.end() && it->second.id == change.zoneId;
    // Generations of one zone id only grow: the poll loaded this version or a later one.
    if (sameZone && it->second.generation >= change.generationAfter) continue;
    auto view = served(change.origin);

    std::shared_ptr<const ZoneView> published;
    if (change.created) {
      // Built from what the writer stored: nobody else could change it before the commit.
      dnswire::Zone zone{change.origin, change.added};
      for (auto& rr : zone.records)
        if (auto* soa = std::get_if<dnswire::Soa>(&rr.data);
            soa != nullptr && rr.type == dnswire::RRType::SOA)
          soa->serial = change.serial;
      if (auto data = ZoneData::build(zone)) published = freshView(std::move(data), view.get());
    } else if (sameZone && it->second.generation == change.generationBefore && view != nullptr &&
               !deltaTooBig(*view, change)) {
      published = ZoneView::overlay(*view, change.added, change.serial);
    }
    if (published == nullptr) {
      // Another process changed the zone too, the delta is full, or the zone was not
      // served: never an overlay on a stale base; load what the store holds (at least
      // this change: the generation was read before the load).
      auto data = source_.loadZone(change.origin);
      ++zonesLoaded_;
      if (!data) {
        if (!failure) failure = data.error();
        continue;
      }
      if (*data == nullptr) continue;
      if ((*data)->recordCount() >= kTrimAfterRecords) trimOwed_ = true;
      published = freshView(std::move(*data), view.get());
    }
    known_[change.origin] = Known{change.zoneId, change.generationAfter};
    next.insert_or_assign(change.origin, std::move(published));
  }
  if (!next.empty()) {
    std::vector<std::shared_ptr<const ZoneView>> replaced;
    replaced.reserve(next.size());
    for (auto& [origin, view] : next) replaced.push_back(std::move(view));
    holder_.publish(current->with(replaced, {}));
  }
  if (othersWrote) {
    bool changed = false;
    auto refreshed = refreshLocked(changed);
    if (!refreshed && !failure) failure = refreshed.error();
  }
  if (failure) return *failure;
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
      if (trimOwed_.exchange(false)) releaseFreedMemory();
      std::unique_lock lock(mutex_);
      auto version = source_.dataVersion();
      if (!version) {
        lock.unlock();
        if (log_) log_(fmt::format("zone watcher: cannot read data version: {}", version.error().message()));
        continue;
      }
      if (haveDataVersion_ && *version == lastDataVersion_) continue;
      // The ADD writer is between its commits and their publication: it publishes them
      // (and checks for other writers' changes) itself; look again next time.
      if (writesPending_.load(std::memory_order_acquire) > 0) continue;
      bool changed = false;
      const uint64_t loadedBefore = zonesLoaded_;
      auto result = refreshLocked(changed);
      const uint64_t loaded = zonesLoaded_ - loadedBefore;
      lock.unlock();
      if (!result) {
        if (log_)
          log_(fmt::format("zone reload failed, still serving the previous data: {}",
                           result.error().message()));
      } else if (changed && log_) {
        auto snapshot = holder_.current();
        log_(fmt::format("zones reloaded: {} changed of {} zones, {} records", loaded, snapshot->zoneCount(),
                         snapshot->recordCount()));
      }
    } catch (const std::exception& e) {
      // A failing reload must not take the server down: keep serving what we have.
      if (log_) log_(fmt::format("zone reload failed: {}", e.what()));
    }
  }
}

}  // namespace centrald
