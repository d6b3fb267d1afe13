"""Cross-checks libdnswire against dnspython, an independent codec.

Messages are generated at random with a fixed seed: every supported type (A, AAAA, NS,
CNAME, PTR, MX, SOA, TXT, SRV), unknown types (RFC 3597), odd label bytes and mixed case,
EDNS with options. Two directions:

* dnspython writes a message; our codec (build/bin/wire_roundtrip decode) parses it and
  writes it again; dnspython must read our bytes back to an equal message, and where
  dnspython's own compression follows the RFCs (no SRV, which it compresses against
  RFC 2782) our bytes must equal its bytes exactly.
* our codec writes a message from presentation text (wire_roundtrip encode); dnspython
  must parse it to the message it builds from the same text.
"""

import random
import subprocess

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

import dnstest

SEED = 20240601
COUNT = 1200

TYPES = ["A", "AAAA", "NS", "CNAME", "PTR", "MX", "SOA", "TXT", "SRV", "UNKNOWN"]
# Label bytes: mostly a hostname alphabet in both cases, sometimes bytes that need escapes.
PLAIN = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
ODD = b' .;()"\\@$\x00\x01\x7f\x80\xff'


def helper():
    return dnstest.binary("wire_roundtrip")


def rand_label(rng):
    n = rng.choice([1, 1, 2, 3, 5, 8, 13, 63]) if rng.random() < 0.2 else rng.randint(1, 12)
    alphabet = PLAIN + ODD if rng.random() < 0.15 else PLAIN
    return bytes(rng.choice(alphabet) for _ in range(n))


def rand_name(rng, zones):
    """Names mostly below a few shared zones (so that compression has work to do)."""
    if rng.random() < 0.05:
        return dns.name.root
    base = rng.choice(zones)
    labels = [rand_label(rng) for _ in range(rng.choice([0, 1, 1, 2, 3]))]
    name = dns.name.Name(labels + list(base.labels))
    if len(name.to_wire()) > 255:
        return base
    # Random case: names compare case-insensitively, but the case must survive.
    text = name.to_text()
    return dns.name.from_text("".join(c.upper() if rng.random() < 0.3 else c for c in text))


def rand_rdata(rng, rdtype, zones):
    IN = dns.rdataclass.IN
    if rdtype == "A":
        return dns.rdata.from_text(IN, "A", ".".join(str(rng.randint(0, 255)) for _ in range(4)))
    if rdtype == "AAAA":
        groups = [f"{rng.randint(0, 0xFFFF):x}" if rng.random() < 0.6 else "0" for _ in range(8)]
        return dns.rdata.from_text(IN, "AAAA", ":".join(groups))
    if rdtype in ("NS", "CNAME", "PTR"):
        return dns.rdata.from_text(IN, rdtype, rand_name(rng, zones).to_text())
    if rdtype == "MX":
        return dns.rdata.from_text(IN, "MX", f"{rng.randint(0, 65535)} {rand_name(rng, zones)}")
    if rdtype == "SOA":
        nums = " ".join(str(rng.randint(0, 2**32 - 1)) for _ in range(5))
        return dns.rdata.from_text(IN, "SOA", f"{rand_name(rng, zones)} {rand_name(rng, zones)} {nums}")
    if rdtype == "TXT":
        strings = []
        for _ in range(rng.randint(1, 4)):
            n = rng.choice([0, 1, 10, 50, 255]) if rng.random() < 0.3 else rng.randint(0, 30)
            strings.append(bytes(rng.randint(0, 255) if rng.random() < 0.2 else rng.choice(PLAIN + b" ")
                                 for _ in range(n)))
        return dns.rdata.from_wire(IN, dns.rdatatype.TXT, b"".join(bytes([len(s)]) + s for s in strings), 0,
                                   sum(len(s) + 1 for s in strings))
    if rdtype == "SRV":
        return dns.rdata.from_text(IN, "SRV", f"{rng.randint(0, 65535)} {rng.randint(0, 65535)} "
                                              f"{rng.randint(0, 65535)} {rand_name(rng, zones)}")
    # Unknown types, including bytes that would look like a compression pointer.
    code = rng.choice([65280, 65534, 999, 4321, 100])
    data = bytes(rng.randint(0, 255) for _ in range(rng.choice([0, 1, 2, 4, 16, 100])))
    if rng.random() < 0.2:
        data = b"\xc0\x0c"
    return dns.rdata.GenericRdata(IN, code, data)


