"""Message submission (RFC 6409 on submission.listen with STARTTLS, RFC 8314
on submissions.listen with implicit TLS) on one evmaild with the embedded
log, driven by smtplib, swaks and by hand: SMTP AUTH (RFC 4954: PLAIN,
LOGIN, SCRAM-SHA-256), who may send as whom (the account or an alias that
points at it, in MAIL FROM and in From:), what an MSA adds (Date,
Message-ID, Received "with ESMTPSA"), DKIM signatures checked by dkimpy
with the DNS records `evmailctl dkim create` prints, local delivery,
remote recipients into the outbound queue, and the hourly limit."""

import base64
import hashlib
import hmac
import json
import re
import secrets
import shutil
import smtplib
import ssl
import time

import dkim
import pytest

from conftest import (SmtpRaw, assert_ok, clean_env, mail_bodies, mail_directory, run,
                      self_signed_cert, wait_until)

DOMAIN = "sub.test"
HOST = "msa.sub.test"
PW = "s3cret-Sub!"


def tls_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def msa_node(nodes, tmp_path, name="msa", **env):
    """A node with a certificate; alice (with a password), bob; the alias
    sales@ -> alice; returns (node, alice, bob)."""
    cert, key = self_signed_cert(tmp_path / f"tls-{name}")
    node = nodes(name, env={"EVMAIL_SMTP_HOSTNAME": HOST, "EVMAIL_TLS_CERT": cert,
                            "EVMAIL_TLS_KEY": key, **env})
    node.start(wait="ready")
    (bob,) = mail_directory(node, "t1", DOMAIN, ["bob"])
    alice = f"alice@{DOMAIN}"
    assert_ok(node.ctl("account", "add", alice, "--password-stdin", input=PW + "\n"))
    assert_ok(node.ctl("alias", "add", f"sales@{DOMAIN}", alice))
    return node, alice, bob


def submission(node, login=None):
    """smtplib on the STARTTLS port, after STARTTLS (and AUTH with login)."""
    s = smtplib.SMTP("127.0.0.1", node.submission_port, local_hostname="client.example", timeout=60)
    s.ehlo()
    s.starttls(context=tls_ctx())
    s.ehlo()
    if login is not None:
        s.login(*login)
    return s


def message(frm, to, subject, extra="", body="Hello from submission.\r\n"):
    return (f"From: {frm}\r\nTo: {to}\r\nSubject: {subject}\r\n{extra}\r\n{body}").encode()


def dkim_records(node, domain):
    """Creates an ed25519 and an rsa key; {dns name: TXT value} as printed."""
    recs = {}
    for sel, alg in (("ed1", "ed25519"), ("rsa1", "rsa2048")):
        res = assert_ok(node.ctl("dkim", "create", domain, "--selector", sel, "--algorithm", alg))
        line = next(ln for ln in res.out.splitlines() if "._domainkey." in ln)
        m = re.match(r"(\S+) IN TXT (.*)$", line)
        assert m, res.out
        recs[m.group(1)] = "".join(re.findall(r'"([^"]*)"', m.group(2)))
        assert recs[m.group(1)].startswith("v=DKIM1; k=%s; p=" % ("ed25519" if alg == "ed25519" else "rsa")), recs
    return recs


def stored_message(raw):
    """The stored bytes without our per-recipient trace prefix."""
    while True:
        m = re.match(rb"(Delivered-To|Return-Path): [^\r\n]*\r\n", raw)
        if not m:
            return raw
        raw = raw[m.end():]


def logged_events(node, topic, type_):
    """Events of type_ in the embedded log's files of topic (the records
    hold the encoded event, keys sorted, so each starts with {"account")."""
    events = []
    for f in sorted((node.data_dir / "log" / f"evmail.{topic}").glob("*/*.log")):
        data = f.read_bytes().decode("utf-8", "replace")
        i = data.find('{"account"')
        while i >= 0:
            ev, end = json.JSONDecoder().raw_decode(data, i)
            if ev.get("type") == type_:
                events.append(ev)
            i = data.find('{"account"', end)
    return events


# --------------------------------------------------------------------------

