"""proxyd against real binaries: a centrald holding corp.test, a second centrald standing
in as the upstream resolver (upstream.example), and fake upstreams written here when a
test needs to control or count what the upstream sees."""

import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

import dnstest
import proxytest

CORP = """$ORIGIN corp.test.
$TTL 300
@       SOA ns1 hostmaster ( 1 3600 900 604800 60 )
        NS  ns1
ns1     A   192.0.2.53
www     A   192.0.2.1
        A   192.0.2.2
        A   192.0.2.3
short 1 A   192.0.2.9
v4only  A   192.0.2.10
alias   CNAME www.upstream.example.
mail    MX  10 ns1
big     TXT "{t}" "{t}"
big     TXT "{u}" "{u}"
""".format(t="a" * 200, u="b" * 200)

UPSTREAM = """$ORIGIN upstream.example.
$TTL 300
@       SOA ns hostmaster ( 1 3600 900 604800 120 )
        NS  ns
ns      A   198.51.100.53
www     A   198.51.100.1
dual    A   198.51.100.2
        AAAA 2001:db8::2
"""

LOCAL = """$ORIGIN home.lan.
$TTL 600
@       SOA ns hostmaster ( 1 3600 900 604800 60 )
        NS  ns
ns      A   10.0.0.53
nas     A   10.0.0.2
"""


@pytest.fixture
def stack(workdir):
    """centrald (corp.test) + upstream centrald (upstream.example) + proxyd."""
    started = []
    central, central_port = dnstest.start_centrald(workdir / "central", {"corp.test": CORP})
    started.append(central)
    upstream, upstream_port = dnstest.start_centrald(workdir / "upstream", {"upstream.example": UPSTREAM})
    started.append(upstream)
    proxy, port = proxytest.start_proxyd(workdir, central_port, [upstream_port])
    started.append(proxy)

    class Stack:
        pass

    s = Stack()
    s.central, s.central_port, s.upstream, s.upstream_port, s.proxy, s.port = (
        central, central_port, upstream, upstream_port, proxy, port)
    yield s
    for d in started:
        d.kill()


def q(port, name, rdtype="A", **kwargs):
    return dnstest.query("127.0.0.1", port, name, rdtype, **kwargs)


def test_help_version_and_bad_flags():
    helped = dnstest.run_binary("proxyd", ["--help"])
    assert helped.returncode == 0
    for flag in ("--listen", "--central", "--upstream", "--db", "--cache-size", "--threads", "--allow",
                 "--allow-add", "--log-queries", "--config"):
        assert flag in helped.stdout
    version = dnstest.run_binary("proxyd", ["--version"])
    assert version.returncode == 0 and "proxyd" in version.stdout
    bad = dnstest.run_binary("proxyd", ["--upstream", "1.2.3.4"])
    assert bad.returncode != 0 and "--upstream" in bad.stderr
    assert dnstest.run_binary("proxyd", ["--no-such-flag"]).returncode != 0
    missing = dnstest.run_binary("proxyd", ["--db", "/nonexistent/local.db", "--listen", "127.0.0.1:0"])
    assert missing.returncode != 0 and "local.db" in missing.stderr


def test_config_file(workdir):
    central, central_port = dnstest.start_centrald(workdir / "central", {"corp.test": CORP})
    port = dnstest.free_port()
    conf = proxytest.write_file(workdir / "proxyd.conf",
                                f'listen = ["127.0.0.1:{port}"]\ncentral = "127.0.0.1:{central_port}"\n'
                                'threads = 1\ncache-size = 50\n')
    proxy = dnstest.Daemon("proxyd", ["--config", conf], workdir).start()
    try:
        proxy.wait_answering("127.0.0.1", port, "www.corp.test.", "A")
        assert sorted(dnstest.addresses(q(port, "www.corp.test."))) == ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
        proxy.stop()
    finally:
        proxy.kill()
        central.kill()


