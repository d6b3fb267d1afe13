#pragma once
// One row per RR type: code, mnemonic, wire decode/encode, presentation in/out and
// whether its RDATA names may be compressed. Adding a type = one struct in rdata.hpp,
// one row in rr_table.cpp, one vector file; no switch on type anywhere else.

#include <span>
#include <string>
#include <string_view>

#include "dnswire/error.hpp"
#include "dnswire/rdata.hpp"
#include "dnswire/text.hpp"
#include "dnswire/types.hpp"

namespace dnswire {

class WireReader;
class WireWriter;
class NameCompressor;

struct RRTypeInfo {
  RRType type;
  std::string_view mnemonic;
  // RDATA names may be compressed on output: only the RFC 1035 types (RFC 3597 §4).
  bool compressNames;
  // `rdata` is limited to RDLENGTH and shares the message for pointers; the decoder must
  // consume it exactly (the caller checks atEnd()).
  Result<RData> (*decode)(WireReader& rdata);
  // Writes the RDATA only (not RDLENGTH). `compressor` is null when names must not be
  // compressed. Returns false when the writer is out of room.
  bool (*encode)(const RData& data, WireWriter& writer, NameCompressor* compressor);
  std::string (*toText)(const RData& data);
  Result<RData> (*fromText)(std::span<const Token> tokens, const Name& origin);
  // Checks the RDATA as decode() would, without building a value or allocating (for
  // parseQuery). Returns Ok or the same error decode() gives; the caller checks atEnd().
  WireError (*validate)(WireReader& rdata);
};

// The row for `type`; unknown types get the generic RFC 3597 row (Opaque).
const RRTypeInfo& typeInfo(RRType type);
// True when `type` has a row of its own.
bool isKnownType(RRType type);

// "A", "MX" or "TYPE65280" (RFC 3597 §5).
std::string typeToText(RRType type);
Result<RRType> typeFromText(std::string_view text);  // case-insensitive, accepts TYPEnnn
std::string classToText(RRClass cls);                // "IN" or "CLASS3"
Result<RRClass> classFromText(std::string_view text);

// Decodes `type`'s RDATA from the RFC 3597 generic text form "\# <length> <hex>...", which
// every type accepts (RFC 3597 §5). `tokens` start at the "\#".
Result<RData> rdataFromGenericText(RRType type, std::span<const Token> tokens);
// The RFC 3597 generic text form of raw RDATA bytes: "\# 4 0A000001" ("\# 0" when empty).
std::string genericRdataText(std::span<const uint8_t> rdata);

}  // namespace dnswire
