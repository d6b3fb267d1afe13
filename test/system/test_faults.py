"""Faults around the daemons: centrald killed with SIGKILL in the middle of a burst of
ADDs, a full disk under centrald's database, centrald going away and coming back behind
proxyd, and upstreams that answer garbage, cut replies, truncated UDP or errors.
(test_proxyd.py already covers serve-stale when everything is down, silent upstreams and
replies with a wrong ID or question; these tests do not repeat them.)"""

import ipaddress
import os
import random
import resource
import signal
import struct
import subprocess
import threading
import time

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest

import abusetest
import addwire
import dnstest
import proxytest

HOST = "127.0.0.1"
POOL = "10.77.0.0/16"

ZONE = """$ORIGIN fault.test.
$TTL 300
@       SOA ns1 hostmaster ( 1 3600 900 604800 60 )
        NS  ns1
ns1     A   192.0.2.53
www     A   192.0.2.1
short 1 A   192.0.2.9
"""


def start_central(workdir, port=None, daemon_class=None):
    """centrald with fault.test and an address pool, on `port` (a free one when None)."""
    port = port or dnstest.free_port()
    args = ["--db", os.path.join(str(workdir), "central.db"), "--listen", f"{HOST}:{port}", "--threads", "2",
            "--pool", POOL, "--zones", dnstest.write_zones(os.path.join(str(workdir), "zones"), {"fault.test": ZONE})]
    d = (daemon_class or dnstest.Daemon)("centrald", args, workdir)
    d.start()
    try:
        d.wait_answering(HOST, port, "fault.test.")
    except Exception:
        d.kill()
        raise
    return d, port


def add(port, name, msg_id, *, count=1, timeout=3.0):
    """One ADD over TCP asking for `count` pool addresses: (rcode, [addresses]) or None
    when the connection failed or nothing came back."""
    try:
        reply = addwire.exchange(HOST, port, addwire.add_request(name, msg_id=msg_id, count=count), timeout=timeout)
    except OSError:
        return None
    if reply is None:
        return None
    _, flags, rcode, msg = addwire.parse_reply(reply)
    assert addwire.opcode_of(flags) == addwire.ADD_OPCODE and flags & 0x8000
    return rcode, sorted(r.address for r in addwire.answer_rdatas(msg, addwire.TYPE_A))


def stored_addresses(port, name):
    """The A records centrald serves for `name` ([] for NXDOMAIN)."""
    r = abusetest.query_retry(HOST, port, name, "A", tcp=True)
    rcode = abusetest.rcode_text(r)
    assert rcode in ("NOERROR", "NXDOMAIN"), f"{name}: {rcode}"
    return sorted(dnstest.addresses(r))


def test_sigkill_during_add_burst_loses_no_acknowledged_add(workdir):
    d, port = start_central(workdir)
    acked = {}  # name -> addresses, for every NOERROR answer received
    sent = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(k):
        for i in range(10_000):
            if stop.is_set():
                return
            name = f"h{k}-{i}.fault.test."
            with lock:
                sent.append(name)
            result = add(port, name, msg_id=(k * 4099 + i) & 0xFFFF, timeout=2.0)
            if result is None:
                return  # the server is gone
            rcode, addrs = result
            assert rcode == 0, f"ADD {name}: rcode {rcode}"
            assert len(addrs) == 1
            with lock:
                acked[name] = addrs

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(6)]
    for t in threads:
        t.start()
    # Kill once the burst is well under way (group commits in flight), at a random moment.
    deadline = time.monotonic() + 10
    while len(acked) < 40 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(random.random() * 0.05)
    d.send_signal(signal.SIGKILL)
    d.wait_exit(timeout=5)
    stop.set()
    for t in threads:
        t.join(timeout=5)
    assert len(acked) >= 40, f"only {len(acked)} ADDs acknowledged before the kill"

    d2, port2 = start_central(workdir)
    try:
        seen = {}
        for name in sent:
            addrs = stored_addresses(port2, name)
            if name in acked:
                assert addrs == acked[name], f"acknowledged {name} {acked[name]} but stored {addrs}"
            for a in addrs:
                assert a not in seen, f"{a} handed out to {seen[a]} and {name}"
                seen[a] = name
                assert ipaddress.ip_address(a) in ipaddress.ip_network(POOL)
        # After the restart the pool goes on where it was: nothing is handed out twice.
        for i in range(20):
            rcode, addrs = add(port2, f"after-{i}.fault.test.", msg_id=0x7000 + i)
            assert rcode == 0 and len(addrs) == 1
            assert addrs[0] not in seen, f"{addrs[0]} handed out again after the restart"
            seen[addrs[0]] = f"after-{i}"
        print(f"kill: {len(sent)} sent, {len(acked)} acknowledged, "
              f"{len(seen) - 20} stored before the kill")
        abusetest.assert_alive(d2)
        d2.stop()
    finally:
        d2.kill()