def test_centrald_upstream_and_refused_without_upstream(stack, workdir):
    r = q(stack.port, "www.corp.test.")
    assert dnstest.rcode_of(r) == "NOERROR"
    assert sorted(dnstest.addresses(r)) == ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
    assert r.flags & dns.flags.RA and not r.flags & dns.flags.AA
    r = q(stack.port, "www.upstream.example.")
    assert dnstest.addresses(r) == ["198.51.100.1"]
    assert r.flags & dns.flags.RA and not r.flags & dns.flags.AA
    # Over TCP as well.
    r = q(stack.port, "www.upstream.example.", tcp=True)
    assert dnstest.addresses(r) == ["198.51.100.1"]

    # No --upstream: names outside centrald's zones are REFUSED; centrald's still work.
    alone, port = proxytest.start_proxyd(workdir, stack.central_port)
    try:
        r = q(port, "www.upstream.example.")
        assert dnstest.rcode_of(r) == "REFUSED" and r.flags & dns.flags.RA
        assert dnstest.addresses(q(port, "v4only.corp.test.")) == ["192.0.2.10"]
        alone.stop()
    finally:
        alone.kill()
    stack.proxy.stop()


def test_local_records_first_and_reloaded(workdir):
    central, central_port = dnstest.start_centrald(workdir / "central", {"corp.test": CORP})
    db = workdir / "local.db"
    proxytest.dnszone_import(proxytest.write_file(workdir / "home.lan.zone", LOCAL), db)
    proxy, port = proxytest.start_proxyd(workdir, central_port, extra_args=["--db", str(db)])
    try:
        r = q(port, "nas.home.lan.")
        assert dnstest.addresses(r) == ["10.0.0.2"]
        assert r.flags & dns.flags.AA and r.flags & dns.flags.RA
        r = q(port, "nothing.home.lan.")
        assert dnstest.rcode_of(r) == "NXDOMAIN"
        # Local records shadow centrald: a local zone named like centrald's wins.
        shadow = CORP.replace("192.0.2.10", "10.9.9.9")
        proxytest.dnszone_import(proxytest.write_file(workdir / "corp.test.zone", shadow), db)
        assert proxytest.wait_for(lambda: dnstest.addresses(q(port, "v4only.corp.test.")) == ["10.9.9.9"],
                                  timeout=3.0)
        proxy.stop()
    finally:
        proxy.kill()
        central.kill()


def test_ttl_counts_down_and_rotation_on_cache_hits(stack):
    first = q(stack.port, "www.upstream.example.")
    ttl0 = first.answer[0].ttl
    assert 299 <= ttl0 <= 300
    time.sleep(2.1)
    later = q(stack.port, "www.upstream.example.")
    assert ttl0 - 3 <= later.answer[0].ttl <= ttl0 - 2
    # Three addresses, three consecutive answers: each first exactly once.
    q(stack.port, "www.corp.test.")
    firsts = [dnstest.addresses(q(stack.port, "www.corp.test."))[0] for _ in range(3)]
    assert sorted(firsts) == ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
    firsts = [dnstest.addresses(q(stack.port, "www.corp.test."))[0] for _ in range(6)]
    assert sorted(firsts) == sorted(["192.0.2.1", "192.0.2.2", "192.0.2.3"] * 2)


def test_question_case_id_and_edns(stack):
    r = q(stack.port, "WwW.CoRp.TeSt.", id=4321)
    assert r.id == 4321
    assert r.question[0].name.to_text() == "WwW.CoRp.TeSt."
    r = q(stack.port, "www.corp.test.", want_edns=True, do=True)
    assert r.edns == 0 and r.payload == 1232 and r.ednsflags & dns.flags.DO
    r = q(stack.port, "www.corp.test.")
    assert r.edns == -1
    # Too big for 512 bytes: TC over UDP, everything over TCP.
    r = q(stack.port, "big.corp.test.", "TXT")
    assert r.flags & dns.flags.TC
    r = q(stack.port, "big.corp.test.", "TXT", tcp=True)
    assert not r.flags & dns.flags.TC and len(r.answer[0]) == 2
    r = q(stack.port, "big.corp.test.", "TXT", want_edns=True, payload=4096)
    assert not r.flags & dns.flags.TC and len(r.answer[0]) == 2


def test_nodata_for_a_only_name_and_nxdomain(stack):
    r = q(stack.port, "v4only.corp.test.", "AAAA")
    assert dnstest.rcode_of(r) == "NOERROR" and not r.answer
    assert r.authority and r.authority[0].rdtype == dns.rdatatype.SOA
    assert r.authority[0].ttl <= 60  # min(SOA TTL, SOA MINIMUM), RFC 2308
    r = q(stack.port, "nope.upstream.example.")
    assert dnstest.rcode_of(r) == "NXDOMAIN"
    assert r.authority[0].ttl <= 120


