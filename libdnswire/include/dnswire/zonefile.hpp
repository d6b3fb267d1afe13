#pragma once
// RFC 1035 §5 master files: $ORIGIN, $TTL (RFC 2308 §4), $INCLUDE, '@', relative names,
// omitted owners, TTL and class in either order, parentheses, comments, quoted strings
// and RFC 3597 "\# len hex" RDATA.

#include <cstdint>
#include <optional>
#include <span>
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
//
// Further rules, as BIND applies them: a record without a TTL takes $TTL, else the last
// explicit TTL, and the SOA needs one of the two; TTLs and SOA timers accept units
// ("1h30m", "2d", "1w"); the class must be IN; a CNAME owner has no other data
// (RFC 1034 §3.6.2); exact duplicate records are dropped (RFC 2181 §5); $INCLUDE nests
// at most kMaxIncludeDepth deep and never includes a file already being read.
// The error's detail is the whole one-line message "FILE:LINE: what is wrong".
Result<Zone> parseZoneText(std::string_view text, const std::string& fileName,
                           const Name& defaultOrigin = Name());
Result<Zone> loadZoneFile(const std::string& path, const Name& defaultOrigin = Name());

inline constexpr int kMaxIncludeDepth = 8;

// The zone in master-file form, $ORIGIN and SOA first, one record per line, absolute names.
std::string zoneToText(const Zone& zone);

// "owner<TAB>ttl<TAB>IN<TAB>TYPE<TAB>rdata", one master-file line without newline.
std::string recordToZoneLine(const ResourceRecord& rr);

// A TTL or SOA timer in BIND's forms: "3600", "1h", "1h30m", "2d", "1w" (units s m h d w,
// either case). Nothing when malformed or above 2^32-1.
std::optional<uint32_t> parseTtlText(std::string_view text);

// Helpers for storing records outside messages (centrald's SQLite store): the RDATA in
// uncompressed wire form (RFC 3597 §4) and back, validated by the type's row.
Result<std::vector<uint8_t>> rdataToWire(RRType type, const RData& data);
Result<RData> rdataFromWire(RRType type, std::span<const uint8_t> wire);

}  // namespace dnswire
