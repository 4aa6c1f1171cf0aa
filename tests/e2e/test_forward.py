"""Forwarding: an alias with a remote target relays through the queue with
an SRS envelope sender, a DKIM signature and an ARC set of the forwarding
domain (gateway/forward/forward.h).

The remote side is smtp_sink on 127.0.0.1, reached by delivery.routes.
Proved here, with dkimpy as the independent verifier:
  - mail to an alias with a local and a remote target: the local copy is
    stored with the original Return-Path; the remote copy arrives with
    MAIL FROM SRS0=...@fwd.example, a DKIM signature that verifies and an
    ARC set (i=1, cv=none) that arc_verify accepts;
  - a bounce (null sender) to that SRS address goes to the original
    sender, with the null sender kept;
  - a forged SRS address is refused 550 5.1.1;
  - 50 Received fields: 554 5.4.6, nothing forwarded.
"""

import re
import smtplib

import dkim
import pytest

from conftest import assert_ok, cmd, mail_bodies, mail_directory, wait_until
from smtp_sink import SmtpSink
from dnsenv import dns_env  # noqa: F401  (the fixture)

DOMAIN = "fwd.example"
REMOTE = "remote.example"
SENDER_DOMAIN = "sender.example"


@pytest.fixture
def world(nodes, tmp_path):
    sink = SmtpSink().start()
    secret = tmp_path / "srs.secret"
    secret.write_text("a-test-srs-secret-of-enough-length\n")
    node = nodes("fwd", env={
        "EVMAIL_NODE_ROLES": "projector,gateway,delivery",
        "EVMAIL_SMTP_HOSTNAME": "mx.fwd.example",
        "EVMAIL_FORWARD_SRS_SECRET_FILE": str(secret),
        "EVMAIL_DELIVERY_ROUTES": f"{REMOTE}=127.0.0.1:{sink.port},{SENDER_DOMAIN}=127.0.0.1:{sink.port}",
        "EVMAIL_DELIVERY_RELAY_TLS": "none",
        "EVMAIL_DELIVERY_RETRY_MIN_S": "1", "EVMAIL_DELIVERY_RETRY_MAX_S": "2",
        "EVMAIL_DELIVERY_CONNECT_TIMEOUT_S": "5", "EVMAIL_DELIVERY_COMMAND_TIMEOUT_S": "10",
    })
    node.start(wait="ready")
    (bob,) = mail_directory(node, "t1", DOMAIN, ["bob"])
    outs = node.commands([
        cmd("alias.add", {"alias": f"list@{DOMAIN}", "target": f"carol@{REMOTE}"}, tenant="t1"),
        cmd("alias.add", {"alias": f"list@{DOMAIN}", "target": bob}, tenant="t1"),
    ])
    assert all(o.get("status") == "accepted" for o in outs), outs
    out = assert_ok(node.ctl("dkim", "create", DOMAIN, "--selector", "rsa1", "--algorithm", "rsa2048")).out
    line = next(ln for ln in out.splitlines() if "._domainkey." in ln)
    m = re.match(r"(\S+) IN TXT (.*)$", line)
    records = {m.group(1).rstrip(".").encode(): "".join(re.findall(r'"([^"]*)"', m.group(2))).encode()}

    def dnsfunc(name, timeout=5):
        return records.get(name.rstrip(b"."))

    yield node, sink, bob, dnsfunc
    sink.stop()


def message(subject, extra=""):
    return (f"From: Alice <alice@{SENDER_DOMAIN}>\r\nTo: list@{DOMAIN}\r\nSubject: {subject}\r\n"
            f"Date: Thu, 01 Jan 2026 00:00:00 +0000\r\nMessage-ID: <{subject.replace(' ', '.')}@{SENDER_DOMAIN}>\r\n"
            f"{extra}\r\nHello,  forwarded world.\r\n").encode()


def send(node, mail_from, rcpts, data):
    with smtplib.SMTP("127.0.0.1", node.smtp_port, timeout=60) as s:
        s.ehlo("client.sender.example")
        return s.sendmail(mail_from, rcpts, data)


