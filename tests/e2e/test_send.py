"""Sending mail end to end: submission -> the queue in the log -> the
delivery role -> a real peer, found through real DNS.

Peers: a real Postfix (postfix_peer.py) and a scriptable sink
(smtp_sink.py) on 127.0.0.1; DNS from nsd with zones signed by
ldns-signzone (dnsenv.py), validated by evmail's libunbound; MTA-STS
policies over HTTPS from a test CA. Proved here:
  - local to remote through MX + DANE (TLSA under DNSSEC) into Postfix,
    DKIM signatures (ed25519 and rsa) verified by dkimpy on what Postfix
    stored, the queue empty afterwards;
  - 4xx twice then accepted (the retries are events; `queue show` shows
    them while it waits);
  - 5xx for one recipient: an RFC 3464 DSN in the sender's INBOX with the
    right Final-Recipient, Action and Status, the other recipient delivered;
  - a DNSSEC-bogus domain defers with a reason `queue show` prints;
  - DANE or MTA-STS enforce with a peer that lacks STARTTLS: nothing is
    ever sent in clear;
  - hold / release / delete --bounce from evmailctl.
"""

import email
import email.policy
import json
import re
import smtplib
import ssl

import pytest

import dkim

from conftest import assert_ok, mail_bodies, mail_directory, self_signed_cert, wait_until
from dnsenv import DnsEnv
from postfix_peer import PostfixPeer
from smtp_sink import SmtpSink

DOMAIN = "sub.example"
PW = "s3nd-Mail!"
DELIVERY_WAIT = 90.0


def tls_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class World:
    """One DNS world, one delivery node, the peers of one test."""

    def __init__(self, nodes, tmp_path, dns_setup, smtp_port, **env):
        self.dns = DnsEnv(tmp_path / "dns")
        dns_setup(self.dns)
        dns_vars = self.dns.start()
        cert, key = self_signed_cert(tmp_path / "tls-msa", cn="msa.sub.example")
        self.node = nodes("sender", env={
            "EVMAIL_NODE_ROLES": "projector,gateway,delivery",
            "EVMAIL_SMTP_HOSTNAME": "msa.sub.example",
            "EVMAIL_TLS_CERT": cert, "EVMAIL_TLS_KEY": key,
            "EVMAIL_DELIVERY_SMTP_PORT": str(smtp_port),
            "EVMAIL_DELIVERY_RETRY_MIN_S": "1", "EVMAIL_DELIVERY_RETRY_MAX_S": "2",
            "EVMAIL_DELIVERY_CONNECT_TIMEOUT_S": "5", "EVMAIL_DELIVERY_COMMAND_TIMEOUT_S": "10",
            **dns_vars, **env})
        self.node.start(wait="ready")
        (self.bob,) = mail_directory(self.node, "t1", DOMAIN, ["bob"])
        self.alice = f"alice@{DOMAIN}"
        assert_ok(self.node.ctl("account", "add", self.alice, "--password-stdin", input=PW + "\n"))

    def submit(self, rcpts, subject, extra="", body="Hello from evmail.\r\n", mail_options=(),
               rcpt_options=()):
        msg = (f"From: {self.alice}\r\nTo: {', '.join(rcpts)}\r\nSubject: {subject}\r\n"
               f"{extra}\r\n{body}").encode()
        with smtplib.SMTP("127.0.0.1", self.node.submission_port, timeout=60) as s:
            s.ehlo("client.example")
            s.starttls(context=tls_ctx())
            s.ehlo("client.example")
            s.login(self.alice, PW)
            refused = s.sendmail(self.alice, rcpts, msg, mail_options=list(mail_options),
                                 rcpt_options=list(rcpt_options))
            assert not refused, refused
        return msg

    def queue(self):
        return json.loads(assert_ok(self.node.ctl("queue", "list", "--json")).out)

    def item(self, qid):
        return json.loads(assert_ok(self.node.ctl("queue", "show", qid, "--json")).out)

    def only_item(self):
        items = wait_until(lambda: self.queue() or None, 30, what="an item in the queue")
        assert len(items) == 1, items
        return items[0]["id"]

    def wait_queue_empty(self, timeout=DELIVERY_WAIT):
        wait_until(lambda: self.queue() == [], timeout, what="the queue to drain",
                   diag=lambda: json.dumps(self.queue(), indent=1)[:3000])

    def stop(self):
        self.dns.stop()


