#pragma once
// Full decoding of a message into typed records. Used off the hot path (tools, proxyd's
// cache fills, tests); the query path uses packet_view.hpp.

#include <cstdint>
#include <span>

#include "dnswire/error.hpp"
#include "dnswire/message.hpp"

namespace dnswire {

// Decodes every section. Fails on: a short header, counts larger than the records present
// (Truncated), names that break the rules of Name::fromWire, RDATA that does not consume
// exactly RDLENGTH, trailing bytes after the last record, and an OPT that is not in the
// additional section, not owned by the root, or not the only one (RFC 6891 §6.1.1).
// Never sizes an allocation from a header count.
Result<Message> parseMessage(std::span<const uint8_t> wire);

// Decodes one resource record at the reader's position (owner, fixed fields, RDATA).
Result<ResourceRecord> readRecord(WireReader& reader);

}  // namespace dnswire
