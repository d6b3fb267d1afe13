#pragma once
// What one committed write did to one zone, as the writer knows it without reading the
// store again: the records it added, the SOA serial it left, and the zone's version
// (Store::zoneVersion) before and after. The watcher publishes it on top of the zone it
// already serves, when that zone is exactly the version the write started from.

#include <cstdint>
#include <vector>

#include "dnswire/message.hpp"
#include "dnswire/name.hpp"

namespace centrald {

struct ZoneChange {
  dnswire::Name origin;
  int64_t zoneId = 0;
  // The write created the zone: `added` is the whole zone, its SOA first.
  bool created = false;
  uint64_t generationBefore = 0;  // unused when created
  uint64_t generationAfter = 0;   // as committed
  std::vector<dnswire::ResourceRecord> added;
  uint32_t serial = 0;  // the SOA serial after the write
};

}  // namespace centrald
