"""centrald as a real process on free loopback ports: every rule of SPEC "Answers" checked
with dnspython, dig and kdig."""

import os
import signal
import socket
import struct
import subprocess
import threading
import time

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import pytest

import dnstest
from dnstest import addresses, query

EXAMPLE_ZONE = """$ORIGIN example.test.
$TTL 3600
@        IN SOA ns1 hostmaster 2026113001 7200 3600 1209600 300
@        NS    ns1
@        MX    10 mail
ns1      A     192.0.2.53
www      A     192.0.2.1
www      AAAA  2001:db8::1
rr       A     10.0.0.1
rr       A     10.0.0.2
rr       A     10.0.0.3
rr       A     10.0.0.4
alias    CNAME chain2
chain2   CNAME www
loop1    CNAME loop2
loop2    CNAME loop1
mail     A     192.0.2.25
mail     AAAA  2001:db8::25
txt      TXT   "hello world" "second string"
_sip._tcp SRV  10 5 5060 sip
sip      A     192.0.2.60
a.b.c    A     192.0.2.7
sub      NS    ns.sub
ns.sub   A     192.0.2.99
opaque   TYPE65280 \\# 4 0a000001
"""

REVERSE_ZONE = """$ORIGIN 2.0.192.in-addr.arpa.
$TTL 600
@   IN SOA ns1.example.test. hostmaster.example.test. 1 7200 3600 1209600 60
@   NS  ns1.example.test.
1   PTR www.example.test.
"""


def big_zone():
    lines = ["$ORIGIN big.test.", "$TTL 60", "@ IN SOA ns admin 1 7200 3600 1209600 60", "@ NS ns",
             "ns A 192.0.2.1"]
    lines += [f"many A 10.1.0.{i}" for i in range(1, 41)]
    return "\n".join(lines) + "\n"


ZONES = {"example.test": EXAMPLE_ZONE, "2.0.192.in-addr.arpa": REVERSE_ZONE, "big.test": big_zone()}
HOST = "127.0.0.1"


@pytest.fixture(scope="module")
def central(tmp_path_factory):
    """One centrald (2 threads) for the read-only checks of this module."""
    workdir = tmp_path_factory.mktemp("centrald")
    daemon, port = dnstest.start_centrald(workdir, ZONES, threads=2, wait_name="example.test.")
    yield port
    daemon.stop()


def header_flags(wire):
    return struct.unpack("!H", wire[2:4])[0]


def raw_query(name="www.example.test.", rdtype="A", id=0x4242):
    q = dns.message.make_query(name, rdtype)
    q.id = id
    return q.to_wire()


# --- positive answers -----------------------------------------------------------------

def test_a_record_authoritative(central):
    r = query(HOST, central, "www.example.test.", "A")
    assert r.rcode() == dns.rcode.NOERROR
    assert r.flags & dns.flags.AA
    assert r.flags & dns.flags.RD  # copied from the query
    assert not r.flags & dns.flags.RA
    assert addresses(r) == ["192.0.2.1"]
    assert r.answer[0].ttl == 3600


def test_aaaa_record(central):
    r = query(HOST, central, "www.example.test.", "AAAA")
    assert addresses(r, "AAAA") == ["2001:db8::1"]


def test_rd_clear_is_copied_and_z_never_set(central):
    q = dns.message.make_query("www.example.test.", "A")
    q.flags &= ~dns.flags.RD
    wire = bytearray(q.to_wire())
    wire[3] |= 0x40  # the Z bit set in the query must not come back (RFC 1035 §4.1.1)
    reply = dnstest.send_raw_udp(HOST, central, bytes(wire))
    assert reply is not None
    flags = header_flags(reply)
    assert not flags & 0x0100  # RD
    assert not flags & 0x0080  # RA
    assert not flags & 0x0040  # Z
    assert flags & 0x0400  # AA


def test_question_echoes_case(central):
    r = query(HOST, central, "WwW.ExAmPlE.TeSt.", "A")
    assert r.question[0].name.to_text() == "WwW.ExAmPlE.TeSt."
    assert addresses(r) == ["192.0.2.1"]


