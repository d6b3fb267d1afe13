"""ADD (opcode 14) end to end against the real centrald and dnsadd (SPEC "ADD")."""

import concurrent.futures
import ipaddress
import os
import signal
import socket
import sqlite3
import struct
import threading
import time

import dns.rdatatype
import pytest

import addwire as aw
from dnstest import (Daemon, dig, free_port, query, rcode_of, addresses, run_tool, start_centrald)

ZONE = """$ORIGIN example.test.
$TTL 3600
@     IN SOA ns1 hostmaster 100 7200 900 1209600 300
      IN NS  ns1
ns1   IN A   192.0.2.53
taken IN A   192.0.2.10
"""

POOL = "10.99.0.0/24"


@pytest.fixture
def central(tmp_path):
    d, port = start_centrald(tmp_path, {"example.test": ZONE}, extra_args=["--pool", POOL], threads=2,
                             wait_name="example.test.")
    yield d, port, tmp_path
    d.kill()


def dnsadd(port, *args, timeout=10):
    return run_tool("dnsadd", list(args) + ["--server", f"127.0.0.1:{port}", "--timeout", "5"], timeout=timeout)


def soa_serial(port, zone="example.test."):
    r = query("127.0.0.1", port, zone, "SOA")
    return r.answer[0][0].serial


def db_rows(workdir, sql):
    con = sqlite3.connect(os.path.join(str(workdir), "central.db"))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_add_in_existing_zone_bumps_serial_and_answers_at_once(central):
    d, port, _ = central
    before = soa_serial(port)
    p = dnsadd(port, "web.example.test", "--count", "2", "--alias", "www.example.test", "--mx", "10:mail.example.test",
               "--ttl", "600")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().splitlines()
    # One master-file line per stored record: 2 A, 1 CNAME, 1 MX.
    assert len(lines) == 4, p.stdout
    fields = [l.split("\t") for l in lines]
    assert [f[3] for f in fields] == ["A", "A", "CNAME", "MX"]
    assert all(f[1] == "600" and f[2] == "IN" for f in fields)
    generated = sorted(f[4] for f in fields if f[3] == "A")
    assert all(ipaddress.ip_address(a) in ipaddress.ip_network(POOL) for a in generated)
    assert fields[2][0] == "www.example.test." and fields[2][4] == "web.example.test."
    # Visible at once, through UDP and TCP.
    assert sorted(addresses(query("127.0.0.1", port, "web.example.test.", "A"))) == generated
    assert sorted(addresses(query("127.0.0.1", port, "web.example.test.", "A", tcp=True))) == generated
    r = query("127.0.0.1", port, "www.example.test.", "A")
    assert r.answer[0].rdtype == dns.rdatatype.CNAME
    assert "10 mail.example.test." in dig("127.0.0.1", port, "+short", "web.example.test", "MX")
    assert soa_serial(port) == before + 1


def test_new_zone_is_created_and_served_at_once(central):
    d, port, _ = central
    assert rcode_of(query("127.0.0.1", port, "shop.newzone.", "A")) == "REFUSED"
    p = dnsadd(port, "shop.newzone", "--ip", "192.0.2.77", "--ip", "2001:db8::77", "--alias", "www.shop.newzone")
    assert p.returncode == 0, p.stderr
    types = [l.split("\t")[3] for l in p.stdout.strip().splitlines()]
    assert types == ["SOA", "NS", "A", "AAAA", "CNAME"], p.stdout
    r = query("127.0.0.1", port, "shop.newzone.", "A")
    assert rcode_of(r) == "NOERROR" and addresses(r) == ["192.0.2.77"]
    assert addresses(query("127.0.0.1", port, "shop.newzone.", "AAAA"), "AAAA") == ["2001:db8::77"]
    soa = query("127.0.0.1", port, "shop.newzone.", "SOA")
    assert soa.answer[0].rdtype == dns.rdatatype.SOA and soa.flags & 0x0400  # AA
    assert rcode_of(query("127.0.0.1", port, "nothing.shop.newzone.", "A")) == "NXDOMAIN"


