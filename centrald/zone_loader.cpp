#include "centrald/zone_loader.hpp"

namespace centrald {

dnswire::Result<std::shared_ptr<ZoneData>> loadZoneData(Store& store, const dnswire::Name& origin) {
  auto zone = store.exportZone(origin);
  if (!zone) return zone.error();
  return ZoneData::build(*zone);
}

dnswire::Result<std::vector<std::shared_ptr<ZoneData>>> loadAllZoneData(Store& store) {
  auto zones = store.loadZones();
  if (!zones) return zones.error();
  std::vector<std::shared_ptr<ZoneData>> built;
  built.reserve(zones->size());
  for (const auto& zone : *zones)
    if (auto data = ZoneData::build(zone)) built.push_back(std::move(data));
  return built;
}

}  // namespace centrald