def test_cname_out_of_centrald_is_completed_through_the_upstream(stack):
    r = q(stack.port, "alias.corp.test.")
    assert dnstest.rcode_of(r) == "NOERROR"
    types = [(rrset.name.to_text(), dns.rdatatype.to_text(rrset.rdtype)) for rrset in r.answer]
    assert types == [("alias.corp.test.", "CNAME"), ("www.upstream.example.", "A")]
    assert dnstest.addresses(r) == ["198.51.100.1"]
    # And again from the cache.
    r = q(stack.port, "alias.corp.test.")
    assert dnstest.addresses(r) == ["198.51.100.1"] and len(r.answer) == 2


def test_allow_refuses_other_sources(workdir):
    central, central_port = dnstest.start_centrald(workdir / "central", {"corp.test": CORP})
    proxy, port = proxytest.start_proxyd(workdir, central_port, extra_args=["--allow", "127.0.0.1/32"])
    try:
        query = dnstest.make_query("www.corp.test.", "A").to_wire()
        ok = dns.message.from_wire(proxytest.udp_from("127.0.0.1", "127.0.0.1", port, query))
        assert dnstest.rcode_of(ok) == "NOERROR"
        refused = dns.message.from_wire(proxytest.udp_from("127.0.0.2", "127.0.0.1", port, query))
        assert dnstest.rcode_of(refused) == "REFUSED"
        assert refused.flags & dns.flags.RA
        proxy.stop()
    finally:
        proxy.kill()
        central.kill()


def fake_zone_handler(zone, ttl=300, delay=0.0):
    """Answers A for names under `zone` with 203.0.113.7, NXDOMAIN + SOA for nx.*,
    REFUSED elsewhere."""
    def handler(query, raw, transport):
        if query is None or not query.question:
            return []
        if delay:
            time.sleep(delay)
        name = query.question[0].name.to_text()
        if not name.endswith(zone):
            return [proxytest.answer(query, rcode="REFUSED")]
        soa = (zone, 300, "SOA", f"ns.{zone} host.{zone} 1 3600 900 604800 {ttl}")
        if name.startswith("nx"):
            return [proxytest.answer(query, rcode="NXDOMAIN", authority=[soa])]
        return [proxytest.answer(query, [(name, ttl, "A", "203.0.113.7")])]
    return handler


@pytest.fixture
def central_only(workdir):
    central, port = dnstest.start_centrald(workdir / "central", {"corp.test": CORP})
    yield central, port
    central.kill()


def test_wrong_id_or_question_replies_are_dropped(workdir, central_only):
    _, central_port = central_only

    def handler(query, raw, transport):
        if query is None or not query.question:
            return []
        name = query.question[0].name.to_text()
        right = proxytest.answer(query, [(name, 300, "A", "203.0.113.1")])
        wrong_id = proxytest.answer(query, [(name, 300, "A", "203.0.113.66")])
        wrong_id.id = (query.id + 1) & 0xFFFF
        forged = "x" + name
        other = dns.message.make_query(forged, "A")
        other.id = query.id
        wrong_question = proxytest.answer(other, [(forged, 300, "A", "203.0.113.67")])
        return [wrong_id, wrong_question, right]

    fake = proxytest.FakeServer(handler)
    proxy, port = proxytest.start_proxyd(workdir, central_port, [fake.port])
    try:
        r = q(port, "host.fake.test.")
        assert dnstest.addresses(r) == ["203.0.113.1"]
        r = q(port, "xhost.fake.test.")  # the forged answer was not cached either
        assert dnstest.addresses(r) == ["203.0.113.1"]
        assert len(fake.queries("xhost.fake.test.")) == 1
        proxy.stop()
    finally:
        proxy.kill()
        fake.close()


