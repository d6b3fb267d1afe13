// Names: text -> name -> text -> name is stable; the wire decoder and the skipper agree.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dnswire/name.hpp"
#include "dnswire/packet_view.hpp"
#include "dnswire/wire_reader.hpp"

using namespace dnswire;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

bool sameBytes(const Name& a, const Name& b) {
  return std::equal(a.wire().begin(), a.wire().end(), b.wire().begin(), b.wire().end());
}

void textRoundTrip(std::string_view text, const Name& origin) {
  auto name = Name::fromText(text, origin);
  if (!name.ok()) return;
  check(name->size() <= kMaxNameLength);
  const std::string printed = name->toText();
  auto again = Name::fromText(printed, origin);
  check(again.ok());
  check(*again == *name);
  // Case and every byte survive, not just case-insensitive equality.
  check(sameBytes(*again, *name));
  check(again->toText() == printed);
  check(again->hash() == name->hash());
  check(again->compareCanonical(*name) == 0);
  check(name->lowercased() == *name);
  check(name->isSubdomainOf(name->parent()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  textRoundTrip(text, Name::root());
  static const Name kOrigin = *Name::fromText("Example.ORG.");
  textRoundTrip(text, kOrigin);

  // The same bytes as a message: decode a name at every offset of the first 64.
  const std::span<const uint8_t> wire(data, size);
  for (size_t at = 0; at < size && at < 64; ++at) {
    WireReader a(wire);
    a.seek(at);
    WireReader b(wire);
    b.seek(at);
    auto name = Name::fromWire(a);
    auto skipped = skipName(b);
    check(name.ok() == skipped.ok());
    if (!name.ok()) {
      check(name.error().code == skipped.error().code);
      continue;
    }
    check(a.position() == b.position());
    check(!name->empty() && name->size() <= kMaxNameLength);
    auto flat = Name::fromUncompressed(name->wire());
    check(flat.ok() && sameBytes(*flat, *name));
    auto fromItsText = Name::fromText(name->toText());
    check(fromItsText.ok() && sameBytes(*fromItsText, *name));
  }
  return 0;
}