def test_cname_chain(central):
    r = query(HOST, central, "alias.example.test.", "A")
    assert r.rcode() == dns.rcode.NOERROR
    types = [(rr.name.to_text(), dns.rdatatype.to_text(rr.rdtype)) for rr in r.answer]
    assert types == [("alias.example.test.", "CNAME"), ("chain2.example.test.", "CNAME"),
                     ("www.example.test.", "A")]


def test_cname_loop_is_stopped(central):
    r = query(HOST, central, "loop1.example.test.", "A")
    assert r.rcode() == dns.rcode.NOERROR
    assert 1 <= len(r.answer) <= 8


def test_mx_with_additional(central):
    r = query(HOST, central, "example.test.", "MX")
    assert [rr.to_text() for rr in r.answer[0]] == ["10 mail.example.test."]
    extra = sorted((dns.rdatatype.to_text(s.rdtype), rr.address) for s in r.additional for rr in s)
    assert extra == [("A", "192.0.2.25"), ("AAAA", "2001:db8::25")]


def test_txt(central):
    r = query(HOST, central, "txt.example.test.", "TXT")
    assert r.answer[0][0].strings == (b"hello world", b"second string")


def test_srv_with_target_address(central):
    r = query(HOST, central, "_sip._tcp.example.test.", "SRV")
    assert r.answer[0][0].to_text() == "10 5 5060 sip.example.test."
    assert [rr.address for s in r.additional for rr in s] == ["192.0.2.60"]


def test_ptr(central):
    out = dnstest.dig(HOST, central, "-x", "192.0.2.1", "+short")
    assert out.strip() == "www.example.test."


def test_opaque_type(central):
    out = dnstest.kdig(HOST, central, "opaque.example.test.", "TYPE65280", "+short")
    assert out.strip().replace(" ", "").lower() == "\\#40a000001"


def test_referral_below_zone_cut(central):
    r = query(HOST, central, "host.sub.example.test.", "A")
    assert r.rcode() == dns.rcode.NOERROR
    assert not r.flags & dns.flags.AA
    assert not r.answer
    assert r.authority[0].rdtype == dns.rdatatype.NS
    assert [rr.address for s in r.additional for rr in s] == ["192.0.2.99"]


# --- negative answers -----------------------------------------------------------------

def test_nxdomain_with_soa_negative_ttl(central):
    r = query(HOST, central, "nothing.example.test.", "A")
    assert r.rcode() == dns.rcode.NXDOMAIN
    assert r.flags & dns.flags.AA
    assert r.authority[0].rdtype == dns.rdatatype.SOA
    assert r.authority[0].ttl == 300  # min(SOA TTL 3600, minimum 300), RFC 2308 §3


def test_nodata_with_soa(central):
    r = query(HOST, central, "mail.example.test.", "TXT")
    assert r.rcode() == dns.rcode.NOERROR
    assert not r.answer
    assert r.authority[0].rdtype == dns.rdatatype.SOA
    assert r.authority[0].ttl == 300
    # The reverse zone: SOA TTL 600, minimum 60.
    r = query(HOST, central, "9.2.0.192.in-addr.arpa.", "PTR")
    assert r.rcode() == dns.rcode.NXDOMAIN
    assert r.authority[0].ttl == 60


def test_empty_non_terminal_is_nodata(central):
    r = query(HOST, central, "b.c.example.test.", "A")
    assert r.rcode() == dns.rcode.NOERROR
    assert not r.answer


def test_unknown_qtype_is_nodata(central):
    r = query(HOST, central, "www.example.test.", "TYPE999")
    assert r.rcode() == dns.rcode.NOERROR
    assert not r.answer
    assert r.authority[0].rdtype == dns.rdatatype.SOA


