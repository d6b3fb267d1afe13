#!/usr/bin/env python3
"""Generates the benchmark's zone and query file with a fixed seed (same bytes every run).

Zone bench.test (standard size): 10,000 hosts x 4 A records, 1,000 CNAME aliases pointing at
hosts, 500 names x 2 MX whose exchanges are hosts (so answers carry additional A records).
--big: the same shape scaled to 1,000,000 records (238,000 x 4 A, 24,000 CNAME, 12,000 x 2 MX).

Query file (dnsperf format, "name type" per line): ~70% A for hosts, 15% A for aliases,
10% MX, 5% A for names that do not exist (NXDOMAIN), in a shuffled order.
"""
import argparse
import os
import random
import sys

ZONE = "bench.test"
SIZES = {
    # hosts, aliases, mx names (2 MX each); records = 4*hosts + aliases + 2*mx
    "standard": (10_000, 1_000, 500),
    "big": (238_000, 24_000, 12_000),
}
# Long TTLs so that caches stay warm for the whole run and negative answers are cached too
# (RFC 2308 §5: negative TTL = min(SOA TTL, SOA minimum)).
TTL = 86400


def host_name(i, width):
    return f"h{i:0{width}d}"


def generate(out_dir, size, seed, query_count):
    hosts, aliases, mxs = SIZES[size]
    width = len(str(hosts - 1))
    rng = random.Random(seed)
    zone_path = os.path.join(out_dir, f"{ZONE}.zone")
    records = 0
    with open(zone_path, "w") as z:
        z.write(f"$ORIGIN {ZONE}.\n$TTL {TTL}\n")
        z.write(f"@ IN SOA ns1.{ZONE}. hostmaster.{ZONE}. 1 3600 600 604800 {TTL}\n")
        z.write(f"@ IN NS ns1.{ZONE}.\n")
        z.write("ns1 IN A 10.255.255.1\n")
        lines = []
        for i in range(hosts):
            name = host_name(i, width)
            # Four distinct addresses per host from 10.0.0.0/9 (10.255/16 is kept for ns1).
            addrs = set()
            while len(addrs) < 4:
                addrs.add(rng.getrandbits(23))
            for a in sorted(addrs):
                lines.append(f"{name} IN A 10.{a >> 16}.{(a >> 8) & 255}.{a & 255}\n")
            records += 4
            if len(lines) > 65536:
                z.writelines(lines)
                lines.clear()
        for i in range(aliases):
            target = host_name(rng.randrange(hosts), width)
            lines.append(f"a{i:0{width}d} IN CNAME {target}\n")
            records += 1
        for i in range(mxs):
            x1, x2 = rng.sample(range(hosts), 2)
            lines.append(f"m{i:0{width}d} IN MX 10 {host_name(x1, width)}\n")
            lines.append(f"m{i:0{width}d} IN MX 20 {host_name(x2, width)}\n")
            records += 2
        z.writelines(lines)

    query_path = os.path.join(out_dir, "queries.txt")
    with open(query_path, "w") as q:
        lines = []
        for _ in range(query_count):
            r = rng.random()
            if r < 0.70:
                lines.append(f"{host_name(rng.randrange(hosts), width)}.{ZONE} A\n")
            elif r < 0.85:
                lines.append(f"a{rng.randrange(aliases):0{width}d}.{ZONE} A\n")
            elif r < 0.95:
                lines.append(f"m{rng.randrange(mxs):0{width}d}.{ZONE} MX\n")
            else:
                lines.append(f"nx{rng.getrandbits(32):08x}.{ZONE} A\n")
        q.writelines(lines)

    # Each distinct query once, for warming caches.
    warm_path = os.path.join(out_dir, "warm.txt")
    with open(query_path) as q:
        unique = list(dict.fromkeys(q))
    with open(warm_path, "w") as w:
        w.writelines(unique)

    # Every host once: fills a cache with distinct entries (proxyd memory per entry).
    hosts_path = os.path.join(out_dir, "hosts.txt")
    with open(hosts_path, "w") as h:
        h.writelines(f"{host_name(i, width)}.{ZONE} A\n" for i in range(hosts))
    return {"zone": zone_path, "queries": query_path, "warm": warm_path, "hosts": hosts_path,
            "records": records, "hosts_count": hosts, "probe": f"{host_name(0, width)}.{ZONE}"}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--size", choices=sorted(SIZES), default="standard")
    p.add_argument("--seed", type=int, default=20261130)
    p.add_argument("--queries", type=int, default=100_000)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    info = generate(a.out, a.size, a.seed, a.queries)
    print(f"{info['zone']}: {info['records']} records (+SOA, NS, ns1 A); {info['queries']}: {a.queries} queries")


if __name__ == "__main__":
    sys.exit(main())
