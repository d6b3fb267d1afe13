#!/usr/bin/env python3
"""The benchmark behind test/bench/run (see README.md there): our daemons next to NSD, Knot,
PowerDNS, Unbound, dnsmasq and dnsdist on the same data, one server CPU each.

Every server runs pinned to CPU 1 (all its threads and processes), every load generator on
CPU 0. Each daemon gets its own 127.0.53.x address and port, is started and stopped by PID and
is stopped at exit whatever happens. Progress goes to stderr, the result table to stdout.
"""
import argparse
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
CLK_TCK = os.sysconf("SC_CLK_TCK")
SERVER_CPU = "1"
LOAD_CPU = "0"
ZONE = "bench.test"
ADDR_PREFIX = "127.0.53."


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes by PID


class Procs:
    """Every process the benchmark starts, so that all of them are stopped at exit."""

    def __init__(self, pid_file):
        self.pid_file = pid_file
        self.running = {}  # pid -> Popen

    def _write(self):
        if self.pid_file:
            with open(self.pid_file, "w") as f:
                f.writelines(f"{p}\n" for p in self.running)

    def start(self, argv, log_path, cwd=None, cpu=SERVER_CPU):
        out = open(log_path, "ab")
        p = subprocess.Popen(["taskset", "-c", cpu] + argv, stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True)
        out.close()
        self.running[p.pid] = p
        self._write()
        return p

    def stop(self, p, grace=10.0):
        if p.pid not in self.running:
            return
        family = [p.pid] + descendants(p.pid)
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                log(f"pid {p.pid} ignored SIGTERM for {grace:.0f}s: SIGKILL")
                p.kill()
                p.wait(5)
        # Children of multi-process servers (NSD) that outlived their parent.
        for pid in family[1:]:
            if alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        del self.running[p.pid]
        self._write()
        reap_orphans(set(self.running))

    def stop_all(self):
        for p in list(self.running.values()):
            try:
                self.stop(p, grace=5.0)
            except Exception as e:  # keep stopping the others
                log(f"stopping pid {p.pid}: {e}")


