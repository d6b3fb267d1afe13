#include "tools/common/zone_commands.hpp"

#include <filesystem>
#include <ostream>

#include "centrald/store/store.hpp"
#include "centrald/store/zone_files.hpp"

namespace dnstools {
namespace {

constexpr const char* kProgram = "dnszone: ";

int fail(std::ostream& err, const std::string& reason) {
  err << kProgram << reason << "\n";
  return 1;
}

// Reading commands never create or migrate a database.
dnswire::Result<centrald::Store> openExisting(const std::string& db) {
  std::error_code ec;
  if (!std::filesystem::exists(db, ec))
    return dnswire::Error(centrald::StoreError::Sqlite, db + ": no such database");
  return centrald::Store::open(db, centrald::StoreOptions{.readOnly = true});
}

}  // namespace

int importZones(const std::string& path, const std::string& db, bool replace, std::ostream& out,
                std::ostream& err) {
  auto zones = centrald::loadZonePath(path);
  if (!zones) return fail(err, zones.error().message());
  if (zones->empty()) return fail(err, path + ": no *.zone files");
  auto store = centrald::Store::open(db);
  if (!store) return fail(err, store.error().message());
  auto done = store->importZones(*zones, replace);
  if (!done) return fail(err, done.error().message());
  for (const auto& zone : *zones) {
    out << "imported " << zone.origin.toText() << " " << zone.records.size() << " records\n";
  }
  return 0;
}

int exportZone(const std::string& zone, const std::string& db, std::ostream& out, std::ostream& err) {
  auto origin = dnswire::Name::fromText(zone);
  if (!origin) return fail(err, "bad zone name '" + zone + "'");
  auto store = openExisting(db);
  if (!store) return fail(err, store.error().message());
  auto exported = store->exportZone(*origin);
  if (!exported) return fail(err, exported.error().message() + " in " + db);
  out << dnswire::zoneToText(*exported);
  return 0;
}

int listZones(const std::string& db, std::ostream& out, std::ostream& err) {
  auto store = openExisting(db);
  if (!store) return fail(err, store.error().message());
  auto zones = store->listZones();
  if (!zones) return fail(err, zones.error().message());
  for (const auto& z : *zones) out << z.name.toText() << " " << z.records << " " << z.serial << "\n";
  return 0;
}

}  // namespace dnstools
