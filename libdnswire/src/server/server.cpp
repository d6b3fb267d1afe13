#include "dnswire/server/server.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

#include "dnswire/server/log.hpp"
#include "sockets.hpp"
#include "worker.hpp"

namespace dnswire::server {

using detail::ListenSockets;
using detail::UniqueFd;
using detail::Worker;

namespace {

constexpr int kListenBacklog = 1024;
constexpr int kPortAttempts = 16;

Error startError(std::string text) {
  return Error(std::make_error_code(std::errc::invalid_argument), std::move(text));
}

}  // namespace

void blockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

struct Server::Impl {
  ServerOptions options;
  PipelineFactory factory;

  std::mutex lock;
  std::condition_variable changed;
  std::vector<std::unique_ptr<Worker>> workers;  // guarded by lock until joined
  size_t ready = 0;
  std::string failure;  // first worker failure at start-up
  bool stopRequested = false;
  bool workerDied = false;
  std::vector<std::thread> threads;

  UniqueFd stopFd;
  bool started = false;
  bool joined = false;

  void requestStop() {
    std::lock_guard guard(lock);
    stopRequested = true;
    for (auto& w : workers) {
      if (w) w->stop();
    }
    if (stopFd) {
      uint64_t one = 1;
      [[maybe_unused]] ssize_t n = ::write(stopFd.get(), &one, sizeof one);
    }
  }

  void join() {
    for (auto& t : threads) {
      if (t.joinable()) t.join();
    }
    threads.clear();
    std::lock_guard guard(lock);
    workers.clear();  // destroyed here, on the joining thread, after their loops ended
    joined = true;
  }

  void workerMain(size_t index, std::vector<ListenSockets> sockets) {
    std::unique_ptr<Worker> worker;
    try {
      worker = std::make_unique<Worker>(index, options, std::move(sockets));
      worker->start(factory);
    } catch (const std::exception& e) {
      std::lock_guard guard(lock);
      if (failure.empty()) failure = std::string("cannot build pipeline: ") + e.what();
      ++ready;
      changed.notify_all();
      return;
    }
    Worker* raw = worker.get();
    {
      std::lock_guard guard(lock);
      workers[index] = std::move(worker);
      ++ready;
      if (stopRequested) raw->stop();
      changed.notify_all();
    }
    try {
      raw->run();
    } catch (const std::exception& e) {
      // Exceptions are for programmer errors: a worker whose loop died would leave its
      // share of the SO_REUSEPORT traffic unanswered, so the whole server stops.
      logError("worker {} failed: {}", index, e.what());
      {
        std::lock_guard guard(lock);
        workerDied = true;
      }
      requestStop();
    }
  }
};

Server::Server(ServerOptions options, PipelineFactory factory) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->factory = std::move(factory);
}

Server::~Server() {
  if (impl_->started && !impl_->joined) {
    impl_->requestStop();
    impl_->join();
  }
}

Result<void> Server::start() {
  Impl& im = *impl_;
  if (im.started) return startError("server already started");
  if (im.options.listen.empty()) return startError("no listen address");
  if (im.options.threads == 0) im.options.threads = 1;
  if (!im.factory) return startError("no pipeline factory");
  size_t threads = im.options.threads;

  // Before any thread exists, so that every worker inherits the mask: the signals are
  // taken synchronously by run() through a signalfd.
  if (im.options.handleSignals) blockTerminationSignals();
  {
    // A peer that resets a TCP connection must never kill the process (sends also use
    // MSG_NOSIGNAL; this covers everything else).
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  }

  im.stopFd = UniqueFd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!im.stopFd) return startError(std::string("eventfd: ") + std::strerror(errno));

  // sockets[worker][address]
  std::vector<std::vector<ListenSockets>> sockets(threads);
  bound_.clear();
  for (const SocketAddress& requested : im.options.listen) {
    std::optional<Error> lastError;
    bool done = false;
    for (int attempt = 0; attempt < kPortAttempts && !done; ++attempt) {
      // Exclusivity first: a plain bind (no SO_REUSEPORT) fails when another process
      // listens there, which SO_REUSEPORT alone would silently allow.
      SocketAddress actual;
      {
        auto probe = detail::probeTcpBind(requested, actual);
        if (!probe) return probe.error();
      }
      std::vector<ListenSockets> perWorker;
      for (size_t w = 0; w < threads; ++w) {
        auto udp = detail::openUdpSocket(actual, im.options.socketBufferBytes);
        if (!udp) {
          lastError = udp.error();
          break;
        }
        auto tcp = detail::openTcpListener(actual, true, kListenBacklog);
        if (!tcp) {
          lastError = tcp.error();
          break;
        }
        perWorker.push_back(ListenSockets{actual, std::move(*udp), std::move(*tcp)});
      }
      if (perWorker.size() == threads) {
        for (size_t w = 0; w < threads; ++w) sockets[w].push_back(std::move(perWorker[w]));
        bound_.push_back(actual);
        done = true;
      } else if (requested.port() != 0) {
        break;  // a fixed port: report it
      }
      // Port 0: the kernel's TCP choice was taken for UDP by someone else; try another.
    }
    if (!done) return lastError ? *lastError : detail::bindError(requested, EADDRINUSE);
  }

  im.workers.resize(threads);
  im.started = true;
  for (size_t w = 0; w < threads; ++w) {
    im.threads.emplace_back(&Impl::workerMain, &im, w, std::move(sockets[w]));
  }
  std::string failure;
  {
    std::unique_lock guard(im.lock);
    im.changed.wait(guard, [&] { return im.ready == threads; });
    failure = im.failure;
  }
  if (!failure.empty()) {
    im.requestStop();
    im.join();
    return startError(failure);
  }
  for (const auto& address : bound_) {
    logInfo("listening on {} (UDP and TCP, {} worker thread{})", address.toString(), threads,
            threads == 1 ? "" : "s");
  }
  return {};
}

int Server::run() {
  Impl& im = *impl_;
  if (!im.started || im.joined) return 0;
  UniqueFd signalFd;
  if (im.options.handleSignals) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    signalFd = UniqueFd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!signalFd) logWarning("signalfd: {}; SIGTERM/SIGINT will not stop the server", std::strerror(errno));
  }
  int result = 0;
  for (;;) {
    pollfd fds[2] = {{im.stopFd.get(), POLLIN, 0}, {signalFd.get(), POLLIN, 0}};
    int n = ::poll(fds, signalFd ? 2 : 1, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      logError("poll: {}", std::strerror(errno));
      break;
    }
    if (signalFd && (fds[1].revents & POLLIN) != 0) {
      signalfd_siginfo info{};
      if (::read(signalFd.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        result = static_cast<int>(info.ssi_signo);
        logInfo("received {}, stopping", result == SIGTERM  ? "SIGTERM"
                                         : result == SIGINT ? "SIGINT"
                                                            : "a signal");
        break;
      }
    }
    if ((fds[0].revents & POLLIN) != 0) break;
  }
  im.requestStop();
  im.join();
  {
    std::lock_guard guard(im.lock);
    if (im.workerDied) result = -1;
  }
  return result;
}

void Server::stop() {
  if (impl_->started) impl_->requestStop();
}

}  // namespace dnswire::server
