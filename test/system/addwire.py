"""The ADD opcode's wire layout built by hand (README "The ADD opcode"), independent of
libdnswire, so that the system tests check the daemons against the documented bytes."""

import ipaddress
import socket
import struct

import dns.message
import dns.name
import dns.rcode
import dns.tsig
import dns.tsigkeyring

import dnstest

ADD_OPCODE = 14
TYPE_A, TYPE_NS, TYPE_CNAME, TYPE_SOA, TYPE_MX, TYPE_AAAA, TYPE_OPT, TYPE_TSIG = 1, 2, 5, 6, 15, 28, 41, 250
CLASS_IN, CLASS_NONE, CLASS_ANY = 1, 254, 255


def wire_name(text):
    return dns.name.from_text(text).to_wire()


def record(owner, rtype, rclass, ttl, rdata):
    return wire_name(owner) + struct.pack("!HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def add_request(name, *, msg_id=0x4242, ips=(), count=0, aliases=(), mx=(), ttl=300, qtype=TYPE_A,
                edns=False, extra_records=()):
    """An ADD request: `count` placeholders of `qtype`, `ips` given addresses, aliases as
    CNAMEs to NAME, mx as (preference, host) pairs."""
    records = []
    for ip in ips:
        addr = ipaddress.ip_address(ip)
        records.append(record(name, TYPE_A if addr.version == 4 else TYPE_AAAA, CLASS_IN, ttl, addr.packed))
    for _ in range(count):
        records.append(record(name, qtype, CLASS_NONE, ttl, b""))
    for alias in aliases:
        records.append(record(alias, TYPE_CNAME, CLASS_IN, ttl, wire_name(name)))
    for pref, host in mx:
        records.append(record(name, TYPE_MX, CLASS_IN, ttl, struct.pack("!H", pref) + wire_name(host)))
    records.extend(extra_records)
    additional = []
    if edns:
        additional.append(b"\x00" + struct.pack("!HHIH", TYPE_OPT, 1232, 0, 0))
    header = struct.pack("!HHHHHH", msg_id, ADD_OPCODE << 11, 1, 0, len(records), len(additional))
    question = wire_name(name) + struct.pack("!HH", qtype, CLASS_IN)
    return header + question + b"".join(records) + b"".join(additional)


def sign(wire, keyname, secret_b64, *, request_mac=b"", now=None, fudge=300):
    """Appends a TSIG (hmac-sha256) computed with dnspython's primitives (RFC 8945)."""
    import time
    keyring = dns.tsigkeyring.from_text({keyname: ("hmac-sha256", secret_b64)})
    key = keyring[dns.name.from_text(keyname)]
    msg_id = struct.unpack("!H", wire[:2])[0]
    signed_at = int(now if now is not None else time.time())
    rdata = dns.rdtypes.ANY.TSIG.TSIG(dns.rdataclass.ANY, dns.rdatatype.TSIG, key.algorithm,
                                      signed_at, fudge, b"", msg_id, 0, b"")
    signed_rdata, _ctx = dns.tsig.sign(wire, key, rdata, signed_at, request_mac or None)
    owner = dns.name.from_text(keyname).to_wire()
    rd = signed_rdata.to_digestable()
    arcount = struct.unpack("!H", wire[10:12])[0] + 1
    out = wire[:10] + struct.pack("!H", arcount) + wire[12:]
    return out + owner + struct.pack("!HHIH", TYPE_TSIG, CLASS_ANY, 0, len(rd)) + rd, signed_rdata.mac


def exchange(host, port, wire, *, tcp=True, timeout=5.0, source=None):
    """Sends raw bytes, returns the raw reply (None on timeout over UDP)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if tcp:
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            if source:
                s.bind((source, 0))
            s.connect((host, port))
            s.sendall(struct.pack("!H", len(wire)) + wire)
            buf = b""
            while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
                chunk = s.recv(65535)
                if not chunk:
                    return None
                buf += chunk
            return buf[2:2 + struct.unpack("!H", buf[:2])[0]]
        finally:
            s.close()
    return dnstest.send_raw_udp(host, port, wire, timeout=timeout, source=source)


def parse_reply(data):
    """(id, flags, rcode, answer records) from a reply; records as dnspython parses them.
    dnspython does not know opcode 14, so the header is read by hand and the sections by
    parsing a copy relabelled as opcode UPDATE-free QUERY."""
    msg_id, flags = struct.unpack("!HH", data[:4])
    patched = data[:2] + struct.pack("!H", flags & ~(0xF << 11)) + data[4:]
    msg = dns.message.from_wire(patched, ignore_trailing=False, keyring=False)
    return msg_id, flags, flags & 0xF, msg


def opcode_of(flags):
    return (flags >> 11) & 0xF


def answer_rdatas(msg, rdtype):
    out = []
    for rrset in msg.answer:
        if rrset.rdtype == rdtype:
            out.extend(rrset)
    return out
