#pragma once
// RFC 1035 §5 master files: $ORIGIN, $TTL (RFC 2308 §4), $INCLUDE, '@', relative names,
// omitted owners, TTL and class in either order, parentheses, comments, quoted strings
// and RFC 3597 "\# len hex" RDATA.

#include <string>
#include <string_view>
#include <vector>

#include "dnswire/error.hpp"
#include "dnswire/message.hpp"

namespace dnswire {

struct Zone {
  Name origin;                          // the owner of the SOA
  std::vector<ResourceRecord> records;  // the SOA first, then in file order
};

// Parses one zone from text. `fileName` is used in errors ("zones/a.zone:12: bad TTL")
// and to resolve $INCLUDE paths relative to its directory. `defaultOrigin` applies until
// a $ORIGIN; when empty, the first SOA's owner must be absolute. Errors: the first SOA
// missing or not first, a record outside the zone, a second SOA, any bad field.
Result<Zone> parseZoneText(std::string_view text, const std::string& fileName, const Name& defaultOrigin = Name());
Result<Zone> loadZoneFile(const std::string& path, const Name& defaultOrigin = Name());

// The zone in master-file form, $ORIGIN and SOA first, one record per line, absolute names.
std::string zoneToText(const Zone& zone);

}  // namespace dnswire
