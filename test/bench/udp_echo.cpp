// bench_udp_echo: a do-nothing UDP server that sends every datagram back unchanged.
//
// The benchmark runs it on the server CPU under bench_loadgen to measure the ceiling: what the
// kernel's UDP path and the generator allow on this machine when the server does no DNS work.
// It uses the same recvmmsg/sendmmsg batching and socket options our daemons use.
// SIGTERM/SIGINT stop it (exit 0).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr size_t kBatch = 128;  // as ServerOptions::udpBatch
constexpr size_t kMaxDatagram = 65536;

volatile std::sig_atomic_t gStop = 0;

void onSignal(int) { gStop = 1; }

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "bench_udp_echo: %s\n", why.c_str());
  std::exit(2);
}

// ADDR:PORT, IPv4 only: the benchmark runs on 127.0.0.0/8.
sockaddr_in parseListen(std::string_view s) {
  auto colon = s.rfind(':');
  if (colon == std::string_view::npos) die("--listen wants ADDR:PORT");
  std::string addr(s.substr(0, colon));
  std::string port(s.substr(colon + 1));
  char* end = nullptr;
  long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p < 1 || p > 65535) die("bad port in " + std::string(s));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(p));
  if (inet_pton(AF_INET, addr.c_str(), &sa.sin_addr) != 1) die("bad address in " + std::string(s));
  return sa;
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:5399";
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-h" || a == "--help") {
      std::puts("usage: bench_udp_echo [--listen ADDR:PORT]   (default 127.0.0.1:5399)");
      return 0;
    } else if (a == "--listen" && i + 1 < argc) {
      listen = argv[++i];
    } else {
      die("unknown option or missing value: " + std::string(a));
    }
  }
  sockaddr_in sa = parseListen(listen);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) die(std::string("socket: ") + std::strerror(errno));
  // As our daemons' UDP sockets (sockets.cpp): DF set, no path MTU discovery, which also
  // spares the kernel an IP ID per datagram.
  int probe = IP_PMTUDISC_PROBE;
  setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe, sizeof probe);
  int buf = 4 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
    die("bind " + listen + ": " + std::strerror(errno));

  struct sigaction act {};
  act.sa_handler = onSignal;  // no SA_RESTART: a signal interrupts the blocking poll
  sigaction(SIGTERM, &act, nullptr);
  sigaction(SIGINT, &act, nullptr);
  std::fprintf(stderr, "bench_udp_echo: listening on %s\n", listen.c_str());

  std::vector<uint8_t> bufs(kBatch * kMaxDatagram);
  std::array<mmsghdr, kBatch> msgs{};
  std::array<iovec, kBatch> iov{};
  std::array<sockaddr_in, kBatch> peers{};
  while (!gStop) {
    for (size_t i = 0; i < kBatch; ++i) {
      iov[i] = {&bufs[i * kMaxDatagram], kMaxDatagram};
      msgs[i].msg_hdr = {};
      msgs[i].msg_hdr.msg_name = &peers[i];
      msgs[i].msg_hdr.msg_namelen = sizeof peers[i];
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd, msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) {
      // Idle: sleep until a datagram arrives (or a second passes, to notice a signal).
      pollfd pfd{fd, POLLIN, 0};
      poll(&pfd, 1, 1000);
      continue;
    }
    for (int i = 0; i < n; ++i) iov[static_cast<size_t>(i)].iov_len = msgs[static_cast<size_t>(i)].msg_len;
    int done = 0;
    while (done < n) {
      int s = sendmmsg(fd, msgs.data() + done, static_cast<unsigned>(n - done), 0);
      if (s <= 0) break;  // drop the rest, as a busy server would
      done += s;
    }
  }
  close(fd);
  return 0;
}
