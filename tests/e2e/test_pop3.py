"""POP3 (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 AUTH) on a real
evmaild with a certificate, through Python's poplib and raw lines:
CAPA before and after STLS, plaintext auth refused before STLS, APOP not
offered, USER/PASS, AUTH PLAIN (initial response and continuation) and
AUTH LOGIN, wrong passwords (-ERR [AUTH]), STAT/LIST/UIDL/TOP/RETR equal
byte for byte to what the admin mail API serves (dot-stuffing included),
DELE+QUIT expunges (IMAP sees it gone), DELE without QUIT and RSET keep
the messages, POP3S (implicit TLS), and a draining node refusing new
sessions with -ERR [SYS/TEMP]."""

import base64
import imaplib
import os
import poplib
import smtplib
import socket
import ssl

import pytest

from conftest import (assert_ok, mail_bodies, mail_inbox, self_signed_cert, wait_until)

DOMAIN = "pop.example"
USER = f"pia@{DOMAIN}"
PASSWORD = "pop3 test pw"        # a space: RFC 1939 7 PASS takes the rest of the line
TIMEOUT = 30


def tls_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


@pytest.fixture
def node(nodes, tmp_path):
    cert, key = self_signed_cert(tmp_path / "tls", cn="127.0.0.1")
    n = nodes("pop", env={"EVMAIL_SMTP_HOSTNAME": "mx.pop.test", "EVMAIL_TLS_CERT": cert,
                          "EVMAIL_TLS_KEY": key})
    n.start(wait="ready")
    assert_ok(n.ctl("tenant", "create", "popt"))
    assert_ok(n.ctl("domain", "add", DOMAIN, "--tenant", "popt"))
    assert_ok(n.ctl("account", "add", USER, "--password-stdin", input=PASSWORD + "\n"))
    return n


def message(subject, body):
    return (f"From: Bob <bob@sender.example>\r\nTo: Pia <{USER}>\r\nSubject: {subject}\r\n"
            f"Message-ID: <{os.urandom(6).hex()}@sender.example>\r\n\r\n{body}").encode()


MESSAGES = [
    message("one", "Hello.\r\n"),
    message("dots", ".leading dot\r\n..two dots\r\n.\r\nafter a lone dot\r\nline 5\r\n"),
    message("three", "Third.\r\n"),
]


def deliver(node, msgs=MESSAGES):
    before = len(mail_inbox(node, USER)[1])
    with smtplib.SMTP("127.0.0.1", node.smtp_port, local_hostname="client.example", timeout=TIMEOUT) as s:
        for m in msgs:
            s.sendmail("bob@sender.example", [USER], m)
    wait_until(lambda: len(mail_inbox(node, USER)[1]) >= before + len(msgs), TIMEOUT,
               what="delivery to the INBOX")
    return mail_bodies(node, USER)


def pop_login(node):
    p = poplib.POP3("127.0.0.1", node.pop3_port, timeout=TIMEOUT)
    p.stls(tls_ctx())
    p.user(USER)
    p.pass_(PASSWORD)
    return p


def imap_count(node):
    m = imaplib.IMAP4("127.0.0.1", node.imap_port, timeout=TIMEOUT)
    m.starttls(tls_ctx())
    m.login(USER, PASSWORD)
    typ, data = m.select("INBOX")
    assert typ == "OK"
    m.logout()
    return int(data[0])


def multiline(lines):
    """poplib's lines (dot-stuffing removed) as the message bytes."""
    return b"".join(l + b"\r\n" for l in lines)


