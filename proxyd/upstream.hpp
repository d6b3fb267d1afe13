#pragma once
// Queries to other DNS servers (centrald, recursive upstreams) through c-ares, driven by
// one worker's EventLoop: c-ares tells us which sockets to watch (ARES_OPT_SOCK_STATE_CB)
// and when its next timeout is due (ares_timeout), and we call ares_process_fd back.
// ares.h stays in upstream.cpp (pimpl): nothing else sees c-ares types.
//
// What c-ares gives us (1.18): a random ID per query written over ours, replies whose ID
// or question does not match the query ignored (same_questions()), per-server timeouts
// and retries over several servers, and a retry over TCP when a UDP reply has TC set.
// ARES_FLAG_NOCHECKRESP is set so that REFUSED and SERVFAIL replies reach us instead of
// being treated as a server failure: proxyd learns from REFUSED (routing.hpp).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <system_error>
#include <type_traits>
#include <vector>

#include "dnswire/server/address.hpp"
#include "dnswire/server/event_loop.hpp"

namespace proxyd {

enum class UpstreamError {
  Ok = 0,
  Timeout,            // no usable reply within timeout x tries on every server
  ConnectionRefused,  // every server refused (ICMP port unreachable, TCP RST)
  BadResponse,        // a reply came but could not be used (c-ares EBADRESP)
  Cancelled,          // the Upstream was destroyed before a reply came
  NoServers,          // no server configured
  Other,              // any other c-ares status (its text is not kept)
};

const std::error_category& upstreamCategory() noexcept;
std::error_code make_error_code(UpstreamError e) noexcept;

}  // namespace proxyd

template <>
struct std::is_error_code_enum<proxyd::UpstreamError> : std::true_type {};

namespace proxyd {

struct UpstreamOptions {
  std::vector<dnswire::server::SocketAddress> servers;  // tried in order
  std::chrono::milliseconds timeout{400};               // per try (c-ares doubles it per round)
  int tries = 2;                                        // rounds over the server list
};

class Upstream {
 public:
  // Called exactly once per send(), on the loop's thread: the reply bytes (valid only
  // during the call) when `error` is clear, else an empty span. May run synchronously
  // inside send() (no servers) or inside the destructor (Cancelled).
  using Callback = std::function<void(std::error_code error, std::span<const uint8_t> reply)>;

  // Throws std::runtime_error when c-ares cannot be initialised (a startup error).
  Upstream(dnswire::server::EventLoop& loop, UpstreamOptions options);
  ~Upstream();
  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;

  // Sends `query` (a complete DNS message; its ID is replaced by a random one).
  void send(std::span<const uint8_t> query, Callback callback);
  bool hasServers() const;
  size_t inFlight() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace proxyd