def test_out_of_bailiwick_records_not_cached(workdir, central_only):
    _, central_port = central_only

    def handler(query, raw, transport):
        if query is None or not query.question:
            return []
        name = query.question[0].name.to_text()
        if name == "www.fake.test.":
            return [proxytest.answer(query, [(name, 300, "A", "203.0.113.1"),
                                             ("victim.other.test.", 300, "A", "203.0.113.66")],
                                     additional=[("ns.victim2.test.", 300, "A", "203.0.113.66")])]
        return [proxytest.answer(query, [(name, 300, "A", "203.0.113.2")])]

    fake = proxytest.FakeServer(handler)
    proxy, port = proxytest.start_proxyd(workdir, central_port, [fake.port])
    try:
        r = q(port, "www.fake.test.")
        assert dnstest.addresses(r) == ["203.0.113.1"]
        assert not r.additional
        assert dnstest.addresses(q(port, "victim.other.test.")) == ["203.0.113.2"]
        assert dnstest.addresses(q(port, "ns.victim2.test.")) == ["203.0.113.2"]
        assert len(fake.queries("victim.other.test.")) == 1
        proxy.stop()
    finally:
        proxy.kill()
        fake.close()


def test_negative_caching_and_refused_learning(workdir, central_only):
    _, central_port = central_only
    fake = proxytest.FakeServer(fake_zone_handler("fake.test."))
    proxy, port = proxytest.start_proxyd(workdir, central_port, [fake.port], extra_args=["--log-queries"])
    try:
        for _ in range(3):
            r = q(port, "nx1.fake.test.")
            assert dnstest.rcode_of(r) == "NXDOMAIN"
        assert len(fake.queries("nx1.fake.test.")) == 1
        for _ in range(3):
            r = q(port, "host.fake.test.", "A")
        assert len(fake.queries("host.fake.test.")) == 1
        proxy.stop()
    finally:
        proxy.kill()
        fake.close()


def test_eviction_at_cache_size(workdir, central_only):
    _, central_port = central_only
    fake = proxytest.FakeServer(fake_zone_handler("fake.test."))
    proxy, port = proxytest.start_proxyd(workdir, central_port, [fake.port], extra_args=["--cache-size", "10"])
    try:
        names = [f"n{i}.fake.test." for i in range(11)]
        for name in names[:10]:
            q(port, name)
        q(port, names[0])  # a hit: n0 becomes the most recently used
        assert len(fake.queries(names[0])) == 1
        q(port, names[10])  # the 11th entry evicts the least recently used: n1
        q(port, names[0])
        assert len(fake.queries(names[0])) == 1
        q(port, names[1])
        assert len(fake.queries(names[1])) == 2
        proxy.stop()
    finally:
        proxy.kill()
        fake.close()


