"""IMAP4rev2/rev1 core on one evmaild, on the embedded log and on Kafka
(fixture backend), driven by Python's imaplib (and a raw socket where
imaplib cannot: IDLE, literals over the limit): mail delivered over SMTP is
read back through IMAP byte for byte; APPEND, STORE, SEARCH, COPY/MOVE with
COPYUID, EXPUNGE, mailbox management, STATUS, IDLE pushed by a delivery,
STARTTLS, and the error paths (BAD, NO [NONEXISTENT], NO
[AUTHENTICATIONFAILED], TOOBIG)."""

import imaplib
import json
import re
import smtplib
import socket
import ssl
import time

import pytest

from conftest import assert_ok, mail_inbox, mail_raw, self_signed_cert, wait_until

DOMAIN = "imap.example"
USER = f"amy@{DOMAIN}"
PASSWORD = "imap-test-pw"


def imap_node(nodes, name="imap", tls_dir=None, plaintext=True, **env):
    extra = {"EVMAIL_SMTP_HOSTNAME": "mx1.evmail.test"}
    if plaintext:
        extra["EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH"] = "1"
    if tls_dir is not None:
        cert, key = self_signed_cert(tls_dir)
        extra.update(EVMAIL_TLS_CERT=cert, EVMAIL_TLS_KEY=key)
    extra.update(env)
    node = nodes(name, env=extra)
    node.start(wait="ready")
    assert_ok(node.ctl("tenant", "create", "imapt"))
    assert_ok(node.ctl("domain", "add", DOMAIN, "--tenant", "imapt"))
    assert_ok(node.ctl("account", "add", USER, "--password-stdin", input=PASSWORD + "\n"))
    return node


@pytest.fixture
def node(backend_nodes):
    return imap_node(backend_nodes)


def connect(node):
    return imaplib.IMAP4("127.0.0.1", node.imap_port, timeout=30)


def login(node):
    m = connect(node)
    typ, _ = m.login(USER, PASSWORD)
    assert typ == "OK"
    return m


def message(subject, body="Hello.\r\n", extra=""):
    return (f"From: Bob Sender <bob@sender.example>\r\nTo: Amy <{USER}>\r\n"
            f"Subject: {subject}\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\n"
            f"Message-ID: <{subject.replace(' ', '-')}.{time.monotonic_ns()}@sender.example>\r\n"
            f"{extra}\r\n{body}").encode()


def deliver(node, *msgs):
    before = len(mail_inbox(node, USER)[1])
    with smtplib.SMTP("127.0.0.1", node.smtp_port, local_hostname="client.example", timeout=60) as s:
        for m in msgs:
            s.sendmail("bob@sender.example", [USER], m)
    wait_until(lambda: len(mail_inbox(node, USER)[1]) >= before + len(msgs), 30,
               what="delivery to the INBOX")


def bad(m, *args):
    """Runs a command that must fail with BAD (imaplib raises on BAD)."""
    with pytest.raises(imaplib.IMAP4.error) as e:
        m._simple_command(*args)
    return str(e.value)


def untagged(m, name):
    return m.untagged_responses.get(name, [])