def test_starttls_auth_plain_local_delivery_dkim(nodes, tmp_path):
    node, alice, bob = msa_node(nodes, tmp_path)
    recs = dkim_records(node, DOMAIN)
    # evmailctl shows the keys, never the private part
    listed = assert_ok(node.ctl("dkim", "list", DOMAIN))
    assert "ed1" in listed.out and "rsa1" in listed.out and "PRIVATE" not in listed.out, listed
    shown = assert_ok(node.ctl("--json", "dkim", "show", DOMAIN, "ed1")).json()
    assert shown["algorithm"] == "ed25519-sha256" and "private_key" not in shown, shown

    s = smtplib.SMTP("127.0.0.1", node.submission_port, local_hostname="client.example", timeout=60)
    try:
        code, banner = s.ehlo()
        ext = banner.decode().split("\n")
        assert "STARTTLS" in ext and not any(e.startswith("AUTH") for e in ext), ext
        s.starttls(context=tls_ctx())
        code, banner = s.ehlo()
        ext = banner.decode().split("\n")
        assert "AUTH PLAIN LOGIN SCRAM-SHA-256" in ext and "REQUIRETLS" in ext, ext
        code, text = s.login(alice, PW)      # smtplib picks PLAIN
        assert code == 235 and text.startswith(b"2.7.0"), (code, text)
        sent = message(f"Alice <{alice}>", bob, "signed twice")
        assert s.sendmail(alice, [bob], sent) == {}
    finally:
        s.quit()

    (rec, raw), = mail_bodies(node, bob)
    msg = stored_message(raw)
    assert re.search(rb"^Received: from client\.example \(\[127\.0\.0\.1\]\)\r\n\tby msa\.sub\.test with ESMTPSA id ",
                     msg), msg[:400]
    head = msg.split(b"\r\n\r\n", 1)[0]
    assert re.search(rb"\r\nDate: \w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d \+0000\r\n", head), head
    assert re.search(rb"\r\nMessage-ID: <[0-9a-f]{32}@msa\.sub\.test>\r\n", head), head
    assert head.count(b"DKIM-Signature:") == 2, head

    def dnsfunc(name, timeout=5):
        return recs.get(name.decode(), "").encode()

    d = dkim.DKIM(msg)
    for idx in range(2):
        assert d.verify(idx=idx, dnsfunc=dnsfunc), f"signature {idx} does not verify\n{head.decode()}"
    # The signed From: is oversigned: a From: added later breaks both.
    tampered = msg.replace(b"\r\nSubject: signed twice", b"\r\nFrom: mallory@evil.example\r\nSubject: signed twice", 1)
    dt = dkim.DKIM(tampered)
    assert not dt.verify(idx=0, dnsfunc=dnsfunc) and not dt.verify(idx=1, dnsfunc=dnsfunc)
    # Both algorithms are there (RFC 8463 dual signing).
    sigs = re.findall(rb"DKIM-Signature:(.*?)(?=\r\n[^ \t])", head, re.S)
    assert sorted(re.search(rb"a=([\w-]+);", sg).group(1) for sg in sigs) == [b"ed25519-sha256", b"rsa-sha256"], sigs


def test_auth_login_implicit_tls_and_swaks(nodes, tmp_path):
    node, alice, bob = msa_node(nodes, tmp_path)
    # AUTH LOGIN on 587
    s = submission(node)
    try:
        s.user, s.password = alice, PW
        code, text = s.auth("LOGIN", s.auth_login)
        assert code == 235, (code, text)
        assert s.sendmail(alice, [bob], message(alice, bob, "via login")) == {}
    finally:
        s.quit()
    # Implicit TLS on 465 (RFC 8314)
    s = smtplib.SMTP_SSL("127.0.0.1", node.submissions_port, local_hostname="client.example",
                         context=tls_ctx(), timeout=60)
    try:
        code, banner = s.ehlo()
        ext = banner.decode().split("\n")
        assert "AUTH PLAIN LOGIN SCRAM-SHA-256" in ext and "STARTTLS" not in ext, ext
        s.login(alice, PW)
        assert s.sendmail(alice, [bob], message(alice, bob, "via 465")) == {}
    finally:
        s.quit()
    got = [stored_message(raw) for _, raw in mail_bodies(node, bob)]
    assert len(got) == 2 and b"Subject: via login" in got[0] and b"Subject: via 465" in got[1], got
    assert all(b" with ESMTPSA id " in g for g in got), got

    swaks = shutil.which("swaks")
    if swaks is None:
        pytest.skip("swaks is not installed (apt-get install swaks)")
    p = run([swaks, "--server", f"127.0.0.1:{node.submission_port}", "--tls", "--auth", "PLAIN",
             "--auth-user", alice, "--auth-password", PW, "--from", alice, "--to", bob,
             "--helo", "swaks.example", "--header", "Subject: via swaks", "--timeout", "30"],
            env=clean_env(), timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "235 2.7.0" in p.stdout and re.search(r"<~\s+250 2\.0\.0 ", p.stdout), p.stdout
    got = mail_bodies(node, bob)
    assert len(got) == 3 and b"Subject: via swaks" in got[2][1], got


def scram_client(c, user, password):
    """A SCRAM-SHA-256 exchange (RFC 5802, RFC 7677) on an SmtpRaw."""
    cnonce = base64.b64encode(secrets.token_bytes(18)).decode()
    first_bare = f"n={user},r={cnonce}"
    code, lines = c.cmd("AUTH SCRAM-SHA-256 " + base64.b64encode(("n,," + first_bare).encode()).decode())
    assert code == 334, c.log()
    server_first = base64.b64decode(lines[-1][4:]).decode()
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    assert attrs["r"].startswith(cnonce)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored = hashlib.sha256(client_key).digest()
    final_bare = f"c=biws,r={attrs['r']}"
    auth_msg = f"{first_bare},{server_first},{final_bare}".encode()
    sig = hmac.new(stored, auth_msg, hashlib.sha256).digest()
    proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, sig))).decode()
    code, lines = c.cmd(base64.b64encode(f"{final_bare},p={proof}".encode()).decode())
    if code != 334:
        return code, lines
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    expect = base64.b64encode(hmac.new(server_key, auth_msg, hashlib.sha256).digest()).decode()
    assert base64.b64decode(lines[-1][4:]).decode() == f"v={expect}", c.log()
    return c.cmd("")