def test_refused_outside_zones_and_other_class(central):
    r = query(HOST, central, "www.example.com.", "A")
    assert r.rcode() == dns.rcode.REFUSED
    assert not r.flags & dns.flags.AA
    q = dns.message.make_query("www.example.test.", "A", rdclass=dns.rdataclass.CH)
    r = dns.query.udp(q, HOST, port=central, timeout=3)
    assert r.rcode() == dns.rcode.REFUSED


def test_axfr_refused(central):
    q = dns.message.make_query("example.test.", "AXFR")
    r = dns.query.tcp(q, HOST, port=central, timeout=3)
    assert r.rcode() in (dns.rcode.REFUSED, dns.rcode.NOTIMP)


def test_notimp_for_unknown_opcode(central):
    for opcode in (1, 2, 3, 4, 5, 15):  # IQUERY, STATUS, unassigned, NOTIFY, UPDATE, unassigned
        wire = bytearray(raw_query("example.test.", "SOA"))
        wire[2] = (wire[2] & 0x87) | (opcode << 3)
        reply = dnstest.send_raw_udp(HOST, central, bytes(wire))
        assert reply is not None, f"opcode {opcode}: no answer"
        assert header_flags(reply) & 0xF == dns.rcode.NOTIMP
        assert (header_flags(reply) >> 11) & 0xF == opcode


# --- malformed input ------------------------------------------------------------------