def rand_message(rng):
    zones = [dns.name.from_text(z) for z in ("example.com.", "example.org.", "a.b.c.test.", "xn--bcher-kva.example.")]
    qname = rand_name(rng, zones)
    qtype = rng.choice(["A", "AAAA", "MX", "TXT", "SRV", "ANY", "TYPE65280"])
    use_edns = rng.random() < 0.6
    options = []
    if use_edns:
        for _ in range(rng.choice([0, 0, 1, 2])):
            code = rng.choice([10, 65001, 65002, 3])
            size = 8 if code == 10 else rng.randint(0, 20)
            options.append(dns.edns.GenericOption(code, bytes(rng.randint(0, 255) for _ in range(size))))
    q = dns.message.make_query(qname, qtype, use_edns=0 if use_edns else False, payload=rng.choice([512, 1232, 4096]),
                               want_dnssec=use_edns and rng.random() < 0.3, options=options)
    q.id = rng.randint(0, 65535)
    if rng.random() < 0.3:
        return q
    r = dns.message.make_response(q)
    r.flags |= rng.choice([0, dns.flags.AA, dns.flags.AA | dns.flags.RA, dns.flags.TC])
    r.set_rcode(rng.choice([0, 0, 0, 3, 2, 5]))
    for section in (r.answer, r.authority, r.additional):
        for _ in range(rng.choice([0, 0, 1, 2, 3, 5])):
            rdtype = rng.choice(TYPES)
            owner = qname if rng.random() < 0.5 else rand_name(rng, zones)
            rdatas = [rand_rdata(rng, rdtype, zones) for _ in range(rng.choice([1, 1, 2, 3]))]
            rrset = dns.rrset.RRset(owner, dns.rdataclass.IN, rdatas[0].rdtype)
            rrset.update_ttl(rng.choice([0, 1, 300, 86400, 2**31 - 1]))
            for rd in rdatas:
                if rd.rdtype == rrset.rdtype:
                    rrset.add(rd)
            section.append(rrset)
    return r


def same_message(a, b):
    """dnspython's == ignores EDNS; compare that too."""
    return (a == b and a.edns == b.edns and a.payload == b.payload and a.ednsflags == b.ednsflags
            and a.options == b.options and a.rcode() == b.rcode())


def has_srv(m):
    return any(rrset.rdtype == dns.rdatatype.SRV for s in (m.answer, m.authority, m.additional) for rrset in s)


def run_helper(mode, text, *args):
    out = subprocess.run([helper(), mode, *args], input=text, capture_output=True, text=True, timeout=60, check=True)
    return out.stdout.splitlines()


def test_our_codec_rewrites_what_dnspython_writes():
    rng = random.Random(SEED)
    messages = [rand_message(rng) for _ in range(COUNT)]
    wires = [m.to_wire(max_size=65535) for m in messages]
    results = run_helper("decode", "".join(w.hex() + "\n" for w in wires))
    assert len(results) == len(wires)
    exact = 0
    for original, wire, result in zip(messages, wires, results):
        assert result.startswith("OK "), f"{result} for {wire.hex()}"
        ours = bytes.fromhex(result[3:])
        back = dns.message.from_wire(ours)
        # What dnspython itself reads from its bytes (it merges RRsets split in a section).
        original = dns.message.from_wire(wire)
        assert same_message(back, original), f"differs:\n{original}\n---\n{back}"
        # Case survives: the question is byte-for-byte the same.
        assert back.question[0].name.to_wire() == original.question[0].name.to_wire()
        if not has_srv(original):
            assert ours == wire, f"bytes differ from dnspython's for\n{original}"
            exact += 1
    assert exact > COUNT // 2