def test_existing_name_or_alias_is_yxdomain_and_changes_nothing(central):
    d, port, workdir = central
    serial = soa_serial(port)
    allocations = db_rows(workdir, "SELECT count(*) FROM address_allocations")[0][0]
    records = db_rows(workdir, "SELECT count(*) FROM records")[0][0]
    p = dnsadd(port, "taken.example.test", "--count", "1")
    assert p.returncode == 3, (p.returncode, p.stderr)
    assert "exists" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    # A fresh NAME whose alias exists: nothing of it is stored either.
    p = dnsadd(port, "fresh.example.test", "--count", "1", "--alias", "taken.example.test")
    assert p.returncode == 3
    assert rcode_of(query("127.0.0.1", port, "fresh.example.test.", "A")) == "NXDOMAIN"
    assert soa_serial(port) == serial
    assert db_rows(workdir, "SELECT count(*) FROM address_allocations")[0][0] == allocations
    assert db_rows(workdir, "SELECT count(*) FROM records")[0][0] == records


def test_retransmission_gets_the_same_answer_and_one_allocation(central):
    d, port, workdir = central
    wire = aw.add_request("retry.example.test.", msg_id=0x1234, count=1)
    first = aw.exchange("127.0.0.1", port, wire, tcp=False)
    second = aw.exchange("127.0.0.1", port, wire, tcp=False)
    third = aw.exchange("127.0.0.1", port, wire, tcp=True)  # same source address, over TCP
    assert first is not None and first == second == third
    _, flags, rcode, msg = aw.parse_reply(first)
    assert rcode == 0 and aw.opcode_of(flags) == aw.ADD_OPCODE and flags & 0x8000
    assert db_rows(workdir, "SELECT count(*) FROM address_allocations WHERE name = 'retry.example.test.'")[0][0] == 1
    # Another ID is another request: the name exists now.
    other = aw.add_request("retry.example.test.", msg_id=0x1235, count=1)
    assert aw.parse_reply(aw.exchange("127.0.0.1", port, other))[2] == 6  # YXDOMAIN


def test_refused_outside_allow_add(tmp_path):
    d, port = start_centrald(tmp_path, {"example.test": ZONE}, wait_name="example.test.",
                             extra_args=["--pool", POOL, "--allow-add", "127.0.0.1/32"])
    try:
        wire = aw.add_request("far.example.test.", count=1)
        reply = aw.exchange("127.0.0.1", port, wire, tcp=False, source="127.0.0.2")
        assert reply is not None
        assert aw.parse_reply(reply)[2] == 5  # REFUSED
        assert rcode_of(query("127.0.0.1", port, "far.example.test.", "A")) == "NXDOMAIN"
        # From an allowed source it works; dnsadd reports REFUSED with exit 4.
        assert aw.parse_reply(aw.exchange("127.0.0.1", port, wire, source="127.0.0.1"))[2] == 0
        assert "REFUSED" in d.log()
    finally:
        d.stop()


def test_refused_exit_code_of_dnsadd(tmp_path):
    d, port = start_centrald(tmp_path, {"example.test": ZONE}, wait_name="example.test.",
                             extra_args=["--pool", POOL, "--allow-add", "10.0.0.0/8"])
    try:
        p = dnsadd(port, "x.example.test")
        assert p.returncode == 4 and "refused" in p.stderr
    finally:
        d.stop()


def test_acknowledged_add_survives_sigkill(central):
    d, port, workdir = central
    p = dnsadd(port, "durable.example.test", "--count", "1")
    assert p.returncode == 0
    address = p.stdout.split("\t")[4].strip()
    os.kill(d.proc.pid, signal.SIGKILL)  # right after the acknowledgement
    d.proc.wait()
    d2, port2 = start_centrald(workdir, extra_args=["--pool", POOL], wait_name="example.test.")
    try:
        assert addresses(query("127.0.0.1", port2, "durable.example.test.", "A")) == [address]
        # Never handed out twice, restarts included.
        p = dnsadd(port2, "after.example.test", "--count", "1")
        assert p.returncode == 0
        assert p.stdout.split("\t")[4].strip() != address
    finally:
        d2.stop()


