#pragma once
// Reads zones from the store straight into the form centrald answers from (ZoneData).
// The watcher and the ADD path call these; how the records travel from SQLite into the
// zone's arrays is this file's business alone.

#include <cstddef>
#include <memory>
#include <vector>

#include "centrald/store/store.hpp"
#include "centrald/zone_data.hpp"
#include "dnswire/error.hpp"
#include "dnswire/name.hpp"

namespace centrald {

// The stored zone `origin`, built. NoSuchZone when absent; null when it has no SOA.
dnswire::Result<std::shared_ptr<ZoneData>> loadZoneData(Store& store, const dnswire::Name& origin);

// Every stored zone, built, in one read transaction; zones without an SOA are left out.
dnswire::Result<std::vector<std::shared_ptr<ZoneData>>> loadAllZoneData(Store& store);

// Loads of this many records or more return the freed heap memory to the system (see
// releaseFreedMemory), and so should whoever frees a zone this big.
inline constexpr size_t kTrimAfterRecords = 4096;

// Returns freed heap pages to the system (glibc's malloc_trim; nothing elsewhere). A few
// ms on a heap of tens of MiB: never on a worker thread.
void releaseFreedMemory();

}  // namespace centrald