class XfszIgnoringDaemon(dnstest.Daemon):
    """A Daemon whose process ignores SIGXFSZ, so that a file-size limit (RLIMIT_FSIZE)
    makes its writes fail with EFBIG, as a full disk does, instead of killing it."""

    def start(self):
        os.makedirs(self.workdir, exist_ok=True)
        self._log = open(self.log_path, "wb")
        env = dict(os.environ)
        if self.env:
            env.update(self.env)

        def ignore_xfsz():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

        self.proc = subprocess.Popen([dnstest.binary(self.name)] + self.args, cwd=self.workdir, stdout=self._log,
                                     stderr=subprocess.STDOUT, env=env, preexec_fn=ignore_xfsz)
        return self


def test_disk_full_add_gets_servfail_queries_go_on(workdir):
    """No room left for the database (the process may write no byte past 4 KiB of any
    file: SQLite's WAL frames cannot be written): ADD answers SERVFAIL and logs why,
    nothing of it is stored, queries keep being answered; with room again, ADD works."""
    d, port = start_central(workdir, daemon_class=XfszIgnoringDaemon)
    try:
        rcode, before = add(port, "before.fault.test.", 1)
        assert rcode == 0 and len(before) == 1
        soft, hard = resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE)
        resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE, (4096, hard))
        try:
            for i in range(3):
                result = add(port, f"full-{i}.fault.test.", 100 + i)
                assert result is not None, "no answer to an ADD with the disk full"
                assert result[0] == dns.rcode.SERVFAIL, f"ADD with the disk full: rcode {result[0]}"
                # Queries go on, including what was added before.
                assert stored_addresses(port, "before.fault.test.") == before
                assert stored_addresses(port, "www.fault.test.") == ["192.0.2.1"]
                assert stored_addresses(port, f"full-{i}.fault.test.") == []
            failures = [line for line in d.log().splitlines() if "ADD" in line and "fail" in line.lower()]
            assert failures and ("disk" in failures[-1] or "full" in failures[-1]), \
                f"no reason logged:\n{d.log()[-2000:]}"
        finally:
            resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE, (soft, hard))
        rcode, after = add(port, "after.fault.test.", 200)
        assert rcode == 0 and len(after) == 1 and after != before
        assert stored_addresses(port, "after.fault.test.") == after
        abusetest.assert_alive(d)
        d.stop()
    finally:
        d.kill()


def test_proxyd_recovers_by_itself_when_centrald_returns(workdir):
    central, central_port = start_central(workdir / "central")
    proxy, port = proxytest.start_proxyd(workdir, central_port)
    try:
        assert dnstest.addresses(dnstest.query(HOST, port, "short.fault.test.")) == ["192.0.2.9"]
        central.send_signal(signal.SIGKILL)
        central.wait_exit()
        time.sleep(2.2)  # short.fault.test (TTL 1, kept at least 2 s) is now stale
        # Down: stale data (TTL 30) for what was cached, SERVFAIL in about 2 s for the rest.
        started = time.monotonic()
        r = dnstest.query(HOST, port, "www.fault.test.", timeout=4)
        assert abusetest.rcode_text(r) == "SERVFAIL" and time.monotonic() - started < 2.6
        r = dnstest.query(HOST, port, "short.fault.test.", timeout=4)
        assert dnstest.addresses(r) == ["192.0.2.9"] and r.answer[0].ttl == 30
        # Back on the same address: answered again without touching proxyd.
        central, _ = start_central(workdir / "central", port=central_port)
        recovered = None
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            r = dnstest.query(HOST, port, "www.fault.test.", timeout=4)
            if abusetest.rcode_text(r) == "NOERROR":
                recovered = r
                break
            time.sleep(0.2)
        assert recovered is not None, "proxyd still failing 6 s after centrald came back"
        assert dnstest.addresses(recovered) == ["192.0.2.1"]
        # The stale entry is refreshed too: its TTL is its own again, not 30.
        assert proxytest.wait_for(
            lambda: dnstest.query(HOST, port, "short.fault.test.").answer[0].ttl <= 1, timeout=5)
        abusetest.assert_alive(proxy)
        proxy.stop()
        central.stop()
    finally:
        proxy.kill()
        central.kill()