def proc_stat(pid):
    """(state, ppid, utime+stime ticks) from /proc/PID/stat, or None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rindex(")") + 2:].split()  # the command name may hold spaces and parens
    return fields[0], int(fields[1]), int(fields[11]) + int(fields[12])


def alive(pid):
    st = proc_stat(pid)
    return st is not None and st[0] != "Z"


def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st:
                kids.setdefault(st[1], []).append(int(d))
    return kids


def descendants(pid):
    kids, out, todo = children_map(), [], [pid]
    while todo:
        for c in kids.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def tree(pid):
    return [pid] + descendants(pid)


def cpu_ticks(pid):
    """CPU time of the server: every thread of every process in its tree (NSD forks)."""
    total = 0
    for p in tree(pid):
        st = proc_stat(p)
        if st:
            total += st[2]
    return total


def rss_kib(pid):
    """Largest VmRSS in the process tree (NSD's children share the zone with the parent)."""
    best = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        best = max(best, int(line.split()[1]))
        except OSError:
            pass
    return best


def reap_orphans(keep):
    """We are a subreaper: reap orphaned daemon children that died, but not our own Popens."""
    me = os.getpid()
    for d in os.listdir("/proc"):
        if d.isdigit() and int(d) not in keep:
            st = proc_stat(int(d))
            if st and st[1] == me and st[0] == "Z":
                try:
                    os.waitpid(int(d), os.WNOHANG)
                except ChildProcessError:
                    pass


def pin(pid):
    """Re-pin every thread of every process: Knot re-pins its workers after start."""
    for p in tree(pid):
        subprocess.run(["taskset", "-a", "-p", "-c", SERVER_CPU, str(p)], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=10)
    stray = []
    for p in tree(pid):
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/status") as f:
                    m = re.search(r"Cpus_allowed_list:\s*(\S+)", f.read())
                if m and m.group(1) != SERVER_CPU:
                    stray.append(f"{p}/{tid}:{m.group(1)}")
        except OSError:
            pass
    if stray:
        log(f"warning: threads not on CPU {SERVER_CPU}: {' '.join(stray)}")


# ---------------------------------------------------------------- DNS probing


def dns_query(addr, port, name, qtype=1, timeout=0.2):
    """(rcode, ancount) for one UDP query, or None on timeout/garbage."""
    qid = int.from_bytes(os.urandom(2), "big")
    wire = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        wire += bytes([len(label)]) + label.encode()
    wire += b"\0" + struct.pack(">HH", qtype, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.sendto(wire, (addr, port))
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                data = s.recv(65535)
                if len(data) >= 12 and int.from_bytes(data[:2], "big") == qid:
                    return data[3] & 0x0F, int.from_bytes(data[6:8], "big")
        except OSError:
            return None
    return None


def wait_ready(p, addr, port, probe, limit):
    """Seconds from now until the server answers the probe name with data; None if it never does."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if p.poll() is not None:
            return None
        r = dns_query(addr, port, probe)
        if r and r[0] == 0 and r[1] > 0:
            return time.monotonic() - t0
        time.sleep(0.01)
    return None


def port_free(addr, port):
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind((addr, port))
            except OSError:
                return False
    return True


def endpoint(n):
    """127.0.53.n on port 53500+n, or the next free port above it."""
    addr = f"{ADDR_PREFIX}{n}"
    for port in range(53500 + n, 60000, 100):
        if port_free(addr, port):
            return addr, port
    raise RuntimeError(f"no free port on {addr}")


# ---------------------------------------------------------------- server definitions


class Server:
    """One daemon under test. configure() writes its files and returns its argv."""

    name = ""
    role = ""
    slot = 0
    needs = None  # "nsd" or "centrald": a backend that must answer first (caching servers)
    warm_passes = 0  # passes over every distinct query before measuring (caches)
    binary = None

    def __init__(self, bench):
        self.bench = bench
        self.addr, self.port = None, None
        self.dir = None

    def available(self):
        exe = self.binary
        if exe and not (shutil.which(exe) or os.access(exe, os.X_OK)):
            return f"{exe} not found"
        return None

    def prepare(self, data, backend):
        self.addr, self.port = endpoint(self.slot)
        self.dir = os.path.join(self.bench.work, self.name)
        os.makedirs(self.dir, exist_ok=True)
        return self.configure(data, backend)

    def write(self, fname, text):
        path = os.path.join(self.dir, fname)
        with open(path, "w") as f:
            f.write(text)
        return path


class Echo(Server):
    name, role, slot = "echo (ceiling)", "ceiling", 10
    dirname = "echo"

    @property
    def binary(self):
        return os.path.join(self.bench.helpers, "bench_udp_echo")

    def prepare(self, data, backend):
        self.addr, self.port = endpoint(self.slot)
        self.dir = os.path.join(self.bench.work, self.dirname)
        os.makedirs(self.dir, exist_ok=True)
        return [self.binary, "--listen", f"{self.addr}:{self.port}"]


class Nsd(Server):
    name, role, slot, binary = "NSD", "auth", 11, "nsd"

    def configure(self, data, backend):
        zdir, zfile = os.path.split(data["zone"])
        conf = self.write("nsd.conf", f"""server:
  server-count: 1
  ip-address: {self.addr}@{self.port}
  port: {self.port}
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "{zdir}"
  database: ""
  zonelistfile: "{self.dir}/zone.list"
  xfrdfile: "{self.dir}/xfrd.state"
  xfrdir: "{self.dir}"
  pidfile: "{self.dir}/nsd.pid"
  verbosity: 1
  # Debian's default response rate limiting would throttle a single-source benchmark.
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
  zonefiles-write: 0
remote-control:
  control-enable: no
zone:
  name: {ZONE}
  zonefile: {zfile}
""")
        return ["nsd", "-d", "-c", conf]


class Knot(Server):
    name, role, slot, binary = "Knot", "auth", 12, "knotd"

    def configure(self, data, backend):
        shutil.rmtree(os.path.join(self.dir, "db"), ignore_errors=True)
        conf = self.write("knot.conf", f"""server:
    listen: {self.addr}@{self.port}
    rundir: "{self.dir}"
    pidfile: "{self.dir}/knot.pid"
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: notice
database:
    storage: "{self.dir}/db"
template:
  - id: default
    storage: "{self.dir}/db"
    semantic-checks: off
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: {ZONE}
    file: "{data['zone']}"
""")
        return ["knotd", "-c", conf]


class Pdns(Server):
    name, role, slot, binary = "PowerDNS", "auth", 13, "pdns_server"
    caches = True
    warm_passes = 1  # its packet and query caches

    def configure(self, data, backend):
        db = self.bench.pdns_db(data)
        cache = "" if self.caches else "cache-ttl=0\nquery-cache-ttl=0\nnegquery-cache-ttl=0\n"
        self.write("pdns.conf", f"""launch=gsqlite3
gsqlite3-database={db}
local-address={self.addr}
local-port={self.port}
socket-dir={self.dir}
guardian=no
daemon=no
disable-syslog=yes
write-pid=no
receiver-threads=1
distributor-threads=1
reuseport=no
webserver=no
api=no
security-poll-suffix=
setuid=
setgid=
loglevel=4
{cache}""")
        return ["pdns_server", f"--config-dir={self.dir}"]


class PdnsNoCache(Pdns):
    name, slot = "PowerDNS (no cache)", 19
    caches = False
    warm_passes = 0


class Unbound(Server):
    name, role, slot, binary, needs = "Unbound", "cache", 14, "unbound", "nsd"
    warm_passes = 2

    def configure(self, data, backend):
        conf = self.write("unbound.conf", f"""server:
  num-threads: 1
  interface: {self.addr}@{self.port}
  port: {self.port}
  do-ip6: no
  chroot: ""
  username: ""
  directory: "{self.dir}"
  pidfile: "{self.dir}/unbound.pid"
  use-syslog: no
  logfile: ""
  verbosity: 0
  do-daemonize: no
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  # .test is a locally served special-use zone by default (RFC 6761 §6.2); let it through.
  local-zone: "test." nodefault
  domain-insecure: "test."
  msg-cache-size: 64m
  rrset-cache-size: 128m
  so-reuseport: no
remote-control:
  control-enable: no
stub-zone:
  name: "{ZONE}."
  stub-addr: {backend[0]}@{backend[1]}
""")
        return ["unbound", "-d", "-c", conf]


class Dnsmasq(Server):
    name, role, slot, binary, needs = "dnsmasq", "cache", 15, "dnsmasq", "nsd"
    warm_passes = 2

    def configure(self, data, backend):
        argv = ["dnsmasq", "-k", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                f"--listen-address={self.addr}", "--bind-interfaces", f"--port={self.port}",
                f"--server=/{ZONE}/{backend[0]}#{backend[1]}", "--cache-size=200000", "--user=root",
                "--pid-file=", "--dns-forward-max=1000"]
        # Debian 12's dnsmasq (2.89+) can cache MX; older ones lack --cache-rr.
        helptext = subprocess.run(["dnsmasq", "--help"], capture_output=True, text=True).stdout
        if "--cache-rr" in helptext:
            argv.append("--cache-rr=MX")
        else:
            log("dnsmasq has no --cache-rr: MX answers are forwarded, not cached")
        return argv


class Dnsdist(Server):
    name, role, slot, binary, needs = "dnsdist", "cache", 16, "dnsdist", "nsd"
    warm_passes = 2

    def configure(self, data, backend):
        conf = self.write("dnsdist.conf", f"""setSecurityPollSuffix("")
setLocal("{self.addr}:{self.port}", {{reusePort=false}})
setACL({{"127.0.0.0/8"}})
newServer({{address="{backend[0]}:{backend[1]}", name="nsd"}})
pc = newPacketCache(200000, {{maxTTL=86400, minTTL=0, temporaryFailureTTL=60, staleTTL=60}})
getPool(""):setCache(pc)
""")
        return ["dnsdist", "--supervised", "--disable-syslog", "-C", conf]


class Centrald(Server):
    name, role, slot = "centrald", "auth", 17

    @property
    def binary(self):
        return os.path.join(self.bench.bin_dir, "centrald")

    def available(self):
        for exe in ("centrald", "dnszone"):
            if not os.access(os.path.join(self.bench.bin_dir, exe), os.X_OK):
                return f"{self.bench.bin_dir}/{exe} not found"
        return None

    def configure(self, data, backend):
        db = self.bench.central_db(data)
        return [self.binary, "--db", db, "--listen", f"{self.addr}:{self.port}", "--threads", "1"]


class Proxyd(Server):
    name, role, slot, needs = "proxyd", "cache", 18, "centrald"
    warm_passes = 2
    cache_size = 200000

    @property
    def binary(self):
        return os.path.join(self.bench.bin_dir, "proxyd")

    def available(self):
        for exe in ("proxyd", "centrald", "dnszone"):
            if not os.access(os.path.join(self.bench.bin_dir, exe), os.X_OK):
                return f"{self.bench.bin_dir}/{exe} not found"
        return None

    def configure(self, data, backend):
        return [self.binary, "--listen", f"{self.addr}:{self.port}", "--central",
                f"{backend[0]}:{backend[1]}", "--threads", "1", "--cache-size", str(self.cache_size)]


SERVERS = [Echo, Nsd, Knot, Pdns, PdnsNoCache, Centrald, Unbound, Dnsmasq, Dnsdist, Proxyd]
KEYS = {"echo": Echo, "nsd": Nsd, "knot": Knot, "pdns": Pdns, "pdns-nocache": PdnsNoCache,
        "centrald": Centrald, "unbound": Unbound, "dnsmasq": Dnsmasq, "dnsdist": Dnsdist, "proxyd": Proxyd}


# ---------------------------------------------------------------- the benchmark


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def parse_kv(text):
    out = {}
    for tok in text.split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            try:
                out[k] = float(v)
            except ValueError:
                out[k] = v
    return out


class Bench:
    def __init__(self, args):
        self.args = args
        self.work = args.workdir
        self.bin_dir = os.path.abspath(args.bin_dir)
        self.helpers = os.path.abspath(args.helper_dir or args.bin_dir)
        self.paired_echo = None  # see table()
        self.procs = Procs(args.pid_file)
        self._pdns_db = {}
        self._central_db = {}

    # --- data stores

    def pdns_db(self, data):
        key = data["zone"]
        if key not in self._pdns_db:
            path = os.path.join(os.path.dirname(key), "pdns.sqlite3")
            if os.path.exists(path):
                os.unlink(path)
            with open("/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql") as f:
                con = sqlite3.connect(path)
                con.executescript(f.read())
                con.close()
            cfg = os.path.join(os.path.dirname(key), "pdnsutil")
            os.makedirs(cfg, exist_ok=True)
            with open(os.path.join(cfg, "pdns.conf"), "w") as f:
                f.write(f"launch=gsqlite3\ngsqlite3-database={path}\n")
            subprocess.run(["pdnsutil", f"--config-dir={cfg}", "load-zone", ZONE, key], check=True,
                           capture_output=True, timeout=600)
            self._pdns_db[key] = path
        return self._pdns_db[key]

    def central_db(self, data, fresh=False):
        key = data["zone"]
        if key not in self._central_db or fresh:
            path = os.path.join(os.path.dirname(key), "central.db")
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.unlink(path + suffix)
            t0 = time.monotonic()
            r = subprocess.run([os.path.join(self.bin_dir, "dnszone"), "import", key, "--db", path],
                               capture_output=True, text=True, timeout=1800)
            if r.returncode != 0:
                raise RuntimeError(f"dnszone import failed: {(r.stderr or r.stdout).strip()[-300:]}")
            data["import_s"] = time.monotonic() - t0
            self._central_db[key] = path
        return self._central_db[key]

    # --- load

    def loadgen(self, addr, port, qfile, secs, rate=None, count=None, inflight=None, timeout=None):
        argv = ["taskset", "-c", LOAD_CPU, os.path.join(self.helpers, "bench_loadgen"), "-s", addr,
                "-p", str(port), "-d", qfile, "-l", str(secs)]
        if rate:
            argv += ["--rate", str(rate)]
        if count:
            argv += ["--count", str(count)]
        argv += ["--inflight", str(inflight or self.args.inflight)]
        if timeout:
            argv += ["--timeout", str(timeout)]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=secs + 30)
        if r.returncode != 0:
            raise RuntimeError(f"bench_loadgen: {r.stderr.strip()}")
        return parse_kv(r.stdout)

    def dnsperf(self, addr, port, qfile, secs):
        argv = ["taskset", "-c", LOAD_CPU, "dnsperf", "-l", str(secs), "-c", "1", "-T", "1", "-q", "500",
                "-s", addr, "-p", str(port), "-d", qfile]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=secs + 30)
        out = r.stdout
        m_qps = re.search(r"Queries per second:\s+([\d.]+)", out)
        m_done = re.search(r"Queries completed:\s+(\d+)", out)
        m_lost = re.search(r"Queries lost:\s+\d+ \(([\d.]+)%\)", out)
        if not (m_qps and m_done and m_lost):
            raise RuntimeError(f"dnsperf output not understood: {(out + r.stderr).strip()[-300:]}")
        return float(m_qps.group(1)), int(m_done.group(1)), float(m_lost.group(1))

    # --- one server through the whole table

    def start(self, srv, data, backend, limit=60):
        argv = srv.prepare(data, backend)
        logf = os.path.join(srv.dir, "server.log")
        t0 = time.monotonic()
        p = self.procs.start(argv, logf, cwd=srv.dir)
        if srv.role == "ceiling":  # the echo server does not speak DNS: give it a moment to bind
            time.sleep(0.3)
            ready = 0.0 if p.poll() is None else None
        else:
            ready = wait_ready(p, srv.addr, srv.port, data["probe"], limit)
        if ready is None:
            tail = open(logf, errors="replace").read().strip().splitlines()[-3:]
            self.procs.stop(p)
            raise RuntimeError(f"did not answer within {limit}s: {' | '.join(tail)}")
        pin(p.pid)
        return p, time.monotonic() - t0

    def measure(self, srv, data, backend):
        a = self.args
        p, _ = self.start(srv, data, backend)
        res = {"server": srv.name, "role": srv.role}
        try:
            if srv.role != "ceiling" and srv.warm_passes:
                first = self.warm(srv, data)
                if srv.role == "cache":
                    res["miss_qps"] = first
            runs = []
            for i in range(a.runs):
                r = {}
                if srv.role != "ceiling":
                    c0 = cpu_ticks(p.pid)
                    qps, done, lost = self.dnsperf(srv.addr, srv.port, data["queries"], a.dnsperf_secs)
                    c1 = cpu_ticks(p.pid)
                    r.update(dnsperf_qps=qps, dnsperf_loss=lost,
                             us_per_query=(c1 - c0) * 1e6 / CLK_TCK / done if done else None)
                paired = self.paired_echo if srv.role != "ceiling" else None
                # The ceiling under the same conditions: echo runs right before and right after
                # this one, so that a host growing busier or quieter meanwhile cancels out.
                before = self.loadgen(paired.addr, paired.port, data["queries"], a.ceiling_secs) if paired else None
                c0, t0 = cpu_ticks(p.pid), time.monotonic()
                s = self.loadgen(srv.addr, srv.port, data["queries"], a.sat_secs)
                c1, t1 = cpu_ticks(p.pid), time.monotonic()
                if paired:
                    after = self.loadgen(paired.addr, paired.port, data["queries"], a.ceiling_secs)
                    r.update(ceiling_qps=(before["qps"] + after["qps"]) / 2)
                cpu_s = (c1 - c0) / CLK_TCK
                # Share of answers that are neither NOERROR nor NXDOMAIN: a server that is fast
                # because it answers REFUSED or SERVFAIL must not look good.
                bad = s["answered"] - s["noerror"] - s["nxdomain"]
                r.update(bad_rcode_pct=100.0 * bad / max(1, s["answered"]),
                         nx_pct=100.0 * s["nxdomain"] / max(1, s["answered"]))
                r.update(sat_qps=s["qps"], sat_cpu=100.0 * cpu_s / (t1 - t0),
                         sat_per_cpu=s["answered"] / cpu_s if cpu_s > 0 else None,
                         sat_loss=100.0 * s["timeouts"] / max(1, s["sent"]))
                runs.append(r)
                log(f"  run {i + 1}/{a.runs}: " + " ".join(
                    f"{k}={v:.1f}" for k, v in r.items() if v is not None))
            for k in runs[0]:
                res[k] = median([r.get(k) for r in runs])
            res["runs"] = runs
        finally:
            self.procs.stop(p)
        return res

    def warm(self, srv, data):
        """Every distinct query of the file, closed loop with a small window so that a slow miss
        path is not flooded; passes repeat (up to 4) until one has no timeout. Returns the
        first pass's answers per second: on a fresh cache, each of them a miss."""
        first = None
        for i in range(max(srv.warm_passes, 4)):
            w = self.loadgen(srv.addr, srv.port, data["warm"], 300, count=data["warm_count"],
                             inflight=self.args.fill_window, timeout=2)
            log(f"  warm pass {i + 1}: {int(w['answered'])}/{int(w['sent'])} answered, {w['qps']:.0f} q/s")
            if first is None:
                first = w["qps"]
            if i + 1 >= srv.warm_passes and not w["timeouts"]:
                return first
        log(f"  warning: {srv.name}'s cache is not fully warm")
        return first

    def backend(self, kind, data):
        """An NSD or centrald that a caching server forwards to, on the load CPU so that CPU 1
        holds only the server under test (it is idle once the cache is warm)."""
        cls = {"nsd": Nsd, "centrald": Centrald}[kind]
        srv = cls(self)
        srv.name = f"{kind}-backend"
        srv.slot += 20
        argv = srv.prepare(data, None)
        p = self.procs.start(argv, os.path.join(srv.dir, "server.log"), cwd=srv.dir, cpu=LOAD_CPU)
        if wait_ready(p, srv.addr, srv.port, data["probe"], 600) is None:
            self.procs.stop(p)
            raise RuntimeError(f"{kind} backend did not come up")
        return p, (srv.addr, srv.port)

    def latency_rounds(self, measured, data, backends):
        """The latency columns. Every measured server runs at once (idle ones cost CPU 1
        nothing) and each round asks them in turn, the order rotating from round to round:
        a stall of the host (another VM, a noisy neighbour) then falls on all servers alike,
        not on whichever one happened to be measured alone when it struck."""
        a = self.args
        running = []
        try:
            for srv, res in measured:
                backend = backends[srv.needs][1] if srv.needs else None
                p, _ = self.start(srv, data, backend)
                running.append((srv, res, p))
                if srv.role != "ceiling" and srv.warm_passes:
                    self.warm(srv, data)
            samples = {id(res): [] for _, res, _ in running}
            for i in range(a.latency_rounds):
                shift = i % len(running)
                for srv, res, p in running[shift:] + running[:shift]:
                    if p.poll() is not None:
                        raise RuntimeError(f"{srv.name} exited during the latency rounds")
                    lat = self.loadgen(srv.addr, srv.port, data["queries"], a.latency_secs,
                                       rate=a.latency_rate, timeout=1)
                    r = dict(lat_avg=lat["avg_us"], lat_p50=lat["p50_us"], lat_p99=lat["p99_us"],
                             lat_loss=100.0 * lat["timeouts"] / max(1, lat["sent"]))
                    samples[id(res)].append(r)
                    log(f"  latency round {i + 1}/{a.latency_rounds}, {srv.name}: " +
                        " ".join(f"{k}={v:.1f}" for k, v in r.items()))
                    # A server slower than the rate (it lost queries) still has a backlog: let
                    # it drain before the next one is measured on the same CPU.
                    time.sleep(1.0 if lat["timeouts"] else 0.1)
            for _, res, _ in running:
                runs = samples[id(res)]
                for k in runs[0]:
                    res[k] = median([r[k] for r in runs])
                res["latency_runs"] = runs
        finally:
            for _, _, p in running:
                self.procs.stop(p)

    def table(self, data):
        a = self.args
        results, backends, measured = [], {}, []
        wanted = [KEYS[k] for k in a.servers]
        self.paired_echo = None
        try:
            if Echo in wanted and not Echo(self).available():
                # An echo server that stays up through the table, idle but for the saturation
                # runs just before and after each of every server's (×ceiling): the host's load drifts
                # by tens of percent within minutes on shared machines, and a ceiling
                # measured minutes earlier or later would measure the drift too.
                echo = Echo(self)
                echo.slot, echo.dirname = 9, "echo-paired"
                echo_proc, _ = self.start(echo, data, None)
                self.paired_echo = echo
                backends["echo-paired"] = (echo_proc, None)
            for cls in wanted:
                srv = cls(self)
                why = srv.available()
                if why:
                    log(f"{srv.name}: skipped, {why}")
                    results.append({"server": srv.name, "role": srv.role, "skipped": why})
                    continue
                log(f"{srv.name}: measuring")
                try:
                    backend = None
                    if srv.needs:
                        if srv.needs not in backends:
                            backends[srv.needs] = self.backend(srv.needs, data)
                        backend = backends[srv.needs][1]
                    results.append(self.measure(srv, data, backend))
                    measured.append((srv, results[-1]))
                except Exception as e:
                    log(f"{srv.name}: FAILED: {e}")
                    results.append({"server": srv.name, "role": srv.role, "skipped": f"failed: {e}"})
            if measured:
                log(f"latency at {a.latency_rate} q/s: {len(measured)} servers together, "
                    f"{a.latency_rounds} rounds")
                try:
                    self.latency_rounds(measured, data, backends)
                except Exception as e:
                    log(f"latency rounds FAILED: {e}")
        finally:
            for p, _ in backends.values():
                self.procs.stop(p)
        return results

    # --- ADD throughput

    def add_throughput(self, data):
        client = os.path.join(HERE, "add_client.py")
        readme = os.path.join(SOURCE_DIR, "README.md")
        header = os.path.join(SOURCE_DIR, "libdnswire", "include", "dnswire", "add_message.hpp")
        has_doc = os.path.exists(readme) and "The ADD opcode" in open(readme).read()
        if not has_doc and not os.path.exists(header):
            return None, "README has no section \"The ADD opcode\" yet: ADD column left out"
        if not os.path.exists(client):
            return None, "test/bench/add_client.py missing: ADD column left out"
        why = Centrald(self).available()
        if why:
            return None, f"ADD skipped: {why}"
        values = []
        for i in range(self.args.runs):
            srv = Centrald(self)
            srv.name = "centrald-add"
            # A fresh database each run so that earlier runs' names do not collide.
            self.central_db(data, fresh=True)
            p, _ = self.start(srv, data, None)
            try:
                r = subprocess.run(["taskset", "-c", LOAD_CPU, sys.executable, client, "--server",
                                    f"{srv.addr}:{srv.port}", "--clients", "32", "--seconds",
                                    str(self.args.add_secs), "--prefix", f"add{i}"],
                                   capture_output=True, text=True, timeout=self.args.add_secs + 60)
                kv = parse_kv(r.stdout)
                if "adds_per_s" not in kv:
                    return None, f"ADD client failed: {(r.stderr or r.stdout).strip()[-300:]}"
                if not kv.get("acked"):
                    hint = " (4 = NOTIMP: this centrald has no ADD yet)" if str(kv.get("rcodes", "")).startswith(
                        "4:") else ""
                    return None, f"no ADD acknowledged, answers by rcode {kv.get('rcodes')}{hint}: ADD left out"
                if r.returncode != 0:
                    return None, f"ADD client: added names not visible: {r.stdout.strip()}"
                values.append(kv["adds_per_s"])
                log(f"  ADD run {i + 1}: {r.stdout.strip()}")
            finally:
                self.procs.stop(p)
        self.central_db(data, fresh=True)
        return median(values), None

    # --- the 1M-record variant

    def big(self, data):
        a = self.args
        out = {"records": data["records"]}
        log(f"1M variant: {data['records']} records")
        for cls in (Nsd, Centrald):
            if cls not in [KEYS[k] for k in a.servers]:
                continue
            srv = cls(self)
            why = srv.available()
            if why:
                out[srv.name] = {"skipped": why}
                log(f"{srv.name}: skipped, {why}")
                continue
            try:
                if cls is Centrald:
                    self.central_db(data)
                    out["import_s"] = data.get("import_s")
                readies, rss = [], []
                for i in range(a.runs):
                    p, ready = self.start(srv, data, None, limit=900)
                    time.sleep(0.5)
                    rss.append(rss_kib(p.pid))
                    readies.append(ready)
                    self.procs.stop(p)
                    log(f"  {srv.name} run {i + 1}: ready in {ready:.2f}s, VmRSS {rss[-1] / 1024:.0f} MiB")
                out[srv.name] = {"ready_s": median(readies), "rss_kib": median(rss),
                                 "bytes_per_record": median(rss) * 1024 / data["records"]}
            except Exception as e:
                log(f"{srv.name}: FAILED: {e}")
                out[srv.name] = {"skipped": f"failed: {e}"}
        if "proxyd" in a.servers:
            out["proxyd"] = self.proxyd_memory(data)
        return out

    def proxyd_memory(self, data):
        """VmRSS growth per cache entry. The first answers allocate per-thread buffers and malloc
        arenas, so the baseline is taken after 1,000 entries; then the cache is filled up to
        --cache-size with distinct host names (a second pass re-asks what timed out)."""
        srv = Proxyd(self)
        why = srv.available()
        if why:
            log(f"proxyd memory: skipped, {why}")
            return {"skipped": why}
        rows = []
        back = None
        base_n = 1000
        try:
            back = self.backend("centrald", data)
            hosts = open(data["hosts"]).readlines()
            for size in self.args.cache_sizes:
                fill = min(size, len(hosts)) - base_n
                if fill <= 0:
                    continue
                base_file = os.path.join(self.work, "fill-base.txt")
                fill_file = os.path.join(self.work, f"fill-{size}.txt")
                with open(base_file, "w") as f:
                    f.writelines(hosts[:base_n])
                with open(fill_file, "w") as f:
                    f.writelines(hosts[base_n:base_n + fill])
                per_entry = []
                for i in range(self.args.runs):
                    srv = Proxyd(self)
                    srv.cache_size = size
                    p, _ = self.start(srv, data, back[1])
                    try:
                        self.fill(srv, base_file, base_n)
                        time.sleep(0.3)
                        before = rss_kib(p.pid)
                        answered = self.fill(srv, fill_file, fill)
                        time.sleep(0.3)
                        after = rss_kib(p.pid)
                    finally:
                        self.procs.stop(p)
                    per_entry.append((after - before) * 1024 / answered if answered else None)
                    log(f"  proxyd --cache-size {size}: +{answered} entries, VmRSS {before} -> {after} KiB")
                rows.append({"cache_size": size, "entries": fill, "bytes_per_entry": median(per_entry)})
        except Exception as e:
            log(f"proxyd memory: FAILED: {e}")
            return {"skipped": f"failed: {e}", "rows": rows}
        finally:
            if back:
                self.procs.stop(back[0])
        return {"rows": rows}

    def fill(self, srv, qfile, n):
        """Asks each name of qfile once (twice if some timed out); returns how many were answered.
        Closed loop with a small window, so that the miss path (proxyd -> centrald) is never
        flooded whatever the machine's load."""
        secs = 600
        r = self.loadgen(srv.addr, srv.port, qfile, secs, count=n, inflight=self.args.fill_window, timeout=2)
        if r["timeouts"]:
            r2 = self.loadgen(srv.addr, srv.port, qfile, secs, count=n, inflight=self.args.fill_window, timeout=2)
            return int(max(r["answered"], r2["answered"]))
        return int(r["answered"])


# ---------------------------------------------------------------- output


def fmt(v, spec="{:.0f}"):
    return "—" if v is None else spec.format(v)


def print_table(results, add, add_note, args):
    ref = {r["server"]: r.get("sat_qps") for r in results if "skipped" not in r}
    nsd, unb, ceil = ref.get("NSD"), ref.get("Unbound"), ref.get("echo (ceiling)")
    cols = ["server", "role", "dnsperf q/s", "loss %", "CPU µs/q", "sat q/s", "srv CPU %", "q/CPU-s", "×NSD", "×Unbound",
            "×ceiling", f"lat@{args.latency_rate // 1000}k avg µs", "p50 µs", "p99 µs", "lat loss %", "miss q/s"]
    rows = []
    for r in results:
        if "skipped" in r:
            rows.append([r["server"], r["role"], f"skipped: {r['skipped']}"])
            continue
        sat = r.get("sat_qps")

        def ratio(x):
            return fmt(sat / x, "{:.2f}") if sat and x else "—"

        rows.append([r["server"], r["role"], fmt(r.get("dnsperf_qps")), fmt(r.get("dnsperf_loss"), "{:.2f}"),
                     fmt(r.get("us_per_query"), "{:.1f}"), fmt(sat), fmt(r.get("sat_cpu")),
                     fmt(r.get("sat_per_cpu")), ratio(nsd), ratio(unb),
                     ratio(r.get("ceiling_qps") or ceil), fmt(r.get("lat_avg")), fmt(r.get("lat_p50")), fmt(r.get("lat_p99")),
                     fmt(r.get("lat_loss"), "{:.2f}"), fmt(r.get("miss_qps"))])
    widths = [max(len(c), *(len(row[i]) for row in rows if len(row) == len(cols))) for i, c in enumerate(cols)]

    def line(cells):
        if len(cells) != len(cols):
            return f"{cells[0]:<{widths[0]}}  {cells[1]:<{widths[1]}}  {cells[2]}"
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    print(f"\nDNS benchmark, zone {ZONE}: {args.records} records, {args.query_count} queries; "
          f"server on CPU {SERVER_CPU}, load on CPU {LOAD_CPU}; median of {args.runs} runs "
          f"(latency: of {args.latency_rounds} rounds over all servers running together; ×ceiling: against "
          f"the echo server run just before and just after each saturation run)")
    print(line(cols))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))
    # The spread behind two medians, so that a reader can tell a difference from noise.
    spread = []
    for r in results:
        avgs = [x["lat_avg"] for x in r.get("latency_runs", [])]
        if len(avgs) >= 4:
            q1, _, q3 = statistics.quantiles(avgs, n=4)
            spread.append(f"{r['server']} {q1:.0f}-{q3:.0f}")
    if spread:
        print(f"\nlat@{args.latency_rate // 1000}k avg, middle half of the {args.latency_rounds} rounds (µs): " +
              ", ".join(spread))
    per_run = [f"{r['server']} " + " ".join(f"{x['sat_qps'] / x['ceiling_qps']:.2f}" for x in r["runs"])
               for r in results if all(x.get("ceiling_qps") for x in r.get("runs", [{}]))]
    if per_run:
        print("×ceiling, each run: " + ", ".join(per_run))
    for r in results:
        if r.get("role") == "ceiling":
            continue
        if r.get("bad_rcode_pct", 0) > 0.5 or not 3.0 <= r.get("nx_pct", 5.0) <= 7.0:
            print(f"note: {r['server']} answered {r.get('bad_rcode_pct', 0):.1f}% with neither NOERROR nor "
                  f"NXDOMAIN and {r.get('nx_pct', 0):.1f}% NXDOMAIN (the query file has ~5% nonexistent names)")
    if add is not None:
        print(f"\nADD: {add:.0f} acknowledged adds/s (centrald, 32 concurrent clients, median of {args.runs})")
    elif add_note:
        print(f"\nADD: {add_note}")