def header(id=0x1111, flags=0x0100, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", id, flags, qd, an, ns, ar)


QUESTION = b"\x03www\x07example\x04test\x00\x00\x01\x00\x01"

FORMERR_CASES = {
    "two questions counted, one sent": header(qd=2) + QUESTION,
    "two questions": header(qd=2) + QUESTION + QUESTION,
    "no question": header(qd=0),
    "pointer loop": header() + b"\xc0\x0c\x00\x01\x00\x01",
    "forward pointer": header() + b"\xc0\x20\x00\x01\x00\x01" + b"\x00" * 30,
    "label over 63": header() + b"\x40" + b"a" * 64 + b"\x00\x00\x01\x00\x01",
    "reserved label type": header() + b"\x41abc\x00\x00\x01\x00\x01",
    "question cut short": header() + QUESTION[:-2],
    "answer count lies": header(an=3) + QUESTION,
    "trailing bytes": header() + QUESTION + b"\x00\x00\x00",
    "two OPT records": header(ar=2) + QUESTION + 2 * b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00",
    "OPT not at the root": header(ar=1) + QUESTION + b"\x01a\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00",
    "garbage after header": header(an=2) + bytes(range(200, 256)) * 2,
}


@pytest.mark.parametrize("case", sorted(FORMERR_CASES))
def test_formerr(central, case):
    wire = FORMERR_CASES[case]
    reply = dnstest.send_raw_udp(HOST, central, wire)
    assert reply is not None, "no answer"
    assert len(reply) >= 12
    assert reply[:2] == wire[:2]  # the ID
    assert header_flags(reply) & 0x8000  # QR
    assert header_flags(reply) & 0xF == dns.rcode.FORMERR
    # The server still answers normally afterwards.
    assert addresses(query(HOST, central, "www.example.test.", "A")) == ["192.0.2.1"]


@pytest.mark.parametrize("wire", [b"", b"\x12", b"\x12\x34\x01\x00\x00", header()[:11],
                                  header(flags=0x8100) + QUESTION])
def test_dropped(central, wire):
    # Shorter than a header, or a response (QR=1): silence, then still serving.
    assert dnstest.send_raw_udp(HOST, central, wire, timeout=0.5) is None
    assert addresses(query(HOST, central, "www.example.test.", "A")) == ["192.0.2.1"]


def test_garbage_over_tcp_then_normal_query(central):
    payloads = [FORMERR_CASES["pointer loop"], raw_query(id=7)]
    replies = dnstest.tcp_exchange(HOST, central, payloads)
    assert len(replies) == 2
    by_id = {struct.unpack("!H", r[:2])[0]: r for r in replies}
    assert header_flags(by_id[0x1111]) & 0xF == dns.rcode.FORMERR
    assert addresses(dns.message.from_wire(by_id[7])) == ["192.0.2.1"]


# --- EDNS -----------------------------------------------------------------------------

def test_edns_opt_answered(central):
    r = query(HOST, central, "www.example.test.", "A", want_edns=True, payload=4096)
    assert r.edns == 0
    assert r.payload == 1232
    assert not r.ednsflags & dns.flags.DO
    r = query(HOST, central, "www.example.test.", "A", want_edns=True, do=True)
    assert r.ednsflags & dns.flags.DO
    r = query(HOST, central, "www.example.test.", "A")
    assert r.edns == -1  # no OPT without one in the query


def test_edns_unknown_option_not_echoed(central):
    q = dns.message.make_query("www.example.test.", "A", use_edns=0,
                               options=[dns.edns.GenericOption(65001, b"abcd"),
                                        dns.edns.GenericOption(dns.edns.NSID, b"")])
    r = dns.query.udp(q, HOST, port=central, timeout=3)
    assert r.edns == 0
    assert len(r.options) == 0


def test_badvers_with_kdig(central):
    out = dnstest.kdig(HOST, central, "www.example.test.", "A", "+edns=1")
    assert "BADVERS" in out
    assert "192.0.2.1" not in out
    r = query(HOST, central, "www.example.test.", "A", want_edns=True, edns_version=1)
    assert r.rcode() == dns.rcode.BADVERS
    assert not r.answer
    assert r.edns == 0


def test_small_edns_size_counts_as_512(central):
    r = query(HOST, central, "many.big.test.", "A", want_edns=True, payload=100)
    assert r.flags & dns.flags.TC
    r = query(HOST, central, "www.example.test.", "A", want_edns=True, payload=100)
    assert addresses(r) == ["192.0.2.1"]


def test_isc_edns_compliance(central):
    """The checks of ISC's EDNS compliance tester (RFC 8906 §8), run with dig against the
    zone's SOA: each must give the expected status and flags."""
    zone = "example.test."

    def run(*args):
        return dnstest.dig(HOST, central, zone, "SOA", "+norec", *args)

    plain = run("+noedns")
    assert "status: NOERROR" in plain and "OPT PSEUDOSECTION" not in plain
    assert " aa" in plain.split("flags:")[1].split(";")[0]
    assert "status: NOERROR" in run("+rec", "+noedns")
    z = run("+noedns", "+zflag")
    assert "status: NOERROR" in z and "MBZ" not in z
    edns = run("+edns=0")
    assert "status: NOERROR" in edns and "EDNS: version: 0" in edns
    edns1 = run("+edns=1", "+noednsneg")
    assert "status: BADVERS" in edns1 and "EDNS: version: 0" in edns1 and "IN\tSOA\t" not in edns1
    ednsopt = run("+edns=0", "+ednsopt=100")
    assert "status: NOERROR" in ednsopt and "OPT=100" not in ednsopt
    edns1opt = run("+edns=1", "+noednsneg", "+ednsopt=100")
    assert "status: BADVERS" in edns1opt and "OPT=100" not in edns1opt
    do = run("+edns=0", "+dnssec")
    assert "status: NOERROR" in do and "flags: do;" in do
    ednsflags = run("+edns=0", "+ednsflags=0x80")
    assert "status: NOERROR" in ednsflags and "MBZ" not in ednsflags
    optlist = run("+edns=0", "+nsid", "+subnet=0.0.0.0/0", "+expire", "+cookie=0102030405060708")
    assert "status: NOERROR" in optlist and "NSID" not in optlist and "EXPIRE" not in optlist
    tcp = run("+edns=0", "+tcp")
    assert "status: NOERROR" in tcp and "EDNS: version: 0" in tcp
    type666 = dnstest.dig(HOST, central, zone, "TYPE666", "+norec", "+noedns")
    assert "status: NOERROR" in type666 and "ANSWER: 0" in type666
    bufsize = dnstest.dig(HOST, central, zone, "DNSKEY", "+norec", "+edns=0", "+dnssec", "+bufsize=512", "+ignore")
    assert "status: NOERROR" in bufsize


# --- size limits and TCP --------------------------------------------------------------

def test_truncation_over_udp_then_full_over_tcp(central):
    r = query(HOST, central, "many.big.test.", "A")  # no EDNS: 512 bytes
    assert r.flags & dns.flags.TC
    assert len(r.question) == 1
    assert len(r.to_wire()) <= 512
    r = query(HOST, central, "many.big.test.", "A", tcp=True)
    assert not r.flags & dns.flags.TC
    assert len(addresses(r)) == 40
    # kdig: UDP with the default buffer is truncated, TCP is complete.
    out = dnstest.kdig(HOST, central, "many.big.test.", "A", "+notcp", "+ignore", "+noedns")
    assert " tc" in out or "tc;" in out or "TC" in out
    out = dnstest.kdig(HOST, central, "many.big.test.", "A", "+tcp", "+short")
    assert len(out.split()) == 40
    # With a 1232-byte buffer the 40 records fit in UDP.
    out = dnstest.kdig(HOST, central, "many.big.test.", "A", "+bufsize=1232", "+short", "+notcp")
    assert len(out.split()) == 40


def test_any_minimal_over_udp_full_over_tcp(central):
    r = query(HOST, central, "example.test.", "ANY")
    assert r.rcode() == dns.rcode.NOERROR
    assert len(r.answer) == 1  # RFC 8482 §4.2: one RRset
    r = query(HOST, central, "example.test.", "ANY", tcp=True)
    assert sorted(dns.rdatatype.to_text(s.rdtype) for s in r.answer) == ["MX", "NS", "SOA"]


def test_tcp_pipelining(central):
    names = ["www.example.test.", "mail.example.test.", "nothing.example.test.", "sip.example.test.",
             "ns1.example.test."]
    payloads = [raw_query(n, id=100 + i) for i, n in enumerate(names)]
    replies = dnstest.tcp_exchange(HOST, central, payloads)
    assert len(replies) == len(names)
    by_id = {dns.message.from_wire(r).id: dns.message.from_wire(r) for r in replies}
    assert sorted(by_id) == [100, 101, 102, 103, 104]
    assert addresses(by_id[100]) == ["192.0.2.1"]
    assert addresses(by_id[101]) == ["192.0.2.25"]
    assert by_id[102].rcode() == dns.rcode.NXDOMAIN
    assert addresses(by_id[103]) == ["192.0.2.60"]


def test_kdig_tcp(central):
    out = dnstest.kdig(HOST, central, "+tcp", "example.test.", "MX", "+short")
    assert out.strip() == "10 mail.example.test."


# --- round robin ----------------------------------------------------------------------

def firsts(port, n, rdtype="A", name="rr.example.test."):
    out = []
    for _ in range(n):
        out.append(addresses(query(HOST, port, name, rdtype))[0])
    return out


def test_round_robin(central):
    got = firsts(central, 4)
    assert sorted(got) == ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]
    # dig agrees: four more queries, each address first once.
    got = [dnstest.dig(HOST, central, "rr.example.test.", "A", "+short").split()[0] for _ in range(4)]
    assert sorted(got) == ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]