def test_presentation_matches_dnspython():
    """toText() prints what dnspython prints (dig's layout, tab-separated), except that
    RFC 3597 hex is one upper-case word."""
    rng = random.Random(SEED + 3)
    messages = [rand_message(rng) for _ in range(COUNT // 3)]
    wires = [m.to_wire(max_size=65535) for m in messages]
    lines = run_helper("text", "".join(w.hex() + "\n" for w in wires))
    ours = []
    current = []
    for line in lines:
        if line == ".":
            ours.append(current)
            current = []
        else:
            current.append(line)
    assert len(ours) == len(wires)
    for wire, printed in zip(wires, ours):
        # One RRset per record: no merging, no singleton rules (CNAME) dropping records.
        m = dns.message.from_wire(wire, one_rr_per_rrset=True)
        expected = []
        for section in (m.answer, m.authority, m.additional):
            for rrset in section:
                for rd in rrset:
                    text = rd.to_text()
                    if isinstance(rd, dns.rdata.GenericRdata):
                        # "\# 100 ABCD... EF01..." in 32-digit chunks: ours is one word.
                        mark, length, *chunks = text.split(" ")
                        hexdata = "".join(chunks).upper()
                        text = " ".join([mark, length] + ([hexdata] if hexdata else []))
                    expected.append(f"{rrset.name}\t{rrset.ttl}\t{dns.rdataclass.to_text(rrset.rdclass)}\t"
                                    f"{dns.rdatatype.to_text(rrset.rdtype)}\t{text}")
        assert printed == expected


def block_of(m):
    """Our encode helper's input for message m, rdata in dnspython's presentation form."""
    lines = [f"H {m.id} {m.flags | (m.rcode() & 0xF)}"]
    for q in m.question:
        lines.append(f"Q {q.name} {dns.rdataclass.to_text(q.rdclass)} {dns.rdatatype.to_text(q.rdtype)}")
    for tag, section in (("AN", m.answer), ("NS", m.authority), ("AR", m.additional)):
        for rrset in section:
            for rd in rrset:
                lines.append(f"{tag} {rrset.name} {rrset.ttl} {dns.rdataclass.to_text(rrset.rdclass)} "
                             f"{dns.rdatatype.to_text(rrset.rdtype)} {rd.to_text()}")
    if m.opt is not None:
        opt_wire = b"".join(o.otype.to_bytes(2, "big") + len(o.to_wire()).to_bytes(2, "big") + o.to_wire()
                            for o in m.options)
        hexdata = f"\\# {len(opt_wire)} {opt_wire.hex()}" if opt_wire else "\\# 0"
        lines.append(f"AR . {m.opt.ttl} CLASS{m.payload} OPT {hexdata}")
    return "\n".join(lines) + "\n.\n"


def test_dnspython_reads_what_our_codec_writes():
    rng = random.Random(SEED + 1)
    messages = [rand_message(rng) for _ in range(COUNT)]
    results = run_helper("encode", "".join(block_of(m) for m in messages))
    assert len(results) == len(messages)
    for original, result in zip(messages, results):
        assert result.startswith("OK "), f"{result} for\n{block_of(original)}"
        back = dns.message.from_wire(bytes.fromhex(result[3:]))
        original = dns.message.from_wire(original.to_wire(max_size=65535))
        assert same_message(back, original), f"differs:\n{original}\n---\n{back}"


def test_truncation_keeps_whole_rrsets_and_opt():
    """Our writer cuts a large answer to 512 bytes: whole RRsets only, TC set, OPT kept."""
    rng = random.Random(SEED + 2)
    q = dns.message.make_query("big.example.com.", "TXT", use_edns=0, payload=1232)
    r = dns.message.make_response(q)
    for i in range(6):
        rrset = dns.rrset.RRset(dns.name.from_text(f"r{i}.example.com."), dns.rdataclass.IN, dns.rdatatype.TXT)
        rrset.update_ttl(60)
        for _ in range(3):
            rrset.add(dns.rdata.from_text("IN", "TXT", '"' + "".join(rng.choice("abc") for _ in range(60)) + '"'))
        r.answer.append(rrset)
    wire = r.to_wire(max_size=65535)
    assert len(wire) > 1000
    (full,) = run_helper("decode", wire.hex() + "\n")
    assert dns.message.from_wire(bytes.fromhex(full[3:])) == r
    (cut,) = run_helper("decode", wire.hex() + "\n", "512")
    small = bytes.fromhex(cut[3:])
    assert len(small) <= 512
    m = dns.message.from_wire(small)
    assert m.flags & dns.flags.TC
    assert m.edns == 0 and m.payload == r.payload
    assert 0 < len(m.answer) < 6
    for rrset in m.answer:
        assert len(rrset) == 3, "an RRset was cut in the middle"
        assert rrset in r.answer