def test_200_concurrent_adds_get_distinct_addresses(central):
    d, port, _ = central

    def one(i):
        wire = aw.add_request(f"c{i}.example.test.", msg_id=i + 1, count=1)
        reply = aw.exchange("127.0.0.1", port, wire, tcp=(i % 2 == 0), timeout=10)
        _, _, rcode, msg = aw.parse_reply(reply)
        assert rcode == 0
        return [r.address for r in aw.answer_rdatas(msg, dns.rdatatype.A)]

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(one, range(200)))
    got = [a for r in results for a in r]
    assert len(got) == 200 and len(set(got)) == 200
    for i in (0, 57, 199):
        assert addresses(query("127.0.0.1", port, f"c{i}.example.test.", "A")) == results[i]


def test_pool_exhausted_is_servfail_with_a_log_line(tmp_path):
    d, port = start_centrald(tmp_path, {"example.test": ZONE}, wait_name="example.test.",
                             extra_args=["--pool", "10.98.0.0/30"])  # two usable addresses
    try:
        assert dnsadd(port, "p1.example.test", "--count", "2").returncode == 0
        p = dnsadd(port, "p2.example.test", "--count", "1")
        assert p.returncode == 1 and "SERVFAIL" in p.stderr
        assert "exhausted" in d.log() or "fewer than" in d.log()
        assert rcode_of(query("127.0.0.1", port, "p2.example.test.", "A")) == "NXDOMAIN"
    finally:
        d.stop()


def test_no_pool_for_family_is_refused(central):
    d, port, _ = central
    p = dnsadd(port, "v6.example.test", "--count", "1", "--ipv6")
    assert p.returncode == 4, p.stderr


def test_malformed_adds_get_formerr(central):
    d, port, _ = central
    cases = [
        # an address record owned by another name
        aw.add_request("m1.example.test.", extra_records=[aw.record("other.example.test.", aw.TYPE_A, aw.CLASS_IN,
                                                                    60, bytes(4))], count=1),
        # an alias outside every zone this server holds (and not below a new NAME)
        aw.add_request("m2.example.test.", count=1, aliases=["alias.elsewhere.invalid."]),
        # a TXT record
        aw.add_request("m3.example.test.", count=1, extra_records=[aw.record("m3.example.test.", 16, aw.CLASS_IN,
                                                                            60, b"\x01x")]),
        # nothing to create
        aw.add_request("m4.example.test."),
    ]
    for wire in cases:
        _, flags, rcode, _ = aw.parse_reply(aw.exchange("127.0.0.1", port, wire))
        assert rcode == 1 and aw.opcode_of(flags) == aw.ADD_OPCODE
    for name in ("m1", "m2", "m3", "m4"):
        assert rcode_of(query("127.0.0.1", port, f"{name}.example.test.", "A")) == "NXDOMAIN"
    # Garbage after the header: FORMERR too, never a crash.
    wire = aw.add_request("m5.example.test.", count=1)
    assert aw.parse_reply(aw.exchange("127.0.0.1", port, wire + b"\x00"))[2] == 1
    assert d.running()


