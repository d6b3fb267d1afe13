#include "proxyd/routing.hpp"

#include <mutex>

namespace proxyd {

bool ZoneRouting::isCentralLocked(const dnswire::Name& name) const {
  if (names_.count(name) != 0) return true;
  if (zones_.empty()) return false;
  dnswire::Name current = name;
  while (true) {
    if (zones_.count(current) != 0) return true;
    if (current.isRoot() || current.empty()) return false;
    current = current.parent();
  }
}

bool ZoneRouting::isCentral(const dnswire::Name& name) const {
  std::shared_lock lock(mutex_);
  return isCentralLocked(name);
}

Route ZoneRouting::classify(const dnswire::Name& qname) const {
  std::shared_lock lock(mutex_);
  if (isCentralLocked(qname)) return Route::Central;
  auto it = notCentral_.find(qname);
  if (it != notCentral_.end() && clock_.now() < it->second) return Route::NotCentral;
  return Route::Unknown;
}

void ZoneRouting::learnCentralZone(const dnswire::Name& apex) {
  std::unique_lock lock(mutex_);
  zones_.insert(apex.lowercased());
}

void ZoneRouting::learnCentralName(const dnswire::Name& name) {
  std::unique_lock lock(mutex_);
  // Bounded: forgetting only costs one more centrald query per name.
  if (names_.size() >= 65536) names_.clear();
  names_.insert(name.lowercased());
  notCentral_.erase(name);
}

void ZoneRouting::learnNotCentral(const dnswire::Name& name) {
  std::unique_lock lock(mutex_);
  const auto now = clock_.now();
  // Bounded: expired entries are swept when the map grows.
  if (notCentral_.size() >= 65536)
    std::erase_if(notCentral_, [&](const auto& item) { return item.second <= now; });
  if (notCentral_.size() >= 65536) notCentral_.clear();
  notCentral_[name.lowercased()] = now + negativeLifetime_;
}

void ZoneRouting::forgetCentral(const dnswire::Name& name) {
  std::unique_lock lock(mutex_);
  names_.erase(name);
  dnswire::Name current = name;
  while (!current.empty()) {
    zones_.erase(current);
    if (current.isRoot()) break;
    current = current.parent();
  }
}

void ZoneRouting::forgetNegative() {
  std::unique_lock lock(mutex_);
  notCentral_.clear();
}

size_t ZoneRouting::zoneCount() const {
  std::shared_lock lock(mutex_);
  return zones_.size();
}

}  // namespace proxyd