def test_login_list_select_fetch(node):
    msg = message("First message", body="Line one.\r\nLine two.\r\n")
    deliver(node, msg)
    mid, msgs = mail_inbox(node, USER)
    stored = mail_raw(node, USER, mid, msgs[0]["uid"])

    m = login(node)
    typ, caps = m.capability()
    assert typ == "OK"
    for c in ("IMAP4rev2", "IMAP4rev1", "IDLE", "UIDPLUS", "MOVE", "SPECIAL-USE", "APPENDLIMIT="):
        assert c.encode() in caps[0], caps
    typ, boxes = m.list()
    assert typ == "OK"
    names = [b.decode() for b in boxes]
    assert any(n.endswith('"INBOX"') for n in names), names
    assert any("\\Sent" in n and n.endswith('"Sent"') for n in names), names
    assert any("\\Trash" in n for n in names), names

    typ, data = m.select("INBOX")
    assert typ == "OK" and data == [b"1"], data
    assert untagged(m, "UIDVALIDITY") and untagged(m, "UIDNEXT") == [b"2"]

    typ, data = m.fetch("1", "(UID FLAGS RFC822.SIZE ENVELOPE BODYSTRUCTURE)")
    assert typ == "OK"
    line = data[0] if isinstance(data[0], bytes) else data[0][0]
    # the first rev1 SELECT after the delivery: \Recent here (RFC 3501 2.3.2)
    assert b"UID 1" in line and b"FLAGS (\\Recent)" in line, data
    assert f"RFC822.SIZE {len(stored)}".encode() in line, data
    assert b'"First message"' in line, data
    assert b'(("Bob Sender" NIL "bob" "sender.example"))' in line, data
    assert b'BODYSTRUCTURE ("text" "plain"' in line, data

    typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (Subject)])")
    assert typ == "OK" and data[0][1] == b"Subject: First message\r\n\r\n", data
    typ, data = m.fetch("1", "(FLAGS)")
    assert b"\\Seen" not in data[0], data

    typ, data = m.fetch("1", "(BODY[])")
    assert typ == "OK"
    assert data[0][1] == stored, "BODY[] differs from the stored message"
    assert b"\\Seen" in b"".join(x if isinstance(x, bytes) else x[0] for x in data), data
    typ, data = m.fetch("1", "(BODY.PEEK[TEXT]<5.3>)")
    assert data[0][1] == b"one", data
    typ, data = m.uid("FETCH", "1", "(BINARY.PEEK[1] BINARY.SIZE[1])")
    assert typ == "OK" and data[0][1] == b"Line one.\r\nLine two.\r\n", data
    assert b"BINARY.SIZE[1] 22" in data[1], data
    m.logout()


def test_store_search_copy_move_expunge(node):
    deliver(node, message("alpha", body="the needle is here\r\n"), message("beta"), message("gamma"))
    m = login(node)
    typ, data = m.select("INBOX")
    assert data == [b"3"]
    typ, data = m.store("1", "+FLAGS", "(\\Flagged $Work)")
    assert typ == "OK" and b"\\Flagged" in data[0] and b"$Work" in data[0], data
    typ, data = m.search(None, "FLAGGED")
    assert data == [b"1"], data
    typ, data = m.search(None, "UNFLAGGED")
    assert data == [b"2 3"], data
    typ, data = m.search(None, "SUBJECT", "BETA")
    assert data == [b"2"], data
    typ, data = m.search(None, "BODY", "needle")
    assert data == [b"1"], data
    typ, data = m.search(None, "OR", "SUBJECT", "alpha", "SUBJECT", "gamma")
    assert data == [b"1 3"], data
    typ, data = m.search(None, "FROM", "bob@sender", "NOT", "KEYWORD", "$Work")
    assert data == [b"2 3"], data
    typ, data = m.search(None, "SENTON", "7-Feb-1994")
    assert data == [b"1 2 3"], data
    typ, data = m.search(None, "LARGER", "1", "SMALLER", "100000", "SINCE", "1-Jan-2020")
    assert data == [b"1 2 3"], data
    typ, data = m.uid("SEARCH", None, "ALL")
    assert data == [b"1 2 3"], data

    typ, data = m.copy("1:2", "Archive")
    assert typ == "OK" and re.match(rb"\[COPYUID \d+ 1:2 1:2\]", data[0]), data
    typ, data = m._simple_command("MOVE", "3", "Trash")
    assert typ == "OK", data
    assert any(b"COPYUID" in x for x in untagged(m, "OK")), m.untagged_responses
    assert m.untagged_responses.pop("EXPUNGE") == [b"3"], m.untagged_responses
    m.store("2", "+FLAGS", "(\\Deleted)")
    typ, data = m.expunge()
    assert typ == "OK" and data == [b"2"], data
    typ, data = m.search(None, "ALL")
    assert data == [b"1"], data
    typ, data = m.status("Archive", "(MESSAGES UIDNEXT UNSEEN)")
    assert typ == "OK" and b"MESSAGES 2" in data[0] and b"UIDNEXT 3" in data[0], data
    typ, data = m.status("Trash", "(MESSAGES)")
    assert b"MESSAGES 1" in data[0], data
    m.close()
    m.logout()