@pytest.fixture
def world(nodes, tmp_path, binaries):
    made = []

    def make(dns_setup, smtp_port, **env):
        w = World(nodes, tmp_path, dns_setup, smtp_port, **env)
        made.append(w)
        return w

    yield make
    for w in made:
        w.stop()


def dkim_keys(node):
    recs = {}
    for sel, alg in (("ed1", "ed25519"), ("rsa1", "rsa2048")):
        out = assert_ok(node.ctl("dkim", "create", DOMAIN, "--selector", sel, "--algorithm", alg)).out
        line = next(ln for ln in out.splitlines() if "._domainkey." in ln)
        m = re.match(r"(\S+) IN TXT (.*)$", line)
        recs[m.group(1).rstrip(".") + "."] = "".join(re.findall(r'"([^"]*)"', m.group(2)))
    return recs


def free_port():
    from conftest import free_port as fp
    return fp()


# --------------------------------------------------------------------------

def test_remote_via_mx_and_dane_into_postfix_dkim_verified(world, tmp_path):
    port = free_port()
    holder = {}

    def setup(dns):
        cert, key = dns.issue_cert("mx1.peer.example")
        holder["cert"], holder["key"] = cert, key
        dns.mail_domain("peer.example", mx=[(10, "mx1")], tlsa_cert=cert, smtp_port=port)

    w = world(setup, port)
    peer = PostfixPeer(tmp_path / "postfix", port=port, domains=("peer.example",),
                       cert=holder["cert"], key=holder["key"], hostname="mx1.peer.example")
    peer.start()
    try:
        recs = dkim_keys(w.node)
        w.submit(["carol@peer.example", w.bob], "over the wire",
                 extra="Message-ID: <t1@sub.example>\r\n")
        (got,) = peer.wait_for_messages(1, timeout=DELIVERY_WAIT, addr="carol@peer.example")
        w.wait_queue_empty()
    finally:
        peer.stop()
    # Postfix says how it was received: ESMTPS, over TLS (RFC 3848; DANE made
    # it mandatory), and our own trace field names no recipient (bob was a
    # second recipient; the copy carol got must not reveal him).
    got = got.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")    # Maildir files end lines in LF
    head = got.split(b"\r\n\r\n", 1)[0]
    received = [ln for ln in re.sub(rb"\r\n[ \t]+", b" ", head).split(b"\r\n")
                if ln.startswith(b"Received:")]
    assert any(b"with ESMTPS" in r and b"by mx1.peer.example" in r for r in received), received
    assert not any(b"bob@" in r for r in received), received

    def dnsfunc(name, timeout=5):
        n = name.decode() if isinstance(name, bytes) else name
        return recs.get(n.rstrip(".") + ".", "").encode()

    # Both signatures verify on what the remote MTA stored.
    sigs = [h for h in email.message_from_bytes(got).get_all("DKIM-Signature")]
    assert len(sigs) == 2, sigs
    d = dkim.DKIM(got)
    for i in range(2):
        assert d.verify(idx=i, dnsfunc=dnsfunc), f"signature {i} failed"
    # The local recipient got the same message at once.
    (rec, raw), = mail_bodies(w.node, w.bob)
    assert b"Subject: over the wire" in raw


