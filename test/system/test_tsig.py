"""TSIG (RFC 8945) on ADD: centrald --tsig-key against dnsadd, dnspython and BIND's dig."""

import struct
import subprocess
import time

import dns.rdatatype
import pytest

import addwire as aw
from dnstest import binary, query, rcode_of, run_tool, start_centrald

SECRET = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
KEY = f"hmac-sha256:add-key.:{SECRET}"
WRONG_SECRET = f"hmac-sha256:add-key.:c2VjcmV0c2VjcmV0c2VjcmV0"
WRONG_NAME = f"hmac-sha256:other-key.:{SECRET}"

ZONE = """$ORIGIN example.test.
$TTL 3600
@     IN SOA ns1 hostmaster 100 7200 900 1209600 300
      IN NS  ns1
ns1   IN A   192.0.2.53
"""


@pytest.fixture
def signed_central(tmp_path):
    d, port = start_centrald(tmp_path, {"example.test": ZONE}, wait_name="example.test.",
                             extra_args=["--pool", "10.97.0.0/24", "--tsig-key", KEY])
    yield d, port
    d.kill()


def dnsadd(port, *args):
    return run_tool("dnsadd", list(args) + ["--server", f"127.0.0.1:{port}", "--timeout", "5"])


def tsig_error_of(reply):
    """The error field of the reply's TSIG record (RFC 8945 §4.2), found after its
    algorithm name."""
    at = reply.rindex(b"\x0bhmac-sha256\x00") + 13 + 6 + 2  # algorithm, time signed, fudge
    mac_size = struct.unpack("!H", reply[at:at + 2])[0]
    at += 2 + mac_size + 2  # MAC, original ID
    return struct.unpack("!H", reply[at:at + 2])[0]


def test_signed_dnsadd_succeeds_and_the_reply_verifies(signed_central):
    d, port = signed_central
    p = dnsadd(port, "signed.example.test", "--key", KEY, "--count", "1")
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\t")[3] == "A"
    assert rcode_of(query("127.0.0.1", port, "signed.example.test.", "A")) == "NOERROR"


@pytest.mark.parametrize("args,word", [([], "requires"), (["--key", WRONG_SECRET], "BADSIG"),
                                       (["--key", WRONG_NAME], "BADKEY")])
def test_missing_or_bad_signature_is_notauth_and_changes_nothing(signed_central, args, word):
    d, port = signed_central
    p = dnsadd(port, "unsigned.example.test", "--count", "1", *args)
    assert p.returncode == 5, (p.returncode, p.stderr)
    assert word in p.stderr
    assert rcode_of(query("127.0.0.1", port, "unsigned.example.test.", "A")) == "NXDOMAIN"


def test_raw_replies_carry_the_tsig_error(signed_central):
    d, port = signed_central
    wire = aw.add_request("raw.example.test.", count=1)
    # No signature: NOTAUTH with an unsigned TSIG, error BADSIG.
    reply = aw.exchange("127.0.0.1", port, wire)
    assert reply[3] & 0xF == 9 and tsig_error_of(reply) == 16
    # Wrong secret: BADSIG.
    signed, _ = aw.sign(wire, "add-key.", "c2VjcmV0c2VjcmV0c2VjcmV0")
    reply = aw.exchange("127.0.0.1", port, signed)
    assert reply[3] & 0xF == 9 and tsig_error_of(reply) == 16
    # Stale: signed 1000 s ago, outside the 300 s fudge: BADTIME with our time as other data.
    stale, _ = aw.sign(wire, "add-key.", SECRET, now=time.time() - 1000)
    reply = aw.exchange("127.0.0.1", port, stale)
    assert reply[3] & 0xF == 9 and tsig_error_of(reply) == 18
    server_time = int.from_bytes(reply[-6:], "big")
    assert abs(server_time - time.time()) < 30
    assert rcode_of(query("127.0.0.1", port, "raw.example.test.", "A")) == "NXDOMAIN"
    # Signed by dnspython with the right key: accepted, the reply signed.
    good, _ = aw.sign(wire, "add-key.", SECRET)
    reply = aw.exchange("127.0.0.1", port, good)
    assert reply[3] & 0xF == 0
    assert "BADSIG" not in d.log().split("raw.example.test. from 127.0.0.1: 1 records")[-1]


def test_dig_signed_request_verifies_here_and_our_signed_reply_verifies_in_dig(signed_central):
    d, port = signed_central
    # dig cannot carry ADD's records, so the request is malformed (FORMERR), but its
    # signature is checked first: a good one gets a signed FORMERR that dig verifies.
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+opcode=14", "+time=3", "+tries=1", "-y", KEY,
                          "x.example.test", "A"], capture_output=True, text=True, timeout=20).stdout
    assert "status: FORMERR" in out, out
    assert "TSIG PSEUDOSECTION" in out and "NOERROR" in out.split("TSIG PSEUDOSECTION")[1]
    assert "verify" not in out and "WARNING -- Some TSIG" not in out
    # With the wrong secret we answer NOTAUTH/BADSIG, unsigned, and dig says so.
    bad = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+opcode=14", "+time=3", "+tries=1", "-y",
                          WRONG_SECRET, "x.example.test", "A"], capture_output=True, text=True, timeout=20)
    text = bad.stdout + bad.stderr
    assert "status: NOTAUTH" in text and "BADSIG" in text
    assert "Couldn't verify signature" in text or "could not be validated" in text


def test_signed_add_to_a_server_without_a_key_is_badkey(tmp_path):
    d, port = start_centrald(tmp_path, {"example.test": ZONE}, wait_name="example.test.",
                             extra_args=["--pool", "10.97.0.0/24"])
    try:
        p = dnsadd(port, "k.example.test", "--key", KEY)
        assert p.returncode == 5 and "BADKEY" in p.stderr
        assert dnsadd(port, "k.example.test").returncode == 0
    finally:
        d.stop()


def test_bad_key_spec_is_rejected_at_start(tmp_path):
    p = subprocess.run([binary("centrald"), "--db", str(tmp_path / "x.db"), "--tsig-key", "hmac-md5:k:AAAA"],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode != 0 and "tsig" in p.stderr.lower()
    p = run_tool("dnsadd", ["x.example.test", "--key", "hmac-sha256:k:@@@"])
    assert p.returncode == 2