def test_raw_auth_rules_and_scram(nodes, tmp_path):
    node, alice, bob = msa_node(nodes, tmp_path, EVMAIL_LIMITS_SMTP_ERRORS="20")
    plain = base64.b64encode(f"\0{alice}\0{PW}".encode()).decode()
    # Before STARTTLS: no AUTH (538), no MAIL (530).
    c = SmtpRaw(node.submission_port)
    try:
        assert c.reply()[0] == 220
        code, lines = c.cmd("EHLO raw.example")
        assert code == 250 and not any("AUTH" in ln for ln in lines), c.log()
        code, lines = c.cmd("AUTH PLAIN " + plain)
        assert code == 538 and "5.7.11" in lines[0], c.log()
        code, lines = c.cmd(f"MAIL FROM:<{alice}>")
        assert code == 530 and "5.7.0" in lines[0], c.log()
    finally:
        c.sock.close()

    c = SmtpRaw(node.submissions_port)
    c.sock = tls_ctx().wrap_socket(c.sock, server_hostname=HOST)
    try:
        assert c.reply()[0] == 220
        assert c.cmd("EHLO raw.example")[0] == 250
        code, lines = c.cmd(f"MAIL FROM:<{alice}>")
        assert code == 530 and "5.7.0" in lines[0], c.log()
        # wrong password, unknown user: the same 535 5.7.8
        for who, pw in ((alice, "wrong"), (f"nobody@{DOMAIN}", PW)):
            code, lines = c.cmd("AUTH PLAIN " + base64.b64encode(f"\0{who}\0{pw}".encode()).decode())
            assert code == 535 and "5.7.8" in lines[0], c.log()
        # "*" cancels (RFC 4954 4)
        assert c.cmd("AUTH PLAIN")[0] == 334
        code, lines = c.cmd("*")
        assert code == 501 and "5.0.0" in lines[0], c.log()
        assert c.cmd("AUTH CRAM-MD5")[0] == 504
        # SCRAM-SHA-256 with a wrong password fails, with the right one works
        code, lines = scram_client(c, alice, "not-it")
        assert code == 535, c.log()
        code, lines = scram_client(c, alice, PW)
        assert code == 235 and "2.7.0" in lines[0], c.log()
        assert c.cmd("AUTH PLAIN " + plain)[0] == 503      # already authenticated
        # forged envelope sender
        code, lines = c.cmd(f"MAIL FROM:<{bob}>")
        assert code == 553 and "5.7.1" in lines[0], c.log()
        code, lines = c.cmd("MAIL FROM:<>")
        assert code == 553, c.log()
        # forged From: header
        assert c.cmd(f"MAIL FROM:<{alice}>")[0] == 250
        assert c.cmd(f"RCPT TO:<{bob}>")[0] == 250
        assert c.cmd(f"RCPT TO:<nobody@{DOMAIN}>")[0] == 550
        assert c.cmd("DATA")[0] == 354
        c.send(message(f"Bob <{bob}>", bob, "forged") + b".\r\n")
        code, lines = c.reply()
        assert code == 553 and "5.7.1" in lines[0], c.log()
        # the alias: MAIL FROM and From: sales@ are alice's
        assert c.cmd(f"MAIL FROM:<sales@{DOMAIN}>")[0] == 250, c.log()
        assert c.cmd(f"RCPT TO:<{bob}>")[0] == 250
        assert c.cmd("DATA")[0] == 354
        c.send(message(f"Sales <sales@{DOMAIN}>", bob, "from the alias") + b".\r\n")
        code, lines = c.reply()
        assert code == 250, c.log()
        c.cmd("QUIT")
    finally:
        c.sock.close()
    (rec, raw), = mail_bodies(node, bob)
    assert b"Subject: from the alias" in raw and b"Return-Path: <sales@sub.test>" in raw, raw[:500]


