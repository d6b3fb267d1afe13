#pragma once
// A single-threaded epoll loop: file-descriptor readiness, one-shot timers and functions
// posted from other threads. Each worker thread owns one; everything that belongs to the
// worker (sockets, c-ares channels, suspended queries) is touched only on its thread.
//
// Re-entrancy: callbacks may call watch/modify/unwatch/addTimer/cancelTimer on their own
// loop, including unwatching their own fd or cancelling a timer that is due in the same
// iteration (it will then not run). A callback is never invoked after unwatch()/cancel
// returned.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

#include "dnswire/error.hpp"

namespace dnswire::server {

// What the caller wants to hear about for an fd.
struct Interest {
  bool read = false;
  bool write = false;
  static Interest readable() { return {true, false}; }
  static Interest writable() { return {false, true}; }
  static Interest both() { return {true, true}; }
};

// What epoll reported. `error` covers EPOLLERR and EPOLLHUP: the fd should be read (to
// get EOF or the error) or closed. When `error` is set, `readable` is set too, so that a
// callback that only reads still notices.
struct Readiness {
  bool readable = false;
  bool writable = false;
  bool error = false;
};

class EventLoop {
 public:
  using IoCallback = std::function<void(Readiness)>;
  using TimerCallback = std::function<void()>;
  using TimerId = uint64_t;  // never 0; ids are not reused within a loop's life
  static constexpr TimerId kNoTimer = 0;

  // Creates the epoll and eventfd descriptors; throws std::system_error when the system
  // refuses (out of fds): a startup error.
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Starts watching `fd` (level-triggered). The loop does not own the fd: the caller
  // unwatches before closing it. Fails (EEXIST) when the fd is already watched.
  Result<void> watch(int fd, Interest interest, IoCallback callback);
  // Changes the interest of a watched fd (e.g. add write while output is pending).
  Result<void> modify(int fd, Interest interest);
  // Stops watching; harmless when the fd is not watched.
  void unwatch(int fd);
  bool watching(int fd) const;

  // Takes a watched fd out of epoll, keeping its callback and interest, until resume():
  // meanwhile it reports nothing. For a socket its owner reads in a loop of its own while
  // busy: a socket in an epoll set runs epoll's wake-up callback on every datagram that
  // arrives and every one it sends, which on a loaded UDP socket costs more than the
  // epoll_wait it saves (issue #6). resume() reports the fd at once if it is ready.
  // Both fail (ENOENT) for an fd that is not watched; pausing twice is harmless.
  Result<void> pause(int fd);
  Result<void> resume(int fd);
  bool paused(int fd) const;

  // Runs `callback` once, on this loop's thread, after `delay` (real monotonic time; a
  // zero or negative delay runs it on the next iteration). Loop thread only.
  TimerId addTimer(std::chrono::nanoseconds delay, TimerCallback callback);
  // Cancels a pending timer; false when it already ran, was cancelled or never existed.
  bool cancelTimer(TimerId id);
  size_t pendingTimers() const;

  // Queues `fn` to run on the loop thread. Thread-safe; wakes the loop via its eventfd.
  // Posted functions run in posting order on a later iteration; any still queued when
  // run() returns run on the next run()/runOnce(), or are destroyed unrun with the loop.
  void post(std::function<void()> fn);

  // Dispatches events until stop(). Call from one thread only (which becomes the loop
  // thread). Exceptions thrown by callbacks propagate out of run(): callbacks are
  // expected to catch their own (the runtime does so for pipelines).
  void run();
  // One round: waits at most `maxWait` (or until the next timer) and dispatches what is
  // ready. For tests and for embedding; returns the number of callbacks invoked.
  size_t runOnce(std::chrono::milliseconds maxWait);
  // Makes run() return after the current iteration. Thread-safe, idempotent. A stopped
  // loop stays stopped: a later run() returns at once (runOnce() still works).
  void stop();
  bool stopped() const;

  // True on the thread currently inside run()/runOnce() (or, before any run, on the
  // thread that created the loop).
  bool inLoopThread() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dnswire::server