def test_dnsadd_exit_codes_for_bad_input_and_timeout(central):
    d, port, _ = central
    for args in (["bad..name"], ["x.example.test", "--ip", "300.1.1.1"], ["x.example.test", "--mx", "mail"],
                 ["x.example.test", "--count", "0"], ["x.example.test", "--nope"]):
        p = dnsadd(port, *args)
        assert p.returncode == 2, (args, p.returncode, p.stderr)
        assert len(p.stderr.strip().splitlines()) == 1 and p.stderr.startswith("dnsadd: ")
    # A TCP listener that never answers, and a UDP port where nobody listens.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    try:
        p = run_tool("dnsadd", ["x.example.test", "--server", f"127.0.0.1:{silent.getsockname()[1]}",
                                "--timeout", "1"])
        assert p.returncode == 6 and "no answer" in p.stderr
    finally:
        silent.close()
    p = run_tool("dnsadd", ["x.example.test", "--server", f"127.0.0.1:{free_port()}", "--udp", "--timeout", "1"])
    assert p.returncode in (1, 6)
    help_text = run_tool("dnsadd", ["--help"]).stdout
    assert "Exit status" in help_text and "Example" in help_text
    assert run_tool("dnsadd", ["--version"]).returncode == 0


def test_dnsadd_over_udp_and_config_file(central, tmp_path):
    d, port, _ = central
    conf = tmp_path / "dnsadd.conf"
    conf.write_text(f'server = "127.0.0.1:{port}"\nttl = 120\n')
    p = run_tool("dnsadd", ["cfg.example.test", "--config", str(conf), "--udp", "--count", "3"])
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().splitlines()
    assert len(lines) == 3 and all(l.split("\t")[1] == "120" for l in lines)


def test_add_through_proxyd_signed_end_to_end(tmp_path):
    """dnsadd's default path: proxyd relays ADD unchanged (the TSIG stays end to end) and
    drops what it had cached for the name, the negative answer included."""
    key = "hmac-sha256:relay-key.:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    c, cport = start_centrald(tmp_path / "c", {"example.test": ZONE}, wait_name="example.test.",
                              extra_args=["--pool", POOL, "--tsig-key", key])
    pport = free_port()
    p = Daemon("proxyd", ["--listen", f"127.0.0.1:{pport}", "--central", f"127.0.0.1:{cport}", "--threads", "1"],
               tmp_path / "p")
    p.start()
    try:
        p.wait_answering("127.0.0.1", pport, "example.test.")
        assert rcode_of(query("127.0.0.1", pport, "relayed.example.test.", "A")) == "NXDOMAIN"  # now cached
        r = dnsadd(pport, "relayed.example.test", "--count", "2", "--key", key)
        assert r.returncode == 0, r.stderr
        stored = sorted(l.split("\t")[4] for l in r.stdout.strip().splitlines())
        assert sorted(addresses(query("127.0.0.1", pport, "relayed.example.test.", "A"))) == stored
        assert dnsadd(pport, "unsigned.example.test").returncode == 5
    finally:
        p.stop()
        c.stop()


def served_a(port, name):
    r = query("127.0.0.1", port, name, "A")
    return rcode_of(r), sorted(addresses(r))


