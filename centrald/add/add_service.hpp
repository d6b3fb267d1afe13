#pragma once
// The ADD writer: one thread owns the AddEngine (and so the write connection). Worker
// threads queue requests and suspend them; the writer takes everything queued at once
// (group commit: concurrent ADDs share one transaction and one fsync), applies it, and
// after COMMIT calls `publish` with what the round did to each zone (the watcher puts it
// on top of the zones it serves, without reading the store: the change is answered at
// once) before handing each answer back to its worker's loop.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <vector>

#include "centrald/add/add_engine.hpp"
#include "dnswire/server/event_loop.hpp"
#include "dnswire/server/query_context.hpp"

namespace centrald {

class AddService {
 public:
  // How a round's changes reach the snapshot (ZoneWatcher::beginWrites / publishChanges).
  struct Publisher {
    // Before the round's first transaction: its commits are published by `publish`.
    std::function<void()> begin;
    // After the round, always (`changes` may be empty). `othersWrote`: another connection
    // committed since the last round, so other zones may have changed too.
    std::function<dnswire::Result<void>(const std::vector<ZoneChange>& changes, bool othersWrote)> publish;
  };

  AddService(AddEngine engine, Publisher publisher, size_t maxBatch = 512);
  ~AddService();  // stop()
  AddService(const AddService&) = delete;
  AddService& operator=(const AddService&) = delete;

  // Starts / stops the writer thread (stop() is idempotent; queued requests are dropped).
  void start();
  void stop();

  const AddOptions& options() const { return engine_.options(); }
  const AddEngine& engine() const { return engine_; }

  // Worker loops register while their ADD stage exists: answers are posted only to
  // registered loops (a stage unregisters in its destructor, before its loop dies).
  void registerLoop(dnswire::server::EventLoop* loop);
  void unregisterLoop(dnswire::server::EventLoop* loop);

  struct Job {
    AddItem item;
    dnswire::server::EventLoop* loop = nullptr;
    dnswire::server::SuspendToken token;
    dnswire::server::Transport transport = dnswire::server::Transport::Udp;
    size_t maxResponseSize = 512;
  };
  // Queues a job; false when the service is stopped or the queue is full (the caller
  // answers SERVFAIL itself).
  bool submit(Job job);

 private:
  void run();
  void deliver(Job& job, std::vector<uint8_t> response);

  AddEngine engine_;
  Publisher publisher_;
  std::optional<uint64_t> externalVersion_;  // the write connection's data_version, last round
  size_t maxBatch_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  bool running_ = false;
  std::unordered_set<dnswire::server::EventLoop*> loops_;
  std::thread thread_;
};

// The UDP form of an ADD response larger than the client's limit: header and question
// only, TC set (RFC 1035 §4.2.1); the client asks again over TCP and gets the whole
// answer from the replay map.
std::vector<uint8_t> truncateAddResponse(const std::vector<uint8_t>& response, const AddItem& item);

// Appends one transaction's changes to a round's: a zone changed by consecutive
// transactions (nobody else writing in between) becomes one change.
void mergeZoneChanges(std::vector<ZoneChange>& round, std::vector<ZoneChange>&& batch);

}  // namespace centrald
