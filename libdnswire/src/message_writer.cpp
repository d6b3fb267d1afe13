#include "dnswire/message_writer.hpp"

#include <algorithm>
#include <array>

#include "dnswire/rr_table.hpp"

namespace dnswire {
namespace {

// ASCII lower-casing by table: the compressor compares many label bytes.
constexpr std::array<uint8_t, 256> kLower = [] {
  std::array<uint8_t, 256> t{};
  for (int i = 0; i < 256; ++i) t[i] = static_cast<uint8_t>(i >= 'A' && i <= 'Z' ? i + 32 : i);
  return t;
}();
inline uint8_t lower(uint8_t c) { return kLower[c]; }

constexpr int kQuestionSection = 0;

int sectionIndex(Section s) {
  switch (s) {
    case Section::Answer:
      return 1;
    case Section::Authority:
      return 2;
    case Section::Additional:
      break;
  }
  return 3;
}

}  // namespace

// ---- NameCompressor ------------------------------------------------------------------

bool NameCompressor::suffixEquals(size_t offset, const uint8_t* labels) const {
  const uint8_t* buf = writer_->data();
  size_t p = offset;
  for (;;) {
    uint8_t len = buf[p];
    // Pointers in our own output were written by us and point backwards.
    while ((len & 0xC0) == 0xC0) {
      p = static_cast<size_t>(len & 0x3F) << 8 | buf[p + 1];
      len = buf[p];
    }
    if (len != labels[0]) return false;
    if (len == 0) return true;
    for (size_t i = 1; i <= len; ++i)
      if (lower(buf[p + i]) != lower(labels[i])) return false;
    p += 1 + static_cast<size_t>(len);
    labels += 1 + static_cast<size_t>(len);
  }
}

bool NameCompressor::writeName(const Name& name, bool compress) {
  if (name.empty()) return false;
  const std::span<const uint8_t> wire = name.wire();
  const uint8_t* w = wire.data();
  // Label starts; a relative name (no root byte) is written as is, never compressed.
  uint8_t starts[128];
  size_t n = 0;
  size_t pos = 0;
  while (pos < wire.size() && w[pos] != 0 && n < 128) {
    starts[n++] = static_cast<uint8_t>(pos);
    pos += 1 + static_cast<size_t>(w[pos]);
  }
  const bool absolute = pos + 1 == wire.size();
  // Longest suffix already in the message (RFC 1035 §4.1.4), compared case-insensitively.
  size_t matchLabel = n;
  uint16_t matchOffset = 0;
  if (compress && absolute && count_ > 0) {
    for (size_t i = 0; i < n && matchLabel == n; ++i) {
      const auto remaining = static_cast<uint8_t>(n - i);
      for (size_t e = 0; e < count_; ++e) {
        if (labelCounts_[e] == remaining && suffixEquals(offsets_[e], w + starts[i])) {
          matchLabel = i;
          matchOffset = offsets_[e];
          break;
        }
      }
    }
  }
  const size_t start = writer_->size();
  if (matchLabel == n) {
    if (!writer_->writeBytes(wire)) return false;
  } else {
    const size_t literal = starts[matchLabel];
    if (writer_->room() < literal + 2) return false;
    writer_->writeBytes(wire.first(literal));
    writer_->writeU16(static_cast<uint16_t>(0xC000 | matchOffset));
  }
  // Remember the suffixes written literally; pointers reach only the first 16 KiB.
  if (absolute) {
    for (size_t j = 0; j < matchLabel && count_ < kMaxEntries; ++j) {
      const size_t offset = start + starts[j];
      if (offset >= 0x4000) break;
      offsets_[count_] = static_cast<uint16_t>(offset);
      labelCounts_[count_] = static_cast<uint8_t>(n - j);
      ++count_;
    }
  }
  return true;
}

void NameCompressor::forgetFrom(size_t offset) {
  while (count_ > 0 && offsets_[count_ - 1] >= offset) --count_;
}

bool writeNameUncompressed(WireWriter& writer, const Name& name) {
  if (name.empty()) return false;
  return writer.writeBytes(name.wire());
}

// ---- MessageWriter -------------------------------------------------------------------

MessageWriter::MessageWriter(std::span<uint8_t> buffer, size_t maxSize)
    : writer_(buffer, maxSize), compressor_(writer_), maxSize_(std::min(maxSize, buffer.size())) {}

void MessageWriter::applyLimit() {
  size_t limit = reserved_ >= maxSize_ ? 0 : maxSize_ - reserved_;
  writer_.setLimit(std::max(limit, writer_.size()));
}

bool MessageWriter::setHeader(const Header& header) {
  writer_.rollback(0);
  compressor_.clear();
  std::fill(std::begin(counts_), std::end(counts_), uint16_t{0});
  lastSection_ = kQuestionSection;
  flags_ = header.flags();
  tc_ = header.tc;
  return header.write(writer_);
}

bool MessageWriter::addQuestion(const Question& question) {
  if (lastSection_ != kQuestionSection || counts_[0] == 0xFFFF) return false;
  const auto mark = writer_.mark();
  if (!compressor_.writeName(question.qname) || !writer_.writeU16(static_cast<uint16_t>(question.qtype)) ||
      !writer_.writeU16(static_cast<uint16_t>(question.qclass))) {
    writer_.rollback(mark);
    compressor_.forgetFrom(mark);
    return false;
  }
  ++counts_[0];
  return true;
}

bool MessageWriter::writeRecord(const ResourceRecord& rr) {
  const auto mark = writer_.mark();
  auto fail = [&] {
    writer_.rollback(mark);
    compressor_.forgetFrom(mark);
    return false;
  };
  if (!compressor_.writeName(rr.owner) || !writer_.writeU16(static_cast<uint16_t>(rr.type)) ||
      !writer_.writeU16(static_cast<uint16_t>(rr.cls)) || !writer_.writeU32(rr.ttl) || !writer_.writeU16(0))
    return fail();
  const size_t rdataStart = writer_.size();
  const RRTypeInfo& info = typeInfo(rr.type);
  bool ok;
  if (const auto* raw = std::get_if<Opaque>(&rr.data)) {
    // Raw RDATA (an unknown type, or a known one kept as bytes) goes out untouched.
    ok = writer_.writeBytes(raw->bytes);
  } else if (!isKnownType(rr.type)) {
    ok = false;  // typed RDATA under a type without a row: nothing sensible to write
  } else {
    // Names in RDATA are compressed only for the RFC 1035 types (RFC 3597 §4).
    ok = info.encode(rr.data, writer_, info.compressNames ? &compressor_ : nullptr);
  }
  const size_t rdlength = writer_.size() - rdataStart;
  if (!ok || rdlength > 0xFFFF) return fail();
  writer_.patchU16(rdataStart - 2, static_cast<uint16_t>(rdlength));
  return true;
}

bool MessageWriter::add(Section section, const ResourceRecord& rr) {
  const int index = sectionIndex(section);
  if (index < lastSection_ || counts_[index] == 0xFFFF) return false;
  if (!writeRecord(rr)) return false;
  lastSection_ = index;
  ++counts_[index];
  return true;
}

bool MessageWriter::addRRset(Section section, std::span<const ResourceRecord> rrset) {
  const int index = sectionIndex(section);
  if (index < lastSection_ || counts_[index] + rrset.size() > 0xFFFF) return false;
  const auto mark = writer_.mark();
  for (const auto& rr : rrset) {
    if (!writeRecord(rr)) {
      writer_.rollback(mark);
      compressor_.forgetFrom(mark);
      return false;
    }
  }
  lastSection_ = index;
  counts_[index] = static_cast<uint16_t>(counts_[index] + rrset.size());
  return true;
}

void MessageWriter::reserve(size_t bytes) {
  reserved_ += bytes;
  applyLimit();
}

void MessageWriter::release(size_t bytes) {
  reserved_ -= std::min(bytes, reserved_);
  applyLimit();
}

bool MessageWriter::addEdns(const Edns& edns) {
  if (lastSection_ > 3 || counts_[3] == 0xFFFF) return false;
  writer_.setLimit(maxSize_);
  const auto mark = writer_.mark();
  // Written field by field so that no ResourceRecord (and no vector copy) is built.
  bool ok = writer_.writeU8(0) && writer_.writeU16(static_cast<uint16_t>(RRType::OPT)) &&
            writer_.writeU16(edns.udpSize) &&
            writer_.writeU32(static_cast<uint32_t>(edns.extendedRcode) << 24 |
                             static_cast<uint32_t>(edns.version) << 16 | (edns.dnssecOk ? 0x8000u : 0u)) &&
            writer_.writeU16(0);
  const size_t rdataStart = writer_.size();
  for (const auto& o : edns.options) {
    if (!ok) break;
    ok = o.data.size() <= 0xFFFF && writer_.writeU16(o.code) &&
         writer_.writeU16(static_cast<uint16_t>(o.data.size())) && writer_.writeBytes(o.data);
  }
  if (ok && writer_.size() - rdataStart > 0xFFFF) ok = false;
  if (!ok) {
    writer_.rollback(mark);
    applyLimit();
    return false;
  }
  writer_.patchU16(rdataStart - 2, static_cast<uint16_t>(writer_.size() - rdataStart));
  // The OPT used (part of) the room kept for it.
  reserved_ -= std::min(reserved_, writer_.size() - mark);
  applyLimit();
  lastSection_ = 3;
  ++counts_[3];
  return true;
}

void MessageWriter::setRcode(uint16_t rcode) {
  flags_ = static_cast<uint16_t>((flags_ & ~0xFu) | (rcode & 0xF));
}

std::span<const uint8_t> MessageWriter::finish() {
  if (writer_.size() < kHeaderSize) return {};
  uint16_t flags = flags_;
  if (tc_) flags |= 0x0200;
  writer_.patchU16(2, flags);
  for (int i = 0; i < 4; ++i) writer_.patchU16(4 + 2 * static_cast<size_t>(i), counts_[i]);
  return writer_.written();
}

// ---- writeMessage --------------------------------------------------------------------

namespace {

bool sameRRset(const ResourceRecord& a, const ResourceRecord& b) {
  return a.type == b.type && a.cls == b.cls && a.owner == b.owner;
}

// Records that must stay even when the message is cut: OPT (RFC 6891 §7) and TSIG
// (RFC 8945 §5.3, always last).
bool mustKeep(const ResourceRecord& rr) { return rr.type == RRType::OPT || rr.type == RRType::TSIG; }

// Upper bound of a record's size without compression.
size_t uncompressedSize(const ResourceRecord& rr) {
  std::vector<uint8_t> scratch(kMaxMessageSize);
  MessageWriter w(scratch, scratch.size());
  w.setHeader(Header{});
  if (!w.add(Section::Additional, rr)) return 0;
  // Compression cannot apply to the first name in an empty message, so this is exact.
  return w.size() - kHeaderSize;
}

}  // namespace

std::vector<uint8_t> writeMessage(const Message& message, size_t maxSize) {
  std::vector<uint8_t> buffer(std::min(maxSize, kMaxMessageSize));
  if (buffer.size() < kHeaderSize) return {};
  MessageWriter w(buffer, buffer.size());
  w.setHeader(message.header);
  bool truncated = false;
  for (const auto& q : message.questions) {
    if (!w.addQuestion(q)) {
      truncated = true;
      break;
    }
  }
  std::vector<size_t> keepSizes(message.additional.size(), 0);
  for (size_t i = 0; i < message.additional.size(); ++i) {
    if (mustKeep(message.additional[i])) {
      keepSizes[i] = uncompressedSize(message.additional[i]);
      w.reserve(keepSizes[i]);
    }
  }
  // Answer and authority: whole RRsets, in order; the first that does not fit ends the
  // section writing and sets TC (RFC 2181 §9).
  for (Section s : {Section::Answer, Section::Authority}) {
    const auto& records = message.section(s);
    for (size_t i = 0; i < records.size() && !truncated;) {
      size_t j = i + 1;
      while (j < records.size() && sameRRset(records[i], records[j])) ++j;
      if (!w.addRRset(s, std::span(records).subspan(i, j - i))) truncated = true;
      i = j;
    }
  }
  // Additional: what does not fit is left out without TC (RFC 2181 §9), but OPT and TSIG
  // are always written, in their place, into the room kept for them.
  const auto& extra = message.additional;
  bool extraFull = truncated;
  for (size_t i = 0; i < extra.size();) {
    if (mustKeep(extra[i])) {
      w.release(keepSizes[i]);
      (void)w.add(Section::Additional, extra[i]);
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < extra.size() && !mustKeep(extra[j]) && sameRRset(extra[i], extra[j])) ++j;
    if (!extraFull && !w.addRRset(Section::Additional, std::span(extra).subspan(i, j - i))) extraFull = true;
    i = j;
  }
  if (truncated) w.setTruncated();
  const auto out = w.finish();
  return std::vector<uint8_t>(out.begin(), out.end());
}

}  // namespace dnswire
