#pragma once
// Presentation format (RFC 1035 §5.1): records as dig prints them and as zone files hold them.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dnswire/error.hpp"
#include "dnswire/name.hpp"
#include "dnswire/types.hpp"

namespace dnswire {

struct ResourceRecord;

// One whitespace-separated field. Quotes are removed (quoted = true) but backslash
// escapes are kept as written, since their meaning depends on the field (name or string).
struct Token {
  std::string_view text;
  bool quoted = false;
};

// "owner TTL CLASS TYPE RDATA" separated by tabs, as dig prints answers.
std::string toText(const ResourceRecord& rr);
// The RDATA alone in presentation form is typeInfo(type).toText(data) (rr_table.hpp).

// A <character-string> with '"', '\' and non-printable bytes escaped, in quotes.
std::string quoteCharacterString(std::string_view bytes);
// Resolves \X and \DDD escapes; BadText on a bad escape or a result over 255 octets.
Result<std::string> unescapeCharacterString(std::string_view text);

// Splits a line of presentation text into tokens; handles quotes and escapes, stops at
// an unquoted ';'. Parentheses are returned as tokens "(" and ")" for the zone loader.
Result<std::vector<Token>> tokenize(std::string_view line);

// Hex and base64 helpers used by several rows (RFC 3597 \# form, TSIG secrets).
std::string toHex(std::span<const uint8_t> bytes);
Result<std::vector<uint8_t>> fromHex(std::string_view text);
std::string toBase64(std::span<const uint8_t> bytes);
Result<std::vector<uint8_t>> fromBase64(std::string_view text);

}  // namespace dnswire
