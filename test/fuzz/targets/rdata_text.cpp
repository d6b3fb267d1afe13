// RDATA: for each type, wire -> value -> text -> value -> wire gives the same value, and
// the allocation-free validator accepts exactly what the decoder accepts.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "dnswire/rr_table.hpp"
#include "dnswire/text.hpp"
#include "dnswire/wire_reader.hpp"
#include "dnswire/wire_writer.hpp"

using namespace dnswire;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

constexpr RRType kTypes[] = {RRType::A,   RRType::NS,  RRType::CNAME, RRType::SOA,
                             RRType::PTR, RRType::MX,  RRType::TXT,   RRType::AAAA,
                             RRType::SRV, RRType::OPT, RRType::TSIG,  RRType{65280}};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const RRType type = kTypes[data[0] % std::size(kTypes)];
  const RRTypeInfo& info = typeInfo(type);
  const std::span<const uint8_t> rdata(data + 1, size - 1);

  WireReader reader(rdata);
  WireReader validator(rdata);
  auto value = info.decode(reader);
  const WireError verdict = info.validate(validator);
  check(value.ok() == (verdict == WireError::Ok));
  if (!value.ok()) {
    check(value.error().is(verdict));
    return 0;
  }
  check(reader.position() == validator.position());

  // Text form and back.
  const std::string text = info.toText(*value);
  auto tokens = tokenize(text);
  check(tokens.ok());
  auto parsed = info.fromText(*tokens, Name::root());
  check(parsed.ok());
  check(*parsed == *value);

  // The generic form (RFC 3597 §5) of the encoded bytes decodes to the same value.
  std::vector<uint8_t> buffer(70000);
  WireWriter writer(buffer);
  check(info.encode(*value, writer, nullptr));
  const std::string generic = genericRdataText(writer.written());
  auto genericTokens = tokenize(generic);
  check(genericTokens.ok());
  auto fromGeneric = info.fromText(*genericTokens, Name::root());
  check(fromGeneric.ok());
  check(*fromGeneric == *value);

  // Encoding is stable: the encoded bytes decode to the value and encode the same again.
  WireReader again(writer.written());
  auto redecoded = info.decode(again);
  check(redecoded.ok() && again.atEnd() && *redecoded == *value);
  return 0;
}