def test_concurrent_identical_misses_share_one_upstream_query(workdir, central_only):
    _, central_port = central_only
    fake = proxytest.FakeServer(fake_zone_handler("fake.test.", delay=0.25))
    proxy, port = proxytest.start_proxyd(workdir, central_port, [fake.port], threads=2)
    try:
        results = []
        barrier = threading.Barrier(100)

        def client():
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(4)
            try:
                barrier.wait()
                s.sendto(dnstest.make_query("same.fake.test.", "A").to_wire(), ("127.0.0.1", port))
                results.append(dns.message.from_wire(s.recvfrom(65535)[0]))
            except Exception as e:  # noqa: BLE001 - counted below
                results.append(e)
            finally:
                s.close()

        threads = [threading.Thread(target=client) for _ in range(100)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        answers = [r for r in results if isinstance(r, dns.message.Message)]
        assert len(answers) == 100
        assert all(dnstest.addresses(r) == ["203.0.113.7"] for r in answers)
        assert len(fake.queries("same.fake.test.")) == 1
        proxy.stop()
    finally:
        proxy.kill()
        fake.close()


def test_serve_stale_and_servfail_when_everything_is_down(stack):
    r = q(stack.port, "short.corp.test.")
    assert dnstest.addresses(r) == ["192.0.2.9"]
    r = q(stack.port, "www.upstream.example.")
    assert dnstest.addresses(r) == ["198.51.100.1"]
    stack.central.send_signal(signal.SIGKILL)
    stack.upstream.send_signal(signal.SIGKILL)
    time.sleep(3)  # short.corp.test (TTL 1) has expired
    r = q(stack.port, "short.corp.test.", timeout=4)
    assert dnstest.rcode_of(r) == "NOERROR"
    assert dnstest.addresses(r) == ["192.0.2.9"]
    assert r.answer[0].ttl == 30
    # Still fresh: straight from the cache with its own TTL.
    r = q(stack.port, "www.upstream.example.")
    assert 290 <= r.answer[0].ttl <= 300
    # Never cached: SERVFAIL within the client's patience, not silence.
    started = time.monotonic()
    r = q(stack.port, "never.corp.test.", timeout=4)
    elapsed = time.monotonic() - started
    assert dnstest.rcode_of(r) == "SERVFAIL" and r.flags & dns.flags.RA
    assert elapsed < 2.5
    r = q(stack.port, "never.upstream.example.", tcp=True, timeout=4)
    assert dnstest.rcode_of(r) == "SERVFAIL"
    stack.proxy.stop()


def test_servfail_in_about_two_seconds_when_servers_are_silent(workdir):
    silent = proxytest.FakeServer(lambda query, raw, transport: [])
    proxy, port = proxytest.start_proxyd(workdir, silent.port, [silent.port], wait=False)
    try:
        time.sleep(0.5)
        started = time.monotonic()
        r = q(port, "quiet.example.", timeout=5)
        elapsed = time.monotonic() - started
        assert dnstest.rcode_of(r) == "SERVFAIL"
        assert 1.0 < elapsed < 2.5
        proxy.stop()
    finally:
        proxy.kill()
        silent.close()


def test_add_relayed_byte_for_byte_on_both_transports(workdir):
    """A fake centrald records the ADD it receives and answers a canned reply; proxyd must
    pass both through unchanged and drop what it had cached for the name."""
    created = set()

    def handler(query, raw, transport):
        if len(raw) >= 4 and (raw[2] >> 3) & 0x0F == 14:
            created.add("new.fake.test.")
            # An ADD reply: QR=1, opcode 14, NOERROR, question echoed, one A record.
            reply = bytearray(raw)
            reply[2] |= 0x80
            reply[3] = 0
            # Turn the authority record into an answer record: counts 1/1/0/0.
            reply[6:12] = b"\x00\x01\x00\x00\x00\x00"
            return [bytes(reply)]
        if query is None or not query.question:
            return []
        name = query.question[0].name.to_text()
        soa = ("fake.test.", 300, "SOA", "ns.fake.test. host.fake.test. 1 3600 900 604800 300")
        if name in created:
            return [proxytest.answer(query, [(name, 300, "A", "203.0.113.99")], aa=True)]
        return [proxytest.answer(query, rcode="NXDOMAIN", authority=[soa], aa=True)]

    fake_central = proxytest.FakeServer(handler)
    proxy, port = proxytest.start_proxyd(workdir, fake_central.port,
                                         extra_args=["--allow", "127.0.0.0/8", "--allow-add", "127.0.0.1/32"])
    try:
        r = q(port, "new.fake.test.")
        assert dnstest.rcode_of(r) == "NXDOMAIN"
        r = q(port, "new.fake.test.")
        assert dnstest.rcode_of(r) == "NXDOMAIN"
        assert len(fake_central.queries("new.fake.test.", "A")) == 1  # cached negative

        request = proxytest.add_request("new.fake.test.", ["203.0.113.99"])
        reply = proxytest.udp_from("127.0.0.1", "127.0.0.1", port, request)
        adds = [raw for transport, raw in fake_central.received if len(raw) > 3 and (raw[2] >> 3) & 15 == 14]
        assert adds == [request]
        assert reply[3] & 0x0F == 0 and reply[:2] == request[:2]
        # The negative entry is gone: the new name resolves at once.
        r = q(port, "new.fake.test.")
        assert dnstest.addresses(r) == ["203.0.113.99"]

        tcp_reply = dnstest.tcp_exchange("127.0.0.1", port, [request])[0]
        tcp_adds = [raw for transport, raw in fake_central.received if transport == "tcp"]
        assert tcp_adds == [request]
        assert tcp_reply == reply

        # From outside --allow-add: REFUSED, nothing relayed.
        before = len(fake_central.received)
        refused = proxytest.udp_from("127.0.0.2", "127.0.0.1", port, request)
        assert refused[3] & 0x0F == dns.rcode.REFUSED
        assert len(fake_central.received) == before
        proxy.stop()
    finally:
        proxy.kill()
        fake_central.close()


def test_add_through_proxy_to_real_centrald(stack):
    r = q(stack.port, "added.corp.test.")
    assert dnstest.rcode_of(r) == "NXDOMAIN"
    reply = proxytest.udp_from("127.0.0.1", "127.0.0.1", stack.port,
                               proxytest.add_request("added.corp.test.", ["192.0.2.77"]))
    rcode = reply[3] & 0x0F
    if rcode == dns.rcode.NOTIMP:
        pytest.skip("centrald does not implement ADD yet (NOTIMP)")
    assert rcode == dns.rcode.NOERROR
    r = q(stack.port, "added.corp.test.")
    assert dnstest.addresses(r) == ["192.0.2.77"]


def test_sigterm_stops_cleanly(stack):
    q(stack.port, "www.corp.test.")
    stack.proxy.stop(signal.SIGINT)


def test_getaddrinfo_as_system_resolver(workdir):
    """glibc sends A and AAAA at once on one socket; both must be answered."""
    if shutil.which("unshare") is None or shutil.which("getent") is None:
        pytest.skip("unshare or getent not available")
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"unshare -m not permitted: {probe.stderr.decode().strip()}")
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 53))
        s.close()
    except OSError as e:
        pytest.skip(f"port 53 on 127.0.0.1 unavailable: {e}")
    central, central_port = dnstest.start_centrald(workdir / "central", {"corp.test": CORP})
    upstream, upstream_port = dnstest.start_centrald(workdir / "upstream", {"upstream.example": UPSTREAM})
    proxy, _ = proxytest.start_proxyd(workdir, central_port, [upstream_port], port=53)
    resolv = proxytest.write_file(workdir / "resolv.conf", "nameserver 127.0.0.1\noptions timeout:2 attempts:1\n")
    try:
        def ahosts(name):
            return subprocess.run(
                ["unshare", "-m", "sh", "-c", f"mount --bind {resolv} /etc/resolv.conf && getent ahosts {name}"],
                capture_output=True, text=True, timeout=15)
        out = ahosts("v4only.corp.test")
        assert out.returncode == 0, out.stderr
        assert "192.0.2.10" in out.stdout
        out = ahosts("dual.upstream.example")
        assert out.returncode == 0, out.stderr
        assert "198.51.100.2" in out.stdout and "2001:db8::2" in out.stdout
        proxy.stop()
    finally:
        proxy.kill()
        central.kill()
        upstream.kill()