def test_capa_stls_and_plaintext_refused(node):
    p = poplib.POP3("127.0.0.1", node.pop3_port, timeout=TIMEOUT)
    greeting = p.getwelcome()
    assert greeting.startswith(b"+OK") and b"<" not in greeting    # no APOP timestamp
    caps = p.capa()
    assert "STLS" in caps and "USER" not in caps and "SASL" not in caps, caps
    for c in ("TOP", "UIDL", "PIPELINING", "RESP-CODES", "AUTH-RESP-CODE"):
        assert c in caps, caps
    assert caps["EXPIRE"] == ["NEVER"] and caps["IMPLEMENTATION"][0] == "evmail", caps
    with pytest.raises(poplib.error_proto, match=r"-ERR \[AUTH\]"):
        p.user(USER)
    with pytest.raises(poplib.error_proto, match=r"-ERR \[AUTH\]"):
        p._shortcmd("AUTH PLAIN " + base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode())
    with pytest.raises(poplib.error_proto, match=r"-ERR"):
        p._shortcmd(f"APOP {USER} 0123456789abcdef0123456789abcdef")
    with pytest.raises(poplib.error_proto, match=r"-ERR"):
        p.stat()                                      # not in TRANSACTION
    p.stls(tls_ctx())
    caps = p.capa()
    assert "USER" in caps and caps["SASL"] == ["PLAIN", "LOGIN"] and "STLS" not in caps, caps
    with pytest.raises(poplib.error_proto, match=r"-ERR \[AUTH\]"):
        p.user(USER) and p.pass_("wrong password")
    with pytest.raises(poplib.error_proto, match=r"-ERR \[AUTH\]"):
        p.user("nobody@" + DOMAIN) and p.pass_(PASSWORD)
    p.user(USER)
    assert p.pass_(PASSWORD).startswith(b"+OK")
    caps = p.capa()
    assert "USER" not in caps and "UIDL" in caps, caps
    assert p.quit().startswith(b"+OK")


def test_stat_list_uidl_top_retr(node):
    stored = deliver(node)
    sizes = [len(raw) for _, raw in stored]
    assert [m["size"] for m, _ in stored] == sizes
    p = pop_login(node)
    assert p.stat() == (3, sum(sizes))
    resp, lines, _ = p.list()
    assert resp.startswith(b"+OK")
    assert lines == [f"{i + 1} {s}".encode() for i, s in enumerate(sizes)]
    assert p.list(2) == f"+OK 2 {sizes[1]}".encode()
    resp, uidls, _ = p.uidl()
    ids = [l.split()[1] for l in uidls]
    assert len(set(ids)) == 3 and all(1 <= len(i) <= 70 for i in ids), uidls
    assert p.uidl(3) == b"+OK 3 " + ids[2]
    for i, (_, raw) in enumerate(stored):
        resp, lines, _ = p.retr(i + 1)
        assert resp == f"+OK {sizes[i]} octets".encode()
        assert multiline(lines) == raw
    # TOP: the header, the blank line, then n lines of the body
    head, body = stored[1][1].split(b"\r\n\r\n", 1)
    assert multiline(p.top(2, 0)[1]) == head + b"\r\n\r\n"
    assert multiline(p.top(2, 3)[1]) == head + b"\r\n\r\n" + b"".join(
        l + b"\r\n" for l in body.split(b"\r\n")[:3])
    # the dot-stuffed form on the wire
    p._putcmd("RETR 2")
    wire = b""
    while not wire.endswith(b"\r\n.\r\n"):
        wire += p.sock.recv(65536)
    assert b"\r\n..leading dot\r\n...two dots\r\n..\r\nafter a lone dot\r\n" in wire
    for bad in ("RETR 0", "RETR 4", "RETR x", "TOP 1", "LIST 9", "DELE -1"):
        with pytest.raises(poplib.error_proto, match="-ERR"):
            p._shortcmd(bad)
    assert p.noop().startswith(b"+OK")
    # a second session sees the same numbering and ids (UIDL is stable)
    q = pop_login(node)
    assert q.uidl()[1] == uidls
    q.quit()
    p.quit()


def test_dele_quit_expunges_and_rset_keeps(node):
    stored = deliver(node)
    uids = [m["uid"] for m, _ in stored]
    # DELE then RSET: nothing deleted
    p = pop_login(node)
    p.dele(1)
    with pytest.raises(poplib.error_proto, match="-ERR"):
        p.retr(1)                                    # marked as deleted
    assert p.stat()[0] == 2
    assert p.rset().startswith(b"+OK")
    assert p.stat()[0] == 3
    p.quit()
    assert [m["uid"] for m in mail_inbox(node, USER)[1]] == uids
    # DELE without QUIT: the session just ends, nothing deleted (RFC 1939 6)
    p = pop_login(node)
    p.dele(2)
    p.close()
    q = pop_login(node)
    assert q.stat()[0] == 3
    # DELE 1 and 3, QUIT: expunged once +OK came back
    q.dele(1)
    q.dele(3)
    assert q.quit().startswith(b"+OK")
    assert [m["uid"] for m in mail_inbox(node, USER)[1]] == [uids[1]]
    assert imap_count(node) == 1
    p = pop_login(node)
    resp, lines, _ = p.retr(1)
    assert multiline(lines) == stored[1][1]
    p.quit()