def test_round_robin_shared_across_threads(tmp_path):
    daemon, port = dnstest.start_centrald(tmp_path, ZONES, threads=2, wait_name="example.test.")
    try:
        for _ in range(3):
            assert sorted(firsts(port, 4)) == ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]
        # Concurrent clients: 4 threads x 8 queries = 32 answers, each address first 8 times.
        seen = []
        lock = threading.Lock()

        def worker():
            got = firsts(port, 8)
            with lock:
                seen.extend(got)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(seen.count(a) for a in set(seen)) == [8, 8, 8, 8]
    finally:
        daemon.stop()


# --- the process ------------------------------------------------------------------------

def ipv6_loopback_available():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback_available(), reason="no ::1 on this machine")
def test_ipv6_listen(tmp_path):
    daemon, port = dnstest.start_centrald(tmp_path, ZONES, host="::1", wait_name="example.test.")
    try:
        assert addresses(query("::1", port, "www.example.test.", "A")) == ["192.0.2.1"]
        assert addresses(query("::1", port, "www.example.test.", "A", tcp=True)) == ["192.0.2.1"]
        out = dnstest.kdig("::1", port, "www.example.test.", "AAAA", "+short")
        assert out.strip() == "2001:db8::1"
    finally:
        daemon.stop()


def test_two_listen_addresses(tmp_path):
    p1, p2 = dnstest.free_ports(2)
    dnstest.write_zones(tmp_path / "zones", ZONES)
    d = dnstest.Daemon("centrald", ["--db", str(tmp_path / "c.db"), "--zones", str(tmp_path / "zones"),
                                    "--listen", f"127.0.0.1:{p1}", "--listen", f"127.0.0.1:{p2}",
                                    "--threads", "1"], tmp_path).start()
    try:
        d.wait_answering(HOST, p1)
        assert addresses(query(HOST, p2, "www.example.test.", "A")) == ["192.0.2.1"]
        assert "listening" in d.log()
    finally:
        d.stop()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_exits_zero(tmp_path, sig):
    daemon, port = dnstest.start_centrald(tmp_path, ZONES)
    started = time.monotonic()
    daemon.stop(sig=sig, timeout=5, expect=0)
    assert time.monotonic() - started < 5


