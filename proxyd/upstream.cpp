#include "proxyd/upstream.hpp"

#include <ares.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace proxyd {

namespace {

class UpstreamCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "upstream"; }
  std::string message(int code) const override {
    switch (static_cast<UpstreamError>(code)) {
      case UpstreamError::Ok:
        return "ok";
      case UpstreamError::Timeout:
        return "upstream timed out";
      case UpstreamError::ConnectionRefused:
        return "upstream refused the connection";
      case UpstreamError::BadResponse:
        return "bad response from upstream";
      case UpstreamError::Cancelled:
        return "upstream query cancelled";
      case UpstreamError::NoServers:
        return "no upstream server configured";
      case UpstreamError::Other:
        return "upstream query failed";
    }
    return "unknown upstream error";
  }
};

UpstreamError fromAresStatus(int status) {
  switch (status) {
    case ARES_SUCCESS:
      return UpstreamError::Ok;
    case ARES_ETIMEOUT:
      return UpstreamError::Timeout;
    case ARES_ECONNREFUSED:
      return UpstreamError::ConnectionRefused;
    case ARES_EBADRESP:
      return UpstreamError::BadResponse;
    case ARES_EDESTRUCTION:
    case ARES_ECANCELLED:
      return UpstreamError::Cancelled;
    case ARES_ESERVFAIL:  // what 1.18 reports when it has no server to send to
      return UpstreamError::NoServers;
    default:
      return UpstreamError::Other;
  }
}

std::once_flag aresInitOnce;

constexpr std::chrono::milliseconds kMinTimerDelay{5};

// c-ares takes "host:port" for v4 and "[v6]:port" for v6: SocketAddress::toString() form.
std::string serverCsv(const std::vector<dnswire::server::SocketAddress>& servers) {
  std::string csv;
  for (const auto& server : servers) {
    if (!csv.empty()) csv += ',';
    csv += server.toString();
  }
  return csv;
}

}  // namespace

const std::error_category& upstreamCategory() noexcept {
  static const UpstreamCategory category;
  return category;
}

std::error_code make_error_code(UpstreamError e) noexcept {
  return {static_cast<int>(e), upstreamCategory()};
}

struct Upstream::Impl {
  dnswire::server::EventLoop& loop;
  UpstreamOptions options;
  ares_channel channel = nullptr;
  dnswire::server::EventLoop::TimerId timer = dnswire::server::EventLoop::kNoTimer;
  std::unordered_map<int, dnswire::server::Interest> watched;
  size_t inFlight = 0;
  bool destroying = false;

  struct Request {
    Impl* impl;
    Callback callback;
  };

  Impl(dnswire::server::EventLoop& l, UpstreamOptions o) : loop(l), options(std::move(o)) {
    std::call_once(aresInitOnce, [] { ares_library_init(ARES_LIB_INIT_ALL); });
    ares_options opts{};
    int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB |
               ARES_OPT_LOOKUPS | ARES_OPT_DOMAINS | ARES_OPT_NDOTS;
    // NOCHECKRESP: hand REFUSED/SERVFAIL replies to us. NOSEARCH/NOALIASES: we send whole
    // queries with ares_send, never names to expand.
    opts.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
    opts.timeout = static_cast<int>(options.timeout.count());
    opts.tries = options.tries;
    opts.sock_state_cb = &Impl::sockStateCallback;
    opts.sock_state_cb_data = this;
    char lookups[] = "b";
    opts.lookups = lookups;
    opts.domains = nullptr;
    opts.ndomains = 0;
    opts.ndots = 1;
    const int status = ares_init_options(&channel, &opts, mask);
    if (status != ARES_SUCCESS)
      throw std::runtime_error(std::string("c-ares init: ") + ares_strerror(status));
    const std::string csv = serverCsv(options.servers);
    // An empty list leaves c-ares without servers: sends then fail at once (NoServers).
    const int set =
        csv.empty() ? ares_set_servers(channel, nullptr) : ares_set_servers_ports_csv(channel, csv.c_str());
    if (set != ARES_SUCCESS) {
      ares_destroy(channel);
      throw std::runtime_error(std::string("c-ares servers '") + csv + "': " + ares_strerror(set));
    }
  }

