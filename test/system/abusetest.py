"""Helpers for the abuse and fault tests: floods of random and mutated packets over UDP
and TCP, connections that stall, and checks that a daemon is still alive and correct.
Everything stays on loopback and every loop is bounded in packets and in time."""

import os
import random
import select
import socket
import struct
import threading
import time

import dns.exception
import dns.message
import dns.rcode

import dnstest

# Flags word bits (RFC 1035 §4.1.1).
QR = 0x8000
Z = 0x0040


def seed_queries(names, rdtypes=("A", "AAAA", "MX", "TXT", "SOA", "NS", "ANY", "CNAME", "SRV", "PTR")):
    """Valid queries to mutate: every name with several types, with and without EDNS,
    and one truncated just after its question."""
    out = []
    for i, name in enumerate(names):
        for j, rdtype in enumerate(rdtypes):
            q = dns.message.make_query(name, rdtype)
            if (i + j) % 3 == 0:
                q.use_edns(0, payload=1232 if j % 2 else 4096, ednsflags=0x8000 if j % 4 == 0 else 0)
            out.append(q.to_wire())
    return out


def mutate(rng, packet):
    """One random mutation of `packet`: flipped bits, overwritten bytes, lying counts,
    truncation, junk appended, a compression pointer planted, or a chunk duplicated."""
    p = bytearray(packet)
    kind = rng.randrange(9)
    if kind == 0:
        for _ in range(rng.randrange(1, 8)):
            i = rng.randrange(len(p))
            p[i] ^= 1 << rng.randrange(8)
    elif kind == 1:
        for _ in range(rng.randrange(1, 6)):
            p[rng.randrange(len(p))] = rng.randrange(256)
    elif kind == 2 and len(p) >= 12:
        i = 4 + 2 * rng.randrange(4)
        p[i:i + 2] = struct.pack("!H", rng.choice([0, 1, 2, 3, 0x7F, 0xFF, 0xFFFF, rng.randrange(65536)]))
    elif kind == 3:
        del p[rng.randrange(len(p)):]
    elif kind == 4:
        p += rng.randbytes(rng.randrange(1, 64))
    elif kind == 5 and len(p) > 14:
        i = rng.randrange(12, len(p) - 1)
        p[i:i + 2] = struct.pack("!H", 0xC000 | rng.randrange(0, len(p) + 8))
    elif kind == 6 and len(p) > 13:
        i = rng.randrange(12, len(p))
        j = rng.randrange(i, min(len(p), i + 40) + 1)
        p[j:j] = p[i:j] * rng.randrange(1, 4)
    elif kind == 7 and len(p) >= 4:
        p[2] = rng.randrange(256)  # opcode, QR, AA, TC, RD
        p[3] = rng.randrange(256)  # RA, Z, AD, CD, rcode
    else:
        p = bytearray(rng.randbytes(rng.randrange(0, 600)))
    return bytes(p)


def packets(seeds, count, rng):
    """`count` packets: a quarter pure random, the rest mutations of the seeds (some
    mutated twice)."""
    out = []
    for i in range(count):
        if i % 4 == 0:
            out.append(rng.randbytes(rng.randrange(0, 300)))
        else:
            p = mutate(rng, rng.choice(seeds))
            if i % 7 == 0:
                p = mutate(rng, p) if p else p
            out.append(p)
    return out


def with_fresh_ids(pool, count, rng):
    """`count` packets cycling through `pool` with a new random ID on each packet of two
    bytes or more: mutating in Python costs far more than sending, so a flood reuses
    its mutations under different IDs."""
    out = []
    n = len(pool)
    for i in range(count):
        p = pool[i % n]
        out.append(rng.randbytes(2) + p[2:] if len(p) >= 2 else p)
    return out


class ReplyStats:
    """What came back during a flood: counts and every reply header that broke a rule."""

    def __init__(self):
        self.replies = 0
        self.bad = []

    def check(self, data, limit):
        self.replies += 1
        if len(data) < 12:
            self.bad.append(("short reply", data))
            return
        flags = struct.unpack("!H", data[2:4])[0]
        if not flags & QR:
            self.bad.append(("QR clear", data))
        elif flags & Z:
            self.bad.append(("Z set", data))
        elif len(data) > limit:
            self.bad.append((f"reply of {len(data)} octets over {limit}", data))