def test_alias_forwards_with_srs_dkim_and_arc_and_bounces_return(world):
    node, sink, bob, dnsfunc = world
    send(node, f"alice@{SENDER_DOMAIN}", [f"list@{DOMAIN}"], message("forward one"))

    (t,) = sink.wait_for_messages(1, timeout=90)
    assert t.accepted_rcpts == [f"carol@{REMOTE}"]
    assert re.fullmatch(r"SRS0=[A-Z2-7]{8}=[A-Z2-7]{2}=sender\.example=alice@fwd\.example", t.mail_from), t.mail_from
    assert dkim.verify(t.data, dnsfunc=dnsfunc), t.data[:2000]
    res, sets, reason = dkim.arc_verify(t.data, dnsfunc=dnsfunc)
    assert res == b"pass", (reason, t.data[:3000])
    assert sets[0]["cv"] == b"none" and sets[0]["instance"] == 1
    assert b"Received: from client.sender.example" in t.data

    # The local target got the original, with the original Return-Path.
    bodies = wait_until(lambda: mail_bodies(node, bob) or None, 30, what="bob's copy")
    assert f"Return-Path: <alice@{SENDER_DOMAIN}>\r\n".encode() in bodies[0][1]
    assert b"ARC-Seal" not in bodies[0][1]

    # A bounce to the SRS address returns to the original sender, null sender kept.
    bounce = (f"From: MAILER-DAEMON@{REMOTE}\r\nTo: {t.mail_from}\r\nSubject: Undelivered\r\n"
              f"Date: Thu, 01 Jan 2026 00:00:01 +0000\r\n\r\nYour message could not be delivered.\r\n").encode()
    send(node, "", [t.mail_from], bounce)
    got = sink.wait_for_messages(2, timeout=90)
    back = got[1]
    assert back.mail_from == ""
    assert back.accepted_rcpts == [f"alice@{SENDER_DOMAIN}"]
    assert b"Your message could not be delivered." in back.data

    # The same address with its case folded (as relays do) still works.
    send(node, "", [t.mail_from.lower()], bounce)
    assert sink.wait_for_messages(3, timeout=90)[2].accepted_rcpts == [f"alice@{SENDER_DOMAIN}"]


def test_forged_srs_and_loops_are_refused(world):
    node, sink, bob, dnsfunc = world
    with smtplib.SMTP("127.0.0.1", node.smtp_port, timeout=60) as s:
        s.ehlo("client.sender.example")
        s.mail("")
        code, text = s.rcpt(f"SRS0=AAAAAAAA=G3=sender.example=alice@{DOMAIN}")
        assert code == 550 and b"5.1.1" in text, (code, text)
        s.rset()
        # 50 Received fields: a loop (RFC 5321 6.3).
        hops = "".join(f"Received: from hop{i}.example by hop{i + 1}.example; "
                       f"Thu, 01 Jan 2026 00:00:00 +0000\r\n" for i in range(50))
        s.mail(f"alice@{SENDER_DOMAIN}")
        assert s.rcpt(f"list@{DOMAIN}")[0] == 250
        code, text = s.data(hops.encode() + message("looping"))
        assert code == 554 and b"5.4.6" in text, (code, text)
    assert sink.messages == [] or all(b"looping" not in t.data for t in sink.messages)


def test_failed_forward_reports_to_the_original_sender(world):
    """The remote refuses the forwarded copy: our DSN must go to the
    original sender (the SRS envelope sender reversed), not to the SRS
    address, which no mailbox of ours could take."""
    node, sink, bob, dnsfunc = world
    sink.reject_rcpt(f"carol@{REMOTE}")
    send(node, f"alice@{SENDER_DOMAIN}", [f"list@{DOMAIN}"], message("forward refused"))
    (dsn,) = sink.wait_for_messages(1, timeout=90)
    assert dsn.mail_from == ""
    assert dsn.accepted_rcpts == [f"alice@{SENDER_DOMAIN}"], dsn.accepted_rcpts
    assert b"multipart/report" in dsn.data and b"Action: failed" in dsn.data
    assert f"carol@{REMOTE}".encode() in dsn.data


