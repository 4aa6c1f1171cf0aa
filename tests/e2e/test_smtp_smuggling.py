"""SMTP smuggling (SEC Consult, December 2023; CVE-2023-51764/51765/51766):
a message whose body holds a non-standard end-of-data sequence followed by
a second, "smuggled" MAIL FROM/RCPT TO/DATA. Only <CRLF>.<CRLF> ends DATA
(RFC 5321 4.1.1.4); evmail refuses bare CR and LF (550 5.6.11, RFC 5321
2.3.8). For every published variant, sent raw over a socket:

  - the server says nothing until the real <CRLF>.<CRLF> (the variant did
    not end DATA),
  - then exactly ONE reply: 550 5.6.11, or 250 with ONE stored message,
  - the smuggled sender never becomes a message of its own (checked through
    GET /admin/mail/...), and never appears as an envelope in the log."""

import socket
import time

import pytest

from conftest import SmtpRaw, mail_bodies, mail_directory

DOMAIN = "smuggle.example"

VARIANTS = {
    "LF.LF": b"\n.\n",
    "LF.CRLF": b"\n.\r\n",
    "CR.CR": b"\r.\r",
    "CRLF.CR": b"\r\n.\r",
    "CR.CRLF": b"\r.\r\n",
    "CRLF.LF": b"\r\n.\n",
    "CR.LF": b"\r.\n",
    "LF.CR": b"\n.\r",
    "CRLF.CRCRLF": b"\r\n.\r\r\n",
    "CRLF.NUL.CRLF": b"\r\n.\x00\r\n",
    "CRLF.LF.CRLF(bare LF line)": b"\r\n\n.\r\n",
    "LF.LF-at-start": b".\n",          # right after the header/body separator below
}

SILENCE = 0.3   # seconds the server must stay quiet after the smuggled part


@pytest.fixture
def mx(nodes):
    node = nodes("mx", env={"EVMAIL_SMTP_HOSTNAME": "mx.smuggle.test"})
    node.start(wait="ready")
    (bob,) = mail_directory(node, "t1", DOMAIN, ["bob"])
    return node, bob


def quiet(c, seconds):
    """True when nothing arrives from the server for `seconds`."""
    c.sock.settimeout(seconds)
    try:
        data = c.sock.recv(4096)
    except socket.timeout:
        return True
    finally:
        c.sock.settimeout(30)
    c.buf += data
    return False


def smuggle(node, rcpt, seq, bytewise=False):
    """One session with the smuggling payload; returns (replies after
    the payload, the transcript)."""
    outer = (f"From: <outer@sender.example>\r\nTo: <{rcpt}>\r\nSubject: outer\r\n"
             f"Message-ID: <outer.{time.monotonic_ns()}@sender.example>\r\n\r\n").encode()
    if seq != b".\n":
        outer += b"outer text"
    smuggled = (f"MAIL FROM:<smuggled@evil.example>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n"
                f"From: <ceo@{DOMAIN}>\r\nSubject: smuggled\r\n\r\nsmuggled body\r\n").encode()
    c = SmtpRaw(node.smtp_port)
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        assert c.reply()[0] == 220
        assert c.cmd("EHLO attacker.example")[0] == 250
        assert c.cmd("MAIL FROM:<outer@sender.example>")[0] == 250, c.log()
        assert c.cmd(f"RCPT TO:<{rcpt}>")[0] == 250, c.log()
        assert c.cmd("DATA")[0] == 354, c.log()
        payload = outer + seq + smuggled
        if bytewise:
            for i in range(len(payload)):
                c.send(payload[i:i + 1])
        else:
            c.send(payload)
        assert quiet(c, SILENCE), ("the server answered inside DATA: the variant ended the message\n"
                                   + c.log() + "\n" + c.buf.decode("utf-8", "replace"))
        c.send(b".\r\nQUIT\r\n")
        replies = []
        while True:
            code, lines = c.reply()
            if code is None:
                break
            replies.append((code, lines))
            if code == 221:
                break
        return replies, c.log()
    finally:
        c.close()


