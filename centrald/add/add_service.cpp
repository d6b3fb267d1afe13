#include "centrald/add/add_service.hpp"

#include <fmt/format.h>

#include <utility>

#include "dnswire/server/log.hpp"

namespace centrald {

namespace server = dnswire::server;

namespace {
constexpr size_t kMaxQueued = 65536;
}

std::vector<uint8_t> truncateAddResponse(const std::vector<uint8_t>& response, const AddItem& item) {
  const auto rcode = static_cast<dnswire::Rcode>(response.size() >= 4 ? response[3] & 0xF : 2);
  auto shortened =
      dnswire::encodeAddResponse(item.requestHeader, &item.request.question, rcode, {}, item.withEdns);
  if (!shortened || shortened->size() < dnswire::kHeaderSize) return {};
  (*shortened)[2] |= 0x02;  // TC
  return std::move(*shortened);
}

void mergeZoneChanges(std::vector<ZoneChange>& round, std::vector<ZoneChange>&& batch) {
  for (auto& change : batch) {
    ZoneChange* last = nullptr;
    for (auto& earlier : round)
      if (earlier.origin == change.origin) last = &earlier;
    const bool continues = last != nullptr && !change.created && last->zoneId == change.zoneId &&
                           last->generationAfter == change.generationBefore;
    if (!continues) {
      round.push_back(std::move(change));
      continue;
    }
    last->added.insert(last->added.end(), std::make_move_iterator(change.added.begin()),
                       std::make_move_iterator(change.added.end()));
    last->generationAfter = change.generationAfter;
    last->serial = change.serial;
  }
}

AddService::AddService(AddEngine engine, Publisher publisher, size_t maxBatch)
    : engine_(std::move(engine)), publisher_(std::move(publisher)), maxBatch_(maxBatch == 0 ? 1 : maxBatch) {}

AddService::~AddService() { stop(); }

void AddService::start() {
  std::lock_guard lock(mutex_);
  if (running_) return;
  stopping_ = false;
  running_ = true;
  thread_ = std::thread([this] { run(); });
}

void AddService::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  running_ = false;
  queue_.clear();
}

void AddService::registerLoop(server::EventLoop* loop) {
  std::lock_guard lock(mutex_);
  loops_.insert(loop);
}

void AddService::unregisterLoop(server::EventLoop* loop) {
  std::lock_guard lock(mutex_);
  loops_.erase(loop);
}

bool AddService::submit(Job job) {
  {
    std::lock_guard lock(mutex_);
    if (!running_ || stopping_ || queue_.size() >= kMaxQueued) return false;
    queue_.push_back(std::move(job));
  }
  wake_.notify_one();
  return true;
}

void AddService::deliver(Job& job, std::vector<uint8_t> response) {
  if (job.transport == server::Transport::Udp && response.size() > job.maxResponseSize)
    response = truncateAddResponse(response, job.item);
  std::lock_guard lock(mutex_);
  // The stage that suspended the query is gone (shutdown): its loop may be too.
  if (loops_.count(job.loop) == 0) return;
  // The context belongs to the loop's thread: fill it there, then resume.
  job.loop->post([token = job.token, bytes = std::move(response)] {
    auto* ctx = token.context();
    if (ctx == nullptr) return;
    if (bytes.empty()) {
      token.resume(server::Verdict::Drop);
      return;
    }
    ctx->setResponse(bytes);
    token.resume(server::Verdict::Respond);
  });
}

void AddService::run() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
    }
    // Group commit: apply what is queued in one transaction; when more arrived meanwhile,
    // commit that too before publishing, so that one publication covers every request of
    // the round. Nothing is acknowledged before its COMMIT and
    // the publication after it.
    std::vector<Job> round;
    std::vector<std::vector<uint8_t>> responses;
    std::vector<ZoneChange> changes;
    if (publisher_.begin) publisher_.begin();
    for (;;) {
      std::vector<Job> batch;
      {
        std::lock_guard lock(mutex_);
        while (!queue_.empty() && round.size() + batch.size() < maxBatch_) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      if (batch.empty()) break;
      try {
        std::vector<AddItem> items;
        items.reserve(batch.size());
        for (const auto& job : batch) items.push_back(job.item);
        bool committed = false;
        std::vector<ZoneChange> batchChanges;
        auto outcomes = engine_.applyBatch(items, committed, &batchChanges);
        mergeZoneChanges(changes, std::move(batchChanges));
        for (size_t i = 0; i < batch.size(); ++i)
          responses.push_back(i < outcomes.size() ? std::move(outcomes[i].response) : std::vector<uint8_t>{});
      } catch (const std::exception& e) {
        // Never leave queries hanging: answer SERVFAIL to the whole batch.
        server::logError("ADD writer: {}", e.what());
        for (const auto& job : batch)
          responses.push_back(engine_.errorResponse(job.item.requestHeader, &job.item.request.question,
                                                    dnswire::Rcode::ServFail, job.item.withEdns,
                                                    job.item.tsig));
      }
      for (auto& job : batch) round.push_back(std::move(job));
      if (round.size() >= maxBatch_) break;
    }
    if (publisher_.publish) {
      // SPEC: visible at once. The data is committed either way; when publishing fails the
      // watcher's next poll catches up, and we still acknowledge (the change is durable).
      try {
        auto external = engine_.store().externalDataVersion();
        const bool othersWrote = !external || !externalVersion_ || *external != *externalVersion_;
        externalVersion_ = external ? std::optional<uint64_t>(*external) : std::nullopt;
        if (auto published = publisher_.publish(changes, othersWrote); !published)
          server::logError("ADD: committed, but publishing the zones failed: {}",
                           published.error().message());
      } catch (const std::exception& e) {
        server::logError("ADD: committed, but publishing the zones failed: {}", e.what());
      }
    }
    for (size_t i = 0; i < round.size(); ++i) deliver(round[i], std::move(responses[i]));
  }
}

}  // namespace centrald
