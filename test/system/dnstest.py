"""Shared helpers for the system tests: real binaries on free loopback ports.

Typical use (see conftest.py for the fixtures that wrap these):

    port = free_port()
    d = Daemon("centrald", ["--db", "c.db", "--listen", f"127.0.0.1:{port}"], workdir)
    d.start()
    d.wait_answering("127.0.0.1", port, "example.test.")
    r = query("127.0.0.1", port, "www.example.test.", "A")
    d.stop()          # SIGTERM, asserts exit status 0 within a few seconds

Only loopback addresses are ever used.
"""

import os
import signal
import socket
import subprocess
import time

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

_HERE = os.path.dirname(os.path.abspath(__file__))


def source_dir():
    """The repository root (DNS_SOURCE_DIR, else two levels above this file)."""
    return os.environ.get("DNS_SOURCE_DIR") or os.path.normpath(os.path.join(_HERE, "..", ".."))


def bin_dir():
    """Where the built binaries are (DNS_BIN_DIR, else <source>/build/bin)."""
    return os.environ.get("DNS_BIN_DIR") or os.path.join(source_dir(), "build", "bin")


def binary(name):
    """Absolute path of a built binary; raises when it has not been built."""
    path = os.path.join(bin_dir(), name)
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(f"{path} not built (set DNS_BIN_DIR)")
    return path


