"""Helpers for proxyd's system tests: starting proxyd, a scriptable fake DNS server
(UDP and TCP) that records what it receives, and raw ADD messages."""

import os
import socket
import struct
import threading
import time

import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

import dnstest


def start_proxyd(workdir, central_port, upstream_ports=(), extra_args=(), port=None, host="127.0.0.1",
                 threads=1, wait=True):
    """Starts proxyd on a free loopback port in front of centrald (and upstreams) and
    waits until it answers. Returns (Daemon, port)."""
    port = port or dnstest.free_port(host)
    args = ["--listen", dnstest.listen_arg(host, port), "--central", f"127.0.0.1:{central_port}",
            "--threads", str(threads)]
    for up in upstream_ports:
        args += ["--upstream", f"127.0.0.1:{up}"]
    d = dnstest.Daemon("proxyd", args + list(extra_args), workdir)
    d.start()
    if wait:
        try:
            d.wait_answering(host, port, "proxyd-startup-probe.invalid.", "A")
        except Exception:
            d.kill()
            raise
    return d, port


class FakeServer:
    """A DNS server on 127.0.0.1 (UDP and TCP) driven by `handler(query_message, raw_bytes,
    transport)`, which returns a list of replies to send (bytes or dns.message.Message)
    and may sleep. Everything received is kept in .received as (transport, raw bytes)."""

    def __init__(self, handler, port=None):
        self.handler = handler
        self.port = port or dnstest.free_port()
        self.received = []
        self.lock = threading.Lock()
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", self.port))
        self.tcp.listen(64)
        self.stopped = False
        self.threads = [threading.Thread(target=self._serve_udp, daemon=True),
                        threading.Thread(target=self._serve_tcp, daemon=True)]
        for t in self.threads:
            t.start()

    def queries(self, name=None, rdtype=None):
        """The parsed queries received (optionally only those for name/rdtype)."""
        out = []
        with self.lock:
            raws = [raw for _, raw in self.received]
        for raw in raws:
            try:
                q = dns.message.from_wire(raw)
            except Exception:
                continue
            if not q.question:
                continue
            qn = q.question[0]
            if name is not None and qn.name != dns.name.from_text(name):
                continue
            if rdtype is not None and qn.rdtype != dns.rdatatype.from_text(rdtype):
                continue
            out.append(q)
        return out

    def _replies(self, raw, transport):
        with self.lock:
            self.received.append((transport, raw))
        try:
            q = dns.message.from_wire(raw)
        except Exception:
            q = None
        out = []
        for r in self.handler(q, raw, transport) or []:
            out.append(r if isinstance(r, (bytes, bytearray)) else r.to_wire())
        return out

    def _serve_udp(self):
        while not self.stopped:
            try:
                raw, peer = self.udp.recvfrom(65535)
            except OSError:
                return
            threading.Thread(target=self._answer_udp, args=(raw, peer), daemon=True).start()

    def _answer_udp(self, raw, peer):
        for reply in self._replies(raw, "udp"):
            try:
                self.udp.sendto(reply, peer)
            except OSError:
                return

    def _serve_tcp(self):
        while not self.stopped:
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            threading.Thread(target=self._answer_tcp, args=(conn,), daemon=True).start()

    def _answer_tcp(self, conn):
        conn.settimeout(5)
        buf = b""
        try:
            while True:
                while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
                    chunk = conn.recv(65535)
                    if not chunk:
                        return
                    buf += chunk
                n = struct.unpack("!H", buf[:2])[0]
                raw, buf = buf[2:2 + n], buf[2 + n:]
                for reply in self._replies(raw, "tcp"):
                    conn.sendall(struct.pack("!H", len(reply)) + reply)
        except OSError:
            return
        finally:
            conn.close()

    def close(self):
        self.stopped = True
        self.udp.close()
        self.tcp.close()


def answer(query, records=(), rcode="NOERROR", authority=(), additional=(), aa=False):
    """A response to `query` with records given as (name, ttl, type, rdata text)."""
    r = dns.message.make_response(query)
    r.set_rcode(dns.rcode.from_text(rcode))
    if aa:
        r.flags |= dns.flags.AA
    for section, recs in ((r.answer, records), (r.authority, authority), (r.additional, additional)):
        for name, ttl, rdtype, text in recs:
            section.append(dns.rrset.from_text(name, ttl, "IN", rdtype, text))
    return r


def add_request(name, addresses, qid=0x4242, ttl=300):
    """A raw ADD (opcode 14) request registering `name` with IPv4 `addresses`."""
    wire_name = dns.name.from_text(name).to_wire()
    header = struct.pack("!HHHHHH", qid, 14 << 11, 1, 0, len(addresses), 0)
    question = wire_name + struct.pack("!HH", 1, 1)
    records = b""
    for address in addresses:
        records += wire_name + struct.pack("!HHIH", 1, 1, ttl, 4) + socket.inet_aton(address)
    return header + question + records


def udp_from(source, host, port, payload, timeout=3.0):
    """Sends raw bytes over UDP from a chosen source address; returns the reply bytes."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((source, 0))
    s.settimeout(timeout)
    try:
        s.sendto(payload, (host, port))
        return s.recvfrom(65535)[0]
    finally:
        s.close()


def wait_for(predicate, timeout=5.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def write_file(path, text):
    with open(path, "w") as f:
        f.write(text)
    return str(path)


def dnszone_import(zone_path, db):
    return dnstest.run_tool("dnszone", ["import", str(zone_path), "--db", str(db)], check=True)