def test_zones_imported_once_and_database_kept(tmp_path):
    daemon, port = dnstest.start_centrald(tmp_path, ZONES)
    daemon.stop()
    # A second start on the same database with the zones dir imports nothing new and
    # serves the same data; without --zones it serves from the database alone.
    daemon, port = dnstest.start_centrald(tmp_path, zones_dir=str(tmp_path / "zones"))
    assert addresses(query(HOST, port, "www.example.test.", "A")) == ["192.0.2.1"]
    daemon.stop()
    daemon, port = dnstest.start_centrald(tmp_path)
    assert addresses(query(HOST, port, "www.example.test.", "A")) == ["192.0.2.1"]
    daemon.stop()


def test_change_by_dnszone_served_without_restart(tmp_path):
    try:
        dnstest.binary("dnszone")
    except FileNotFoundError as e:
        pytest.skip(str(e))
    daemon, port = dnstest.start_centrald(tmp_path, ZONES)
    try:
        assert query(HOST, port, "fresh.example.test.", "A").rcode() == dns.rcode.NXDOMAIN
        changed = tmp_path / "changed"
        dnstest.write_zones(changed, {"example.test": EXAMPLE_ZONE + "fresh A 192.0.2.123\n"})
        proc = dnstest.run_tool("dnszone", ["import", str(changed / "example.test.zone"), "--db",
                                            str(tmp_path / "central.db"), "--replace"])
        assert proc.returncode == 0, proc.stderr
        committed = time.monotonic()
        while time.monotonic() - committed < 2.0:
            if addresses(query(HOST, port, "fresh.example.test.", "A")) == ["192.0.2.123"]:
                break
            time.sleep(0.05)
        assert addresses(query(HOST, port, "fresh.example.test.", "A")) == ["192.0.2.123"], \
            "change not served within 2 s"
        # A new zone imported by another process is served too.
        dnstest.write_zones(changed, {"new.test": "$ORIGIN new.test.\n@ 60 IN SOA ns admin 1 2 3 4 5\n"
                                                  "@ 60 NS ns\nns 60 A 192.0.2.9\n"})
        proc = dnstest.run_tool("dnszone", ["import", str(changed / "new.test.zone"), "--db",
                                            str(tmp_path / "central.db")])
        assert proc.returncode == 0, proc.stderr
        committed = time.monotonic()
        while time.monotonic() - committed < 2.0 and \
                query(HOST, port, "ns.new.test.", "A").rcode() == dns.rcode.REFUSED:
            time.sleep(0.05)
        assert addresses(query(HOST, port, "ns.new.test.", "A")) == ["192.0.2.9"]
    finally:
        daemon.stop()