def test_plaintext_auth_allowed_by_setting(nodes, tmp_path):
    node, alice, bob = msa_node(nodes, tmp_path, EVMAIL_SUBMISSION_ALLOW_PLAINTEXT_AUTH="1")
    s = smtplib.SMTP("127.0.0.1", node.submission_port, local_hostname="client.example", timeout=60)
    try:
        code, banner = s.ehlo()
        assert "AUTH PLAIN LOGIN SCRAM-SHA-256" in banner.decode().split("\n"), banner
        s.login(alice, PW)
        assert s.sendmail(alice, [bob], message(alice, bob, "plain text")) == {}
    finally:
        s.quit()
    (rec, raw), = mail_bodies(node, bob)
    assert b" with ESMTPA id " in raw, raw[:400]


def test_remote_recipient_is_queued(nodes, tmp_path):
    node, alice, bob = msa_node(nodes, tmp_path)
    s = submission(node, (alice, PW))
    try:
        s.mail(alice)
        assert s.rcpt("carol@remote.example", options=["NOTIFY=SUCCESS,FAILURE",
                                                         "ORCPT=rfc822;carol@remote.example"])[0] == 250
        assert s.rcpt(bob)[0] == 250
        code, text = s.data(message(alice, "carol@remote.example, " + bob, "to the world"))
    finally:
        s.quit()
    # 250 only once the queue.enqueue is logged and applied (projector/queue.h)
    assert code == 250, (code, text)
    items = node.get_json("/admin/queue")
    items = items.get("items", items) if isinstance(items, dict) else items
    mine = [it for it in items if it.get("from") == alice]
    assert len(mine) == 1, items
    rc = mine[0]["rcpts"]
    assert [r["addr"] for r in rc] == ["carol@remote.example"], rc
    assert rc[0]["notify"] == "SUCCESS,FAILURE" and rc[0]["orcpt"] == "rfc822;carol@remote.example", rc
    (ev,) = logged_events(node, "queue", "queue.enqueue")
    assert ev["account"] == alice and ev["tenant"] == "t1" and ev["actor"] == "submission", ev
    d = ev["data"]
    assert d["id"] == mine[0]["id"] and d["from"] == alice and len(d["blob_id"]) == 64 and d["blob_size"] > 0, d
    assert d["next_try"] == d["arrival"] and d["expire"] == d["arrival"] + 5 * 86400 * 1000, d
    assert d["delay_warn"] == d["arrival"] + 14400 * 1000 and d["dsn"] is False, d
    # the local recipient got it too (delivered before the reply)
    (rec, raw), = mail_bodies(node, bob)
    assert b"Subject: to the world" in raw


def test_hourly_limit(nodes, tmp_path):
    node, alice, bob = msa_node(nodes, tmp_path, EVMAIL_LIMITS_SUBMISSION_PER_HOUR="2")
    s = submission(node, (alice, PW))
    try:
        for i in range(2):
            assert s.sendmail(alice, [bob], message(alice, bob, f"n{i}")) == {}
        code, text = s.mail(alice)
        assert code == 450 and text.startswith(b"4.7.1"), (code, text)
    finally:
        s.quit()
    # another account is not affected
    assert_ok(node.ctl("account", "add", f"carl@{DOMAIN}", "--password-stdin", input=PW + "\n"))
    s = submission(node, (f"carl@{DOMAIN}", PW))
    try:
        assert s.sendmail(f"carl@{DOMAIN}", [bob], message(f"carl@{DOMAIN}", bob, "carl")) == {}
    finally:
        s.quit()
    assert len(mail_bodies(node, bob)) == 3


def test_catch_all_owner_may_send_as_any_free_address(nodes, tmp_path):
    """The domain's catch-all delivers to alice, so alice may send as any
    address of the domain that is neither an account nor an alias (the
    mail to it comes to her; a JMAP "*@domain" identity needs this); bob's
    own address and an alias of someone else stay forbidden."""
    node, alice, bob = msa_node(nodes, tmp_path)
    assert_ok(node.ctl("alias", "add", f"@{DOMAIN}", alice))
    assert_ok(node.ctl("alias", "add", f"bobs-list@{DOMAIN}", bob))
    with submission(node, (alice, PW)) as s:
        assert s.sendmail(f"anything@{DOMAIN}", [bob],
                          message(f"Anything <anything@{DOMAIN}>", bob, "via the catch-all")) == {}
        for forged in (bob, f"bobs-list@{DOMAIN}"):
            with pytest.raises(smtplib.SMTPSenderRefused) as e:
                s.sendmail(forged, [bob], message(forged, bob, "forged"))
            assert e.value.smtp_code == 553
            s.rset()
    (rec, raw), = mail_bodies(node, bob)
    assert b"Subject: via the catch-all" in raw
