#include "centrald/response_writer.hpp"

#include "dnswire/rr_table.hpp"

namespace centrald {
namespace {

constexpr size_t kQuestionOffset = dnswire::kHeaderSize;
constexpr uint16_t kPointerToQname = 0xC000 | kQuestionOffset;  // RFC 1035 §4.1.4
constexpr size_t kFixedRecordPart = 10;                         // TYPE CLASS TTL RDLENGTH
constexpr uint16_t kDoBit = 0x8000;                             // RFC 3225 §3

}  // namespace

ResponseWriter::ResponseWriter(std::span<uint8_t> out, size_t limit, const dnswire::QueryView& query)
    : query_(query),
      limit_(limit < out.size() ? limit : out.size()),
      writer_(out, limit_),
      compressor_(writer_) {
  // Keep room for the OPT record: it must never be what is left out.
  if (query.hasEdns) writer_.setLimit(limit_ >= kOptSize ? limit_ - kOptSize : 0);
  if (writer_.room() < dnswire::kHeaderSize) return;
  for (size_t i = 0; i < dnswire::kHeaderSize; ++i) writer_.writeU8(0);  // patched by finish()
  if (query.qname.empty()) {
    ok_ = true;  // an opcode that carries no question
    return;
  }
  const auto mark = writer_.mark();
  if (!compressor_.writeName(query.qname, false) || !writer_.writeU16(static_cast<uint16_t>(query.qtype)) ||
      !writer_.writeU16(static_cast<uint16_t>(query.qclass))) {
    writer_.rollback(mark);
    compressor_.forgetFrom(mark);
    return;
  }
  ok_ = true;
}

bool ResponseWriter::writeRecord(const dnswire::Name& owner, bool ownerIsQname, const RRset& set,
                                 size_t index, uint64_t ttl) {
  if (ownerIsQname) {
    if (!writer_.writeU16(kPointerToQname)) return false;
  } else if (!compressor_.writeName(owner, true)) {
    return false;
  }
  auto record = set.recordWire(index);
  const size_t fixedAt = writer_.size();
  if (!set.compressNames || set.typed.empty()) {
    // The common case (A, AAAA, TXT, ...): the record is copied as encoded at load time.
    if (!writer_.writeBytes(record)) return false;
  } else {
    // RDATA names of RFC 1035 types are compressed against the message (RFC 1035 §4.1.4).
    if (!writer_.writeBytes(record.first(kFixedRecordPart))) return false;
    const auto& info = dnswire::typeInfo(set.type);
    if (!info.encode(set.typed[index], writer_, &compressor_)) return false;
    const size_t rdlength = writer_.size() - fixedAt - kFixedRecordPart;
    writer_.patchU16(fixedAt + 8, static_cast<uint16_t>(rdlength));
  }
  if (ttl != kKeepTtl) {
    writer_.patchU16(fixedAt + 4, static_cast<uint16_t>(ttl >> 16));
    writer_.patchU16(fixedAt + 6, static_cast<uint16_t>(ttl));
  }
  return true;
}

bool ResponseWriter::addRRset(dnswire::Section section, const dnswire::Name& owner, bool ownerIsQname,
                              const RRset& set, size_t first, uint64_t ttl) {
  const int s = static_cast<int>(section);
  if (!ok_ || s < lastSection_ || set.size() == 0) return false;
  if (ownerIsQname && query_.qname.empty()) ownerIsQname = false;
  const auto mark = writer_.mark();
  const size_t n = set.size();
  for (size_t k = 0; k < n; ++k) {
    if (!writeRecord(owner, ownerIsQname, set, (first + k) % n, ttl)) {
      writer_.rollback(mark);
      compressor_.forgetFrom(mark);
      return false;
    }
  }
  if (counts_[s] + n > UINT16_MAX) {
    writer_.rollback(mark);
    compressor_.forgetFrom(mark);
    return false;
  }
  counts_[s] = static_cast<uint16_t>(counts_[s] + n);
  lastSection_ = s;
  return true;
}

size_t ResponseWriter::finish() {
  if (!ok_) return 0;
  uint16_t arcount = counts_[2];
  if (query_.hasEdns) {
    // RFC 6891 §6.1.2-6.1.3: our payload size, the upper rcode bits, version 0, DO
    // echoed (RFC 3225 §3); options the client sent are not echoed.
    writer_.setLimit(limit_);
    const bool wrote = writer_.writeU8(0) && writer_.writeU16(static_cast<uint16_t>(dnswire::RRType::OPT)) &&
                       writer_.writeU16(dnswire::kAdvertisedUdpSize) &&
                       writer_.writeU8(static_cast<uint8_t>(rcode_ >> 4)) && writer_.writeU8(0) &&
                       writer_.writeU16(query_.dnssecOk ? kDoBit : 0) && writer_.writeU16(0);
    if (wrote) ++arcount;
  }
  const auto& h = query_.header;
  uint16_t flags = 0x8000;  // QR
  flags |= static_cast<uint16_t>((static_cast<uint16_t>(h.opcode) & 0xF) << 11);
  if (aa_) flags |= 0x0400;
  if (tc_) flags |= 0x0200;
  if (h.rd) flags |= 0x0100;  // RD copied (RFC 1035 §4.1.1); RA, Z and AD stay 0
  if (h.cd) flags |= 0x0010;  // CD copied (RFC 4035 §3.2.2)
  flags |= rcode_ & 0xF;
  writer_.patchU16(0, h.id);
  writer_.patchU16(2, flags);
  writer_.patchU16(4, query_.qname.empty() ? 0 : 1);
  writer_.patchU16(6, counts_[0]);
  writer_.patchU16(8, counts_[1]);
  writer_.patchU16(10, arcount);
  return writer_.size();
}

}  // namespace centrald