# --- start-up failures ------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["--no-such-flag"],
    ["--threads", "0"],
    ["--threads", "many"],
    ["--listen", "localhost:53"],
    ["--listen", "127.0.0.1"],
    ["--listen", "127.0.0.1:99999"],
    ["--pool", "10.0.0.0/33"],
    ["--allow-add", "not-a-cidr"],
    ["--tsig-key", "hmac-md5:key:c2VjcmV0"],
    ["--tsig-key", "nonsense"],
    ["--config", "/nonexistent/centrald.conf"],
])
def test_bad_flags_exit_nonzero_with_one_line(tmp_path, args):
    proc = dnstest.run_binary("centrald", ["--db", str(tmp_path / "c.db")] + args, cwd=tmp_path)
    assert proc.returncode != 0
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, proc.stderr
    assert not (tmp_path / "c.db").exists()  # rejected before touching anything


def test_help_and_version(tmp_path):
    proc = dnstest.run_binary("centrald", ["--help"], cwd=tmp_path)
    assert proc.returncode == 0
    for flag in ("--db", "--zones", "--listen", "--threads", "--pool", "--allow-add", "--tsig-key", "--config"):
        assert flag in proc.stdout
    proc = dnstest.run_binary("centrald", ["--version"], cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.strip()


def test_config_file(tmp_path):
    port = dnstest.free_port()
    dnstest.write_zones(tmp_path / "zones", ZONES)
    conf = tmp_path / "centrald.conf"
    conf.write_text(f'db = "{tmp_path / "conf.db"}"\nzones = "{tmp_path / "zones"}"\n'
                    f'listen = ["127.0.0.1:{port}"]\nthreads = 1\n')
    d = dnstest.Daemon("centrald", ["--config", str(conf)], tmp_path).start()
    try:
        d.wait_answering(HOST, port)
        assert addresses(query(HOST, port, "www.example.test.", "A")) == ["192.0.2.1"]
        assert (tmp_path / "conf.db").exists()
    finally:
        d.stop()


def test_bad_zone_file_names_file_and_line(tmp_path):
    bad = EXAMPLE_ZONE + "broken A 300.1.2.3\n"
    dnstest.write_zones(tmp_path / "zones", {"example.test": bad})
    proc = dnstest.run_binary("centrald", ["--db", str(tmp_path / "c.db"), "--zones", str(tmp_path / "zones"),
                                           "--listen", f"127.0.0.1:{dnstest.free_port()}"], cwd=tmp_path)
    assert proc.returncode != 0
    line = EXAMPLE_ZONE.count("\n") + 1
    assert f"example.test.zone:{line}" in proc.stderr, proc.stderr


def test_cannot_bind(tmp_path):
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind((HOST, 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        proc = dnstest.run_binary("centrald", ["--db", str(tmp_path / "c.db"), "--listen", f"127.0.0.1:{port}"],
                                  cwd=tmp_path)
        assert proc.returncode != 0
        assert str(port) in proc.stderr
    finally:
        holder.close()


def test_cannot_open_database(tmp_path):
    proc = dnstest.run_binary("centrald", ["--db", str(tmp_path / "no" / "such" / "dir" / "c.db"),
                                           "--listen", f"127.0.0.1:{dnstest.free_port()}"], cwd=tmp_path)
    assert proc.returncode != 0
    assert "c.db" in proc.stderr


def test_zones_dir_missing(tmp_path):
    proc = dnstest.run_binary("centrald", ["--db", str(tmp_path / "c.db"), "--zones", str(tmp_path / "nope"),
                                           "--listen", f"127.0.0.1:{dnstest.free_port()}"], cwd=tmp_path)
    assert proc.returncode != 0
    assert "nope" in proc.stderr


# --- the per-thread answer cache ----------------------------------------------------------

def mixed_case(name, i):
    """The name with letters upper-cased by the bits of i (DNS 0x20)."""
    return "".join(c.upper() if (i >> (k % 12)) & 1 else c for k, c in enumerate(name))


def test_answer_cache_repeats_rotate_and_keep_case(central):
    # Many repeats of the same questions: after the first, they come from the cache.
    # Every answer must still rotate one step and carry the client's ID and case.
    order = []
    for i in range(24):
        name = mixed_case("rr.example.test.", i * 0x5a5 + 7)
        q = dns.message.make_query(name, "A")
        q.id = 0x3000 + i
        wire = q.to_wire()
        reply = dnstest.send_raw_udp(HOST, central, wire)
        assert reply[:2] == wire[:2]
        qname_len = len(dns.name.from_text(name).to_wire())
        assert reply[12:12 + qname_len] == wire[12:12 + qname_len]  # the bytes, case and all
        r = dns.message.from_wire(reply)
        assert r.answer[0].name.to_text() == name  # the owner points to the question
        order.append(addresses(r)[0])
    for start in range(0, 24, 4):
        assert sorted(order[start:start + 4]) == ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"], order
    # A CNAME chain and an MX answer with additional addresses, asked again with dig in
    # another case: the same records every time.
    # The CNAME targets end in a pointer to the question's suffix: they follow its case too.
    for qname in ["ALIAS.example.TEST.", "alias.EXAMPLE.test.", "ALIAS.example.TEST.", "Alias.Example.Test."]:
        suffix = qname.split(".", 1)[1]
        out = dnstest.dig(HOST, central, qname, "A", "+noall", "+answer", "+question")
        lines = [line.split() for line in out.splitlines()]
        assert [";" + qname, "IN", "A"] in lines, out
        assert [qname, "3600", "IN", "CNAME", "chain2." + suffix] in lines, out
        assert ["www." + suffix, "3600", "IN", "A", "192.0.2.1"] in lines, out
        r = query(HOST, central, suffix, "MX")
        assert [rr.to_text() for rr in r.answer[0]] == ["10 mail." + suffix]
        assert sorted(rrset.rdtype for rrset in r.additional) == [dns.rdatatype.A, dns.rdatatype.AAAA]
    # With and without EDNS and DO, the answers stay apart.
    plain = query(HOST, central, "www.example.test.", "A")
    edns = query(HOST, central, "www.example.test.", "A", want_edns=True, do=True)
    assert plain.edns < 0 and edns.edns == 0 and edns.ednsflags & dns.flags.DO
    assert query(HOST, central, "www.example.test.", "A").edns < 0


def test_answer_cache_off_and_flushed_by_a_new_snapshot(tmp_path):
    # NXDOMAIN asked repeatedly (cached), then the name is imported while centrald runs:
    # the next answer is the new record, not the cached NXDOMAIN.
    daemon, port = dnstest.start_centrald(tmp_path, ZONES, threads=2, wait_name="example.test.")
    try:
        for _ in range(6):
            assert query(HOST, port, "late.example.test.", "A").rcode() == dns.rcode.NXDOMAIN
        zone = tmp_path / "example.test.zone"
        zone.write_text(EXAMPLE_ZONE + "late     A     192.0.2.123\n")
        proc = dnstest.run_tool("dnszone", ["import", str(zone), "--db", str(tmp_path / "central.db"),
                                            "--replace"])
        assert proc.returncode == 0, proc.stderr
        deadline = time.time() + 5
        while query(HOST, port, "late.example.test.", "A").rcode() != dns.rcode.NOERROR:
            assert time.time() < deadline, "import not served"
            time.sleep(0.1)
        for _ in range(6):
            assert addresses(query(HOST, port, "late.example.test.", "A")) == ["192.0.2.123"]
    finally:
        daemon.stop()
    daemon, port = dnstest.start_centrald(tmp_path / "off", ZONES, wait_name="example.test.",
                                          extra_args=["--answer-cache-size", "0"])
    try:
        assert sorted(firsts(port, 4)) == ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]
    finally:
        daemon.stop()
    proc = dnstest.run_binary("centrald", ["--answer-cache-size", "-1"], cwd=tmp_path)
    assert proc.returncode != 0