def test_forward_after_inbound_auth_seals_the_chain(nodes, dns_env, tmp_path):
    """With inbound authentication on, a message that arrived through an
    ARC-sealing relay is forwarded with a second ARC set (i=2, cv=pass)
    whose ARC-Authentication-Results are our inbound results, and dkimpy
    accepts the whole chain."""
    pytest.importorskip("authres")   # dkimpy's arc_sign needs it
    from test_inbound_auth import rsa_key, txt

    env = dns_env()
    relay_pem, relay_pub = rsa_key()
    z = env.zone("relay.example", signed=False)
    z.add("arc._domainkey", "TXT", txt("v=DKIM1; k=rsa; p=" + relay_pub))
    z.add("@", "TXT", txt("v=spf1 ip4:127.0.0.1 -all"))
    settings = env.start()
    sink = SmtpSink().start()
    try:
        secret = tmp_path / "srs.secret"
        secret.write_text("another-test-srs-secret-long-enough\n")
        node = nodes("fwdauth", env={
            **settings, "EVMAIL_INBOUND_AUTH": "on",
            "EVMAIL_NODE_ROLES": "projector,gateway,delivery",
            "EVMAIL_SMTP_HOSTNAME": "mx.fwd.example",
            "EVMAIL_FORWARD_SRS_SECRET_FILE": str(secret),
            "EVMAIL_DELIVERY_ROUTES": f"{REMOTE}=127.0.0.1:{sink.port}",
            "EVMAIL_DELIVERY_RELAY_TLS": "none",
        })
        node.start(wait="ready")
        mail_directory(node, "t1", DOMAIN, ["bob"])
        assert node.commands([cmd("alias.add", {"alias": f"list@{DOMAIN}", "target": f"carol@{REMOTE}"},
                                  tenant="t1")])[0]["status"] == "accepted"
        out = assert_ok(node.ctl("dkim", "create", DOMAIN, "--selector", "rsa1", "--algorithm", "rsa2048")).out
        line = next(ln for ln in out.splitlines() if "._domainkey." in ln)
        m = re.match(r"(\S+) IN TXT (.*)$", line)
        records = {m.group(1).rstrip(".").encode(): "".join(re.findall(r'"([^"]*)"', m.group(2))).encode(),
                   b"arc._domainkey.relay.example": ("v=DKIM1; k=rsa; p=" + relay_pub).encode()}

        def dnsfunc(name, timeout=5):
            return records.get(name.rstrip(b"."))

        msg = (f"From: Alice <alice@relay.example>\r\nTo: list@{DOMAIN}\r\nSubject: chained\r\n"
               f"Message-ID: <chained@relay.example>\r\n\r\nThrough two forwarders.\r\n").encode()
        signed = b"Authentication-Results: relay.example; none\r\n" + msg
        sets = dkim.arc_sign(signed, b"arc", b"relay.example", relay_pem, b"relay.example",
                             include_headers=[b"from", b"to", b"subject"])
        send(node, "alice@relay.example", [f"list@{DOMAIN}"], b"".join(sets) + signed)
        (t,) = sink.wait_for_messages(1, timeout=90)
        res, result_sets, reason = dkim.arc_verify(t.data, dnsfunc=dnsfunc)
        assert res == b"pass", (reason, t.data[:4000])
        ours = [s for s in result_sets if s["instance"] == 2]
        assert ours and ours[0]["cv"] == b"pass", result_sets
        aar = re.search(rb"ARC-Authentication-Results: i=2; mx\.fwd\.example;([^\r]*(\r\n[ \t][^\r]*)*)", t.data)
        assert aar is not None, t.data[:3000]
        text = b" ".join(aar.group(1).split())
        assert b"spf=pass" in text and b"arc=pass" in text, text
    finally:
        sink.stop()
