"""dnszone against real database files: import, export, list, atomicity, --replace, and
the sample zones surviving an export/re-import round trip (compared with dnspython)."""

import os
import sqlite3

import dns.rdataclass
import dns.zone

import dnstest

SAMPLE_ZONES = os.path.join(dnstest.source_dir(), "zones")

GOOD = """$ORIGIN good.test.
$TTL 300
@   SOA ns1 hostmaster ( 2024010101 1h 15m 1w 5m )
    NS  ns1
ns1 A   192.0.2.53
www A   192.0.2.1
    A   192.0.2.2
"""

BAD = """$ORIGIN bad.test.
$TTL 300
@   SOA ns1 hostmaster 1 3600 900 604800 300
    NS  ns1
www A   192.0.2.300
"""


def dnszone(*args):
    return dnstest.run_tool("dnszone", [str(a) for a in args])


def write(directory, name, text):
    path = os.path.join(str(directory), name)
    with open(path, "w") as f:
        f.write(text)
    return path


def records_of(text, origin=None):
    """A zone's records as a set of (owner, ttl, type, rdata text), via dnspython."""
    zone = dns.zone.from_text(text, origin=origin, relativize=False, check_origin=True)
    out = set()
    for name, ttl, rdata in zone.iterate_rdatas():
        out.add((name.to_text().lower(), ttl, rdata.rdtype, rdata.to_text()))
    return out


def zone_count(db):
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM zones").fetchone()[0]


def test_help_version_and_bad_flags(workdir):
    helped = dnszone("--help")
    assert helped.returncode == 0
    assert "import" in helped.stdout and "export" in helped.stdout and "list" in helped.stdout
    version = dnszone("--version")
    assert version.returncode == 0 and version.stdout.strip()

    bad = dnszone("list", "--db", workdir / "x.db", "--frobnicate")
    assert bad.returncode != 0
    assert bad.stderr.startswith("dnszone: ")
    assert len(bad.stderr.strip().splitlines()) == 1

    missing = dnszone("list")
    assert missing.returncode != 0
    assert len(missing.stderr.strip().splitlines()) == 1


def test_import_list_export(workdir):
    db = workdir / "central.db"
    path = write(workdir, "good.test.zone", GOOD)
    imported = dnszone("import", path, "--db", db)
    assert imported.returncode == 0, imported.stderr

    listed = dnszone("list", "--db", db)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout == "good.test. 5 2024010101\n"

    exported = dnszone("export", "good.test", "--db", db)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.startswith("$ORIGIN good.test.\ngood.test.\t300\tIN\tSOA\t")
    assert records_of(exported.stdout) == records_of(GOOD)

    unknown = dnszone("export", "nothere.test", "--db", db)
    assert unknown.returncode != 0
    assert unknown.stderr == f"dnszone: no zone nothere.test. in {db}\n"


def test_sample_zones_round_trip(workdir):
    db = workdir / "central.db"
    imported = dnszone("import", SAMPLE_ZONES, "--db", db)
    assert imported.returncode == 0, imported.stderr

    listed = dnszone("list", "--db", db).stdout.splitlines()
    names = sorted(line.split()[0] for line in listed)
    files = sorted(f[: -len(".zone")] + "." for f in os.listdir(SAMPLE_ZONES) if f.endswith(".zone"))
    assert names == files

    # Export every zone, re-import the exports into a second database, export again:
    # the records must be the same each time (and the same as the source files').
    exports = {}
    for name in names:
        out = dnszone("export", name, "--db", db)
        assert out.returncode == 0, out.stderr
        exports[name] = out.stdout
        with open(os.path.join(SAMPLE_ZONES, name[:-1] + ".zone")) as f:
            source = f.read()
        assert records_of(out.stdout) == records_of(source, origin=name), name
    redo = workdir / "again"
    os.makedirs(redo)
    for name, text in exports.items():
        write(redo, name + "zone", text)
    db2 = workdir / "second.db"
    assert dnszone("import", redo, "--db", db2).returncode == 0
    for name, text in exports.items():
        again = dnszone("export", name, "--db", db2)
        assert records_of(again.stdout) == records_of(text)
    assert dnszone("list", "--db", db2).stdout == dnszone("list", "--db", db).stdout


def test_bad_file_imports_nothing(workdir):
    db = workdir / "central.db"
    zones = workdir / "zones"
    os.makedirs(zones)
    write(zones, "a-good.test.zone", GOOD)
    bad = write(zones, "b-bad.test.zone", BAD)

    result = dnszone("import", zones, "--db", db)
    assert result.returncode != 0
    assert result.stderr.startswith(f"dnszone: {bad}:5: A: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not os.path.exists(db) or zone_count(db) == 0

    single = dnszone("import", bad, "--db", db)
    assert single.returncode != 0
    assert single.stderr.startswith(f"dnszone: {bad}:5: ")


def test_existing_zone_needs_replace(workdir):
    db = workdir / "central.db"
    path = write(workdir, "good.test.zone", GOOD)
    assert dnszone("import", path, "--db", db).returncode == 0

    changed = GOOD.replace("2024010101", "2024010102").replace("192.0.2.2", "192.0.2.3")
    write(workdir, "good.test.zone", changed)
    again = dnszone("import", path, "--db", db)
    assert again.returncode != 0
    assert again.stderr == "dnszone: zone good.test. already exists (use --replace)\n"
    assert dnszone("list", "--db", db).stdout == "good.test. 5 2024010101\n"

    replaced = dnszone("import", path, "--db", db, "--replace")
    assert replaced.returncode == 0, replaced.stderr
    assert dnszone("list", "--db", db).stdout == "good.test. 5 2024010102\n"
    assert records_of(dnszone("export", "good.test.", "--db", db).stdout) == records_of(changed)


def test_config_file(workdir):
    db = workdir / "central.db"
    path = write(workdir, "good.test.zone", GOOD)
    config = write(workdir, "dnszone.conf", f'db = "{db}"\n')
    result = dnszone("--config", config, "import", path)
    assert result.returncode == 0, result.stderr
    assert dnszone("--config", config, "list").stdout == "good.test. 5 2024010101\n"


def test_operators_can_read_the_database(workdir):
    db = workdir / "central.db"
    path = write(workdir, "good.test.zone", GOOD)
    assert dnszone("import", path, "--db", db).returncode == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        rows = conn.execute(
            "SELECT r.owner, r.ttl, r.rdata_text FROM records r JOIN zones z ON z.id = r.zone_id "
            "WHERE z.name = 'good.test.' AND r.type = 1 ORDER BY r.id").fetchall()
    assert rows == [("ns1.good.test.", 300, "192.0.2.53"), ("www.good.test.", 300, "192.0.2.1"),
                    ("www.good.test.", 300, "192.0.2.2")]