def test_4xx_twice_then_accepted(world, tmp_path):
    sink = SmtpSink().start()
    try:
        def setup(dns):
            dns.mail_domain("slow.example", signed=False, mx=[(10, "mx1")])

        w = world(setup, sink.port)
        sink.script_rcpt("dave@slow.example", ["451 4.3.0 try later", "452 4.2.2 still full"])
        w.submit(["dave@slow.example"], "third time lucky")
        qid = w.only_item()
        # While it waits, queue show tells why.
        shown = wait_until(lambda: (lambda it: it if it["attempts"] >= 1 else None)(w.item(qid)),
                           DELIVERY_WAIT, what="the first attempt logged")
        assert shown["rcpts"][0]["reply"].startswith("45"), shown
        sink.wait_for_messages(1, timeout=DELIVERY_WAIT)
        w.wait_queue_empty()
        tried = [r for t in sink.transactions for r in t.rcpts if r.addr == "dave@slow.example"]
        assert [r.reply[:3] for r in tried] == ["451", "452", "250"], tried
    finally:
        sink.stop()


def test_5xx_gives_dsn_in_sender_inbox(world, tmp_path):
    sink = SmtpSink().start()
    try:
        def setup(dns):
            dns.mail_domain("far.example", signed=False, mx=[(10, "mx1")])

        w = world(setup, sink.port)
        sink.reject_rcpt("nobody@far.example", "550 5.1.1 <nobody@far.example>: no such user")
        w.submit(["nobody@far.example", "erin@far.example"], "partly undeliverable",
                 rcpt_options=["NOTIFY=FAILURE"])
        sink.wait_for_messages(1, timeout=DELIVERY_WAIT)
        w.wait_queue_empty()
        assert sink.messages[0].accepted_rcpts == ["erin@far.example"]
        (rec, raw), = wait_until(lambda: mail_bodies(w.node, w.alice) or None, DELIVERY_WAIT,
                                 what="the DSN in alice's INBOX")
    finally:
        sink.stop()
    while raw.startswith((b"Delivered-To:", b"Return-Path:")):
        raw = raw.split(b"\r\n", 1)[1]
    dsn = email.message_from_bytes(raw, policy=email.policy.default)
    assert dsn.get_content_type() == "multipart/report", dsn["Content-Type"]
    assert dsn.get_param("report-type") == "delivery-status"
    assert dsn["Auto-Submitted"].startswith("auto-replied")
    parts = list(dsn.iter_parts())
    status = next(p for p in parts if p.get_content_type() == "message/delivery-status")
    text = status.as_string()
    assert "Final-Recipient: rfc822;nobody@far.example" in text.replace("rfc822; ", "rfc822;"), text
    assert re.search(r"Action: failed", text), text
    assert re.search(r"Status: 5\.1\.1", text), text
    assert "erin@far.example" not in text, text
    assert any(p.get_content_type() in ("message/rfc822", "text/rfc822-headers") for p in parts)


def test_dnssec_bogus_defers_with_reason(world, tmp_path):
    sink = SmtpSink().start()
    try:
        def setup(dns):
            dns.mail_domain("bogus.example", bogus=True, mx=[(10, "mx1")])

        w = world(setup, sink.port)
        w.submit(["frank@bogus.example"], "into a broken zone")
        qid = w.only_item()
        it = wait_until(lambda: (lambda i: i if i["attempts"] >= 1 else None)(w.item(qid)),
                        DELIVERY_WAIT, what="an attempt")
        why = it["last_error"] + " " + it["rcpts"][0]["reply"]
        assert "dnssec" in why.lower() and "bogus" in why.lower(), it
        assert it["rcpts"][0]["status"] in ("deferred", "queued"), it
        out = assert_ok(w.node.ctl("queue", "show", qid)).out
        assert "bogus" in out, out
        assert sink.transactions == []
    finally:
        sink.stop()