def check_store(node, rcpt, replies, log):
    codes = [r[0] for r in replies]
    assert len(codes) == 2 and codes[1] == 221, f"expected one reply to DATA, then 221:\n{log}"
    code, lines = replies[0]
    got = mail_bodies(node, rcpt)
    if code == 550:
        assert lines[0].startswith("550 5.6.11"), log
        assert got == [], f"rejected, yet stored: {got}"
    else:
        assert code == 250, log
        assert len(got) == 1, f"accepted as {len(got)} messages:\n{log}"
        _, raw = got[0]
        assert b"Return-Path: <outer@sender.example>\r\n" in raw, raw[:400]
        assert b"Return-Path: <smuggled@evil.example>" not in raw, raw[:400]
    mailfrom_lines = [ln for ln in open(node.log_path, errors="replace")
                      if "mail from=<smuggled@evil.example>" in ln]
    assert not mailfrom_lines, f"the smuggled MAIL FROM was executed: {mailfrom_lines}"


@pytest.mark.parametrize("name", list(VARIANTS))
def test_smuggling_variant(mx, name):
    node, bob = mx
    replies, log = smuggle(node, bob, VARIANTS[name])
    check_store(node, bob, replies, log)
    # the session is usable afterwards: a clean message goes through as one
    c = SmtpRaw(node.smtp_port)
    try:
        c.reply()
        c.cmd("EHLO clean.example")
        c.send(f"MAIL FROM:<clean@sender.example>\r\nRCPT TO:<{bob}>\r\nDATA\r\n")
        assert [r[0] for r in c.replies(3)] == [250, 250, 354], c.log()
        c.send(b"Subject: clean\r\n\r\nclean\r\n.\r\n")
        assert c.reply()[0] == 250, c.log()
    finally:
        c.close()
    senders = [raw.split(b"\r\n")[1] for _, raw in mail_bodies(node, bob)]
    assert senders[-1] == b"Return-Path: <clean@sender.example>", senders
    assert b"Return-Path: <smuggled@evil.example>" not in senders


@pytest.mark.parametrize("name", ["LF.LF", "CRLF.CR", "CR.CRLF", "CRLF.LF"])
def test_smuggling_variant_one_byte_at_a_time(mx, name):
    """The same, each byte in its own TCP segment (the parser's state
    across reads)."""
    node, bob = mx
    replies, log = smuggle(node, bob, VARIANTS[name], bytewise=True)
    check_store(node, bob, replies, log)


def test_dot_stuffed_lookalike_is_content(mx):
    """A properly dot-stuffed "<CRLF>..<CRLF>" followed by MAIL FROM is
    content: one message, stored with the line unstuffed to ".", and the
    text "MAIL FROM" in its body."""
    node, bob = mx
    c = SmtpRaw(node.smtp_port)
    body = (b"Subject: lookalike\r\n\r\nbefore\r\n..\r\nMAIL FROM:<smuggled@evil.example>\r\n"
            b"RCPT TO:<" + bob.encode() + b">\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n")
    try:
        c.reply()
        c.cmd("EHLO ok.example")
        c.send(f"MAIL FROM:<outer@sender.example>\r\nRCPT TO:<{bob}>\r\nDATA\r\n")
        assert [r[0] for r in c.replies(3)] == [250, 250, 354], c.log()
        c.send(body)
        assert quiet(c, SILENCE), c.log()
        c.send(b".\r\nQUIT\r\n")
        assert [r[0] for r in c.replies(2)] == [250, 221], c.log()
    finally:
        c.close()
    got = mail_bodies(node, bob)
    assert len(got) == 1, got
    assert got[0][1].endswith(body.replace(b"\r\n..\r\n", b"\r\n.\r\n")), got[0][1]