def udp_flood(host, port, payloads, *, max_seconds=10.0, reply_limit=1232):
    """Sends every payload over UDP from one socket as fast as the loop goes, draining and
    checking replies as they come. Returns (sent, ReplyStats)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.setblocking(False)
    stats = ReplyStats()
    sent = 0
    deadline = time.monotonic() + max_seconds

    def drain():
        while True:
            try:
                data = s.recv(65535)
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionRefusedError:
                continue
            stats.check(data, reply_limit)

    try:
        for i, payload in enumerate(payloads):
            try:
                s.sendto(payload, (host, port))
                sent += 1
            except (BlockingIOError, ConnectionRefusedError):
                select.select([], [s], [], 0.01)
            if i % 256 == 0:
                drain()
                if time.monotonic() > deadline:
                    break
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            select.select([s], [], [], 0.05)
            drain()
    finally:
        s.close()
    return sent, stats


def tcp_flood(host, port, frames, *, connections=10, max_seconds=10.0):
    """Sends `frames` (raw messages, length-framed here) spread over `connections` TCP
    connections, each written by its own thread while this one reads. Returns
    (frames sent, ReplyStats)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    stats = ReplyStats()
    lock = threading.Lock()
    deadline = time.monotonic() + max_seconds
    shares = [frames[i::connections] for i in range(connections)]
    sent = [0]

    def one(share):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            s.connect((host, port))
            blob = b"".join(struct.pack("!H", len(f)) + f for f in share)
            writer = threading.Thread(target=_send_quietly, args=(s, blob), daemon=True)
            writer.start()
            buf = b""
            s.settimeout(1.0)
            while time.monotonic() < deadline:
                try:
                    chunk = s.recv(65535)
                except (socket.timeout, OSError):
                    break
                if not chunk:
                    break
                buf += chunk
                while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
                    n = struct.unpack("!H", buf[:2])[0]
                    with lock:
                        stats.check(buf[2:2 + n], 65535)
                    buf = buf[2 + n:]
            writer.join(timeout=1.0)
            with lock:
                sent[0] += len(share)
        except OSError:
            pass
        finally:
            s.close()

    threads = [threading.Thread(target=one, args=(share,), daemon=True) for share in shares]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max_seconds + 3)
    return sent[0], stats


def _send_quietly(s, blob):
    try:
        s.sendall(blob)
    except OSError:
        pass


def open_connections(host, port, count, *, send=b""):
    """Opens `count` TCP connections, each sending `send` (b"" for none, b"\\x00" for half a
    length prefix) and then nothing. Connections the server refuses or closes are kept
    too (the caller counts what is still open). Returns the sockets."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    out = []
    for _ in range(count):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(2.0)
        try:
            s.connect((host, port))
            if send:
                s.sendall(send)
        except OSError:
            pass
        out.append(s)
    return out


def still_open(sockets):
    """How many of `sockets` the server has not closed (a read would block, not EOF)."""
    n = 0
    for s in sockets:
        try:
            s.setblocking(False)
            data = s.recv(1)
            if data:
                n += 1  # something arrived: still open
        except BlockingIOError:
            n += 1
        except OSError:
            pass
    return n


def close_all(sockets):
    for s in sockets:
        try:
            s.close()
        except OSError:
            pass


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_kib(pid):
    """Resident set size (VmRSS) and its peak (VmHWM) of a process, in KiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0])
    return out.get("VmRSS", 0), out.get("VmHWM", 0)


def sanitizer_report(daemon):
    """The sanitizer's report in a daemon's log, or '' when there is none."""
    log = daemon.log()
    for marker in ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer"):
        at = log.find(marker)
        if at >= 0:
            return log[max(0, at - 200):at + 3000]
    return ""


def assert_alive(daemon):
    assert daemon.running(), f"{daemon.name} died (exit {daemon.proc.returncode}):\n{daemon.log()[-4000:]}"
    report = sanitizer_report(daemon)
    assert not report, f"{daemon.name} sanitizer report:\n{report}"


def query_retry(host, port, name, rdtype="A", *, tcp=False, attempts=10, timeout=1.0, **kwargs):
    """A query that retries on timeout (a daemon may still be working through a flood's
    backlog, especially under ASan). Raises the last timeout."""
    last = None
    for _ in range(attempts):
        try:
            return dnstest.query(host, port, name, rdtype, tcp=tcp, timeout=timeout, **kwargs)
        except (dns.exception.Timeout, OSError) as e:
            last = e
            time.sleep(0.1)
    raise last


def rcode_text(response):
    return dns.rcode.to_text(response.rcode())


def raw_query(qid, name_wire, qtype, qclass, *, opcode=0, rd=True, qdcount=1, extra=b""):
    """A query built by hand, for the opcodes, classes and types dnspython will not make."""
    flags = (opcode & 0xF) << 11 | (0x0100 if rd else 0)
    return struct.pack("!HHHHHH", qid, flags, qdcount, 0, 0, 0) + name_wire + struct.pack("!HH", qtype, qclass) + extra


def parse_header(data):
    """(id, flags, qdcount, ancount, nscount, arcount) of a reply."""
    return struct.unpack("!HHHHHH", data[:12])


def rng_for(test_name):
    """A generator seeded from the test's name (and DNS_ABUSE_SEED when set), so that a
    failure can be replayed."""
    seed = os.environ.get("DNS_ABUSE_SEED", "1")
    return random.Random(f"{test_name}:{seed}")