def test_append_roundtrip(node):
    m = login(node)
    raw = message("appended", body="8bit: caf\xc3\xa9 \xe2\x82\xac\r\n".encode("latin-1").decode("utf-8"),
                  extra="Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n")
    typ, data = m.append("Drafts", "(\\Draft \\Seen $Draft)", imaplib.Time2Internaldate(1700000000), raw)
    assert typ == "OK", data
    mo = re.search(rb"\[APPENDUID (\d+) (\d+)\]", data[0])
    assert mo, data
    uid = mo.group(2).decode()
    typ, _ = m.select("Drafts")
    assert typ == "OK"
    assert untagged(m, "UIDVALIDITY") == [mo.group(1)]
    typ, data = m.uid("FETCH", uid, "(FLAGS INTERNALDATE BODY.PEEK[])")
    assert typ == "OK"
    assert data[0][1] == raw, "APPENDed message differs"
    head = data[0][0]
    assert b"\\Draft" in head and b"\\Seen" in head and b"$Draft" in head, head
    assert b'INTERNALDATE "14-Nov-2023 22:13:20 +0000"' in head, head
    typ, data = m.append("NoSuchBox", None, None, raw)
    assert typ == "NO" and b"TRYCREATE" in data[0], data
    m.logout()


def test_mailbox_management(node):
    m = login(node)
    assert m.create("Work/Projects")[0] == "OK"
    typ, data = m.create("Work/Projects")
    assert typ == "NO" and b"ALREADYEXISTS" in data[0], data
    typ, data = m.list('""', "Work*")
    joined = b"\n".join(data)
    assert b'(\\Noselect \\HasChildren) "/" "Work"' in joined, data
    assert b'(\\HasNoChildren) "/" "Work/Projects"' in joined, data
    assert m.rename("Work/Projects", "Done")[0] == "OK"
    typ, data = m.status("Done", "(MESSAGES UIDNEXT)")
    assert typ == "OK" and b"MESSAGES 0" in data[0], data
    assert m.subscribe("Done")[0] == "OK"
    typ, data = m.lsub('""', "*")
    assert any(b'"Done"' in d for d in data), data
    assert m.delete("Done")[0] == "OK"
    typ, data = m.select("Done")
    assert typ == "NO" and b"NONEXISTENT" in data[0], data
    typ, data = m.delete("Done")
    assert typ == "NO" and b"NONEXISTENT" in data[0], data
    typ, data = m.list('""', "inbox")
    assert data[0].endswith(b'"INBOX"'), data
    m.logout()


