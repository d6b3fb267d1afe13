// bench_loadgen: a UDP DNS load generator for the benchmark harness (test/bench/run).
//
// One socket, sendmmsg/recvmmsg batches, many queries in flight. It reads a dnsperf-style
// query file ("name type" per line), encodes every query once, then replays the list in
// order, wrapping around, for a fixed time. Two modes:
//   saturation (default): keep --inflight queries outstanding, so the server never idles;
//                         prints the answered queries per second.
//   --rate QPS:           open loop at a fixed rate (for latency); prints avg/p50/p99 latency.
// Answers are matched by message ID only (no QR check), so the same generator also drives the
// do-nothing echo server that measures the ceiling. The result is one line of key=value pairs.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr size_t kIdSpace = 65536;
constexpr size_t kBatch = 64;
constexpr size_t kMaxPacket = 512;
constexpr size_t kMaxAnswer = 65536;

struct Options {
  std::string server = "127.0.0.1";
  uint16_t port = 53;
  std::string queryFile;
  double duration = 5.0;
  double rate = 0.0;      // 0 = saturation mode
  size_t inflight = 200;  // saturation window
  double timeout = 0.5;   // seconds before an unanswered query counts as lost
  uint64_t count = 0;     // stop after this many queries (0 = no limit)
  bool edns = false;
  bool rd = true;
};

struct Query {
  std::vector<uint8_t> wire;  // ID bytes are patched at send time
};

struct Slot {
  bool active = false;
  int64_t sentNs = 0;
  uint32_t generation = 0;
};

struct Pending {
  uint16_t id;
  uint32_t generation;
  int64_t sentNs;
};

int64_t nowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "bench_loadgen: %s\n", why.c_str());
  std::exit(2);
}

void usage() {
  std::puts(
      "usage: bench_loadgen -s ADDR -p PORT -d QUERYFILE [-l SECONDS] [--rate QPS]\n"
      "                     [--inflight N] [--timeout SECONDS] [--count N] [--edns] [--no-rd]\n"
      "  -s ADDR          server IPv4 address (default 127.0.0.1)\n"
      "  -p PORT          server UDP port (default 53)\n"
      "  -d FILE          query file, one 'name type' per line (dnsperf format)\n"
      "  -l SECONDS       how long to send (default 5)\n"
      "  --rate QPS       open loop at a fixed rate; latency figures are printed\n"
      "  --inflight N     saturation mode: queries kept outstanding (default 200)\n"
      "  --timeout S      a query unanswered after S seconds is lost (default 0.5)\n"
      "  --count N        stop after N queries (e.g. to send a list exactly once)\n"
      "  --edns           add an OPT record (UDP size 1232)\n"
      "  --no-rd          clear the RD bit (it is set by default, like dnsperf)\n"
      "prints: mode= sent= answered= timeouts= seconds= qps= avg_us= p50_us= p99_us= max_us=\n"
      "        noerror= nxdomain= servfail= refused= other_rcode=");
}

double parseDouble(const char* s, const char* what) {
  char* end = nullptr;
  double v = std::strtod(s, &end);
  if (end == s || *end != '\0' || !(v >= 0)) die(std::string("bad value for ") + what + ": " + s);
  return v;
}

Options parseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&](const char* what) -> const char* {
      if (i + 1 >= argc) die(std::string("missing value for ") + what);
      return argv[++i];
    };
    if (a == "-h" || a == "--help") {
      usage();
      std::exit(0);
    } else if (a == "-s") {
      o.server = value("-s");
    } else if (a == "-p") {
      double p = parseDouble(value("-p"), "-p");
      if (p < 1 || p > 65535) die("port out of range");
      o.port = static_cast<uint16_t>(p);
    } else if (a == "-d") {
      o.queryFile = value("-d");
    } else if (a == "-l") {
      o.duration = parseDouble(value("-l"), "-l");
    } else if (a == "--rate") {
      o.rate = parseDouble(value("--rate"), "--rate");
    } else if (a == "--inflight") {
      o.inflight = static_cast<size_t>(parseDouble(value("--inflight"), "--inflight"));
      if (o.inflight < 1 || o.inflight > 60000) die("--inflight must be 1..60000");
    } else if (a == "--timeout") {
      o.timeout = parseDouble(value("--timeout"), "--timeout");
    } else if (a == "--count") {
      o.count = static_cast<uint64_t>(parseDouble(value("--count"), "--count"));
    } else if (a == "--edns") {
      o.edns = true;
    } else if (a == "--no-rd") {
      o.rd = false;
    } else {
      die("unknown option " + std::string(a));
    }
  }
  if (o.queryFile.empty()) die("-d QUERYFILE is required");
  if (o.timeout <= 0) die("--timeout must be > 0");
  return o;
}

