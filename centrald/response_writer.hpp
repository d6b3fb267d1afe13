#pragma once
// Writes one authoritative response into a fixed buffer from pre-encoded RRsets: the
// header and question first, then whole RRsets section by section, the OPT record last.
// Nothing is allocated: the buffer is the caller's and the compressor's table is fixed.
// An RRset that does not fit under the size limit is left out whole (RFC 2181 §9) and
// the caller decides whether that sets TC.

#include <cstdint>
#include <span>

#include "centrald/zone_snapshot.hpp"
#include "dnswire/message.hpp"
#include "dnswire/message_writer.hpp"
#include "dnswire/packet_view.hpp"
#include "dnswire/wire_writer.hpp"

namespace centrald {

class ResponseWriter {
 public:
  // Size of the OPT record we add: root owner, TYPE, CLASS, TTL, RDLENGTH 0.
  static constexpr size_t kOptSize = 11;

  // Starts the response to `query` in `out`, never longer than `limit` bytes: the header
  // (ID, opcode, RD and CD copied; QR set; AA, TC, RA, Z, AD clear) and the question as
  // the client sent it, case included (RFC 4343 §4.1). When the query had an OPT, room
  // for ours is kept back until finish().
  ResponseWriter(std::span<uint8_t> out, size_t limit, const dnswire::QueryView& query);

  // False when not even the header and question fit (then finish() returns 0).
  bool ok() const { return ok_; }

  void setAuthoritative(bool aa) { aa_ = aa; }
  // The full rcode: the low four bits go in the header, the rest in OPT (RFC 6891 §6.1.3).
  void setRcode(dnswire::Rcode rcode) { rcode_ = static_cast<uint16_t>(rcode); }
  dnswire::Rcode rcode() const { return static_cast<dnswire::Rcode>(rcode_); }
  void setTruncated() { tc_ = true; }
  bool truncated() const { return tc_; }

  // Appends all records of `set` to `section`, owned by `owner` (written as a pointer to
  // the question when `ownerIsQname`, else compressed against earlier names), starting at
  // record `first` and wrapping around (round robin). `ttl` overrides the RRset's TTL
  // when not kKeepTtl. Sections must be filled in order. Returns false and writes
  // nothing when the RRset does not fit or the section order is violated.
  static constexpr uint64_t kKeepTtl = UINT64_MAX;
  bool addRRset(dnswire::Section section, const dnswire::Name& owner, bool ownerIsQname, const RRset& set,
                size_t first = 0, uint64_t ttl = kKeepTtl);

  uint16_t count(dnswire::Section section) const { return counts_[static_cast<int>(section)]; }

  // Adds our OPT when the query had one (payload 1232, version 0, DO echoed, no options),
  // patches the header and returns the response's size.
  size_t finish();

 private:
  bool writeRecord(const dnswire::Name& owner, bool ownerIsQname, const RRset& set, size_t index,
                   uint64_t ttl);

  const dnswire::QueryView& query_;
  size_t limit_;
  dnswire::WireWriter writer_;
  dnswire::NameCompressor compressor_;
  uint16_t counts_[3]{};
  int lastSection_ = 0;
  uint16_t rcode_ = 0;
  bool aa_ = false;
  bool tc_ = false;
  bool ok_ = false;
};

}  // namespace centrald