def _port_free(host, port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(family, kind)
        try:
            s.bind((host, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


_handed_out = set()


def free_port(host="127.0.0.1"):
    """A port free for both UDP and TCP on `host`, never the same one twice per run."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(200):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.bind((host, 0))
        port = s.getsockname()[1]
        s.close()
        if port not in _handed_out and _port_free(host, port):
            _handed_out.add(port)
            return port
    raise RuntimeError("no free port found")


def free_ports(n, host="127.0.0.1"):
    return [free_port(host) for _ in range(n)]


def listen_arg(host, port):
    """ADDR:PORT as the daemons take it: IPv6 in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def make_query(name, rdtype="A", *, want_edns=False, payload=1232, edns_version=0, do=False,
               rd=True, id=None):
    q = dns.message.make_query(name, rdtype)
    if want_edns or do:
        q.use_edns(edns_version, ednsflags=dns.flags.DO if do else 0, payload=payload)
    if not rd:
        q.flags &= ~dns.flags.RD
    if id is not None:
        q.id = id
    return q


def query(host, port, name, rdtype="A", *, tcp=False, timeout=3.0, **kwargs):
    """Sends one query and returns the dnspython response (UDP unless tcp=True).
    UDP answers with TC are returned as they are."""
    q = make_query(name, rdtype, **kwargs)
    if tcp:
        return dns.query.tcp(q, host, port=port, timeout=timeout)
    return dns.query.udp(q, host, port=port, timeout=timeout)


def send_raw_udp(host, port, payload, timeout=1.0, source=None):
    """Sends raw bytes over UDP (from `source` when given); returns the reply bytes or
    None when nothing came back."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        if source:
            s.bind((source, 0))
        s.sendto(payload, (host, port))
        data, _ = s.recvfrom(65535)
        return data
    except socket.timeout:
        return None
    finally:
        s.close()


def tcp_exchange(host, port, payloads, timeout=3.0):
    """Sends several length-framed messages on one TCP connection (RFC 7766 pipelining)
    and returns the replies read back, as many as were sent, in arrival order."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((host, port))
        s.sendall(b"".join(len(p).to_bytes(2, "big") + p for p in payloads))
        replies = []
        buf = b""
        while len(replies) < len(payloads):
            while len(buf) >= 2 and len(buf) >= 2 + int.from_bytes(buf[:2], "big"):
                n = int.from_bytes(buf[:2], "big")
                replies.append(buf[2:2 + n])
                buf = buf[2 + n:]
            if len(replies) >= len(payloads):
                break
            chunk = s.recv(65535)
            if not chunk:
                break
            buf += chunk
        return replies
    finally:
        s.close()


def run_tool(name, args, *, cwd=None, timeout=30, check=False):
    """Runs a built tool (dnszone, dnsadd...) and returns the CompletedProcess (text)."""
    proc = subprocess.run([binary(name)] + list(args), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{name} {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    return proc


def dig(host, port, *args, timeout=10):
    """Runs dig @host -p port args... and returns its stdout."""
    proc = subprocess.run(["dig", f"@{host}", "-p", str(port), "+time=2", "+tries=1"] + list(args),
                          capture_output=True, text=True, timeout=timeout)
    return proc.stdout


def kdig(host, port, *args, timeout=10):
    """Runs kdig @host -p port args... and returns its stdout."""
    proc = subprocess.run(["kdig", f"@{host}", "-p", str(port), "+time=2", "+retry=0"] + list(args),
                          capture_output=True, text=True, timeout=timeout)
    return proc.stdout


class Daemon:
    """One daemon process started in `workdir`, its stderr kept in workdir/<name>.<n>.log."""

    _count = 0

    def __init__(self, name, args, workdir, env=None):
        self.name = name
        self.args = list(args)
        self.workdir = str(workdir)
        self.env = env
        self.proc = None
        Daemon._count += 1
        self.log_path = os.path.join(self.workdir, f"{name}.{Daemon._count}.log")
        self._log = None

    def start(self):
        os.makedirs(self.workdir, exist_ok=True)
        self._log = open(self.log_path, "wb")
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        self.proc = subprocess.Popen([binary(self.name)] + self.args, cwd=self.workdir,
                                     stdout=self._log, stderr=subprocess.STDOUT, env=env)
        return self

    def log(self):
        """Everything the daemon printed so far."""
        if self._log:
            self._log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_answering(self, host, port, name=".", rdtype="SOA", timeout=10.0):
        """Waits until a UDP query gets any reply; fails early when the process exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise AssertionError(f"{self.name} exited {self.proc.returncode} during start:\n{self.log()}")
            try:
                query(host, port, name, rdtype, timeout=0.3)
                return self
            except (dns.exception.Timeout, OSError):
                time.sleep(0.05)
        raise AssertionError(f"{self.name} did not answer on {host}:{port} within {timeout}s:\n{self.log()}")

    def wait_exit(self, timeout=10.0):
        """Waits for the process to end by itself and returns its exit status."""
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self._close()

    def send_signal(self, sig):
        if self.running():
            os.kill(self.proc.pid, sig)

    def stop(self, sig=signal.SIGTERM, timeout=5.0, expect=0):
        """Sends `sig` to the process (by PID) and asserts it exits with `expect` within
        `timeout` seconds; kills it and fails when it does not."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._close()
                raise AssertionError(f"{self.name} did not exit within {timeout}s of signal {sig}:\n{self.log()}")
        code = self.proc.returncode
        self._close()
        if expect is not None and code != expect:
            raise AssertionError(f"{self.name} exited {code}, expected {expect}:\n{self.log()}")
        return code

    def kill(self):
        """Ends the process without checks (teardown after a failed test)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close()

    def _close(self):
        if self._log:
            self._log.close()
            self._log = None


def run_binary(name, args, *, cwd=None, timeout=10):
    """Runs a binary expected to exit by itself (bad flags, --help); CompletedProcess (text)."""
    return subprocess.run([binary(name)] + list(args), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def rcode_of(response):
    return dns.rcode.to_text(response.rcode())


def addresses(response, rdtype="A"):
    """The addresses of the answer's A (or AAAA) records, in order."""
    t = dns.rdatatype.from_text(rdtype)
    out = []
    for rrset in response.answer:
        if rrset.rdtype == t:
            out.extend(r.address for r in rrset)
    return out


def write_zones(directory, zone_texts):
    """Writes {"example.test": "<master file text>", ...} as directory/<name>.zone."""
    os.makedirs(directory, exist_ok=True)
    for name, text in zone_texts.items():
        with open(os.path.join(str(directory), f"{name}.zone"), "w") as f:
            f.write(text)
    return str(directory)


def start_centrald(workdir, zone_texts=None, zones_dir=None, extra_args=(), host="127.0.0.1",
                   port=None, threads=1, db="central.db", wait_name="."):
    """Starts centrald in `workdir` on a free port with a fresh database, importing
    `zone_texts` (written to workdir/zones) or the *.zone files of `zones_dir`, and waits
    until it answers. Returns (Daemon, port); call .stop() to check a clean exit."""
    port = port or free_port(host)
    args = ["--db", os.path.join(str(workdir), db), "--listen", listen_arg(host, port),
            "--threads", str(threads)]
    if zone_texts:
        zones_dir = write_zones(os.path.join(str(workdir), "zones"), zone_texts)
    if zones_dir:
        args += ["--zones", str(zones_dir)]
    d = Daemon("centrald", args + list(extra_args), workdir)
    d.start()
    try:
        d.wait_answering(host, port, wait_name)
    except Exception:
        d.kill()
        raise
    return d, port