// RFC 1035 §4.1: header, one question; QTYPE from a mnemonic or TYPEnnn (RFC 3597 §5).
std::optional<uint16_t> parseType(std::string t) {
  for (auto& c : t) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  static const std::pair<const char*, uint16_t> kTypes[] = {
      {"A", 1},   {"NS", 2},   {"CNAME", 5}, {"SOA", 6},  {"PTR", 12},
      {"MX", 15}, {"TXT", 16}, {"AAAA", 28}, {"SRV", 33}, {"ANY", 255}};
  for (auto& [name, code] : kTypes)
    if (t == name) return code;
  if (t.rfind("TYPE", 0) == 0 && t.size() > 4) {
    char* end = nullptr;
    long v = std::strtol(t.c_str() + 4, &end, 10);
    if (*end == '\0' && v >= 0 && v <= 65535) return static_cast<uint16_t>(v);
  }
  return std::nullopt;
}

std::optional<Query> encodeQuery(const std::string& name, uint16_t qtype, const Options& o) {
  Query q;
  auto& w = q.wire;
  w = {0, 0, static_cast<uint8_t>(o.rd ? 0x01 : 0x00), 0, 0, 1, 0, 0, 0, 0, 0, static_cast<uint8_t>(o.edns)};
  std::string_view rest = name;
  if (!rest.empty() && rest.back() == '.') rest.remove_suffix(1);
  size_t nameLen = 1;
  while (!rest.empty()) {
    size_t dot = rest.find('.');
    std::string_view label = rest.substr(0, dot);
    if (label.empty() || label.size() > 63) return std::nullopt;
    w.push_back(static_cast<uint8_t>(label.size()));
    w.insert(w.end(), label.begin(), label.end());
    nameLen += label.size() + 1;
    rest = dot == std::string_view::npos ? std::string_view{} : rest.substr(dot + 1);
  }
  if (nameLen > 255) return std::nullopt;
  w.push_back(0);
  w.insert(w.end(), {static_cast<uint8_t>(qtype >> 8), static_cast<uint8_t>(qtype), 0, 1});
  if (o.edns) {
    // RFC 6891 §6.1.2: root owner, TYPE 41, CLASS = UDP payload size, TTL = ext. rcode/flags.
    w.insert(w.end(), {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0});
  }
  return q;
}

std::vector<Query> loadQueries(const Options& o) {
  std::ifstream in(o.queryFile);
  if (!in) die("cannot open " + o.queryFile);
  std::vector<Query> out;
  std::string line;
  size_t lineNo = 0;
  while (std::getline(in, line)) {
    ++lineNo;
    std::istringstream ls(line);
    std::string name, type;
    if (!(ls >> name) || name[0] == '#') continue;
    if (!(ls >> type)) type = "A";
    auto qtype = parseType(type);
    if (!qtype) die(o.queryFile + ":" + std::to_string(lineNo) + ": unknown type " + type);
    auto q = encodeQuery(name, *qtype, o);
    if (!q) die(o.queryFile + ":" + std::to_string(lineNo) + ": bad name " + name);
    if (q->wire.size() > kMaxPacket) die("query too long");
    out.push_back(std::move(*q));
  }
  if (out.empty()) die(o.queryFile + ": no queries");
  return out;
}

