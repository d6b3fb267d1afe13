#include "centrald/snapshot_holder.hpp"

#include <utility>

namespace centrald {

SnapshotHolder::SnapshotHolder(std::shared_ptr<const ZoneSnapshot> initial) {
  if (!initial) initial = ZoneSnapshot::build({});
  current_.store(std::move(initial), std::memory_order_release);
}

void SnapshotHolder::publish(std::shared_ptr<const ZoneSnapshot> next) {
  if (!next) return;
  current_.store(std::move(next), std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

}  // namespace centrald
