"""Inbound SMTP (MX) on one evmaild with the embedded log, driven by real
clients (smtplib, swaks) and by hand over a socket where a library cannot
(pipelining bursts, BDAT): what is advertised, what is stored (byte for
byte, read back through GET /admin/mail/...), recipient resolution
(accounts, aliases, plus-addressing, catch-all), and every limit.

What is stored for a message (gateway/deliver.h): "Delivered-To: <rcpt>"
(the per-recipient prefix) + "Return-Path: <from>" + "Received: ..." + the
message as received after dot-unstuffing, CRLF line ends."""

import re
import shutil
import smtplib
import ssl
import time

import pytest

from conftest import (SmtpRaw, assert_ok, clean_env, mail_bodies, mail_directory, mail_inbox, run,
                      self_signed_cert, wait_until)

DOMAIN = "mx.example"


def mx_node(nodes, name="mx", tls_dir=None, **env):
    extra = {"EVMAIL_SMTP_HOSTNAME": "mx1.evmail.test", **env}
    if tls_dir is not None:
        cert, key = self_signed_cert(tls_dir)
        extra.update(EVMAIL_TLS_CERT=cert, EVMAIL_TLS_KEY=key)
    node = nodes(name, env=extra)
    node.start(wait="ready")
    return node


def smtp(node, helo="client.example", timeout=60):
    s = smtplib.SMTP("127.0.0.1", node.smtp_port, local_hostname=helo, timeout=timeout)
    return s


def message(subject, body="Hello.\r\n", msgid=None, extra=""):
    msgid = msgid or f"<{subject.replace(' ', '-')}.{time.monotonic_ns()}@client.example>"
    return (f"From: Alice <alice@sender.example>\r\nTo: someone@{DOMAIN}\r\n"
            f"Subject: {subject}\r\nMessage-ID: {msgid}\r\n{extra}\r\n{body}").encode()


def split_stored(raw):
    """The stored bytes -> (dict of the three trace header fields,
    their order, the rest = the message as received)."""
    fields, order = {}, []
    rest = raw
    while True:
        m = re.match(rb"(Delivered-To|Return-Path|Received): ((?:[^\r\n]*\r\n)(?:[ \t][^\r\n]*\r\n)*)", rest)
        if not m:
            break
        name = m.group(1).decode()
        order.append(name)
        fields.setdefault(name, []).append(m.group(2).decode())
        rest = rest[m.end():]
    return fields, order, rest


def assert_stored(raw, sent, rcpt, mail_from):
    """raw = Delivered-To + Return-Path + Received + sent, exactly."""
    fields, order, rest = split_stored(raw)
    assert order == ["Delivered-To", "Return-Path", "Received"], (order, raw[:600])
    assert fields["Delivered-To"] == [f"{rcpt}\r\n"], fields
    assert fields["Return-Path"] == [f"<{mail_from}>\r\n"], fields
    assert rest == sent, (f"stored body differs from what was sent: {len(rest)} vs {len(sent)} bytes; "
                          f"first difference at {next((i for i, (a, b) in enumerate(zip(rest, sent)) if a != b), min(len(rest), len(sent)))}")
    return fields


def inbox_count(node, addr):
    return len(mail_inbox(node, addr)[1])


# --------------------------------------------------------------------------
# EHLO, plain delivery, what is stored
# --------------------------------------------------------------------------

def test_ehlo_extensions_and_plain_delivery(nodes):
    node = mx_node(nodes, EVMAIL_LIMITS_MESSAGE_SIZE="3000000")
    (bob,) = mail_directory(node, "t1", DOMAIN, ["bob"])
    s = smtp(node)
    try:
        code, banner = s.ehlo("client.example")
        assert code == 250, banner
        ext = banner.decode().split("\n")
        assert ext[0] == "mx1.evmail.test", ext
        for e in ("PIPELINING", "8BITMIME", "SIZE 3000000", "ENHANCEDSTATUSCODES", "SMTPUTF8", "DSN",
                  "CHUNKING"):
            assert e in ext, f"{e} not advertised: {ext}"
        assert not any(x.startswith("STARTTLS") for x in ext), f"STARTTLS without a certificate: {ext}"
        code, _ = s.docmd("STARTTLS")
        assert code == 502, code

        # smtplib dot-stuffs lines starting with "."; the store gets them back unstuffed
        sent = message("plain", body="line 1\r\n.leading dot\r\n..two dots\r\n.\r\nx\r\nlast line\r\n")
        refused = s.sendmail("alice@sender.example", [bob], sent)
        assert refused == {}, refused
        # a second message in the same session
        sent2 = message("second")
        assert s.sendmail("", [bob], sent2) == {}
    finally:
        s.quit()

    acc = assert_ok(node.ctl("--json", "account", "show", bob)).json()
    assert acc.get("messages") == 2, acc
    got = mail_bodies(node, bob)
    assert [m["uid"] for m, _ in got] == [1, 2], got
    f = assert_stored(got[0][1], sent, bob, "alice@sender.example")
    received = f["Received"][0]
    assert received.startswith("from client.example ([127.0.0.1])"), received
    assert "by mx1.evmail.test with ESMTP id " in received, received
    assert f"for <{bob}>" in received, received
    assert_stored(got[1][1], sent2, bob, "")   # null sender: Return-Path: <>
    # the sizes in the record and the usage match the stored bytes
    for m, raw in got:
        assert m["size"] == len(raw), (m, len(raw))
        assert m["prefix"] == f"Delivered-To: {bob}\r\n", m
        assert "\\Seen" not in m["flags"], m
    assert acc.get("quota_used") == sum(len(r) for _, r in got), acc
    mboxes = {m["name"]: m for m in node.get_json(f"/admin/mail/{bob}/mailboxes")}
    assert mboxes["INBOX"]["messages"] == 2 and mboxes["INBOX"]["unseen"] == 2, mboxes["INBOX"]
    assert mboxes["INBOX"]["size"] == acc["quota_used"], mboxes["INBOX"]
    r = node.http("GET", f"/admin/mail/{bob}/mailboxes/{mboxes['INBOX']['id']}/messages/3/raw")
    assert r.status == 404, r


