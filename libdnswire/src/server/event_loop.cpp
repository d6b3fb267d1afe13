#include "dnswire/server/event_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <queue>
#include <system_error>
#include <unordered_map>
#include <vector>

namespace dnswire::server {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr int kMaxEvents = 128;

Error systemError(int err, const char* what) {
  return Error(std::error_code(err, std::system_category()), what);
}

uint32_t toEpoll(Interest interest) {
  uint32_t events = 0;
  if (interest.read) events |= EPOLLIN;
  if (interest.write) events |= EPOLLOUT;
  return events;
}

}  // namespace

struct EventLoop::Impl {
  struct Watch {
    int fd = -1;
    uint32_t generation = 0;
    uint32_t events = 0;  // the interest, in epoll's terms
    bool paused = false;  // out of the epoll set (pause())
    IoCallback callback;
  };
  struct TimerEntry {
    SteadyClock::time_point due;
    TimerId id;
    bool operator>(const TimerEntry& other) const {
      return due != other.due ? due > other.due : id > other.id;
    }
  };

  // epoll_ctl() for `op` on w's fd with its interest; the event data carries the fd in
  // the low half and the watch's generation in the high half: an event queued for an fd
  // that was unwatched and watched again within one epoll_wait batch is seen as stale.
  int control(int op, const Watch& w) const {
    epoll_event ev{};
    ev.events = w.events;
    ev.data.u64 = static_cast<uint64_t>(static_cast<uint32_t>(w.fd)) | static_cast<uint64_t>(w.generation) << 32;
    return epoll_ctl(epollFd, op, w.fd, &ev);
  }

  int epollFd = -1;
  int wakeFd = -1;
  // Shared ownership so that a callback that unwatches its own fd is not destroyed
  // while it runs.
  std::unordered_map<int, std::shared_ptr<Watch>> watches;
  uint32_t nextGeneration = 1;

  std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timerHeap;
  std::unordered_map<TimerId, TimerCallback> timers;  // live (not cancelled, not run)
  TimerId nextTimer = 1;

  std::mutex postLock;
  std::vector<std::function<void()>> posted;   // guarded by postLock
  std::vector<std::function<void()>> running;  // loop thread only
  std::atomic<bool> hasPosted{false};

  std::atomic<bool> stopRequested{false};
  std::atomic<std::thread::id> owner{std::this_thread::get_id()};

  void wake() {
    uint64_t one = 1;
    // EAGAIN means the counter is already non-zero: the loop is awake anyway.
    [[maybe_unused]] ssize_t n = ::write(wakeFd, &one, sizeof one);
  }

  void drainWake() {
    uint64_t value = 0;
    [[maybe_unused]] ssize_t n = ::read(wakeFd, &value, sizeof value);
  }

  int waitMillis(std::chrono::milliseconds maxWait) {
    if (hasPosted.load(std::memory_order_acquire) || stopRequested.load(std::memory_order_acquire)) return 0;
    auto wait = maxWait;
    // Skip heap entries whose timer was cancelled so that they do not shorten the wait.
    while (!timerHeap.empty() && timers.find(timerHeap.top().id) == timers.end()) timerHeap.pop();
    if (!timerHeap.empty()) {
      auto now = SteadyClock::now();
      auto due = timerHeap.top().due;
      if (due <= now) return 0;
      // Round up so that the timer is due when we wake (no busy spin on sub-ms rests).
      auto untilDue = std::chrono::ceil<std::chrono::milliseconds>(due - now);
      if (untilDue < wait) wait = untilDue;
    }
    if (wait.count() < 0) return -1;
    return wait.count() > 0x7fffffff ? 0x7fffffff : static_cast<int>(wait.count());
  }

  size_t runTimers() {
    size_t invoked = 0;
    auto now = SteadyClock::now();
    while (!timerHeap.empty() && timerHeap.top().due <= now) {
      TimerId id = timerHeap.top().id;
      timerHeap.pop();
      auto it = timers.find(id);
      if (it == timers.end()) continue;  // cancelled
      TimerCallback callback = std::move(it->second);
      timers.erase(it);
      callback();
      ++invoked;
    }
    return invoked;
  }

  size_t runPosted() {
    if (!hasPosted.load(std::memory_order_acquire)) return 0;
    {
      std::lock_guard lock(postLock);
      running.swap(posted);
      hasPosted.store(false, std::memory_order_release);
    }
    size_t invoked = running.size();
    for (auto& fn : running) fn();
    running.clear();
    return invoked;
  }
};

EventLoop::EventLoop() : impl_(std::make_unique<Impl>()) {
  impl_->epollFd = epoll_create1(EPOLL_CLOEXEC);
  if (impl_->epollFd < 0) throw std::system_error(errno, std::system_category(), "epoll_create1");
  impl_->wakeFd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl_->wakeFd < 0) {
    int err = errno;
    ::close(impl_->epollFd);
    throw std::system_error(err, std::system_category(), "eventfd");
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = UINT64_MAX;  // marks the wake fd
  if (epoll_ctl(impl_->epollFd, EPOLL_CTL_ADD, impl_->wakeFd, &ev) < 0) {
    int err = errno;
    ::close(impl_->wakeFd);
    ::close(impl_->epollFd);
    throw std::system_error(err, std::system_category(), "epoll_ctl(eventfd)");
  }
}

EventLoop::~EventLoop() {
  ::close(impl_->wakeFd);
  ::close(impl_->epollFd);
}

