#include "dnswire/add_message.hpp"

#include <unordered_set>

#include "dnswire/message_reader.hpp"
#include "dnswire/message_writer.hpp"
#include "dnswire/rr_table.hpp"

namespace dnswire {
namespace {

Error bad(std::string reason) { return Error(WireError::BadRdata, std::move(reason)); }

bool isAddressType(RRType type) { return type == RRType::A || type == RRType::AAAA; }

// The additional section of an ADD message: one OPT at most and a TSIG only as the last
// record (RFC 8945 §5.1); the codec already checked OPT's placement (RFC 6891 §6.1.1).
Result<void> splitAdditional(const Message& m, std::optional<Edns>& edns,
                             std::optional<ResourceRecord>* tsig) {
  for (size_t i = 0; i < m.additional.size(); ++i) {
    const auto& rr = m.additional[i];
    if (rr.type == RRType::OPT) {
      edns = Edns::fromRecord(rr);
    } else if (rr.type == RRType::TSIG && i + 1 == m.additional.size()) {
      if (tsig != nullptr) *tsig = rr;
    } else {
      return bad("unexpected " + typeToText(rr.type) + " record in the additional section");
    }
  }
  return {};
}

}  // namespace

ResourceRecord makeAddPlaceholder(const Name& owner, RRType type, uint32_t ttl) {
  return ResourceRecord{owner, type, RRClass::NONE, ttl, Opaque{}};
}

bool isAddPlaceholder(const ResourceRecord& rr) {
  const auto* raw = std::get_if<Opaque>(&rr.data);
  return isAddressType(rr.type) && rr.cls == RRClass::NONE && raw != nullptr && raw->bytes.empty();
}

Result<std::vector<uint8_t>> encodeAddRequest(const AddRequest& request) {
  std::vector<uint8_t> buffer(kMaxMessageSize);
  MessageWriter w(buffer, buffer.size());
  Header h;
  h.id = request.id;
  h.opcode = Opcode::Add;
  bool ok = w.setHeader(h) && w.addQuestion(request.question);
  for (const auto& rr : request.records) ok = ok && w.add(Section::Authority, rr);
  if (ok && request.edns) ok = w.addEdns(*request.edns);
  if (!ok) return Error(WireError::NoSpace, "the ADD request does not fit in 65535 octets");
  const auto out = w.finish();
  return std::vector<uint8_t>(out.begin(), out.end());
}

Result<AddRequest> decodeAddRequest(std::span<const uint8_t> wire) {
  auto parsed = parseMessage(wire);
  if (!parsed) return parsed.error();
  const Message& m = *parsed;
  const Header& h = m.header;
  if (h.qr || h.opcode != Opcode::Add) return bad("not an ADD request (QR=0, opcode 14)");
  if (m.questions.size() != 1)
    return Error(WireError::BadQuestionCount, "an ADD request has exactly one question");
  if (!m.answers.empty()) return bad("an ADD request has an empty answer section");
  AddRequest request;
  request.id = h.id;
  request.question = m.questions[0];
  const Name& name = request.question.qname;
  if (request.question.qclass != RRClass::IN || !isAddressType(request.question.qtype))
    return bad("the question must be NAME A (or AAAA) IN");
  if (name.isRoot() || name.empty()) return bad("cannot register the root");
  if (auto split = splitAdditional(m, request.edns, nullptr); !split) return split.error();
  if (m.authority.empty()) return bad("no record to create");

  std::unordered_set<Name, NameHash> aliases;
  size_t addresses = 0;
  for (const auto& rr : m.authority) {
    if (rr.ttl > kMaxTtl)
      return bad("TTL " + std::to_string(rr.ttl) + " of " + rr.owner.toText() + " over 2^31-1");
    if (isAddressType(rr.type)) {
      if (rr.owner != name) return bad("address record owned by " + rr.owner.toText() + ", not by NAME");
      if (rr.cls != RRClass::IN && !isAddPlaceholder(rr))
        return bad("address record of class " + classToText(rr.cls) + " that is not a placeholder");
      ++addresses;
    } else if (rr.type == RRType::CNAME) {
      const auto* cname = std::get_if<Cname>(&rr.data);
      if (rr.cls != RRClass::IN || cname == nullptr) return bad("CNAME record not of class IN");
      if (rr.owner == name) return bad("an alias cannot be NAME itself");
      if (cname->target != name) return bad("alias " + rr.owner.toText() + " does not point at NAME");
      if (!aliases.insert(rr.owner).second) return bad("alias " + rr.owner.toText() + " given twice");
    } else if (rr.type == RRType::MX) {
      if (rr.cls != RRClass::IN || !std::holds_alternative<Mx>(rr.data))
        return bad("MX record not of class IN");
      if (rr.owner != name) return bad("MX record owned by " + rr.owner.toText() + ", not by NAME");
    } else {
      return bad("cannot create " + typeToText(rr.type) + " records with ADD");
    }
    request.records.push_back(rr);
  }
  if (addresses == 0) return bad("no address and no placeholder for NAME");
  return request;
}

uint16_t AddResponse::rcode() const {
  return static_cast<uint16_t>((edns ? edns->extendedRcode : 0) << 4 | (header.rcode & 0xF));
}

Result<std::vector<uint8_t>> encodeAddResponse(const Header& requestHeader, const Question* question,
                                               Rcode rcode, std::span<const ResourceRecord> records,
                                               bool withEdns, size_t maxSize) {
  std::vector<uint8_t> buffer(std::min(maxSize, kMaxMessageSize));
  if (buffer.size() < kHeaderSize) return Error(WireError::NoSpace, "no room for a header");
  MessageWriter w(buffer, buffer.size());
  Header h;
  h.id = requestHeader.id;
  h.qr = true;
  h.opcode = Opcode::Add;
  h.rd = requestHeader.rd;
  h.rcode = static_cast<uint8_t>(static_cast<uint16_t>(rcode) & 0xF);
  bool ok = w.setHeader(h);
  if (withEdns) w.reserve(11);  // the OPT record without options
  if (ok && question != nullptr) ok = w.addQuestion(*question);
  for (const auto& rr : records) ok = ok && w.add(Section::Answer, rr);
  if (withEdns) {
    w.release(11);
    Edns edns;
    edns.extendedRcode = static_cast<uint8_t>(static_cast<uint16_t>(rcode) >> 4);
    ok = ok && w.addEdns(edns);
  }
  if (!ok) return Error(WireError::NoSpace, "the ADD response does not fit");
  const auto out = w.finish();
  return std::vector<uint8_t>(out.begin(), out.end());
}

Result<AddResponse> decodeAddResponse(std::span<const uint8_t> wire) {
  auto parsed = parseMessage(wire);
  if (!parsed) return parsed.error();
  Message& m = *parsed;
  if (!m.header.qr || m.header.opcode != Opcode::Add) return bad("not an ADD response (QR=1, opcode 14)");
  if (m.questions.size() > 1)
    return Error(WireError::BadQuestionCount, "an ADD response has at most one question");
  AddResponse response;
  response.header = m.header;
  if (!m.questions.empty()) response.question = m.questions[0];
  response.records = std::move(m.answers);
  if (auto split = splitAdditional(m, response.edns, &response.tsig); !split) return split.error();
  return response;
}

}  // namespace dnswire