def misbehaving_upstream(rng):
    """A fake upstream whose behaviour depends on the first label of the qname."""

    def handler(query, raw, transport):
        if query is None or not query.question:
            return []
        q = query.question[0]
        name = q.name.to_text()
        label = q.name.labels[0].decode().lower()
        good = proxytest.answer(query, [(name, 300, "A", "203.0.113.7")])
        if label == "garbage":
            # Random bytes, then random bytes under the right ID: neither is an answer.
            return [rng.randbytes(rng.randrange(1, 200)), raw[:2] + rng.randbytes(rng.randrange(10, 200))]
        if label == "cut":
            wire = good.to_wire()
            return [wire[:len(wire) - 5]]  # the record runs past the end
        if label == "tc":
            if transport == "udp":
                tc = proxytest.answer(query)
                tc.flags |= dns.flags.TC
                return [tc]
            return [good]
        if label == "garbagefirst":
            # Too short for a header, then junk under another ID: both ignored.
            other_id = struct.pack("!H", struct.unpack("!H", raw[:2])[0] ^ 0xFFFF)
            return [b"\x00" * 3, other_id + rng.randbytes(40), good]
        if label == "servfail":
            return [proxytest.answer(query, rcode="SERVFAIL")]
        if label == "formerr":
            return [proxytest.answer(query, rcode="FORMERR")]
        if label == "notauth":
            return [proxytest.answer(query, rcode="NOTAUTH")]
        if label == "query":
            reply = good.to_wire()
            return [reply[:2] + bytes([reply[2] & 0x7F]) + reply[3:]]  # QR clear
        return [good]

    return handler


@pytest.fixture
def bad_upstream(workdir):
    """centrald (fault.test) + the misbehaving fake upstream + proxyd in front of both."""
    central, central_port = start_central(workdir / "central")
    fake = proxytest.FakeServer(misbehaving_upstream(abusetest.rng_for("upstream")))
    try:
        proxy, port = proxytest.start_proxyd(workdir, central_port, [fake.port])
    except Exception:
        fake.close()
        central.kill()
        raise
    yield proxy, port, fake
    proxy.kill()
    fake.close()
    central.kill()


def ask_all(port, labels):
    """Asks `<label>.bad.example A` for every label at once; {label: (rcode, addresses,
    seconds)}, the rcode replaced by "no answer: ..." on silence or a broken reply."""
    results = {}

    def ask(label):
        started = time.monotonic()
        try:
            r = dnstest.query(HOST, port, f"{label}.bad.example.", timeout=5)
            results[label] = (abusetest.rcode_text(r), dnstest.addresses(r), time.monotonic() - started)
        except Exception as e:
            results[label] = (f"no answer: {e!r}", [], time.monotonic() - started)

    threads = [threading.Thread(target=ask, args=(label,)) for label in labels]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=8)
    return results


def test_proxyd_stays_correct_with_misbehaving_upstream(bad_upstream):
    proxy, port, fake = bad_upstream
    results = ask_all(port, ["garbage", "cut", "tc", "garbagefirst", "servfail", "fine"])
    print(f"upstream faults: {results}")
    for label in ("garbage", "cut", "servfail"):
        rcode, addrs, elapsed = results[label]
        assert rcode == "SERVFAIL" and addrs == [], f"{label}: {rcode} {addrs}"
        assert elapsed < 2.6, f"{label}: answered after {elapsed:.1f}s"
    for label in ("tc", "garbagefirst", "fine"):
        rcode, addrs, _ = results[label]
        assert rcode == "NOERROR" and addrs == ["203.0.113.7"], f"{label}: {rcode} {addrs}"
    # The truncated UDP reply was followed by a query over TCP (c-ares' fallback).
    assert [t for t, raw in fake.received if t == "tcp"], "no TCP retry after TC"
    # Errors are not cached: asking again reaches the upstream again.
    before = len(fake.queries("servfail.bad.example."))
    r = dnstest.query(HOST, port, "servfail.bad.example.", timeout=5)
    assert abusetest.rcode_text(r) == "SERVFAIL"
    assert len(fake.queries("servfail.bad.example.")) > before
    # And the good answer is served from the cache, with the client's ID.
    r = dnstest.query(HOST, port, "fine.bad.example.", id=4321)
    assert r.id == 4321 and dnstest.addresses(r) == ["203.0.113.7"]
    abusetest.assert_alive(proxy)
    proxy.stop()


def test_proxyd_upstream_formerr_and_notauth_become_servfail(bad_upstream):
    """An upstream's FORMERR says that our query was malformed, NOTAUTH that it is not
    authoritative: neither is the client's fault, so the client gets SERVFAIL (what
    Unbound and BIND answer), not the upstream's rcode."""
    proxy, port, _ = bad_upstream
    results = ask_all(port, ["formerr", "notauth"])
    for label in ("formerr", "notauth"):
        rcode, addrs, elapsed = results[label]
        assert rcode == "SERVFAIL" and addrs == [], f"{label}: {rcode} {addrs}"
        assert elapsed < 2.6


def test_proxyd_ignores_upstream_reply_without_qr(bad_upstream):
    """A packet with QR clear is a query, not a reply (RFC 1035 §4.1.1): never an answer."""
    proxy, port, fake = bad_upstream
    for _ in range(2):  # and not cached: the second time is asked upstream again
        rcode, addrs, _ = ask_all(port, ["query"])["query"]
        assert rcode == "SERVFAIL" and addrs == [], f"QR=0 reply taken as an answer: {rcode} {addrs}"
    assert len(fake.queries("query.bad.example.")) >= 2
