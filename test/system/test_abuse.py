"""Abuse of the real daemons: floods of random and mutated packets over UDP and TCP,
connections that stall or never send, more connections than the cap, 64 KiB garbage
frames, and every opcode, a range of classes and sampled type numbers. After each, the
daemon is alive, shows no sanitizer report and answers normal queries correctly; no
query with a readable header goes unanswered (SPEC "Answers"). Each test is bounded to a
few seconds; DNS_ABUSE_SEED changes the random packets."""

import socket
import struct
import time

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import pytest

import abusetest
import dnstest
import proxytest

HOST = "127.0.0.1"

ZONE = """$ORIGIN abuse.test.
$TTL 300
@       SOA ns1 hostmaster ( 1 3600 900 604800 60 )
        NS  ns1
ns1     A   192.0.2.53
www     A   192.0.2.1
        A   192.0.2.2
v6      AAAA 2001:db8::1
alias   CNAME www
mail    MX  10 ns1
txt     TXT "hello" "world"
*.wild  A   192.0.2.77
sub     NS  ns.sub
ns.sub  A   192.0.2.100
big     TXT "{t}" "{t}"
big     TXT "{u}" "{u}"
""".format(t="a" * 200, u="b" * 200)

NAMES = ["www.abuse.test.", "WwW.aBuSe.TeSt.", "abuse.test.", "alias.abuse.test.", "mail.abuse.test.",
         "x.wild.abuse.test.", "host.sub.abuse.test.", "nx.abuse.test.", "big.abuse.test.", "v6.abuse.test.",
         "outside.example.", "."]

# Queries per flood: 100,000 over UDP, a few thousand over TCP (the figures).
UDP_PACKETS = 100_000
TCP_FRAMES = 3_000


@pytest.fixture
def central(workdir):
    d, port = dnstest.start_centrald(workdir, {"abuse.test": ZONE}, threads=1)
    yield d, port
    d.kill()


@pytest.fixture
def proxy_stack(workdir):
    """centrald (abuse.test) behind proxyd without upstreams (other names: REFUSED)."""
    central, central_port = dnstest.start_centrald(workdir / "central", {"abuse.test": ZONE}, threads=1)
    try:
        proxy, port = proxytest.start_proxyd(workdir, central_port, threads=1)
    except Exception:
        central.kill()
        raise
    yield central, proxy, port
    proxy.kill()
    central.kill()


def check_answers_correctly(port, *, via_proxy=False):
    """Normal queries over UDP and TCP get the zone's data."""
    r = abusetest.query_retry(HOST, port, "www.abuse.test.", "A")
    assert abusetest.rcode_text(r) == "NOERROR"
    assert sorted(dnstest.addresses(r)) == ["192.0.2.1", "192.0.2.2"]
    if not via_proxy:
        assert r.flags & dns.flags.AA
    r = abusetest.query_retry(HOST, port, "nx.abuse.test.", "A", tcp=True)
    assert abusetest.rcode_text(r) == "NXDOMAIN"
    assert r.authority and r.authority[0].rdtype == dns.rdatatype.SOA
    r = abusetest.query_retry(HOST, port, "v6.abuse.test.", "AAAA", want_edns=True)
    assert dnstest.addresses(r, "AAAA") == ["2001:db8::1"]


