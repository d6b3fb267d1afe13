#include "centrald/zone_loader.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <map>
#include <string>

#include "centrald/store/store_error.hpp"
#include "centrald/zone_builder.hpp"

namespace centrald {
using dnswire::Error;
using dnswire::Name;
using dnswire::Result;

// Past kTrimAfterRecords a build leaves freed memory worth returning behind: its scratch
// arrays, and the zone data that earlier reloads replaced (an ADD fold-in reloads its zone
// every 2,048 added names at most, each time a little larger). glibc keeps freed heap
// pages resident until asked: the start's big load raises its trim threshold to tens of
// MiB for good, so a 1M-record zone would otherwise cost its peak, not its size, and each
// fold-in would leave the zone it replaced in RSS. Trimming walks the free chunks: a few
// ms on a heap of 30 MiB, far less than the load itself.
void releaseFreedMemory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

namespace {

// Rows into builders, one per zone: checks each row as it comes and names the row that
// is wrong (BadData), so that a corrupt database is reported, never served or crashed on.
class RowReader {
 public:
  Result<void> read(const StoredRecord& row) {
    auto bad = [&](const std::string& why) {
      return Error(StoreError::BadData, "stored record " + std::string(row.owner) + " type " +
                                            std::to_string(row.type) + ": " + why);
    };
    if (row.type < 0 || row.type > 65535 || row.cls < 0 || row.cls > 65535 || row.ttl < 0 ||
        row.ttl > 0xffffffffLL)
      return bad("field out of range");
    // Rows of one owner mostly come together: parse its text once.
    if (row.owner != lastOwnerText_ || lastOwner_.empty()) {
      auto owner = Name::fromText(row.owner);
      if (!owner) return bad("bad owner: " + owner.error().message());
      lastOwner_ = *owner;
      lastOwnerText_.assign(row.owner);
    }
    const auto type = static_cast<dnswire::RRType>(row.type);

    ZoneBuilder* builder = builderFor(row.zoneId);
    if (builder == nullptr) {
      // A zone's origin is its SOA's owner as written (the SOA comes first); the stored
      // lowercase name otherwise.
      Name origin = lastOwner_;
      if (type != dnswire::RRType::SOA) {
        auto stored = Name::fromText(row.zoneName);
        if (!stored)
          return Error(StoreError::BadData,
                       "stored zone name '" + std::string(row.zoneName) + "' does not parse");
        origin = *stored;
      }
      auto [it, inserted] = builders_.emplace(row.zoneId, std::make_unique<ZoneBuilder>(origin));
      builder = it->second.get();
      lastBuilder_ = builder;
    }
    auto added = builder->add(lastOwner_, type, static_cast<dnswire::RRClass>(row.cls),
                              static_cast<uint32_t>(row.ttl), row.rdata);
    if (!added) return bad("bad RDATA: " + added.error().message());
    ++records_;
    return {};
  }

  // The zones in id order (the order they were created); those without an SOA left out.
  std::vector<std::shared_ptr<ZoneData>> finish() {
    std::vector<std::shared_ptr<ZoneData>> built;
    built.reserve(builders_.size());
    for (auto& [id, builder] : builders_) {
      if (auto data = builder->finish()) built.push_back(std::move(data));
      builder.reset();
    }
    return built;
  }

  size_t records() const { return records_; }

 private:
  ZoneBuilder* builderFor(int64_t zoneId) {
    if (lastBuilder_ != nullptr && zoneId == lastZoneId_) return lastBuilder_;
    lastZoneId_ = zoneId;
    auto it = builders_.find(zoneId);
    lastBuilder_ = it == builders_.end() ? nullptr : it->second.get();
    return lastBuilder_;
  }

  std::map<int64_t, std::unique_ptr<ZoneBuilder>> builders_;
  int64_t lastZoneId_ = -1;
  ZoneBuilder* lastBuilder_ = nullptr;
  std::string lastOwnerText_;
  Name lastOwner_;
  size_t records_ = 0;
};

}  // namespace

Result<std::shared_ptr<ZoneData>> loadZoneData(Store& store, const Name& origin) {
  RowReader reader;
  auto read = store.visitZoneRecords(origin, [&](const StoredRecord& row) { return reader.read(row); });
  if (!read) return read.error();
  auto built = reader.finish();
  if (reader.records() >= kTrimAfterRecords) releaseFreedMemory();
  if (built.empty()) return std::shared_ptr<ZoneData>();  // no SOA (or no records)
  return built.front();
}

Result<std::vector<std::shared_ptr<ZoneData>>> loadAllZoneData(Store& store) {
  RowReader reader;
  auto read = store.visitRecords([&](const StoredRecord& row) { return reader.read(row); });
  if (!read) return read.error();
  auto built = reader.finish();
  if (reader.records() >= kTrimAfterRecords) releaseFreedMemory();
  return built;
}

}  // namespace centrald
