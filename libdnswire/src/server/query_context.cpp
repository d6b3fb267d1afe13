#include "dnswire/server/query_context.hpp"

#include <algorithm>
#include <cstring>

namespace dnswire::server {

const char* toString(Verdict verdict) {
  switch (verdict) {
    case Verdict::Continue:
      return "continue";
    case Verdict::Respond:
      return "respond";
    case Verdict::Drop:
      return "drop";
    case Verdict::Suspend:
      return "suspend";
  }
  return "?";
}

const char* toString(Transport transport) { return transport == Transport::Udp ? "udp" : "tcp"; }

void SuspendToken::resume(Verdict verdict) const {
  if (owner_ == nullptr) return;
  if (owner_->onOwnerThread()) {
    owner_->resumeQuery(slot_, generation_, verdict);
    return;
  }
  detail::ContextOwner* owner = owner_;
  uint32_t slot = slot_;
  uint64_t generation = generation_;
  owner->postToOwner([owner, slot, generation, verdict] { owner->resumeQuery(slot, generation, verdict); });
}

QueryContext* SuspendToken::context() const {
  if (owner_ == nullptr) return nullptr;
  return owner_->contextFor(slot_, generation_);
}

// Not zeroed: every response is written whole before it is sent, and zeroing 64 KB per
// new context (contexts are added while suspended queries pile up) cost a fifth of
// proxyd's time on a burst of cache misses and made every page resident at once.
QueryContext::QueryContext() : response_(std::make_unique_for_overwrite<uint8_t[]>(kResponseCapacity)) {}

void QueryContext::setResponse(std::span<const uint8_t> bytes) {
  size_t n = std::min(bytes.size(), kResponseCapacity);
  if (n > 0) std::memmove(response_.get(), bytes.data(), n);
  responseSize = n;
}

SuspendToken QueryContext::suspend() {
  if (owner_ == nullptr) return {};
  if (!suspended_) {
    if (!owner_->admitSuspension(slot_)) return {};
    // The request usually points into a receive buffer that the next batch reuses.
    // The vector keeps its capacity across queries, so this allocates only while the
    // context has not yet seen a request this large.
    if (request.data() != requestCopy_.data()) {
      requestCopy_.assign(request.begin(), request.end());
      request = {requestCopy_.data(), requestCopy_.size()};
    }
    suspended_ = true;
  }
  // A fresh generation per suspension: tokens from an earlier suspension are dead.
  ++generation_;
  return SuspendToken(owner_, slot_, generation_);
}

void QueryContext::reset() {
  request = {};
  client = {};
  local = {};
  transport = Transport::Udp;
  received = {};
  deadline = {};
  maxResponseSize = 512;
  worker = 0;
  prefetchNote = 0;
  // 300 bytes a query that was answered before decoding need not write again.
  if (parsed) query = dnswire::QueryView{};
  parsed = false;
  user = nullptr;
  responseSize = 0;
  nextStage = 0;
  route = 0;
  routeGeneration = 0;
  running = false;
  hasPendingVerdict = false;
  pendingVerdict = Verdict::Drop;
  if (suspended_) endSuspension();
  ++generation_;
}

}  // namespace dnswire::server
