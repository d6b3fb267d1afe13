#!/usr/bin/env python3
"""ADD throughput client for the benchmark: N concurrent clients, each sending one ADD
(opcode 14) and waiting for its answer before sending the next; counts acknowledged adds/s.

Message layout (README "The ADD opcode", libdnswire/include/dnswire/add_message.hpp): an
RFC 2136-shaped message, QR=0, OPCODE=14, QDCOUNT=1 (NAME, A, IN), ANCOUNT=0, NSCOUNT=n with
the records to create in the authority section; here one `NAME A IN ttl address` each. The
answer: QR=1, OPCODE=14, same ID, RCODE NOERROR when the change is committed.

One thread and one UDP socket per client, driven by a selector. An unanswered request is
resent unchanged after --retry seconds (same ID and bytes: the server answers a retransmission
from its replay cache without applying it twice). Prints one line of key=value.
"""
import argparse
import os
import selectors
import socket
import struct
import sys
import time

OPCODE_ADD = 14


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def add_request(qid, name, address, ttl):
    header = struct.pack(">HHHHHH", qid, OPCODE_ADD << 11, 1, 0, 1, 0)
    owner = encode_name(name)
    question = owner + struct.pack(">HH", 1, 1)
    record = owner + struct.pack(">HHIH", 1, 1, ttl, 4) + socket.inet_aton(address)
    return header + question + record


def query(server, name, timeout=1.0):
    qid = int.from_bytes(os.urandom(2), "big")
    wire = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0) + encode_name(name) + struct.pack(">HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(wire, server)
        try:
            data = s.recv(65535)
        except OSError:
            return None
    return data[3] & 0x0F, int.from_bytes(data[6:8], "big")


class Client:
    def __init__(self, index, server, args):
        self.index = index
        self.args = args
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect(server)
        self.sock.setblocking(False)
        self.seq = 0
        self.wire = None
        self.qid = 0
        self.sent_at = 0.0
        self.first_sent = 0.0
        self.last_name = None

    def next_request(self):
        self.seq += 1
        n = self.index * 1_000_000 + self.seq
        # Addresses from 172.16.0.0/12, unique per request.
        address = f"172.{16 + (n >> 16) % 16}.{(n >> 8) & 255}.{n & 255}"
        self.name = f"{self.args.prefix}-c{self.index}-{self.seq}.{self.args.zone}"
        self.qid = int.from_bytes(os.urandom(2), "big")
        self.wire = add_request(self.qid, self.name, address, 3600)
        self.first_sent = time.monotonic()
        self.send()

    def send(self):
        self.sent_at = time.monotonic()
        try:
            self.sock.send(self.wire)
        except OSError:
            pass  # counted when the retry timer or the deadline runs out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--server", required=True, help="ADDR:PORT of centrald (or proxyd)")
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--zone", default="bench.test", help="names are created under this zone")
    p.add_argument("--prefix", default="add", help="first label prefix, to keep runs apart")
    p.add_argument("--retry", type=float, default=1.0, help="resend an unanswered request after this")
    p.add_argument("--give-up", type=float, default=5.0, help="count a request failed after this")
    a = p.parse_args()
    host, port = a.server.rsplit(":", 1)
    server = (host, int(port))

    sel = selectors.DefaultSelector()
    clients = [Client(i, server, a) for i in range(a.clients)]
    acked = failed = timeouts = resent = 0
    rcodes = {}
    latencies = []
    last_acked = None
    last_ack_t = None
    start = time.monotonic()
    stop = start + a.seconds
    for c in clients:
        sel.register(c.sock, selectors.EVENT_READ, c)
        c.next_request()
    active = set(clients)
    while active:
        now = time.monotonic()
        if now > stop + a.give_up:
            timeouts += len(active)
            break
        for key, _ in sel.select(timeout=0.05):
            c = key.data
            try:
                data = c.sock.recv(65535)
            except OSError:
                continue
            if c not in active or len(data) < 12 or int.from_bytes(data[:2], "big") != c.qid:
                continue
            flags = int.from_bytes(data[2:4], "big")
            if not flags & 0x8000 or (flags >> 11) & 0xF != OPCODE_ADD:
                continue
            rcode = flags & 0xF
            rcodes[rcode] = rcodes.get(rcode, 0) + 1
            t = time.monotonic()
            if rcode == 0:
                acked += 1
                latencies.append(t - c.first_sent)
                last_acked, last_ack_t = c.name, t
            else:
                failed += 1
            if t < stop:
                c.next_request()
            else:
                active.discard(c)
        now = time.monotonic()
        for c in list(active):
            if now - c.first_sent > a.give_up:
                timeouts += 1
                if now < stop:
                    c.next_request()
                else:
                    active.discard(c)
            elif now - c.sent_at > a.retry:
                resent += 1
                c.send()
    # Answers to requests sent before the deadline still count: the window ends at the last one.
    elapsed = max(a.seconds, (last_ack_t or start) - start)
    verified = "none"
    if last_acked:
        r = query(server, last_acked)
        verified = "yes" if r and r[0] == 0 and r[1] > 0 else f"no({r})"
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1e3 if latencies else 0
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1e3 if latencies else 0
    print(f"adds_per_s={acked / elapsed:.1f} acked={acked} failed={failed} timeouts={timeouts} resent={resent} "
          f"seconds={elapsed:.2f} p50_ms={p50:.2f} p99_ms={p99:.2f} "
          f"rcodes={','.join(f'{k}:{v}' for k, v in sorted(rcodes.items()))} last_visible={verified}")
    return 0 if acked > 0 and verified == "yes" else 1


if __name__ == "__main__":
    sys.exit(main())