@pytest.mark.parametrize("policy", ["dane", "mta-sts"])
def test_tls_demanded_never_sent_in_clear(world, tmp_path, policy):
    sink = SmtpSink().start()     # no certificate: no STARTTLS offered
    try:
        def setup(dns):
            cert, _ = dns.issue_cert("mx1.strict.example")
            if policy == "dane":
                dns.mail_domain("strict.example", mx=[(10, "mx1")], tlsa_cert=cert,
                                smtp_port=sink.port)
            else:
                dns.mail_domain("strict.example", signed=False, mx=[(10, "mx1")])
                dns.mta_sts("strict.example", mode="enforce", mx=["mx1.strict.example"])

        w = world(setup, sink.port)
        w.submit(["gina@strict.example"], "secret")
        qid = w.only_item()
        it = wait_until(lambda: (lambda i: i if i["attempts"] >= 1 else None)(w.item(qid)),
                        DELIVERY_WAIT, what="an attempt")
        assert "STARTTLS" in it["rcpts"][0]["reply"] or "TLS" in it["last_error"], it
        assert it["rcpts"][0]["status"] in ("deferred", "queued"), it
        assert all(t.mail_from is None or t.data is None for t in sink.transactions), sink.transactions
        assert not any(cmd.upper().startswith(("MAIL", "RCPT", "DATA", "BDAT"))
                       for _, cmd in sink.commands), sink.commands
    finally:
        sink.stop()


def test_hold_release_delete_bounce(world, tmp_path):
    sink = SmtpSink().start()
    try:
        def setup(dns):
            dns.mail_domain("busy.example", signed=False, mx=[(10, "mx1")])

        w = world(setup, sink.port)
        sink.script_rcpt("hank@busy.example", ["421 4.3.2 busy"] * 1000)
        w.submit(["hank@busy.example"], "to a busy host")
        qid = w.only_item()
        assert_ok(w.node.ctl("queue", "hold", qid))
        assert w.item(qid)["held"] is True
        assert "held" in assert_ok(w.node.ctl("queue", "list")).out
        assert_ok(w.node.ctl("queue", "release", qid))
        assert w.item(qid)["held"] is False
        assert_ok(w.node.ctl("queue", "retry", qid))
        assert_ok(w.node.ctl("queue", "delete", qid, "--bounce"))
        w.wait_queue_empty()
        (rec, raw), = wait_until(lambda: mail_bodies(w.node, w.alice) or None, DELIVERY_WAIT,
                                 what="the bounce in alice's INBOX")
        assert b"multipart/report" in raw and b"hank@busy.example" in raw
    finally:
        sink.stop()


def test_delay_notice_once_then_still_retried(world, tmp_path):
    sink = SmtpSink().start()
    try:
        def setup(dns):
            dns.mail_domain("later.example", signed=False, mx=[(10, "mx1")])

        w = world(setup, sink.port, EVMAIL_DELIVERY_DELAY_WARNING_S="2")
        sink.script_rcpt("ivan@later.example", ["451 4.4.1 not now"] * 1000)
        w.submit(["ivan@later.example"], "patience")
        qid = w.only_item()
        (rec, raw), = wait_until(lambda: mail_bodies(w.node, w.alice) or None, DELIVERY_WAIT,
                                 what="the delay notice in alice's INBOX")
        it = wait_until(lambda: (lambda i: i if i["delay_notified"] and i["attempts"] >= 2 else None)(
            w.item(qid)), DELIVERY_WAIT, what="the item notified and retried")
        assert it["rcpts"][0]["status"] == "deferred", it
        text = raw.decode("utf-8", "replace")
        assert "multipart/report" in text and re.search(r"Action: delayed", text), text[:2000]
        assert re.search(r"Status: 4\.4\.1", text), text[:2000]
        # One notice only, however many attempts follow.
        wait_until(lambda: w.item(qid)["attempts"] >= it["attempts"] + 1, DELIVERY_WAIT,
                   what="another attempt")
        assert len(mail_bodies(w.node, w.alice)) == 1
    finally:
        sink.stop()