def test_helo_without_esmtp_and_command_order(nodes):
    node = mx_node(nodes)
    (bob,) = mail_directory(node, "t1", DOMAIN, ["bob"])
    c = SmtpRaw(node.smtp_port)
    try:
        code, lines = c.reply()
        assert code == 220 and "mx1.evmail.test" in lines[0] and "ESMTP" in lines[0], lines
        assert c.cmd("MAIL FROM:<a@b.example>")[0] == 503, c.log()
        assert c.cmd(f"RCPT TO:<{bob}>")[0] == 503, c.log()
        assert c.cmd("DATA")[0] == 503, c.log()
        code, lines = c.cmd("HELO old.example")
        assert code == 250 and len(lines) == 1, lines
        # ESMTP parameters need EHLO
        assert c.cmd("MAIL FROM:<a@b.example> SIZE=10")[0] == 555, c.log()
        assert c.cmd("MAIL FROM:<a@b.example>")[0] == 250, c.log()
        assert c.cmd("MAIL FROM:<a@b.example>")[0] == 503, c.log()   # nested
        assert c.cmd("DATA")[0] == 554, c.log()                        # no recipients
        assert c.cmd(f"RCPT TO:<{bob}>")[0] == 250, c.log()
        assert c.cmd("DATA")[0] == 354, c.log()
        c.send(b"Subject: helo\r\n\r\nold style\r\n.\r\n")
        assert c.reply()[0] == 250, c.log()
        assert c.cmd("QUIT")[0] == 221
        assert c.closed()
    finally:
        c.close()
    (m, raw), = mail_bodies(node, bob)
    f, _, rest = split_stored(raw)
    assert " with SMTP id " in f["Received"][0], f
    assert rest == b"Subject: helo\r\n\r\nold style\r\n"


# --------------------------------------------------------------------------
# STARTTLS
# --------------------------------------------------------------------------