def print_big(big, args):
    print(f"\n1M-record variant ({big['records']} records), median of {args.runs} runs")
    for name in ("NSD", "centrald"):
        b = big.get(name)
        if b is None:
            continue
        if "skipped" in b:
            print(f"  {name:<9} skipped: {b['skipped']}")
        else:
            print(f"  {name:<9} ready to answer in {b['ready_s']:.2f} s, VmRSS {b['rss_kib'] / 1024:.0f} MiB, "
                  f"{b['bytes_per_record']:.0f} bytes/record")
    if big.get("import_s") is not None:
        print(f"  centrald  (dnszone import into SQLite beforehand: {big['import_s']:.1f} s, not counted above)")
    n, c = big.get("NSD", {}), big.get("centrald", {})
    if "ready_s" in n and "ready_s" in c:
        print(f"  centrald / NSD: start {c['ready_s'] / n['ready_s']:.2f}×, memory "
              f"{c['bytes_per_record'] / n['bytes_per_record']:.2f}×")
    px = big.get("proxyd") or {}
    if "skipped" in px:
        print(f"  proxyd memory: skipped: {px['skipped']}")
    for row in px.get("rows", []):
        print(f"  proxyd --cache-size {row['cache_size']:>7}: {fmt(row['bytes_per_entry'])} bytes/entry "
              f"(VmRSS growth over {row['entries']} entries added after the first 1,000)")