Result<void> EventLoop::watch(int fd, Interest interest, IoCallback callback) {
  if (fd < 0) return systemError(EBADF, "watch: bad fd");
  if (impl_->watches.count(fd) != 0) return systemError(EEXIST, "watch: fd already watched");
  auto w = std::make_shared<Impl::Watch>();
  w->fd = fd;
  w->generation = impl_->nextGeneration++;
  w->callback = std::move(callback);
  w->events = toEpoll(interest);
  if (impl_->control(EPOLL_CTL_ADD, *w) < 0) return systemError(errno, "epoll_ctl(ADD)");
  impl_->watches.emplace(fd, std::move(w));
  return {};
}

Result<void> EventLoop::modify(int fd, Interest interest) {
  auto it = impl_->watches.find(fd);
  if (it == impl_->watches.end()) return systemError(ENOENT, "modify: fd not watched");
  Impl::Watch& w = *it->second;
  w.events = toEpoll(interest);
  if (w.paused) return {};  // resume() adds it with the new interest
  if (impl_->control(EPOLL_CTL_MOD, w) < 0) return systemError(errno, "epoll_ctl(MOD)");
  return {};
}

Result<void> EventLoop::pause(int fd) {
  auto it = impl_->watches.find(fd);
  if (it == impl_->watches.end()) return systemError(ENOENT, "pause: fd not watched");
  Impl::Watch& w = *it->second;
  if (w.paused) return {};
  if (impl_->control(EPOLL_CTL_DEL, w) < 0) return systemError(errno, "epoll_ctl(DEL)");
  w.paused = true;
  return {};
}

Result<void> EventLoop::resume(int fd) {
  auto it = impl_->watches.find(fd);
  if (it == impl_->watches.end()) return systemError(ENOENT, "resume: fd not watched");
  Impl::Watch& w = *it->second;
  if (!w.paused) return {};
  if (impl_->control(EPOLL_CTL_ADD, w) < 0) return systemError(errno, "epoll_ctl(ADD)");
  w.paused = false;
  return {};
}

bool EventLoop::paused(int fd) const {
  auto it = impl_->watches.find(fd);
  return it != impl_->watches.end() && it->second->paused;
}

void EventLoop::unwatch(int fd) {
  auto it = impl_->watches.find(fd);
  if (it == impl_->watches.end()) return;
  if (!it->second->paused) epoll_ctl(impl_->epollFd, EPOLL_CTL_DEL, fd, nullptr);
  it->second->fd = -1;  // a running dispatch sees that it was removed
  impl_->watches.erase(it);
}

bool EventLoop::watching(int fd) const { return impl_->watches.count(fd) != 0; }

EventLoop::TimerId EventLoop::addTimer(std::chrono::nanoseconds delay, TimerCallback callback) {
  if (delay.count() < 0) delay = std::chrono::nanoseconds(0);
  TimerId id = impl_->nextTimer++;
  auto due = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(delay);
  impl_->timers.emplace(id, std::move(callback));
  impl_->timerHeap.push({due, id});
  return id;
}

bool EventLoop::cancelTimer(TimerId id) { return impl_->timers.erase(id) != 0; }

size_t EventLoop::pendingTimers() const { return impl_->timers.size(); }

void EventLoop::post(std::function<void()> fn) {
  {
    std::lock_guard lock(impl_->postLock);
    impl_->posted.push_back(std::move(fn));
    impl_->hasPosted.store(true, std::memory_order_release);
  }
  impl_->wake();
}

size_t EventLoop::runOnce(std::chrono::milliseconds maxWait) {
  impl_->owner.store(std::this_thread::get_id(), std::memory_order_relaxed);
  epoll_event events[kMaxEvents];
  int n = epoll_wait(impl_->epollFd, events, kMaxEvents, impl_->waitMillis(maxWait));
  if (n < 0 && errno != EINTR) throw std::system_error(errno, std::system_category(), "epoll_wait");
  size_t invoked = 0;
  for (int i = 0; i < n; ++i) {
    uint64_t data = events[i].data.u64;
    if (data == UINT64_MAX) {
      impl_->drainWake();
      continue;
    }
    int fd = static_cast<int>(static_cast<uint32_t>(data));
    auto generation = static_cast<uint32_t>(data >> 32);
    auto it = impl_->watches.find(fd);
    if (it == impl_->watches.end() || it->second->generation != generation || it->second->paused) continue;
    std::shared_ptr<Impl::Watch> w = it->second;
    Readiness ready;
    uint32_t ev = events[i].events;
    ready.error = (ev & (EPOLLERR | EPOLLHUP)) != 0;
    ready.readable = (ev & EPOLLIN) != 0 || ready.error;
    ready.writable = (ev & EPOLLOUT) != 0;
    w->callback(ready);
    ++invoked;
  }
  invoked += impl_->runTimers();
  invoked += impl_->runPosted();
  return invoked;
}

void EventLoop::run() {
  impl_->owner.store(std::this_thread::get_id(), std::memory_order_relaxed);
  while (!impl_->stopRequested.load(std::memory_order_acquire)) runOnce(std::chrono::hours(1));
}

void EventLoop::stop() {
  impl_->stopRequested.store(true, std::memory_order_release);
  impl_->wake();
}

bool EventLoop::stopped() const { return impl_->stopRequested.load(std::memory_order_acquire); }

bool EventLoop::inLoopThread() const {
  return impl_->owner.load(std::memory_order_relaxed) == std::this_thread::get_id();
}

}  // namespace dnswire::server