def test_binds_beside_an_mdns_style_wildcard_holder(workdir, central_only):
    """An mDNS responder holds UDP *:PORT with SO_REUSEADDR; proxyd still binds
    127.0.0.1:PORT (SO_REUSEADDR) and gets the unicast queries sent there."""
    _, central_port = central_only
    port = dnstest.free_port()
    holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("0.0.0.0", port))
    try:
        proxy, _ = proxytest.start_proxyd(workdir, central_port, port=port)
        try:
            assert dnstest.addresses(q(port, "v4only.corp.test.")) == ["192.0.2.10"]
            proxy.stop()
        finally:
            proxy.kill()
    finally:
        holder.close()


def test_truncated_upstream_reply_retried_over_tcp(workdir, central_only):
    _, central_port = central_only

    def handler(query, raw, transport):
        if query is None or not query.question:
            return []
        name = query.question[0].name.to_text()
        full = proxytest.answer(query, [(name, 300, "A", f"203.0.113.{i}") for i in range(1, 4)])
        if transport == "udp":
            truncated = proxytest.answer(query)
            truncated.flags |= dns.flags.TC
            return [truncated]
        return [full]

    fake = proxytest.FakeServer(handler)
    proxy, port = proxytest.start_proxyd(workdir, central_port, [fake.port])
    try:
        r = q(port, "tc.fake.test.")
        assert not r.flags & dns.flags.TC
        assert sorted(dnstest.addresses(r)) == ["203.0.113.1", "203.0.113.2", "203.0.113.3"]
        assert any(t == "tcp" for t, _ in fake.received)
        proxy.stop()
    finally:
        proxy.kill()
        fake.close()


