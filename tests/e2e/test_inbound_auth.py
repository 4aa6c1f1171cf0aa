"""Inbound sender authentication (issue 11 item 1, gateway/msgauth/): SPF,
DKIM, DMARC and ARC of mail received on smtp.listen, with real DNS from
nsd (dnsenv.py) and messages signed and sealed by an independent signer
(dkimpy). What is checked: one Authentication-Results field of ours on top
of the stored message (a forged copy removed), dkim=pass for signed mail
and fail once altered, 550 5.7.1 for a DMARC p=reject domain, the \\Junk
mailbox for p=quarantine, arc=pass for an ARC-sealed message."""

import base64
import smtplib
import subprocess
import urllib.request

import pytest

dkim = pytest.importorskip("dkim")
pytest.importorskip("authres")   # dkimpy's arc_sign needs it

from conftest import mail_bodies, mail_directory, mail_mailboxes, mail_raw  # noqa: E402
from dnsenv import dns_env  # noqa: E402,F401  (the fixture)

AUTHSERV = "mx1.evmail.test"
DOMAIN = "inbox.example"


def rsa_key():
    """(private PEM, DKIM p= value) of a fresh 2048-bit key."""
    pem = subprocess.run(["openssl", "genrsa", "-traditional", "2048"], capture_output=True,
                         check=True, timeout=60).stdout
    pub = subprocess.run(["openssl", "rsa", "-pubout", "-outform", "DER"], input=pem,
                         capture_output=True, check=True, timeout=60).stdout
    return pem, base64.b64encode(pub).decode()


def txt(value):
    """A TXT rdata in zone-file form: character-strings of at most 255 octets."""
    return " ".join('"%s"' % value[i:i + 255] for i in range(0, len(value), 255))


def message(sender, subject, body="Hello.\r\n", extra=""):
    return (f"From: Sender <{sender}>\r\nTo: bob@{DOMAIN}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '-')}@test>\r\n{extra}\r\n{body}").encode()


def send(node, sender, data):
    s = smtplib.SMTP("127.0.0.1", node.smtp_port, local_hostname="client.example", timeout=60)
    try:
        return s.sendmail(sender, [f"bob@{DOMAIN}"], data)
    finally:
        s.quit()


def ar_fields(raw):
    head = raw.split(b"\r\n\r\n", 1)[0].decode()
    fields, cur = [], None
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t") and cur is not None:
            cur += line
            continue
        if cur is not None:
            fields.append(cur)
        cur = line
    fields.append(cur)
    return [f for f in fields if f.lower().startswith("authentication-results:")]


def ours(raw):
    found = [f for f in ar_fields(raw) if f.split(":", 1)[1].strip().startswith(AUTHSERV + ";")]
    assert len(found) == 1, ar_fields(raw)
    return " ".join(found[0].split())


@pytest.fixture
def world(dns_env, nodes):
    env = dns_env()
    keys = {d: rsa_key() for d in ("good.example", "relay.example")}
    good = env.zone("good.example", signed=False)
    good.add("@", "TXT", txt("v=spf1 ip4:127.0.0.1 -all"))
    good.add("sel._domainkey", "TXT", txt("v=DKIM1; k=rsa; p=" + keys["good.example"][1]))
    good.add("_dmarc", "TXT", txt("v=DMARC1; p=reject"))
    relay = env.zone("relay.example", signed=False)
    relay.add("arc._domainkey", "TXT", txt("v=DKIM1; k=rsa; p=" + keys["relay.example"][1]))
    for name, policy in (("bad.example", "reject"), ("q.example", "quarantine"), ("mon.example", "none")):
        z = env.zone(name, signed=False)
        z.add("@", "TXT", txt("v=spf1 ip4:192.0.2.1 -all"))
        z.add("_dmarc", "TXT", txt(f"v=DMARC1; p={policy}"))
    settings = env.start()
    node = nodes("mx", env={**settings, "EVMAIL_INBOUND_AUTH": "on", "EVMAIL_SMTP_HOSTNAME": AUTHSERV})
    node.start(wait="ready")
    mail_directory(node, "t1", DOMAIN, ["bob"])
    return node, keys


def stored(node, n):
    got = mail_bodies(node, f"bob@{DOMAIN}")
    assert len(got) == n, got
    return got[-1][1]


def test_signed_passes_forged_header_removed(world):
    node, keys = world
    msg = message("alice@good.example", "signed")
    sig = dkim.sign(msg, b"sel", b"good.example", keys["good.example"][0],
                    include_headers=[b"from", b"to", b"subject"])
    forged = f"Authentication-Results: {AUTHSERV}; dkim=pass header.d=paypal.example\r\n".encode()
    send(node, "alice@good.example", forged + sig + msg)
    raw = stored(node, 1)
    ar = ours(raw)
    assert "spf=pass smtp.mailfrom=good.example" in ar, ar
    assert "dkim=pass header.d=good.example" in ar, ar
    assert "dmarc=pass" in ar and "arc=none" in ar, ar
    assert b"paypal.example" not in raw
    # ours is on top of the message (after the trace fields the delivery adds)
    assert raw.index(b"Authentication-Results:") < raw.index(b"DKIM-Signature:")


def test_altered_fails(world):
    node, keys = world
    msg = message("alice@mon.example", "altered")
    sig = dkim.sign(msg, b"sel", b"good.example", keys["good.example"][0],
                    include_headers=[b"from", b"to", b"subject"])
    send(node, "alice@mon.example", sig + msg.replace(b"Hello.", b"Hellp."))
    ar = ours(stored(node, 1))
    assert "dkim=fail header.d=good.example" in ar, ar
    assert "spf=fail" in ar and "dmarc=fail (p=none)" in ar, ar


def test_dmarc_reject_refused(world):
    node, _ = world
    with pytest.raises(smtplib.SMTPDataError) as e:
        send(node, "x@bad.example", message("x@bad.example", "reject me"))
    assert e.value.smtp_code == 550 and e.value.smtp_error.startswith(b"5.7.1"), e.value
    assert mail_bodies(node, f"bob@{DOMAIN}") == []


def test_dmarc_quarantine_goes_to_junk(world):
    node, _ = world
    send(node, "x@q.example", message("x@q.example", "quarantine me"))
    addr = f"bob@{DOMAIN}"
    junk = [m for m in mail_mailboxes(node, addr) if m["name"] == "Junk"][0]
    msgs = node.get_json(f"/admin/mail/{urllib.request.quote(addr, safe='@')}/mailboxes/{junk['id']}/messages")
    assert len(msgs) == 1, msgs
    ar = ours(mail_raw(node, addr, junk["id"], msgs[0]["uid"]))
    assert "dmarc=fail (p=quarantine) header.from=q.example" in ar, ar
    assert mail_bodies(node, addr) == []


def test_arc_sealed_passes(world):
    node, keys = world
    msg = message("alice@good.example", "forwarded")
    sig = dkim.sign(msg, b"sel", b"good.example", keys["good.example"][0],
                    include_headers=[b"from", b"to", b"subject"])
    signed = b"Authentication-Results: relay.example; dkim=pass header.d=good.example\r\n" + sig + msg
    sets = dkim.arc_sign(signed, b"arc", b"relay.example", keys["relay.example"][0], b"relay.example",
                         include_headers=[b"from", b"to", b"subject"])
    send(node, "fwd@relay.example", b"".join(sets) + signed)
    ar = ours(stored(node, 1))
    assert "arc=pass" in ar, ar
    assert "dkim=pass" in ar, ar
