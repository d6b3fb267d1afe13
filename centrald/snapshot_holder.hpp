#pragma once
// Publication of the current ZoneSnapshot. A reload builds a whole new snapshot and swaps
// it in; readers keep answering from the one they hold and never see a half-applied change.

#include <atomic>
#include <cstdint>
#include <memory>

#include "centrald/zone_snapshot.hpp"

namespace centrald {

class SnapshotHolder {
 public:
  explicit SnapshotHolder(std::shared_ptr<const ZoneSnapshot> initial);

  // The snapshot published last (never null).
  std::shared_ptr<const ZoneSnapshot> current() const { return current_.load(std::memory_order_acquire); }
  // Replaces the current snapshot; readers pick it up at their next query.
  void publish(std::shared_ptr<const ZoneSnapshot> next);
  // Incremented after each publish; lets readers skip the shared_ptr load while unchanged.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  std::atomic<std::shared_ptr<const ZoneSnapshot>> current_;
  std::atomic<uint64_t> generation_{0};
};

// One per worker thread (not shared): the hot path is a single atomic load of the
// generation; the snapshot itself is reloaded only after a publish.
class SnapshotReader {
 public:
  explicit SnapshotReader(const SnapshotHolder& holder)
      : holder_(&holder), generation_(holder.generation()), snapshot_(holder.current()) {}

  const ZoneSnapshot& get() {
    const uint64_t generation = holder_->generation();
    if (generation != generation_) {
      // A publish stores the pointer before bumping the generation, so this load sees at
      // least the snapshot of `generation`.
      snapshot_ = holder_->current();
      generation_ = generation;
    }
    return *snapshot_;
  }

 private:
  const SnapshotHolder* holder_;
  uint64_t generation_;
  std::shared_ptr<const ZoneSnapshot> snapshot_;
};

}  // namespace centrald