class Generator {
 public:
  Generator(const Options& o, std::vector<Query> queries) : o_(o), queries_(std::move(queries)) {
    for (size_t id = 0; id < kIdSpace; ++id) freeIds_.push_back(static_cast<uint16_t>(id));
    slots_.resize(kIdSpace);
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd_ < 0) die(std::string("socket: ") + std::strerror(errno));
    // Large buffers so that the generator's own socket never drops answers; the FORCE variants
    // pass net.core.rmem_max when run as root, the plain ones are the fallback.
    int buf = 8 << 20;
    if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0)
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    if (setsockopt(fd_, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf) != 0)
      setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(o.port);
    if (inet_pton(AF_INET, o.server.c_str(), &sa.sin_addr) != 1) die("bad server address " + o.server);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
      die(std::string("connect: ") + std::strerror(errno));
    sendBufs_.resize(kBatch * kMaxPacket);
    recvBufs_.resize(kBatch * kMaxAnswer);
    if (o.rate > 0) latenciesNs_.reserve(static_cast<size_t>(o.rate * o.duration * 1.1) + 16);
  }
  ~Generator() { close(fd_); }

  void run() {
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);  // sub-millisecond waits in rate mode
    const int64_t start = nowNs();
    const int64_t stopSending = start + static_cast<int64_t>(o_.duration * 1e9);
    const int64_t timeoutNs = static_cast<int64_t>(o_.timeout * 1e9);
    int64_t sendEnd = stopSending;
    bool sending = true;
    while (true) {
      int64_t now = nowNs();
      if (sending && (now >= stopSending || (o_.count && sent_ >= o_.count))) {
        sending = false;
        sendEnd = std::min(now, stopSending);
      }
      if (!sending && outstanding_ == 0) break;
      if (!sending && now > sendEnd + timeoutNs + 50'000'000) break;  // safety net
      expire(now, timeoutNs);
      if (sending) {
        size_t want;
        if (o_.rate > 0) {
          auto due = static_cast<uint64_t>(o_.rate * static_cast<double>(now - start) / 1e9);
          want = due > sent_ ? static_cast<size_t>(due - sent_) : 0;
          // Cap the burst after a stall so that one late wake-up does not flood the server.
          want = std::min<size_t>(want, std::max<size_t>(kBatch, static_cast<size_t>(o_.rate / 1000)));
        } else {
          want = o_.inflight > outstanding_ ? o_.inflight - outstanding_ : 0;
        }
        if (o_.count) want = std::min<uint64_t>(want, o_.count - sent_);
        while (want > 0) {
          size_t n = sendBatch(std::min(want, kBatch));
          if (n == 0) break;
          want -= n;
        }
      }
      // Wait for answers; in rate mode no longer than until the next query is due.
      int64_t waitNs = 10'000'000;
      if (sending && o_.rate > 0) {
        int64_t nextDue = start + static_cast<int64_t>(static_cast<double>(sent_ + 1) * 1e9 / o_.rate);
        waitNs = std::clamp<int64_t>(nextDue - nowNs(), 0, 10'000'000);
      }
      pollfd pfd{fd_, POLLIN, 0};
      timespec ts{waitNs / 1'000'000'000, waitNs % 1'000'000'000};
      if (ppoll(&pfd, 1, &ts, nullptr) > 0) receiveAll();
    }
    // Whatever is still outstanding now is lost.
    timeouts_ += outstanding_;
    seconds_ = static_cast<double>(sendEnd - start) / 1e9;
  }

  void report() const {
    std::vector<int64_t> lat = latenciesNs_;
    double avgUs = 0, p50Us = 0, p99Us = 0, maxUs = 0;
    if (!lat.empty()) {
      long double sum = 0;
      for (auto v : lat) sum += v;
      avgUs = static_cast<double>(sum / lat.size()) / 1e3;
      auto pct = [&](double p) {
        size_t k = std::min(lat.size() - 1, static_cast<size_t>(p * static_cast<double>(lat.size())));
        std::nth_element(lat.begin(), lat.begin() + static_cast<long>(k), lat.end());
        return static_cast<double>(lat[k]) / 1e3;
      };
      p50Us = pct(0.50);
      p99Us = pct(0.99);
      maxUs = static_cast<double>(*std::max_element(lat.begin(), lat.end())) / 1e3;
    }
    double qps = seconds_ > 0 ? static_cast<double>(answered_) / seconds_ : 0;
    uint64_t other = answered_;
    for (int r : {0, 2, 3, 5}) other -= rcodes_[r];
    std::printf("mode=%s sent=%" PRIu64 " answered=%" PRIu64 " timeouts=%" PRIu64
                " seconds=%.3f qps=%.0f avg_us=%.1f p50_us=%.1f p99_us=%.1f max_us=%.1f noerror=%" PRIu64
                " nxdomain=%" PRIu64 " servfail=%" PRIu64 " refused=%" PRIu64 " other_rcode=%" PRIu64 "\n",
                o_.rate > 0 ? "rate" : "saturation", sent_, answered_, timeouts_, seconds_, qps, avgUs, p50Us,
                p99Us, maxUs, rcodes_[0], rcodes_[3], rcodes_[2], rcodes_[5], other);
  }

 private:
  size_t sendBatch(size_t n) {
    if (freeIds_.size() < n) n = freeIds_.size();
    if (n == 0) return 0;
    std::array<mmsghdr, kBatch> msgs{};
    std::array<iovec, kBatch> iov{};
    std::array<uint16_t, kBatch> ids{};
    for (size_t i = 0; i < n; ++i) {
      const Query& q = queries_[(next_ + i) % queries_.size()];
      uint8_t* buf = &sendBufs_[i * kMaxPacket];
      std::memcpy(buf, q.wire.data(), q.wire.size());
      ids[i] = freeIds_[i];
      buf[0] = static_cast<uint8_t>(ids[i] >> 8);
      buf[1] = static_cast<uint8_t>(ids[i]);
      iov[i] = {buf, q.wire.size()};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int sentNow = sendmmsg(fd_, msgs.data(), static_cast<unsigned>(n), 0);
    if (sentNow <= 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS && errno != ECONNREFUSED)
        die(std::string("sendmmsg: ") + std::strerror(errno));
      return 0;
    }
    const int64_t t = nowNs();
    for (int i = 0; i < sentNow; ++i) {
      uint16_t id = ids[static_cast<size_t>(i)];
      freeIds_.pop_front();
      Slot& s = slots_[id];
      s.active = true;
      s.sentNs = t;
      ++s.generation;
      pending_.push_back({id, s.generation, t});
    }
    outstanding_ += static_cast<size_t>(sentNow);
    sent_ += static_cast<uint64_t>(sentNow);
    next_ = (next_ + static_cast<size_t>(sentNow)) % queries_.size();
    return static_cast<size_t>(sentNow);
  }

  void receiveAll() {
    std::array<mmsghdr, kBatch> msgs{};
    std::array<iovec, kBatch> iov{};
    while (true) {
      for (size_t i = 0; i < kBatch; ++i) {
        iov[i] = {&recvBufs_[i * kMaxAnswer], kMaxAnswer};
        msgs[i].msg_hdr = {};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
      int n = recvmmsg(fd_, msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
      if (n <= 0) return;  // EAGAIN, or ECONNREFUSED when nothing listens (counted as loss)
      const int64_t t = nowNs();
      for (int i = 0; i < n; ++i) {
        if (msgs[static_cast<size_t>(i)].msg_len < 12) continue;
        const uint8_t* b = &recvBufs_[static_cast<size_t>(i) * kMaxAnswer];
        uint16_t id = static_cast<uint16_t>(b[0] << 8 | b[1]);
        Slot& s = slots_[id];
        if (!s.active) continue;  // late answer to a query already counted as lost
        s.active = false;
        --outstanding_;
        ++answered_;
        ++rcodes_[b[3] & 0x0f];
        freeIds_.push_back(id);
        if (o_.rate > 0) latenciesNs_.push_back(t - s.sentNs);
      }
      if (static_cast<size_t>(n) < kBatch) return;
    }
  }

  // Queries are sent in time order, so the oldest outstanding one is at the front.
  void expire(int64_t now, int64_t timeoutNs) {
    while (!pending_.empty()) {
      const Pending& p = pending_.front();
      Slot& s = slots_[p.id];
      if (!s.active || s.generation != p.generation) {
        pending_.pop_front();
        continue;
      }
      if (now - p.sentNs < timeoutNs) break;
      s.active = false;
      --outstanding_;
      ++timeouts_;
      freeIds_.push_back(p.id);
      pending_.pop_front();
    }
  }

  const Options& o_;
  std::vector<Query> queries_;
  int fd_ = -1;
  std::vector<uint8_t> sendBufs_;
  std::vector<uint8_t> recvBufs_;
  std::deque<uint16_t> freeIds_;  // FIFO: an ID is reused as late as possible
  std::vector<Slot> slots_;
  std::deque<Pending> pending_;
  std::vector<int64_t> latenciesNs_;
  size_t next_ = 0;
  size_t outstanding_ = 0;
  uint64_t sent_ = 0;
  uint64_t answered_ = 0;
  uint64_t timeouts_ = 0;
  std::array<uint64_t, 16> rcodes_{};
  double seconds_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Options o = parseOptions(argc, argv);
  Generator g(o, loadQueries(o));
  g.run();
  g.report();
  return 0;
}
