"""Inbound ARC polish (issue #11; gateway/msgauth/msgauth_arc.c,
msgauth.c): the Authentication-Results reports the chain's oldest-pass
(RFC 8617 5.2, `header.oldest-pass`, the property RFC 8617 10.1
registers), a Received-SPF field (RFC 7208 9.1) sits beside it, and a DMARC
p=reject failure of a message forwarded through a mailing list that
altered it is accepted when the list's ARC seal is valid and its domain is
in inbound.arc_trusted_sealers (RFC 8617 7.2) - the field keeps dmarc=fail
and says why - while the same message sealed by a domain not trusted is
refused. Real DNS from nsd, signatures and seals by dkimpy."""

import smtplib

import pytest

dkim = pytest.importorskip("dkim")
pytest.importorskip("authres")

from conftest import mail_bodies, mail_directory  # noqa: E402
from dnsenv import dns_env  # noqa: E402,F401  (the fixture)
from test_inbound_auth import AUTHSERV, DOMAIN, message, ours, rsa_key, send, txt  # noqa: E402


@pytest.fixture
def world(dns_env, nodes):
    env = dns_env()
    keys = {d: rsa_key() for d in ("good.example", "list.example", "other.example")}
    good = env.zone("good.example", signed=False)
    good.add("@", "TXT", txt("v=spf1 ip4:192.0.2.1 -all"))
    good.add("sel._domainkey", "TXT", txt("v=DKIM1; k=rsa; p=" + keys["good.example"][1]))
    good.add("_dmarc", "TXT", txt("v=DMARC1; p=reject"))
    for sealer in ("list.example", "other.example"):
        z = env.zone(sealer, signed=False)
        z.add("arc._domainkey", "TXT", txt("v=DKIM1; k=rsa; p=" + keys[sealer][1]))
    settings = env.start()
    node = nodes("mx", env={**settings, "EVMAIL_INBOUND_AUTH": "on", "EVMAIL_SMTP_HOSTNAME": AUTHSERV,
                            "EVMAIL_INBOUND_ARC_TRUSTED_SEALERS": "trusted-elsewhere.example, list.example"})
    node.start(wait="ready")
    mail_directory(node, "t1", DOMAIN, ["bob"])
    return node, keys


def through_list(keys, sealer, subject):
    """A good.example message signed by its author, then altered by a list
    (a footer: the DKIM signature breaks) and ARC-sealed by sealer."""
    msg = message("alice@good.example", subject)
    sig = dkim.sign(msg, b"sel", b"good.example", keys["good.example"][0],
                    include_headers=[b"from", b"to", b"subject"])
    seen = f"Authentication-Results: {sealer}; dkim=pass header.d=good.example\r\n".encode()
    altered = seen + sig + msg + b"-- \r\nthe list footer\r\n"
    sets = dkim.arc_sign(altered, b"arc", sealer.encode(), keys[sealer][0], sealer.encode(),
                         include_headers=[b"from", b"to", b"subject"])
    return b"".join(sets) + altered


def test_trusted_sealer_overrides_dmarc_reject(world):
    node, keys = world
    send(node, "bounce@list.example", through_list(keys, "list.example", "via the list"))
    raw = mail_bodies(node, f"bob@{DOMAIN}")[-1][1]
    ar = ours(raw)
    assert "dkim=fail header.d=good.example" in ar, ar
    assert "dmarc=fail (p=reject; policy.override=trusted_forwarder arc=pass) header.from=good.example" in ar, ar
    assert "arc=pass (i=1) header.oldest-pass=0" in ar, ar
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"Received-SPF: none (" + AUTHSERV.encode() + b": domain of list.example)" in head, head
    assert b'envelope-from="bounce@list.example"' in head and b"identity=mailfrom" in head, head


def test_untrusted_sealer_is_refused(world):
    node, keys = world
    with pytest.raises(smtplib.SMTPDataError) as e:
        send(node, "bounce@other.example", through_list(keys, "other.example", "via another list"))
    assert e.value.smtp_code == 550 and e.value.smtp_error.startswith(b"5.7.1"), e.value
    assert mail_bodies(node, f"bob@{DOMAIN}") == []
