#include "centrald/store/zone_files.hpp"

#include <algorithm>
#include <filesystem>
#include <unordered_map>

namespace centrald {

using dnswire::Error;
using dnswire::Result;
using dnswire::WireError;
using dnswire::Zone;

Result<std::vector<Zone>> loadZonePath(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) return Error(WireError::BadText, path + ": no such file or directory");

  std::vector<std::string> files;
  if (fs::is_directory(status)) {
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      const auto& entry = *it;
      if (entry.path().extension() == ".zone" && entry.is_regular_file(ec))
        files.push_back(entry.path().string());
    }
    if (ec) return Error(WireError::BadText, path + ": cannot list: " + ec.message());
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(path);
  }

  std::vector<Zone> zones;
  std::unordered_map<dnswire::Name, std::string, dnswire::NameHash> fileOf;
  for (const auto& file : files) {
    auto zone = dnswire::loadZoneFile(file);
    if (!zone) return zone.error();
    auto [it, fresh] = fileOf.emplace(zone->origin, file);
    if (!fresh) {
      return Error(WireError::BadText,
                   file + ":1: zone " + zone->origin.toText() + " is also in " + it->second);
    }
    zones.push_back(std::move(*zone));
  }
  return zones;
}

}  // namespace centrald
