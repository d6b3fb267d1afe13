#pragma once
// What `dnszone` does, apart from parsing its options: each command returns the exit
// status and writes results to `out`, a one-line error ("dnszone: reason") to `err`.

#include <iosfwd>
#include <string>

namespace dnstools {

// Imports a zone file, or every *.zone file of a directory, in one transaction: a file
// with an error imports nothing. A zone already stored fails unless `replace`.
int importZones(const std::string& path, const std::string& db, bool replace, std::ostream& out,
                std::ostream& err);
// Prints the zone in master-file form.
int exportZone(const std::string& zone, const std::string& db, std::ostream& out, std::ostream& err);
// One line per zone: "name records serial".
int listZones(const std::string& db, std::ostream& out, std::ostream& err);

}  // namespace dnstools
