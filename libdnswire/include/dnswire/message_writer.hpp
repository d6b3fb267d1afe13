#pragma once
// Builds a message section by section into a caller-owned buffer with name compression
// (RFC 1035 §4.1.4). A record or RRset that does not fit is left out whole and add()
// returns false: the caller decides whether that means TC (RFC 2181 §9).

#include <cstdint>
#include <span>
#include <vector>

#include "dnswire/error.hpp"
#include "dnswire/message.hpp"
#include "dnswire/wire_writer.hpp"

namespace dnswire {

// Remembers where names were written so that later names can point at them.
// Fixed-size: once full, names are still written, only uncompressed.
class NameCompressor {
 public:
  explicit NameCompressor(WireWriter& writer) : writer_(&writer) {}
  // Writes `name` at the writer's position, compressed against earlier names when
  // `compress` is true, and records its suffixes for later names. False when out of room.
  bool writeName(const Name& name, bool compress = true);
  void clear() { count_ = 0; }
  // Forgets suffixes recorded at or after `offset` (after a rollback).
  void forgetFrom(size_t offset);

 private:
  // Whether the name written at `offset` (pointers followed) equals the uncompressed
  // labels at `labels`, ignoring ASCII case.
  bool suffixEquals(size_t offset, const uint8_t* labels) const;

  static constexpr size_t kMaxEntries = 128;
  WireWriter* writer_;
  // Only the first count_ entries are meaningful (the rest is left uninitialized: a writer
  // is built per answer). offsets_: where a written name (or one of its suffixes) starts;
  // labelCounts_: how many labels that suffix has, a cheap filter before comparing.
  uint16_t offsets_[kMaxEntries];
  uint8_t labelCounts_[kMaxEntries];
  size_t count_ = 0;
};

// Writes `name` uncompressed.
bool writeNameUncompressed(WireWriter& writer, const Name& name);

class MessageWriter {
 public:
  // `buffer` must outlive the writer; nothing is written past maxSize.
  MessageWriter(std::span<uint8_t> buffer, size_t maxSize);
  // The compressor points into this object's writer: not copyable or movable.
  MessageWriter(const MessageWriter&) = delete;
  MessageWriter& operator=(const MessageWriter&) = delete;

  // Writes the header (its counts are ignored: finish() fills them in). Call first.
  bool setHeader(const Header& header);
  bool addQuestion(const Question& question);
  // Adds one record to `section` (sections must be filled in order). On overflow nothing
  // is written and false is returned.
  bool add(Section section, const ResourceRecord& rr);
  // All of `rrset` or none of it.
  bool addRRset(Section section, std::span<const ResourceRecord> rrset);
  // Keeps `bytes` free for a record added at the end (OPT, TSIG) until released.
  void reserve(size_t bytes);
  void release(size_t bytes);
  // Appends the OPT record to the additional section (uses reserved room first).
  bool addEdns(const Edns& edns);
  void setTruncated() { tc_ = true; }
  void setRcode(uint16_t rcode);  // low 4 bits in the header; the caller puts the rest in OPT

  // Records added so far, by section: question, answer, authority, additional.
  uint16_t count(int section) const { return counts_[section]; }
  size_t size() const { return writer_.size(); }
  // Patches counts and flags into the header; returns the finished message.
  std::span<const uint8_t> finish();
  WireWriter& wire() { return writer_; }
  NameCompressor& compressor() { return compressor_; }

 private:
  bool writeRecord(const ResourceRecord& rr);
  void applyLimit();

  WireWriter writer_;
  NameCompressor compressor_;
  size_t maxSize_;
  uint16_t flags_ = 0;
  size_t reserved_ = 0;
  uint16_t counts_[4]{};
  bool tc_ = false;
  int lastSection_ = 0;
};

// Encodes a whole Message (its header counts ignored). When it does not fit maxSize,
// whole RRsets are left out from the end and TC is set. OPT records in `additional`
// are always kept.
std::vector<uint8_t> writeMessage(const Message& message, size_t maxSize = kMaxMessageSize);

}  // namespace dnswire