  ~Impl() {
    destroying = true;
    if (timer != dnswire::server::EventLoop::kNoTimer) loop.cancelTimer(timer);
    ares_destroy(channel);  // pending callbacks run now with ARES_EDESTRUCTION
    for (const auto& [fd, interest] : watched) loop.unwatch(fd);
  }

  static void sockStateCallback(void* data, ares_socket_t fd, int readable, int writable) {
    auto* self = static_cast<Impl*>(data);
    if (!readable && !writable) {
      self->loop.unwatch(fd);
      self->watched.erase(fd);
      return;
    }
    if (self->destroying) return;
    dnswire::server::Interest interest{readable != 0, writable != 0};
    if (self->watched.count(fd) != 0) {
      (void)self->loop.modify(fd, interest);
    } else {
      auto watchedOk = self->loop.watch(fd, interest, [self, fd](dnswire::server::Readiness ready) {
        self->process(ready.readable ? fd : ARES_SOCKET_BAD, ready.writable ? fd : ARES_SOCKET_BAD);
      });
      if (!watchedOk) return;  // c-ares then times the query out
    }
    self->watched[fd] = interest;
  }

  void process(ares_socket_t readFd, ares_socket_t writeFd) { ares_process_fd(channel, readFd, writeFd); }

  // One timer at c-ares's next deadline (retransmission or timeout). c-ares 1.18's
  // ares_timeout() walks every query in flight, so it is asked only when no timer is
  // armed and when the timer fires, not after every packet (which made the miss path
  // quadratic: at 6,000 misses/s proxyd fell seconds behind). Skipping it on a send is
  // exact: every query has the same timeout, so a new one is never due before the armed
  // timer; an answer only removes deadlines, and an early wake-up just asks again.
  void armTimer() {
    if (destroying || inFlight == 0 || timer != dnswire::server::EventLoop::kNoTimer) return;
    timeval tv{};
    if (ares_timeout(channel, nullptr, &tv) == nullptr) return;
    // At least kMinTimerDelay apart, so that queries sent a little apart cost one walk
    // of the list per few milliseconds, not one each.
    const auto delay = std::max<std::chrono::nanoseconds>(
        std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec), kMinTimerDelay);
    timer = loop.addTimer(delay, [this] {
      timer = dnswire::server::EventLoop::kNoTimer;
      process(ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      armTimer();
    });
  }

  static void done(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
    auto* request = static_cast<Request*>(arg);
    Impl* self = request->impl;
    Callback callback = std::move(request->callback);
    delete request;
    --self->inFlight;
    const UpstreamError error = fromAresStatus(status);
    if (error == UpstreamError::Ok && abuf != nullptr && alen > 0)
      callback({}, std::span<const uint8_t>(abuf, static_cast<size_t>(alen)));
    else
      callback(make_error_code(error == UpstreamError::Ok ? UpstreamError::BadResponse : error), {});
  }
};

Upstream::Upstream(dnswire::server::EventLoop& loop, UpstreamOptions options)
    : impl_(std::make_unique<Impl>(loop, std::move(options))) {}

Upstream::~Upstream() = default;

void Upstream::send(std::span<const uint8_t> query, Callback callback) {
  if (impl_->options.servers.empty()) {
    callback(make_error_code(UpstreamError::NoServers), {});
    return;
  }
  ++impl_->inFlight;
  auto* request = new Impl::Request{impl_.get(), std::move(callback)};
  ares_send(impl_->channel, query.data(), static_cast<int>(query.size()), &Impl::done, request);
  impl_->armTimer();
}

bool Upstream::hasServers() const { return !impl_->options.servers.empty(); }
size_t Upstream::inFlight() const { return impl_->inFlight; }

}  // namespace proxyd
