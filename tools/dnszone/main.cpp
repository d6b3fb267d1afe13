// dnszone: import, export and list the zones of a centrald (or proxyd --db) database.
#include <iostream>
#include <string>

#include "tools/common/cli.hpp"
#include "tools/common/zone_commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Import, export and list the zones of a centrald database"};
  app.name("dnszone");
  dnstools::addStandardOptions(app);
  std::string db;
  app.add_option("--db", db, "SQLite database (centrald's, or proxyd's --db)")->required();
  app.require_subcommand(1);

  std::string path;
  bool replace = false;
  auto* import =
      app.add_subcommand("import", "Import a zone file, or every *.zone file of a directory, atomically");
  import->fallthrough();
  import->add_option("FILE|DIR", path, "Zone file or directory")->required();
  import->add_flag("--replace", replace, "Replace zones that already exist");

  std::string zone;
  auto* exportCmd = app.add_subcommand("export", "Print a zone in master-file format");
  exportCmd->fallthrough();
  exportCmd->add_option("ZONE", zone, "Zone name")->required();

  auto* list = app.add_subcommand("list", "One line per zone: name, record count, SOA serial");
  list->fallthrough();

  if (auto status = dnstools::parseCommandLine(app, argc, argv, "dnszone")) return *status;

  if (*import) return dnstools::importZones(path, db, replace, std::cout, std::cerr);
  if (*exportCmd) return dnstools::exportZone(zone, db, std::cout, std::cerr);
  return dnstools::listZones(db, std::cout, std::cerr);
}