class Raw:
    """A raw IMAP client (for IDLE and literal limits)."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def until(self, needle, timeout=30):
        needle = needle if isinstance(needle, bytes) else needle.encode()
        deadline = time.monotonic() + timeout
        while needle not in self.buf:
            self.sock.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise AssertionError(f"timed out waiting for {needle!r}; got {self.buf!r}")
            if not chunk:
                raise AssertionError(f"closed while waiting for {needle!r}; got {self.buf!r}")
            self.buf += chunk
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {needle!r}; got {self.buf!r}")
        i = self.buf.index(needle) + len(needle)
        j = self.buf.find(b"\r\n", i)
        while j < 0:
            self.buf += self.sock.recv(65536)
            j = self.buf.find(b"\r\n", i)
        out, self.buf = self.buf[:j + 2], self.buf[j + 2:]
        return out

    def close(self):
        self.sock.close()


def test_idle_receives_exists(node):
    deliver(node, message("before idle"))
    r = Raw(node.imap_port)
    r.until("* OK")
    r.send(f"a LOGIN {USER} {PASSWORD}\r\n")
    r.until("a OK")
    r.send("b SELECT INBOX\r\n")
    assert b"* 1 EXISTS" in r.until("b OK")
    r.send("c IDLE\r\n")
    r.until("+ ")
    deliver(node, message("during idle"))
    assert b"* 2 EXISTS" in r.until("EXISTS")
    r.send("DONE\r\n")
    r.until("c OK")
    r.send("d FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n")
    assert b"during idle" in r.until("d OK")
    r.close()


def test_error_paths(backend_nodes):
    node = imap_node(backend_nodes, EVMAIL_LIMITS_IMAP_LITERAL="2048")
    m = connect(node)
    with pytest.raises(imaplib.IMAP4.error) as e:
        m.login(USER, "wrong password")
    assert "AUTHENTICATIONFAILED" in str(e.value)
    m.login(USER, PASSWORD)
    m.select("INBOX")
    assert "BAD" in bad(m, "FETCH", "1:x", "(FLAGS)")
    assert "BAD" in bad(m, "FETCH", "5", "(FLAGS)")
    assert "BAD" in bad(m, "FETCH", "1", "(NOSUCHITEM)")
    imaplib.Commands.setdefault("FROBNICATE", ("AUTH", "SELECTED"))
    assert "BAD" in bad(m, "FROBNICATE")
    typ, data = m.select("Nope")
    assert typ == "NO" and b"NONEXISTENT" in data[0], data
    typ, data = m.append("INBOX", None, None, b"Subject: big\r\n\r\n" + b"x" * 5000)
    assert typ == "NO" and b"TOOBIG" in data[0], data
    m.logout()

    r = Raw(node.imap_port)
    r.until("* OK")
    r.send("a LOGIN {100000}\r\n")
    assert b"a NO [TOOBIG]" in r.until("a ")
    r.send("b NOOP\r\n")
    assert b"b OK" in r.until("b ")
    for i in range(10):
        r.send(f"x{i} (((\r\n")
    r.until("* BYE")
    r.close()


def test_starttls(backend_nodes, tmp_path):
    node = imap_node(backend_nodes, tls_dir=tmp_path / "tls", plaintext=False)
    m = connect(node)
    caps = m.capabilities
    assert "STARTTLS" in caps and "LOGINDISABLED" in caps and "AUTH=PLAIN" not in caps, caps
    typ, data = m._simple_command("LOGIN", USER, PASSWORD)
    assert typ == "NO" and b"PRIVACYREQUIRED" in data[0], data
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    m.starttls(ctx)
    assert "AUTH=PLAIN" in m.capabilities, m.capabilities
    m.login(USER, PASSWORD)
    assert m.select("INBOX")[0] == "OK"
    m.logout()


def test_expunge_in_pieces(nodes):
    """An EXPUNGE of more than IMAP_EXPUNGE_PIECE (1000) messages is logged
    as one message.expunge per piece, each submitted once the one before is
    applied (so no single event's apply outlasts the command timeout), and
    the client sees one EXPUNGE response per message and one tagged OK; so
    does CLOSE."""
    node = imap_node(nodes, "pieces")
    m = login(node)
    for i in range(50):
        typ, _ = m.append("INBOX", None, None, message(f"piece {i}"))
        assert typ == "OK"
    m.select("INBOX")
    for _ in range(5):   # 50 -> 1,600 by copies of the whole mailbox
        typ, data = m.copy("1:*", "INBOX")
        assert typ == "OK", data
    typ, data = m.select("INBOX")
    assert data == [b"1600"], data
    typ, _ = m.uid("STORE", "1:1450", "+FLAGS.SILENT", "(\\Deleted)")
    assert typ == "OK"
    typ, data = m.expunge()
    assert typ == "OK", data
    # RFC 9051 7.4.1: each EXPUNGE names the sequence number at that
    # moment; highest first, every one of 1..1450 once
    assert [int(x) for x in data] == list(range(1450, 0, -1)), data[:5]
    typ, data = m.search(None, "ALL")
    assert len(data[0].split()) == 150, data
    typ, data = m.uid("SEARCH", "ALL")
    assert data[0].split()[0] == b"1451", data
    # CLOSE: the same pieces, silently
    assert m.create("Old")[0] == "OK"
    typ, data = m.copy("1:*", "Old")
    assert typ == "OK", data
    assert m.select("Old")[0] == "OK"
    for _ in range(3):   # 150 -> 1,200
        typ, data = m.copy("1:*", "Old")
        assert typ == "OK", data
    typ, _ = m.store("1:*", "+FLAGS.SILENT", "(\\Deleted)")
    assert typ == "OK"
    typ, data = m.close()
    assert typ == "OK", data
    typ, data = m.status("Old", "(MESSAGES)")
    assert b"MESSAGES 0" in data[0], data
    m.logout()
    res = assert_ok(node.ctl("account", "history", USER, "--json"))
    events = [json.loads(line) for line in res.out.splitlines() if line.strip()]
    sizes = [e for e in events if e.get("type") == "message.expunge"]
    # 1,450 in INBOX (1,000 + 450) and 1,200 in Old (1,000 + 200)
    assert len(sizes) == 4, [e.get("type") for e in events][-12:]