# ---------------------------------------------------------------- main


def generate(out, size, seed, queries):
    subprocess.run([sys.executable, os.path.join(HERE, "gen_data.py"), "--out", out, "--size", size, "--seed",
                    str(seed), "--queries", str(queries)], check=True, stdout=subprocess.DEVNULL, timeout=600)
    sys.path.insert(0, HERE)
    import gen_data  # noqa: E402  (for the sizes only)
    hosts, aliases, mxs = gen_data.SIZES[size]
    width = len(str(hosts - 1))
    with open(os.path.join(out, "warm.txt")) as f:
        warm_count = sum(1 for _ in f)
    return {"zone": os.path.join(out, f"{ZONE}.zone"), "queries": os.path.join(out, "queries.txt"),
            "warm": os.path.join(out, "warm.txt"), "warm_count": warm_count,
            "hosts": os.path.join(out, "hosts.txt"), "hosts_count": hosts,
            "records": 4 * hosts + aliases + 2 * mxs, "probe": f"h{0:0{width}d}.{ZONE}"}


def main():
    p = argparse.ArgumentParser(description="DNS benchmark: our daemons next to the peers (see README.md)")
    p.add_argument("--bin-dir", default=os.path.join(SOURCE_DIR, "build", "bin"),
                   help="where centrald, proxyd and dnszone are (default build/bin)")
    p.add_argument("--helper-dir", help="where bench_loadgen and bench_udp_echo are (default --bin-dir)")
    p.add_argument("--workdir", help="scratch directory (default: a new one under /tmp, removed at exit)")
    p.add_argument("--keep", action="store_true", help="keep the scratch directory (configs, logs, data)")
    p.add_argument("--pid-file", help="where the PIDs of running daemons are listed (for the run script's trap)")
    p.add_argument("--servers", default=",".join(KEYS), help=f"comma list from: {','.join(KEYS)}")
    p.add_argument("--runs", type=int, default=3, help="runs per figure; the median is shown (default 3)")
    p.add_argument("--dnsperf-secs", type=int, default=5)
    p.add_argument("--sat-secs", type=int, default=4)
    p.add_argument("--ceiling-secs", type=int, default=1,
                   help="each of the paired echo runs before and after every saturation run (×ceiling)")
    p.add_argument("--latency-secs", type=int, default=1, help="each latency load (default 1)")
    p.add_argument("--latency-rate", type=int, default=20000)
    p.add_argument("--latency-rounds", type=int, default=10,
                   help="rounds over all servers for the latency columns; the median is shown (default 10)")
    p.add_argument("--inflight", type=int, default=200, help="bench_loadgen saturation window")
    p.add_argument("--fill-window", type=int, default=32,
                   help="queries in flight while warming caches and filling proxyd's (--big)")
    p.add_argument("--add-secs", type=int, default=5)
    p.add_argument("--seed", type=int, default=20261130)
    p.add_argument("--queries", dest="query_count", type=int, default=100_000)
    p.add_argument("--big", action="store_true", help="also run the 1,000,000-record variant")
    p.add_argument("--big-only", action="store_true", help="run only the 1,000,000-record variant")
    p.add_argument("--cache-sizes", default="10000,50000,100000",
                   help="proxyd --cache-size values for the memory figure (--big)")
    p.add_argument("--quick", action="store_true", help="1 run, short durations: a smoke test, not figures")
    p.add_argument("--max-minutes", type=float, default=25, help="hard limit for the whole run")
    p.add_argument("--json", help="also write the results here")
    a = p.parse_args()
    a.servers = [s.strip() for s in a.servers.split(",") if s.strip()]
    bad = [s for s in a.servers if s not in KEYS]
    if bad:
        p.error(f"unknown server {bad[0]}; choose from {','.join(KEYS)}")
    a.cache_sizes = [int(x) for x in a.cache_sizes.split(",") if x]
    if a.quick:
        a.runs, a.dnsperf_secs, a.sat_secs, a.latency_secs, a.add_secs = 1, 2, 2, 2, 2
        a.latency_rounds = 1
    if os.cpu_count() < 2:
        p.error("needs at least 2 CPUs (server on CPU 1, load on CPU 0)")
    for tool in ("bench_loadgen", "bench_udp_echo"):
        if not os.access(os.path.join(a.helper_dir or a.bin_dir, tool), os.X_OK):
            p.error(f"{tool} not found in {a.helper_dir or a.bin_dir}: build it (cmake --build BUILD "
                    f"--target bench_loadgen bench_udp_echo) or use test/bench/run")

    made_work = not a.workdir
    a.workdir = a.workdir or tempfile.mkdtemp(prefix="dns-bench-")
    os.makedirs(a.workdir, exist_ok=True)
    # Orphans of multi-process daemons (NSD) are reparented to us and reaped, not left as zombies.
    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER

    def on_signal(sig, _frame):
        raise SystemExit(f"stopped by signal {sig}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    watchdog = threading.Timer(a.max_minutes * 60, lambda: os.kill(os.getpid(), signal.SIGTERM))
    watchdog.daemon = True
    watchdog.start()

    bench = Bench(a)
    started = time.monotonic()
    report = {}
    try:
        if not a.big_only:
            log(f"generating data in {a.workdir}/standard (seed {a.seed})")
            data = generate(os.path.join(a.workdir, "standard"), "standard", a.seed, a.query_count)
            a.records = data["records"]
            results = bench.table(data)
            add, add_note = bench.add_throughput(data)
            if add_note:
                log(add_note)
            print_table(results, add, add_note, a)
            report.update(table=results, add_per_s=add, add_note=add_note)
        if a.big or a.big_only:
            log(f"generating the 1M-record data in {a.workdir}/big")
            data = generate(os.path.join(a.workdir, "big"), "big", a.seed, a.query_count)
            big = bench.big(data)
            print_big(big, a)
            report["big"] = big
        print(f"\n(total {time.monotonic() - started:.0f} s; {os.cpu_count()} CPUs; "
              f"{os.uname().release}; figures are indicative on a shared machine)")
        if a.json:
            with open(a.json, "w") as f:
                json.dump(report, f, indent=1)
    finally:
        watchdog.cancel()
        bench.procs.stop_all()
        if made_work and not a.keep:
            shutil.rmtree(a.workdir, ignore_errors=True)
        elif a.keep:
            log(f"kept {a.workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