def test_expunged_by_another_session(node):
    deliver(node)
    p = pop_login(node)
    q = pop_login(node)
    q.dele(1)
    assert q.quit().startswith(b"+OK")
    with pytest.raises(poplib.error_proto, match="-ERR"):
        p.retr(1)                                    # gone since p logged in
    p.dele(1)
    p.dele(2)
    assert p.quit().startswith(b"+OK")               # the gone one is skipped
    assert len(mail_inbox(node, USER)[1]) == 1


class Raw:
    """POP3 lines on a TLS socket (for AUTH exchanges poplib lacks)."""

    def __init__(self, node, implicit=False):
        sock = socket.create_connection(("127.0.0.1", node.pop3s_port if implicit else node.pop3_port),
                                        timeout=TIMEOUT)
        self.f = sock.makefile("rwb")
        self.sock = sock
        if not implicit:
            assert self.line().startswith(b"+OK")
            self.send("STLS")
            assert self.line().startswith(b"+OK")
        self.sock = tls_ctx().wrap_socket(sock)
        self.f = self.sock.makefile("rwb")
        if implicit:
            assert self.line().startswith(b"+OK")

    def send(self, text):
        self.f.write(text.encode() + b"\r\n")
        self.f.flush()

    def line(self):
        return self.f.readline().rstrip(b"\r\n")

    def close(self):
        self.sock.close()


def b64(s):
    return base64.b64encode(s.encode()).decode()


def test_auth_plain_and_login(node):
    r = Raw(node)
    r.send("AUTH")
    assert [r.line() for _ in range(4)] == [b"+OK", b"PLAIN", b"LOGIN", b"."]
    r.send("AUTH PLAIN " + b64(f"\0{USER}\0wrong"))
    assert r.line().startswith(b"-ERR [AUTH]")
    r.send("AUTH PLAIN")
    assert r.line() == b"+ "
    r.send("*")
    assert r.line().startswith(b"-ERR [AUTH]")
    r.send("AUTH PLAIN")
    assert r.line() == b"+ "
    r.send(b64(f"\0{USER}\0{PASSWORD}"))
    assert r.line().startswith(b"+OK")
    r.send("STAT")
    assert r.line() == b"+OK 0 0"
    r.send("QUIT")
    assert r.line().startswith(b"+OK")
    r.close()
    r = Raw(node)
    r.send("AUTH PLAIN " + b64(f"{USER}\0{USER}\0{PASSWORD}"))
    assert r.line().startswith(b"+OK")
    r.close()
    r = Raw(node)
    r.send("AUTH LOGIN")
    assert r.line() == b"+ VXNlcm5hbWU6"
    r.send(b64(USER))
    assert r.line() == b"+ UGFzc3dvcmQ6"
    r.send(b64(PASSWORD))
    assert r.line().startswith(b"+OK")
    r.close()


def test_pop3s_implicit_tls_and_pipelining(node):
    deliver(node, MESSAGES[:2])
    r = Raw(node, implicit=True)
    # RFC 2449 6.6 PIPELINING: all in one write, answers in order
    r.f.write(f"CAPA\r\nUSER {USER}\r\nPASS {PASSWORD}\r\nSTAT\r\nUIDL 1\r\nQUIT\r\n".encode())
    r.f.flush()
    caps = []
    assert r.line().startswith(b"+OK")
    while (l := r.line()) != b".":
        caps.append(l)
    assert b"USER" in caps and b"STLS" not in caps
    assert r.line().startswith(b"+OK")
    assert r.line().startswith(b"+OK")
    assert r.line().startswith(b"+OK 2 ")
    assert r.line().startswith(b"+OK 1 ")
    assert r.line().startswith(b"+OK")
    r.close()


def test_drain_refuses_new_sessions(node):
    p = pop_login(node)
    assert_ok(node.ctl("node", "drain", node.node_id))
    q = socket.create_connection(("127.0.0.1", node.pop3_port), timeout=TIMEOUT)
    assert q.makefile("rb").readline().startswith(b"-ERR [SYS/TEMP]")
    q.close()
    # the open idle session is told the same and closed, nothing deleted
    wait_until(lambda: node.status()["node"]["sessions"] == 0, TIMEOUT, what="sessions closed")
    with pytest.raises((poplib.error_proto, OSError, EOFError)):
        p.stat()
        p.stat()
    assert_ok(node.ctl("node", "undrain", node.node_id))