def test_add_is_served_at_once_and_a_concurrent_replace_of_the_zone_still_wins(central, tmp_path):
    """ADD publishes its records on top of the zone centrald serves, without reading the
    database back; a `dnszone import --replace` of the same zone by another process, racing
    with the ADDs, must still be served exactly afterwards: never ADD's delta on top of the
    zone as it was before the import."""
    d, port, workdir = central
    # At once: each name answers right after its acknowledgement, before any poll.
    for i in range(5):
        p = dnsadd(port, f"fast{i}.example.test", "--count", "1")
        assert p.returncode == 0, p.stderr
        assert served_a(port, f"fast{i}.example.test.") == ("NOERROR", [p.stdout.split("\t")[4].strip()])
    assert soa_serial(port) == 105

    replacement = tmp_path / "replace.zone"
    replacement.write_text(ZONE.replace(" 100 ", " 500 ") + "".join(f"imp{i} IN A 192.0.2.{100 + i}\n"
                                                                  for i in range(20)))
    stop = threading.Event()
    added = []

    def adder():
        i = 0
        while not stop.is_set():
            # Given addresses, not the pool's: a fast machine adds more names in this loop
            # than the test's /24 pool holds (it then answers SERVFAIL, pool exhausted).
            wire = aw.add_request(f"race{i}.example.test.", msg_id=(i % 60000) + 1,
                                  ips=[f"198.18.{i // 250 % 256}.{i % 250 + 1}"])
            _, _, rcode, _ = aw.parse_reply(aw.exchange("127.0.0.1", port, wire, tcp=True, timeout=10))
            assert rcode == 0
            added.append(f"race{i}.example.test.")
            i += 1

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(adder)]
        time.sleep(0.3)
        p = run_tool("dnszone", ["import", str(replacement), "--db", str(workdir / "central.db"), "--replace"])
        assert p.returncode == 0, p.stderr
        time.sleep(0.3)
        stop.set()
        for f in futures:
            f.result()
    assert len(added) > 5
    # One more ADD: published at once on top of whatever the server holds now.
    p = dnsadd(port, "last.example.test", "--count", "1")
    assert p.returncode == 0, p.stderr

    assert_served_as_stored(port, workdir, ["fast0.example.test.", "imp0.example.test.", "imp19.example.test.",
                                            "last.example.test."] + added)
    assert soa_serial(port) > 500

    # Deterministic: another process replaces the zone while an ADD waits for the write
    # lock; the ADD then commits on top of the replaced zone, and centrald must not put
    # its delta on the zone it served before (the poll cannot help: the round is pending).
    other = workdir / "other.db"
    p = run_tool("dnszone", ["import", str(replacement), "--db", str(other)])
    assert p.returncode == 0, p.stderr
    con = sqlite3.connect(str(workdir / "central.db"), isolation_level=None, timeout=10)
    try:
        con.execute("PRAGMA foreign_keys=ON")
        con.execute("ATTACH ? AS src", (str(other),))
        con.execute("BEGIN IMMEDIATE")
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            waiting = pool.submit(dnsadd, port, "waited.example.test", "--count", "1")
            time.sleep(0.5)
            assert not waiting.done()
            con.execute("DELETE FROM zones WHERE name = 'example.test.'")
            con.execute("INSERT INTO zones(name) VALUES ('example.test.')")
            con.execute("INSERT INTO records(zone_id, owner, owner_key, type, class, ttl, rdata, rdata_text) "
                        "SELECT (SELECT id FROM main.zones WHERE name = 'example.test.'), owner, owner_key, type, "
                        "class, ttl, rdata, rdata_text FROM src.records ORDER BY id")
            con.execute("COMMIT")
            p = waiting.result()
        assert p.returncode == 0, p.stderr
    finally:
        con.close()
    # At once, without waiting for a poll.
    assert served_a(port, "last.example.test.") == ("NXDOMAIN", [])
    assert served_a(port, "imp0.example.test.") == ("NOERROR", ["192.0.2.100"])
    assert_served_as_stored(port, workdir, ["waited.example.test.", "last.example.test.", "imp0.example.test."] + added)
    assert soa_serial(port) == 501


def assert_served_as_stored(port, workdir, names):
    """What centrald serves for `names` is exactly what the database holds, SOA serial too."""
    stored = {}
    for owner, rdata in db_rows(workdir, "SELECT r.owner_key, r.rdata FROM records r JOIN zones z ON z.id = r.zone_id "
                                         "WHERE z.name = 'example.test.' AND r.type = 1"):
        stored.setdefault(owner, []).append(socket.inet_ntoa(rdata))
    assert "imp0.example.test." in stored
    assert "fast0.example.test." not in stored  # the import replaced the zone
    for name in names:
        expected = ("NOERROR", sorted(stored[name])) if name in stored else ("NXDOMAIN", [])
        assert served_a(port, name) == expected, name
    stored_serial = db_rows(workdir, "SELECT r.rdata FROM records r JOIN zones z ON z.id = r.zone_id "
                                     "WHERE z.name = 'example.test.' AND r.type = 6")[0][0]
    assert soa_serial(port) == struct.unpack(">I", stored_serial[-20:-16])[0]