def flood(port, test_name):
    """100,000 UDP packets and 3,000 TCP frames, random and mutated from valid queries
    (20,000 distinct mutations, each sent under several IDs)."""
    rng = abusetest.rng_for(test_name)
    seeds = abusetest.seed_queries(NAMES)
    started = time.monotonic()
    pool = abusetest.packets(seeds, UDP_PACKETS // 5, rng)
    payloads = abusetest.with_fresh_ids(pool, UDP_PACKETS, rng)
    made = time.monotonic()
    sent, stats = abusetest.udp_flood(HOST, port, payloads, max_seconds=20)
    udp_seconds = time.monotonic() - made
    assert sent >= UDP_PACKETS * 0.99, f"only {sent} UDP packets sent in {udp_seconds:.1f}s"
    assert not stats.bad, f"{len(stats.bad)} bad UDP replies, first: {stats.bad[:3]}"
    assert stats.replies > 0

    frames = abusetest.packets(seeds, TCP_FRAMES, rng)
    tcp_started = time.monotonic()
    sent_tcp, tcp_stats = abusetest.tcp_flood(HOST, port, frames, connections=10, max_seconds=8)
    assert not tcp_stats.bad, f"{len(tcp_stats.bad)} bad TCP replies, first: {tcp_stats.bad[:3]}"
    print(f"flood: made in {made - started:.1f}s; {sent} UDP in {udp_seconds:.1f}s, {stats.replies} replies; "
          f"{sent_tcp} TCP frames in {time.monotonic() - tcp_started:.1f}s, {tcp_stats.replies} replies")


# ----------------------------------------------------------------------------- centrald


def test_centrald_survives_udp_and_tcp_floods(central):
    d, port = central
    flood(port, "centrald-flood")
    abusetest.assert_alive(d)
    check_answers_correctly(port)
    d.stop()  # and still stops cleanly, exit 0


def test_centrald_garbage_64k_tcp_frames(central):
    d, port = central
    rng = abusetest.rng_for("centrald-64k")
    valid = dns.message.make_query("www.abuse.test.", "A").to_wire()
    frames = [
        rng.randbytes(65535),                                   # garbage, readable header
        valid + rng.randbytes(65535 - len(valid)),              # a query with trailing bytes
        struct.pack("!HHHHHH", 7, 0, 1, 0xFFFF, 0xFFFF, 0xFFFF) + rng.randbytes(65535 - 12),  # lying counts
        b"\x00" * 65535,                                        # a header of zeros, then zeros
    ]
    for frame in frames:
        s = socket.create_connection((HOST, port), timeout=3)
        try:
            s.sendall(struct.pack("!H", len(frame)) + frame)
            s.settimeout(3)
            try:
                head = s.recv(2)
            except socket.timeout:
                head = b""
            if len(head) == 2:
                data = b""
                n = struct.unpack("!H", head)[0]
                while len(data) < n:
                    chunk = s.recv(n - len(data))
                    if not chunk:
                        break
                    data += chunk
                flags = struct.unpack("!H", data[2:4])[0]
                assert flags & abusetest.QR and data[:2] == frame[:2]
                # Readable header, unparseable message: FORMERR (or NOTIMP from the opcode).
                assert flags & 0xF in (1, 4), f"rcode {flags & 0xF} for a garbage frame"
            elif frame[2] & 0x80 == 0:
                raise AssertionError("no answer to a 64 KiB frame whose header is readable")
        finally:
            s.close()
    abusetest.assert_alive(d)
    check_answers_correctly(port)


def test_centrald_stalled_connections_up_to_the_cap(central):
    """256 connections (the per-worker cap with one thread) that send half a length prefix
    or nothing at all: other clients keep being answered over UDP and TCP."""
    d, port = central
    half = abusetest.open_connections(HOST, port, 128, send=b"\x00")
    silent = abusetest.open_connections(HOST, port, 128)
    try:
        time.sleep(0.2)
        for i in range(5):
            check_answers_correctly(port)
        r = dnstest.tcp_exchange(HOST, port, [dns.message.make_query("txt.abuse.test.", "TXT").to_wire()])
        assert len(r) == 1 and dns.message.from_wire(r[0]).answer
        abusetest.assert_alive(d)
    finally:
        abusetest.close_all(half + silent)


def test_centrald_more_connections_than_the_cap(central):
    """600 idle connections against a cap of 256: the server keeps at most its cap open
    (its descriptors stay bounded) and a new client is still served."""
    d, port = central
    before = abusetest.fd_count(d.proc.pid)
    conns = abusetest.open_connections(HOST, port, 600)
    try:
        time.sleep(0.3)
        fds = abusetest.fd_count(d.proc.pid)
        assert fds <= before + 256 + 8, f"{fds - before} connection descriptors over a cap of 256"
        assert abusetest.still_open(conns) <= 256 + 8
        for _ in range(3):
            r = dnstest.query(HOST, port, "www.abuse.test.", "A", tcp=True, timeout=3)
            assert sorted(dnstest.addresses(r)) == ["192.0.2.1", "192.0.2.2"]
        check_answers_correctly(port)
        abusetest.assert_alive(d)
    finally:
        abusetest.close_all(conns)


def exchange_udp(port, wire, timeout=1.0):
    return dnstest.send_raw_udp(HOST, port, wire, timeout=timeout)


def name_wire(text):
    return dns.name.from_text(text).to_wire()


def test_centrald_every_opcode(central):
    d, port = central
    for opcode in range(16):
        qid = 0x1000 + opcode
        reply = exchange_udp(port, abusetest.raw_query(qid, name_wire("www.abuse.test."), 1, 1, opcode=opcode))
        assert reply is not None, f"opcode {opcode}: silence"
        rid, flags, *_ = abusetest.parse_header(reply)
        assert rid == qid and flags & abusetest.QR and not flags & abusetest.Z
        assert (flags >> 11) & 0xF == opcode, f"opcode {opcode} not echoed"
        rcode = flags & 0xF
        if opcode == 0:
            assert rcode == 0
        elif opcode == 14:
            # ADD without records to create: FORMERR from the ADD stage (NOTIMP without it).
            assert rcode in (1, 4), f"ADD with no records: rcode {rcode}"
        else:
            assert rcode == 4, f"opcode {opcode}: rcode {rcode}, expected NOTIMP"
    abusetest.assert_alive(d)


def test_centrald_classes(central):
    d, port = central
    for qclass in (0, 2, 3, 4, 254, 255, 256, 4096, 65280, 65535):
        reply = exchange_udp(port, abusetest.raw_query(qclass, name_wire("www.abuse.test."), 1, qclass))
        assert reply is not None, f"class {qclass}: silence"
        _, flags, *_ = abusetest.parse_header(reply)
        assert flags & 0xF == 5, f"class {qclass}: rcode {flags & 0xF}, expected REFUSED"
    r = dnstest.query(HOST, port, "www.abuse.test.", "A")
    assert abusetest.rcode_text(r) == "NOERROR"
    abusetest.assert_alive(d)


def sampled_types(rng):
    fixed = list(range(0, 300)) + [32768, 32769, 65280, 65534, 65535]
    return fixed + rng.sample(range(300, 65535), 200)


# RFC 6895 §3.1: meta-types and query types (OPT, TKEY, TSIG, IXFR, AXFR, MAILB, MAILA)
# are not data: any of these rcodes is sane for them, silence is not.
META = {0: "reserved", 41: "OPT", 249: "TKEY", 250: "TSIG", 251: "IXFR", 252: "AXFR", 253: "MAILB", 254: "MAILA"}


def check_type_reply(reply, qtype, owner_exists, qid):
    assert reply is not None, f"type {qtype}: silence"
    msg = dns.message.from_wire(reply)
    assert msg.id == qid
    rcode = abusetest.rcode_text(msg)
    if qtype in META:
        sane = ("NOERROR", "FORMERR", "NOTIMP", "REFUSED") + (() if owner_exists else ("NXDOMAIN",))
        assert rcode in sane, f"{META[qtype]} ({qtype}): {rcode}"
        if rcode in ("NOERROR", "NXDOMAIN"):
            assert not msg.answer and msg.authority, f"{META[qtype]} ({qtype}) answered with data"
        return
    if qtype == 255 and owner_exists:
        assert rcode == "NOERROR" and msg.answer, "ANY: no minimal answer (RFC 8482)"
        return
    expected = "NOERROR" if owner_exists else "NXDOMAIN"
    assert rcode == expected, f"type {qtype}: {rcode}, expected {expected}"
    assert msg.flags & dns.flags.AA
    if qtype == 1 and owner_exists:
        assert msg.answer
    else:
        # NODATA / NXDOMAIN: no answer, the zone's SOA in authority (RFC 2308, RFC 8906).
        assert not msg.answer, f"type {qtype}: unexpected answer"
        assert msg.authority and msg.authority[0].rdtype == dns.rdatatype.SOA, f"type {qtype}: no SOA"


def test_centrald_sampled_qtypes(central):
    d, port = central
    rng = abusetest.rng_for("centrald-types")
    types = sampled_types(rng)
    for owner, exists in (("www.abuse.test.", True), ("nothing.abuse.test.", False)):
        for qtype in types:
            qid = qtype & 0xFFFF
            reply = exchange_udp(port, abusetest.raw_query(qid, name_wire(owner), qtype, 1))
            check_type_reply(reply, qtype, exists, qid)
    # A few over TCP as well (AXFR/IXFR there are REFUSED, not transferred).
    for qtype in (0, 41, 250, 251, 252, 255, 65535):
        replies = dnstest.tcp_exchange(HOST, port, [abusetest.raw_query(qtype, name_wire("www.abuse.test."), qtype, 1)])
        assert len(replies) == 1, f"type {qtype} over TCP: silence"
        check_type_reply(replies[0], qtype, True, qtype)
    abusetest.assert_alive(d)


# ----------------------------------------------------------------------------- proxyd


def test_proxyd_survives_udp_and_tcp_floods(proxy_stack):
    central, proxy, port = proxy_stack
    flood(port, "proxyd-flood")
    abusetest.assert_alive(proxy)
    abusetest.assert_alive(central)
    check_answers_correctly(port, via_proxy=True)
    proxy.stop()


def test_proxyd_stalled_and_excess_connections(proxy_stack):
    central, proxy, port = proxy_stack
    before = abusetest.fd_count(proxy.proc.pid)
    half = abusetest.open_connections(HOST, port, 150, send=b"\x00")
    silent = abusetest.open_connections(HOST, port, 350)
    try:
        time.sleep(0.3)
        fds = abusetest.fd_count(proxy.proc.pid)
        assert fds <= before + 256 + 16, f"{fds - before} connection descriptors over a cap of 256"
        for _ in range(3):
            check_answers_correctly(port, via_proxy=True)
        abusetest.assert_alive(proxy)
    finally:
        abusetest.close_all(half + silent)


def test_proxyd_opcodes_and_classes(proxy_stack):
    central, proxy, port = proxy_stack
    for opcode in range(16):
        if opcode == 14:
            continue  # ADD is relayed: test_proxyd covers it
        qid = 0x2000 + opcode
        reply = exchange_udp(port, abusetest.raw_query(qid, name_wire("www.abuse.test."), 1, 1, opcode=opcode), 3.0)
        assert reply is not None, f"opcode {opcode}: silence"
        rid, flags, *_ = abusetest.parse_header(reply)
        assert rid == qid and flags & abusetest.QR
        assert flags & 0xF == (0 if opcode == 0 else 4), f"opcode {opcode}: rcode {flags & 0xF}"
    for qclass in (0, 3, 4, 254, 255, 65535):
        reply = exchange_udp(port, abusetest.raw_query(qclass, name_wire("www.abuse.test."), 1, qclass), 3.0)
        assert reply is not None, f"class {qclass}: silence"
        _, flags, *_ = abusetest.parse_header(reply)
        assert flags & 0xF in (1, 4, 5), f"class {qclass}: rcode {flags & 0xF}"
    for qtype in (0, 41, 250, 251, 252, 65535):
        reply = exchange_udp(port, abusetest.raw_query(qtype, name_wire("www.abuse.test."), qtype, 1), 3.0)
        assert reply is not None, f"type {qtype}: silence"
        _, flags, *_ = abusetest.parse_header(reply)
        assert flags & abusetest.QR
    abusetest.assert_alive(proxy)
    check_answers_correctly(port, via_proxy=True)