def test_starttls_smtplib_and_swaks(nodes, tmp_path):
    node = mx_node(nodes, tls_dir=tmp_path / "tls")
    (bob,) = mail_directory(node, "t1", DOMAIN, ["bob"])
    s = smtp(node)
    try:
        code, banner = s.ehlo("client.example")
        assert "STARTTLS" in banner.decode().split("\n"), banner
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        code, _ = s.starttls(context=ctx)
        assert code == 220
        code, banner = s.ehlo("client.example")
        ext = banner.decode().split("\n")
        assert code == 250 and "STARTTLS" not in ext and "PIPELINING" in ext, ext
        assert s.docmd("STARTTLS")[0] == 503      # TLS already active
        sent = message("over tls")
        assert s.sendmail("alice@sender.example", [bob], sent) == {}
    finally:
        s.quit()
    (m, raw), = mail_bodies(node, bob)
    f = assert_stored(raw, sent, bob, "alice@sender.example")
    assert " with ESMTPS id " in f["Received"][0], f

    # STARTTLS is refused inside a transaction; after the handshake the
    # session starts over (RFC 3207 4.2): MAIL needs a new EHLO
    c = SmtpRaw(node.smtp_port)
    try:
        c.reply()
        c.cmd("EHLO x.example")
        assert c.cmd("MAIL FROM:<a@b.example>")[0] == 250
        assert c.cmd("STARTTLS")[0] == 503, c.log()
        assert c.cmd("RSET")[0] == 250
        assert c.cmd("STARTTLS")[0] == 220, c.log()
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c.sock = ctx.wrap_socket(c.sock, server_hostname="mx1.evmail.test")
        c.buf = b""
        assert c.cmd("MAIL FROM:<a@b.example>")[0] == 503, c.log()
        code, lines = c.cmd("EHLO x.example")
        assert code == 250 and "STARTTLS" not in [ln[4:] for ln in lines], c.log()
        assert c.cmd("MAIL FROM:<a@b.example>")[0] == 250, c.log()
    finally:
        c.close()

    swaks = shutil.which("swaks")
    if swaks is None:
        pytest.skip("swaks is not installed (apt-get install swaks)")
    p = run([swaks, "--server", f"127.0.0.1:{node.smtp_port}", "--tls", "--to", bob, "--from",
             "carol@sender.example", "--helo", "swaks.example", "--header", "Subject: via swaks",
             "--body", "swaks over STARTTLS\n", "--timeout", "30"], env=clean_env(), timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "TLS started" in p.stdout, p.stdout
    assert re.search(r"<~\s+250 2\.0\.0 ", p.stdout), p.stdout
    got = mail_bodies(node, bob)
    assert len(got) == 2, got
    f, _, rest = split_stored(got[1][1])
    assert f["Return-Path"] == ["<carol@sender.example>\r\n"] and " with ESMTPS id " in f["Received"][0], f
    assert b"Subject: via swaks\r\n" in rest and b"\r\n\r\nswaks over STARTTLS\r\n" in rest, rest


def test_starttls_discards_pipelined_plaintext(nodes, tmp_path):
    """RFC 3207 / CVE-2011-0411: commands sent in the clear behind STARTTLS
    must not be executed after the handshake."""
    node = mx_node(nodes, tls_dir=tmp_path / "tls")
    (bob,) = mail_directory(node, "t1", DOMAIN, ["bob"])
    c = SmtpRaw(node.smtp_port)
    try:
        c.reply()
        c.cmd("EHLO x.example")
        c.send(f"STARTTLS\r\nMAIL FROM:<injected@evil.example>\r\nRCPT TO:<{bob}>\r\n")
        code, lines = c.reply()
        assert code == 220, c.log()
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        try:
            tls = ctx.wrap_socket(c.sock, server_hostname="mx1.evmail.test")
        except (ssl.SSLError, OSError):
            return  # closing the connection is an acceptable answer too
        c.sock, c.buf = tls, b""
        code, lines = c.cmd("EHLO x.example")
        assert code == 250, c.log()
        # no transaction may exist from the injected commands
        code, _ = c.cmd("DATA")
        assert code == 503, "pipelined plaintext MAIL/RCPT survived STARTTLS:\n" + c.log()
    finally:
        c.close()
    assert inbox_count(node, bob) == 0


# --------------------------------------------------------------------------
# PIPELINING, BDAT, SMTPUTF8, 8-bit
# --------------------------------------------------------------------------

def test_pipelining_several_messages_one_session(nodes):
    node = mx_node(nodes)
    bob, carol = mail_directory(node, "t1", DOMAIN, ["bob", "carol"])
    c = SmtpRaw(node.smtp_port)
    bodies = [message(f"pipelined {i}") for i in range(4)]
    try:
        c.reply()
        code, lines = c.cmd("EHLO pipe.example")
        assert "PIPELINING" in [ln[4:] for ln in lines], lines
        # group 1: MAIL, three RCPT (one unknown), DATA in one write
        c.send(f"MAIL FROM:<p@sender.example>\r\nRCPT TO:<{bob}>\r\nRCPT TO:<nobody@{DOMAIN}>\r\n"
               f"RCPT TO:<{carol}>\r\nDATA\r\n")
        codes = [r[0] for r in c.replies(5)]
        assert codes == [250, 250, 550, 250, 354], c.log()
        # the message, its end and the next transaction in one write
        c.send(bodies[0] + b".\r\n" + f"MAIL FROM:<p@sender.example>\r\nRCPT TO:<{bob}>\r\nDATA\r\n".encode())
        codes = [r[0] for r in c.replies(4)]
        assert codes == [250, 250, 250, 354], c.log()
        c.send(bodies[1] + b".\r\nRSET\r\n" + f"MAIL FROM:<p@sender.example>\r\nRCPT TO:<{carol}>\r\nDATA\r\n".encode())
        codes = [r[0] for r in c.replies(5)]
        assert codes == [250, 250, 250, 250, 354], c.log()
        c.send(bodies[2] + b".\r\n" + f"MAIL FROM:<p@sender.example>\r\nRCPT TO:<{bob}>\r\nDATA\r\n".encode()
               + b"")
        codes = [r[0] for r in c.replies(4)]
        assert codes == [250, 250, 250, 354], c.log()
        c.send(bodies[3] + b".\r\nQUIT\r\n")
        codes = [r[0] for r in c.replies(2)]
        assert codes == [250, 221], c.log()
    finally:
        c.close()
    got_bob = mail_bodies(node, bob)
    got_carol = mail_bodies(node, carol)
    assert [split_stored(r)[2] for _, r in got_bob] == [bodies[0], bodies[1], bodies[3]]
    assert [split_stored(r)[2] for _, r in got_carol] == [bodies[0], bodies[2]]
    # the message to two accounts is one blob, referenced twice
    assert got_bob[0][0]["blob_id"] == got_carol[0][0]["blob_id"]


def bdat_session(c, mail_from, rcpts, chunks, pipelined=True):
    """MAIL, RCPT..., BDAT chunks (the last with LAST); returns the replies."""
    cmds = [f"MAIL FROM:<{mail_from}>\r\n".encode()] + [f"RCPT TO:<{r}>\r\n".encode() for r in rcpts]
    for i, ch in enumerate(chunks):
        last = " LAST" if i == len(chunks) - 1 else ""
        cmds.append(f"BDAT {len(ch)}{last}\r\n".encode() + ch)
    if pipelined:
        c.send(b"".join(cmds))
        return c.replies(len(cmds))
    out = []
    for x in cmds:
        c.send(x)
        out.append(c.reply())
    return out


def test_bdat_chunking(nodes):
    node = mx_node(nodes)
    (bob,) = mail_directory(node, "t1", DOMAIN, ["bob"])
    # BDAT content is binary-transparent: a "\r\n.\r\n" inside is content,
    # leading dots are not unstuffed
    part1 = message("bdat", body="first chunk\r\n.\r\n..not unstuffed\r\n")
    part2 = b"MAIL FROM:<not-a-command@evil.example>\r\n"
    part3 = b"the end\r\n"
    c = SmtpRaw(node.smtp_port)
    try:
        c.reply()
        code, lines = c.cmd("EHLO chunk.example")
        assert "CHUNKING" in [ln[4:] for ln in lines], lines
        replies = bdat_session(c, "b@sender.example", [bob], [part1, part2, part3])
        codes = [r[0] for r in replies]
        assert codes == [250, 250, 250, 250, 250], c.log()
        assert replies[2][1][0].startswith(f"250 2.0.0 {len(part1)} octets"), c.log()
        # not pipelined, and a zero-length LAST chunk
        replies = bdat_session(c, "b2@sender.example", [bob], [b"Subject: two\r\n\r\nx\r\n", b""],
                               pipelined=False)
        assert [r[0] for r in replies] == [250, 250, 250, 250], c.log()
        # DATA and BDAT do not mix; BDAT without a transaction is refused (and its octets skipped)
        assert c.cmd("MAIL FROM:<b3@sender.example>")[0] == 250
        assert c.cmd(f"RCPT TO:<{bob}>")[0] == 250
        c.send(b"BDAT 5\r\nabcde")
        assert c.reply()[0] == 250, c.log()
        assert c.cmd("DATA")[0] == 503, c.log()
        assert c.cmd("RSET")[0] == 250
        c.send(b"BDAT 12 LAST\r\nNOOP\r\nNOOP\r\n")
        code, _ = c.reply()
        assert code == 503, c.log()
        assert c.cmd("NOOP")[0] == 250, "the refused chunk's octets were taken for commands:\n" + c.log()
        assert c.cmd("QUIT")[0] == 221
    finally:
        c.close()
    got = mail_bodies(node, bob)
    assert len(got) == 2, got
    assert_stored(got[0][1], part1 + part2 + part3, bob, "b@sender.example")
    assert_stored(got[1][1], b"Subject: two\r\n\r\nx\r\n", bob, "b2@sender.example")


def test_smtputf8_and_8bit_body(nodes):
    node = mx_node(nodes)
    (bob,) = mail_directory(node, "t1", DOMAIN, ["bob"])
    sender = "jörg.müller@bücher.example"
    utf8 = (f"From: Jörg Müller <{sender}>\r\nTo: <{bob}>\r\nSubject: Grüße, 日本語, ☃\r\n"
            f"Message-ID: <utf8.1@bücher.example>\r\n\r\nÄÖÜ äöü ß — 漢字\r\n").encode()
    # every byte value but NUL, CR and LF in the body, on short lines
    eight = bytes(b for b in range(1, 256) if b not in (10, 13))
    body8 = b"".join(eight[i:i + 60] + b"\r\n" for i in range(0, len(eight), 60))
    body8 = body8.replace(b"\r\n.", b"\r\n_")  # no dot at a line start; smtplib would stuff it anyway
    msg8 = b"Subject: 8bit\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=latin1\r\n" \
           b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body8

    s = smtp(node)
    try:
        s.ehlo("utf8.example")
        assert s.has_extn("smtputf8") and s.has_extn("8bitmime")
        assert s.sendmail(sender, [bob], utf8, mail_options=["SMTPUTF8", "BODY=8BITMIME"]) == {}
        assert s.sendmail("x@sender.example", [bob], msg8, mail_options=["BODY=8BITMIME"]) == {}
        # a UTF-8 local part is valid syntax under SMTPUTF8 (RFC 6531 3.3):
        # no such account here -> "user unknown", not a syntax error
        s.command_encoding = "utf-8"
        assert s.docmd("MAIL", f"FROM:<{sender}> SMTPUTF8")[0] == 250
        code, text = s.docmd("RCPT", f"TO:<jörg@{DOMAIN}>")
        utf8_rcpt = (code, text)
        s.rset()
        # without SMTPUTF8 a UTF-8 address is refused (RFC 6531 3.4)
        s.command_encoding = "utf-8"
        code, text = s.docmd("MAIL", f"FROM:<{sender}>")
        assert code == 553 and b"5.6.7" in text, (code, text)
        s.rset()
        s.command_encoding = "ascii"
    finally:
        s.quit()
    got = mail_bodies(node, bob)
    assert len(got) == 2, got
    f = assert_stored(got[0][1], utf8, bob, sender)
    assert " with UTF8SMTP id " in f["Received"][0], f
    assert_stored(got[1][1], msg8, bob, "x@sender.example")
    code, text = utf8_rcpt
    assert code == 550 and text.startswith(b"5.1.1"), (
        f"RCPT TO:<jörg@{DOMAIN}> after MAIL ... SMTPUTF8 answered {code} {text!r}")


def test_twenty_megabyte_message_byte_identical(nodes):
    node = mx_node(nodes)
    (bob,) = mail_directory(node, "t1", DOMAIN, ["bob"])
    import hashlib
    import os
    line_src = os.urandom(15 * 1024 * 1024)
    import base64
    b64 = base64.b64encode(line_src)
    body = b"\r\n".join(b64[i:i + 76] for i in range(0, len(b64), 76)) + b"\r\n"
    sent = (b"Subject: big\r\nMIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + body)
    assert len(sent) > 20 * 1000 * 1000
    t0 = time.monotonic()
    s = smtp(node, timeout=120)
    try:
        s.ehlo("big.example")
        assert s.has_extn("size")   # smtplib then sends SIZE=<len> itself
        assert s.sendmail("big@sender.example", [bob], sent) == {}
    finally:
        s.quit()
    elapsed = time.monotonic() - t0
    (m, raw), = mail_bodies(node, bob, timeout=60)
    assert m["size"] == len(raw)
    _, _, rest = split_stored(raw)
    assert len(rest) == len(sent) and hashlib.sha256(rest).digest() == hashlib.sha256(sent).digest()
    assert_stored(raw, sent, bob, "big@sender.example")
    print(f"20 MB message delivered in {elapsed:.1f}s")


# --------------------------------------------------------------------------
# recipients: many, two tenants, aliases, plus-addressing, catch-all
# --------------------------------------------------------------------------

def test_fifty_recipients_two_tenants_one_blob(nodes):
    node = mx_node(nodes)
    a_users = mail_directory(node, "ta", "a.example", [f"u{i}" for i in range(25)])
    b_users = mail_directory(node, "tb", "b.example", [f"v{i}" for i in range(25)])
    rcpts = a_users + b_users
    sent = message("fifty")
    s = smtp(node)
    try:
        s.ehlo("many.example")
        assert s.sendmail("bulk@sender.example", rcpts, sent) == {}
    finally:
        s.quit()
    blobs = set()
    for r in rcpts:
        got = mail_bodies(node, r)
        assert len(got) == 1, (r, got)
        m, raw = got[0]
        blobs.add(m["blob_id"])
        f = assert_stored(raw, sent, r, "bulk@sender.example")
        assert "for <" not in f["Received"][0], f   # more than one recipient
    assert len(blobs) == 1, f"a message to 50 accounts was stored as {len(blobs)} blobs"


def test_alias_plus_addressing_catch_all_and_dedup(nodes):
    node = mx_node(nodes)
    ann, ben, cat, dan = mail_directory(node, "t1", DOMAIN, ["ann", "ben", "cat", "dan"])
    for t in (ann, ben, cat):
        assert_ok(node.ctl("alias", "add", f"team@{DOMAIN}", t))
    s = smtp(node)
    try:
        s.ehlo("alias.example")
        m_team = message("to team")
        assert s.sendmail("x@sender.example", [f"team@{DOMAIN}"], m_team) == {}
        m_plus = message("plus")
        assert s.sendmail("x@sender.example", [f"dan+newsletter@{DOMAIN}"], m_plus) == {}
        # unknown before the catch-all exists
        with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
            s.sendmail("x@sender.example", [f"random@{DOMAIN}"], message("no catch-all"))
        assert e.value.recipients[f"random@{DOMAIN}"][0] == 550
        assert b"5.1.1" in e.value.recipients[f"random@{DOMAIN}"][1]
    finally:
        s.quit()
    assert_ok(node.ctl("alias", "add", f"@{DOMAIN}", dan))
    s = smtp(node)
    try:
        s.ehlo("alias.example")
        m_catch = message("catch-all")
        assert s.sendmail("x@sender.example", [f"random@{DOMAIN}"], m_catch) == {}
        # the same account through three addresses in one transaction: one copy
        m_dedup = message("dedup")
        assert s.sendmail("x@sender.example", [ann, f"ann+x@{DOMAIN}", f"team@{DOMAIN}"], m_dedup) == {}
        # a real account still gets its own mail with a catch-all in place
        m_ben = message("ben direct")
        assert s.sendmail("x@sender.example", [ben], m_ben) == {}
    finally:
        s.quit()

    def subjects(addr):
        return [re.search(rb"Subject: ([^\r]*)", split_stored(r)[2]).group(1).decode()
                for _, r in mail_bodies(node, addr)]

    assert subjects(ann) == ["to team", "dedup"]
    assert subjects(ben) == ["to team", "dedup", "ben direct"]
    assert subjects(cat) == ["to team", "dedup"]
    assert subjects(dan) == ["plus", "catch-all"]
    # Delivered-To is the address the message was sent to
    team = mail_bodies(node, ann)[0][1]
    assert split_stored(team)[0]["Delivered-To"] == [f"team@{DOMAIN}\r\n"], team[:300]
    plus = mail_bodies(node, dan)[0][1]
    assert split_stored(plus)[0]["Delivered-To"] == [f"dan+newsletter@{DOMAIN}\r\n"], plus[:300]
    # the message to the alias is one blob for its three accounts
    assert len({mail_bodies(node, a)[0][0]["blob_id"] for a in (ann, ben, cat)}) == 1


def test_rcpt_rejections_and_vrfy(nodes):
    node = mx_node(nodes)
    bob, dis = mail_directory(node, "t1", DOMAIN, ["bob", "dis"])
    assert_ok(node.ctl("account", "set", dis, "--state", "disabled"))
    c = SmtpRaw(node.smtp_port)
    try:
        c.reply()
        c.cmd("EHLO rcpt.example")
        # VRFY never tells whether an account exists: the same answer for both
        v1 = c.cmd(f"VRFY {bob}")
        v2 = c.cmd(f"VRFY nosuchuser@{DOMAIN}")
        v3 = c.cmd("VRFY bob")
        assert v1[0] == 252 and v1 == v2 == v3, c.log()
        assert c.cmd(f"EXPN team@{DOMAIN}")[0] == 502, c.log()
        assert c.cmd("MAIL FROM:<x@sender.example>")[0] == 250
        code, lines = c.cmd(f"RCPT TO:<nobody@{DOMAIN}>")
        assert code == 550 and lines[0].startswith("550 5.1.1"), c.log()
        code, lines = c.cmd("RCPT TO:<someone@foreign.example>")
        assert code == 550 and lines[0].startswith("550 5.7.1"), c.log()
        code, lines = c.cmd(f"RCPT TO:<{dis}>")
        assert code == 550 and lines[0].startswith("550 5.2.1"), c.log()
        code, lines = c.cmd("RCPT TO:<not an address>")
        assert code == 501, c.log()
        code, lines = c.cmd("RCPT TO:<>")
        assert code in (501, 550, 553), c.log()
        code, lines = c.cmd("DATA")
        assert code == 554, c.log()                     # no valid recipient yet
        assert c.cmd(f"RCPT TO:<{bob}>")[0] == 250
        assert c.cmd("DATA")[0] == 354
        c.send(b"Subject: after rejections\r\n\r\nx\r\n.\r\n")
        assert c.reply()[0] == 250, c.log()
    finally:
        c.close()
    assert inbox_count(node, bob) == 1
    assert inbox_count(node, dis) == 0


# --------------------------------------------------------------------------
# limits
# --------------------------------------------------------------------------

def test_message_size_limit(nodes):
    node = mx_node(nodes, EVMAIL_LIMITS_MESSAGE_SIZE="10000")
    (bob,) = mail_directory(node, "t1", DOMAIN, ["bob"])
    small = message("small", body="x" * 100 + "\r\n")
    big = message("big", body=("y" * 70 + "\r\n") * 200)
    assert len(big) > 10000
    c = SmtpRaw(node.smtp_port)
    try:
        c.reply()
        code, lines = c.cmd("EHLO size.example")
        assert "SIZE 10000" in [ln[4:] for ln in lines], lines
        # declared too big: refused at MAIL
        code, lines = c.cmd("MAIL FROM:<x@sender.example> SIZE=20000")
        assert code == 552 and lines[0].startswith("552 5.3.4"), c.log()
        # declared small, actually too big: refused after DATA, session goes on
        assert c.cmd("MAIL FROM:<x@sender.example> SIZE=500")[0] == 250, c.log()
        assert c.cmd(f"RCPT TO:<{bob}>")[0] == 250
        assert c.cmd("DATA")[0] == 354
        c.send(big + b".\r\n")
        code, lines = c.reply()
        assert code == 552 and lines[0].startswith("552 5.3.4"), c.log()
        # no SIZE at all, BDAT too big
        assert c.cmd("MAIL FROM:<x@sender.example>")[0] == 250, c.log()
        assert c.cmd(f"RCPT TO:<{bob}>")[0] == 250
        half = len(big) // 2
        c.send(f"BDAT {half}\r\n".encode() + big[:half] + f"BDAT {len(big) - half} LAST\r\n".encode()
               + big[half:])
        codes = [r[0] for r in c.replies(2)]
        assert codes[-1] == 552, c.log()
        # a message under the limit still goes through in the same session
        assert c.cmd("MAIL FROM:<x@sender.example> SIZE=%d" % len(small))[0] == 250, c.log()
        assert c.cmd(f"RCPT TO:<{bob}>")[0] == 250
        assert c.cmd("DATA")[0] == 354
        c.send(small + b".\r\n")
        assert c.reply()[0] == 250, c.log()
    finally:
        c.close()
    got = mail_bodies(node, bob)
    assert len(got) == 1 and split_stored(got[0][1])[2] == small, got


def test_too_many_recipients(nodes):
    node = mx_node(nodes, EVMAIL_LIMITS_RECIPIENTS="5")
    users = mail_directory(node, "t1", DOMAIN, [f"r{i}" for i in range(7)])
    c = SmtpRaw(node.smtp_port)
    try:
        c.reply()
        c.cmd("EHLO rcpt.example")
        assert c.cmd("MAIL FROM:<x@sender.example>")[0] == 250
        for u in users[:5]:
            assert c.cmd(f"RCPT TO:<{u}>")[0] == 250, c.log()
        for u in users[5:]:
            code, lines = c.cmd(f"RCPT TO:<{u}>")
            assert code == 452 and lines[0].startswith("452 4.5.3"), c.log()
        assert c.cmd("DATA")[0] == 354
        c.send(b"Subject: five\r\n\r\nx\r\n.\r\n")
        assert c.reply()[0] == 250, c.log()
    finally:
        c.close()
    assert [inbox_count(node, u) for u in users] == [1] * 5 + [0] * 2


def test_error_limit_disconnects_with_421(nodes):
    node = mx_node(nodes, EVMAIL_LIMITS_SMTP_ERRORS="3")
    c = SmtpRaw(node.smtp_port)
    try:
        c.reply()
        c.cmd("EHLO err.example")
        assert c.cmd("FOO")[0] == 500, c.log()
        assert c.cmd("RCPT TO:<a@b.example>")[0] == 503, c.log()
        # the third error: its own reply and/or 421, then the connection closes
        codes = [c.cmd("BAR")[0]]
        if codes[0] != 421:
            codes.append(c.reply()[0])
        assert codes in ([500, 421], [421]), c.log()
        assert c.closed(), c.log()
    finally:
        c.close()


def test_connections_per_ip_limit(nodes):
    node = mx_node(nodes, EVMAIL_LIMITS_CONNECTIONS_PER_IP="2")
    conns = []
    try:
        for _ in range(2):
            c = SmtpRaw(node.smtp_port)
            conns.append(c)
            assert c.reply()[0] == 220, c.log()
        third = SmtpRaw(node.smtp_port)
        conns.append(third)
        code, lines = third.reply()
        assert code == 421, third.log()
        assert third.closed(), third.log()
        conns[0].cmd("QUIT")
        conns[0].close()

        def fourth_ok():
            c = SmtpRaw(node.smtp_port)
            conns.append(c)
            return c.reply()[0] == 220
        wait_until(fourth_ok, 10, interval=0.2, what="a connection slot after QUIT")
    finally:
        for c in conns:
            c.close()


def test_quota_mixed_recipients_smtp(nodes):
    """SMTP has one reply after DATA. With SIZE declared (RFC 1870), a
    recipient whose mailbox cannot take the message is refused at RCPT
    (452 4.2.2) and the others get it. Without SIZE, the over-quota
    recipient is only found after DATA; once another recipient stored the
    message the client is told 250, so the over-quota one gets it too,
    stored over quota (gateway/deliver.h) -- never silently dropped."""
    node = mx_node(nodes)
    small, roomy = mail_directory(node, "t1", DOMAIN, ["small", "roomy"], quota={f"small@{DOMAIN}": 10240})
    acc = node.get_json(f"/admin/accounts/{small}")
    assert acc["quota"] == 10240, acc
    fits = message("fits", body="z" * 1000 + "\r\n")
    big = message("too big for quota", body=("q" * 76 + "\r\n") * 200)
    assert len(big) > 10240
    s = smtp(node)
    try:
        s.ehlo("quota.example")
        assert s.sendmail("x@sender.example", [small], fits) == {}
        # SIZE declared (smtplib sends it): refused at RCPT for small only
        refused = s.sendmail("x@sender.example", [small, roomy], big)
        assert list(refused) == [small] and refused[small][0] == 452, refused
        assert b"4.2.2" in refused[small][1], refused
        with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
            s.sendmail("x@sender.example", [small], big)
        assert e.value.recipients[small][0] == 452, e.value.recipients
        # no SIZE: both accepted at RCPT, one reply after DATA
        code, _ = s.mail("x@sender.example")
        assert code == 250
        assert s.rcpt(small)[0] == 250 and s.rcpt(roomy)[0] == 250
        code, resp = s.data(big)
        assert code == 250, (code, resp)
    finally:
        s.quit()
    assert inbox_count(node, small) == 2
    assert inbox_count(node, roomy) == 2
    acc = assert_ok(node.ctl("--json", "account", "show", small)).json()
    assert acc["messages"] == 2 and acc["quota_used"] > 10240, acc
    # the mailbox is now over quota: the next message is refused at RCPT
    s = smtp(node)
    try:
        s.ehlo("quota.example")
        code, _ = s.mail("x@sender.example")
        assert s.rcpt(small)[0] == 452
    finally:
        s.quit()


def test_size_boundary_line_length_and_dsn_parameters(nodes):
    """limits.message_size counts the message as received: exactly the
    limit is accepted, one octet more is not; a line over
    limits.smtp_line_length is 554 5.6.0; DSN parameters (RFC 3461) are
    accepted, bad ones refused."""
    node = mx_node(nodes, EVMAIL_LIMITS_MESSAGE_SIZE="5000", EVMAIL_LIMITS_SMTP_LINE_LENGTH="1000")
    (bob,) = mail_directory(node, "t1", DOMAIN, ["bob"])
    head = b"Subject: boundary\r\n\r\n"

    def exactly(n):
        body = b""
        while len(head) + len(body) + 80 <= n:
            body += b"b" * 78 + b"\r\n"
        rest = n - len(head) - len(body) - 2
        return head + body + b"c" * rest + b"\r\n"

    at, over = exactly(5000), exactly(5001)
    assert len(at) == 5000 and len(over) == 5001
    c = SmtpRaw(node.smtp_port)
    try:
        c.reply()
        c.cmd("EHLO edge.example")
        for data, want in ((at, 250), (over, 552)):
            c.send(f"MAIL FROM:<x@sender.example> SIZE={len(data)}\r\nRCPT TO:<{bob}>\r\nDATA\r\n")
            codes = [r[0] for r in c.replies(3)]
            if want == 552:
                # SIZE=5001 is refused at MAIL already; then RCPT and DATA are 503
                assert codes[0] == 552 and codes[1:] == [503, 503], c.log()
                c.send(f"MAIL FROM:<x@sender.example>\r\nRCPT TO:<{bob}>\r\nDATA\r\n")
                assert [r[0] for r in c.replies(3)] == [250, 250, 354], c.log()
            else:
                assert codes == [250, 250, 354], c.log()
            c.send(data + b".\r\n")
            assert c.reply()[0] == want, c.log()
        # 998 octets + CRLF is the RFC 5322 limit and within 1000; 1001 is over
        for n, want in ((998, 250), (1001, 554)):
            c.send(f"MAIL FROM:<x@sender.example>\r\nRCPT TO:<{bob}>\r\nDATA\r\n")
            assert [r[0] for r in c.replies(3)] == [250, 250, 354], c.log()
            c.send(b"Subject: line\r\n\r\n" + b"l" * n + b"\r\n.\r\n")
            code, lines = c.reply()
            assert code == want, c.log()
            if want == 554:
                assert lines[0].startswith("554 5.6.0"), c.log()
        # DSN
        assert c.cmd("MAIL FROM:<x@sender.example> RET=HDRS ENVID=QQ314159+2B1")[0] == 250, c.log()
        assert c.cmd(f"RCPT TO:<{bob}> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;{bob}")[0] == 250, c.log()
        assert c.cmd(f"RCPT TO:<{bob}> NOTIFY=NEVER,SUCCESS")[0] == 501, c.log()
        assert c.cmd(f"RCPT TO:<{bob}> NOTIFY=BOGUS")[0] == 501, c.log()
        assert c.cmd("DATA")[0] == 354
        c.send(b"Subject: dsn\r\n\r\nx\r\n.\r\n")
        assert c.reply()[0] == 250, c.log()
        c.send("RSET\r\nMAIL FROM:<x@sender.example> RET=NOPE\r\n")
        assert [r[0] for r in c.replies(2)] == [250, 501], c.log()
    finally:
        c.close()
    got = mail_bodies(node, bob)
    assert [split_stored(r)[2] for _, r in got] == [at, b"Subject: line\r\n\r\n" + b"l" * 998 + b"\r\n",
                                                    b"Subject: dsn\r\n\r\nx\r\n"]


def test_aborted_transactions_store_nothing(nodes):
    """RSET, a client that disconnects inside DATA or between BDAT chunks,
    and QUIT before the end: nothing is stored."""
    node = mx_node(nodes)
    (bob,) = mail_directory(node, "t1", DOMAIN, ["bob"])
    for script in (
        [b"DATA\r\n", b"Subject: rset\r\n\r\n", None],                     # disconnect in DATA
        [b"BDAT 20\r\nSubject: bdat\r\n\r\nxxxx", None],                     # disconnect between chunks
        [b"BDAT 100 LAST\r\nSubject: short", None],                            # disconnect inside a chunk
        [b"RSET\r\nDATA\r\n", "check-rset"],                                   # RSET drops the transaction
    ):
        c = SmtpRaw(node.smtp_port)
        try:
            c.reply()
            c.cmd("EHLO abort.example")
            c.send(f"MAIL FROM:<x@sender.example>\r\nRCPT TO:<{bob}>\r\n")
            assert [r[0] for r in c.replies(2)] == [250, 250], c.log()
            for step in script:
                if step is None:
                    break
                if step == "check-rset":
                    assert [r[0] for r in c.replies(2)] == [250, 503], c.log()
                    break
                c.send(step)
        finally:
            c.close()
    time.sleep(0.3)
    # the node is fine and a real message still arrives
    s = smtp(node)
    try:
        s.ehlo("abort.example")
        assert s.sendmail("x@sender.example", [bob], message("after aborts")) == {}
    finally:
        s.quit()
    got = mail_bodies(node, bob)
    assert len(got) == 1 and b"Subject: after aborts" in got[0][1], got


def test_concurrent_sessions_unique_uids(nodes):
    """Parallel sessions to the same accounts: every message stored once,
    UIDs 1..N without holes or duplicates, MODSEQ increasing with UID."""
    import threading
    node = mx_node(nodes)
    bob, ann = mail_directory(node, "t1", DOMAIN, ["bob", "ann"])
    assert_ok(node.ctl("alias", "add", f"both@{DOMAIN}", bob))
    assert_ok(node.ctl("alias", "add", f"both@{DOMAIN}", ann))
    threads, errors, sent = [], [], []
    lock = threading.Lock()

    def worker(w):
        try:
            s = smtp(node)
            s.ehlo(f"w{w}.example")
            for i in range(6):
                rcpt = f"both@{DOMAIN}" if i % 2 else bob
                data = message(f"w{w} m{i}")
                refused = s.sendmail("x@sender.example", [rcpt], data)
                assert refused == {}, refused
                with lock:
                    sent.append((rcpt, data))
            s.quit()
        except Exception as e:  # noqa: BLE001
            errors.append(f"worker {w}: {e!r}")

    for w in range(8):
        t = threading.Thread(target=worker, args=(w,), daemon=True)
        threads.append(t)
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert len(sent) == 48
    for addr, expect in ((bob, 48), (ann, 24)):
        got = mail_bodies(node, addr)
        assert [m["uid"] for m, _ in got] == list(range(1, expect + 1)), [m["uid"] for m, _ in got]
        modseqs = [m["modseq"] for m, _ in got]
        assert modseqs == sorted(modseqs) and len(set(modseqs)) == len(modseqs), modseqs
        bodies = sorted(split_stored(r)[2] for _, r in got)
        want = sorted(d for rc, d in sent if addr == bob or rc == f"both@{DOMAIN}")
        assert bodies == want


def test_idle_timeout_421(nodes):
    node = mx_node(nodes, EVMAIL_LIMITS_SMTP_COMMAND_TIMEOUT_S="1", EVMAIL_LIMITS_SMTP_DATA_TIMEOUT_S="1")
    (bob,) = mail_directory(node, "t1", DOMAIN, ["bob"])
    for in_data in (False, True):
        c = SmtpRaw(node.smtp_port)
        try:
            c.reply()
            c.cmd("EHLO idle.example")
            if in_data:
                c.send(f"MAIL FROM:<x@sender.example>\r\nRCPT TO:<{bob}>\r\nDATA\r\nSubject: idle\r\n")
                assert [r[0] for r in c.replies(3)] == [250, 250, 354], c.log()
            t0 = time.monotonic()
            code, lines = c.reply()
            waited = time.monotonic() - t0
            assert code == 421 and lines[0].startswith("421 4.4.2"), c.log()
            assert 0.5 < waited < 10, waited
            assert c.closed(), c.log()
        finally:
            c.close()
    assert inbox_count(node, bob) == 0
