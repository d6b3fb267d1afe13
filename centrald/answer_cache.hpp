#pragma once
// A per-worker cache of finished responses in front of answerQuery(): most queries ask
// the same few names again, and copying 100 bytes costs far less than finding the zone,
// the node and writing every RRset with name compression (issue #6).
//
// An entry is answerQuery()'s response, kept with everything that changed its bytes:
// question (name case-insensitively, type, class), EDNS present, DO, RD, CD, transport
// and the size limit. A hit copies it and patches what differs per query: the ID, the
// question name as this client wrote it (RFC 4343 §4.1; owners written as pointers to
// the question follow) and the round-robin position of the one rotating A/AAAA RRset,
// taken from that RRset's shared counter exactly as answerQuery() takes it. The result
// is byte for byte what answerQuery() would have written.
//
// Entries point into the snapshot they were answered from: the owner calls clear() before
// it lets go of that snapshot. Fixed slots, allocated once; a hit or a store allocates
// nothing. Not thread-safe: one per worker thread.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "centrald/answer.hpp"
#include "dnswire/packet_view.hpp"
#include "dnswire/server/huge_page_array.hpp"

namespace centrald {

class AnswerCache {
 public:
  static constexpr size_t kDefaultEntries = 32768;  // 10 MB per worker
  // Larger responses are not kept (an MX answer with the addresses of two exchangers of
  // four A records each is ~230 bytes).
  static constexpr size_t kMaxResponse = 512;
  // The responses are kept in a log, oldest first out, of this many bytes per entry
  // (rounded up to a power of two): an entry is a 64-byte header and the response,
  // rounded up to 64 (192 bytes for an A answer of four records). Entries follow each
  // other as they were stored, so the answers a busy server gives are packed on few pages
  // (and TLB entries), not spread over the whole table.
  static constexpr size_t kLogBytesPerEntry = 256;
  // A rotating RRset with more records is not kept (its answers are rarely repeated).
  static constexpr size_t kMaxRotated = 16;
  // Places a question may take in the index: a set, two adjacent cache lines.
  static constexpr size_t kWays = 4;

  // Room for about `entries` questions: a log of entries * kLogBytesPerEntry bytes and
  // an index of twice as many places (a power of two) in sets of kWays, so that few keys
  // collide: with as many places as keys, a third of the bench's misses were keys that had
  // pushed each other out; with twice as many in sets of two, still nearly all of them
  // (556 misses in 20,000 queries of the bench's 16,504 questions, which all fit). 0
  // disables the cache.
  explicit AnswerCache(size_t entries);
  ~AnswerCache();
  AnswerCache(const AnswerCache&) = delete;
  AnswerCache& operator=(const AnswerCache&) = delete;

  bool enabled() const { return mask_ != 0; }
  size_t indexPlaces() const { return enabled() ? mask_ + 1 : 0; }

  // Forgets every entry (their snapshot is going away). O(1).
  void clear();

  // What a lookup needs of a query: the key and the ID.
  struct Question {
    std::span<const uint8_t> qname;  // uncompressed wire form, as the client wrote it
    uint16_t id = 0;
    uint16_t qtype = 0;
    uint16_t qclass = 0;
    uint8_t flags = 0;  // EDNS, DO, RD, CD, TCP
    size_t limit = 0;   // the most the response may take
  };
  // The question of a parsed query; false when such a query is never cached (not QUERY,
  // EDNS version above 0).
  static bool question(const dnswire::QueryView& query, Transport transport, size_t limit, Question& out);
  // The same straight from the request bytes, without DecodeStage, for the plainest form
  // only: QR=0, QUERY, one question with an uncompressed name, no answer or authority
  // records, at most an OPT (owner root, version 0, well-formed options), nothing after.
  // `limit` comes out as DecodeStage sets it. Whatever this accepts, parseQuery() accepts
  // with the same fields; for anything else it returns false (then decode as usual).
  static bool question(std::span<const uint8_t> request, Transport transport, Question& out);

  // Where a question's entry is kept (over the name case-insensitively and the key).
  static uint32_t hashOf(const Question& question);

  // Writes the response to `question` (whose hashOf() is `hash`) into `out` when one is
  // cached for it, advancing the rotating RRset's counter once, and returns its size;
  // returns 0 on a miss.
  size_t lookup(const Question& question, uint32_t hash, std::span<uint8_t> out);
  size_t lookup(const Question& question, std::span<uint8_t> out) { return lookup(question, hashOf(question), out); }
  size_t lookup(const dnswire::QueryView& query, Transport transport, size_t limit, std::span<uint8_t> out) {
    Question q;
    return question(query, transport, limit, q) ? lookup(q, out) : 0;
  }
  // Hints that change nothing. The cache is far larger than the CPU's: called a few
  // queries ahead with a question's hashOf(), prefetchTags() starts loading the tags
  // lookup() reads first; called later, prefetch() reads those tags and starts loading
  // the entry and the rotating RRset lookup() will read.
  void prefetchTags(uint32_t hash) const;
  void prefetch(uint32_t hash) const;

  // Keeps `response`, what answerQuery() (`result`) just wrote for `query` under `limit`,
  // when it can be replayed exactly: not truncated, small enough, at most one rotating
  // RRset in the answer section. Returns whether it was kept.
  bool store(const dnswire::QueryView& query, Transport transport, size_t limit,
             std::span<const uint8_t> response, const AnswerResult& result);

 private:
  struct Tag;
  struct Entry;
  static constexpr size_t kNone = SIZE_MAX;
  size_t find(const Question& question, uint32_t hash) const;  // a tag's index, or kNone
  size_t setOf(uint32_t hash) const;  // the first of the kWays tags a key may take
  const Entry& entryAt(uint64_t position) const;
  Entry& entryAt(uint64_t position);
  // Room for an entry of `length` bytes at the log's head; returns its position.
  uint64_t reserve(size_t length);
  // Drops the oldest entries until the log holds everything before `until`.
  void reclaim(uint64_t until);

  dnswire::server::HugePageArray<Tag> tags_;
  dnswire::server::HugePageArray<Entry> log_;  // 64-byte units
  size_t mask_ = 0;     // tags - 1; tags come in sets of kWays (set associative)
  size_t logMask_ = 0;  // log bytes - 1
  uint64_t head_ = 0;   // where the next entry goes (positions only grow; offset = & logMask_)
  uint64_t tail_ = 0;   // the oldest entry still in the log
  uint32_t epoch_ = 1;  // tags of another epoch are empty
};

}  // namespace centrald