def test_second_upstream_used_when_the_first_is_down(workdir, central_only):
    _, central_port = central_only
    dead_port = dnstest.free_port()  # nothing listens there: ICMP port unreachable
    fake = proxytest.FakeServer(fake_zone_handler("fake.test."))
    proxy, port = proxytest.start_proxyd(workdir, central_port, [dead_port, fake.port])
    try:
        r = q(port, "host.fake.test.")
        assert dnstest.addresses(r) == ["203.0.113.7"]
        proxy.stop()
    finally:
        proxy.kill()
        fake.close()


def test_refused_and_soa_teach_where_names_belong(workdir):
    """A fake centrald holding zone corp.fake. (NXDOMAIN + SOA), REFUSED elsewhere: after
    one REFUSED a name goes straight to the upstream; after an SOA the zone stays
    centrald's."""
    soa = ("corp.fake.", 300, "SOA", "ns.corp.fake. host.corp.fake. 1 3600 900 604800 300")

    def central_handler(query, raw, transport):
        if query is None or not query.question:
            return []
        name = query.question[0].name.to_text()
        if name.endswith("corp.fake."):
            if name.startswith("www."):
                return [proxytest.answer(query, [(name, 300, "A", "192.0.2.80")], aa=True)]
            return [proxytest.answer(query, rcode="NXDOMAIN", authority=[soa], aa=True)]
        return [proxytest.answer(query, rcode="REFUSED")]

    central = proxytest.FakeServer(central_handler)
    upstream = proxytest.FakeServer(fake_zone_handler("fake.test."))
    proxy, port = proxytest.start_proxyd(workdir, central.port, [upstream.port])
    try:
        assert dnstest.addresses(q(port, "a.fake.test.", "A")) == ["203.0.113.7"]
        q(port, "a.fake.test.", "MX")  # another key for the same name: not cached yet
        assert len(central.queries("a.fake.test.")) == 1
        assert len(upstream.queries("a.fake.test.")) == 2

        assert dnstest.rcode_of(q(port, "nx.corp.fake.")) == "NXDOMAIN"
        assert dnstest.addresses(q(port, "www.corp.fake.")) == ["192.0.2.80"]
        assert not upstream.queries("nx.corp.fake.") and not upstream.queries("www.corp.fake.")
        proxy.stop()
    finally:
        proxy.kill()
        central.close()
        upstream.close()


KEY = "hmac-sha256:proxy-test-key.:" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I="
WRONG_KEY = "hmac-sha256:proxy-test-key.:" + "d3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmctd3I="


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_dnsadd_through_proxyd_keeps_tsig_valid(workdir, transport):
    """dnsadd signs, proxyd relays byte for byte, centrald verifies: the signature holds end
    to end; a wrong key is refused by centrald and changes nothing. Negative entries for
    the new name and its alias are dropped from the cache."""
    try:
        dnstest.binary("dnsadd")
    except FileNotFoundError as e:
        pytest.skip(str(e))
    central, central_port = dnstest.start_centrald(workdir / "central", {"corp.test": CORP},
                                                   extra_args=["--tsig-key", KEY])
    proxy, port = proxytest.start_proxyd(workdir, central_port)
    udp = ["--udp"] if transport == "udp" else []
    try:
        name, alias = f"signed-{transport}.corp.test.", f"other-{transport}.corp.test."
        assert dnstest.rcode_of(q(port, name)) == "NXDOMAIN"
        assert dnstest.rcode_of(q(port, alias)) == "NXDOMAIN"
        bad = dnstest.run_tool("dnsadd", [name, "--ip", "192.0.2.91", "--server", f"127.0.0.1:{port}",
                                          "--key", WRONG_KEY] + udp)
        assert bad.returncode != 0
        assert dnstest.rcode_of(q(port, name)) == "NXDOMAIN"
        good = dnstest.run_tool("dnsadd", [name, "--ip", "192.0.2.91", "--alias", alias,
                                           "--server", f"127.0.0.1:{port}", "--key", KEY] + udp)
        assert good.returncode == 0, good.stderr
        assert "192.0.2.91" in good.stdout
        r = q(port, name)
        assert dnstest.addresses(r) == ["192.0.2.91"]
        r = q(port, alias)
        assert dnstest.addresses(r) == ["192.0.2.91"] and r.answer[0].rdtype == dns.rdatatype.CNAME
        proxy.stop()
    finally:
        proxy.kill()
        central.kill()
