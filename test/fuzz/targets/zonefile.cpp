// Zone files: parseZoneText on arbitrary text never crashes; when it parses, the zone
// printed by zoneToText parses again to the same records and prints the same text.
#include "dnswire/zonefile.hpp"

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace dnswire;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

bool startsWithNoCase(std::string_view text, size_t at, std::string_view word) {
  if (text.size() - at < word.size()) return false;
  for (size_t i = 0; i < word.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[at + i])) != word[i]) return false;
  return true;
}

// $INCLUDE would read files from the disk (a fuzzer that finds "$INCLUDE /dev/zero" only
// measures the disk): only $ORIGIN and $TTL may follow a '$', and "\036" (an escaped
// '$' that could start a directive) is left out.
bool touchesFiles(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '$' && !startsWithNoCase(text, i + 1, "origin") && !startsWithNoCase(text, i + 1, "ttl"))
      return true;
  }
  return text.find("\\036") != std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (touchesFiles(text)) return 0;

  // A directory that does not exist: relative $INCLUDEs (already excluded) could not
  // reach anything either.
  static const std::string kFile = "/nonexistent-fuzz-dir/fuzz.zone";
  static const Name kOrigin = *Name::fromText("fuzz.example.");
  // With and without a default origin: the second makes relative owners legal at once.
  for (const Name* origin : {static_cast<const Name*>(nullptr), &kOrigin}) {
    auto zone = origin ? parseZoneText(text, kFile, *origin) : parseZoneText(text, kFile);
    if (!zone.ok()) {
      check(!zone.error().message().empty());
      continue;
    }
    check(!zone->records.empty());
    check(zone->records.front().type == RRType::SOA);
    check(zone->records.front().owner == zone->origin);

    const std::string printed = zoneToText(*zone);
    auto again = parseZoneText(printed, kFile);
    if (!again.ok()) {
      std::fprintf(stderr, "reparse failed: %s\n--- printed ---\n%s\n", again.error().message().c_str(),
                   printed.c_str());
    }
    check(again.ok());
    check(again->origin == zone->origin);
    // Same wire bytes for the origin, case included.
    check(again->origin.toText() == zone->origin.toText());
    check(again->records.size() == zone->records.size());
    for (size_t i = 0; i < zone->records.size(); ++i) check(again->records[i] == zone->records[i]);
    check(zoneToText(*again) == printed);

    // A record's line is one line whatever its RDATA holds (quotes, escapes).
    for (const auto& rr : zone->records) {
      const std::string line = recordToZoneLine(rr);
      check(line.find('\n') == std::string::npos);
    }
  }
  return 0;
}
