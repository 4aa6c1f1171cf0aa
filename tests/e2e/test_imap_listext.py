"""IMAP list/status/quota/append extensions on one evmaild, on the embedded
log and on Kafka (fixture backend), driven by Python's imaplib and a raw
socket (several literals in one command): LIST-EXTENDED (RFC 5258),
LIST-STATUS (RFC 5819), SPECIAL-USE and CREATE-SPECIAL-USE (RFC 6154),
STATUS=SIZE (RFC 8438), QUOTA (RFC 9208) with APPEND over quota,
MULTIAPPEND all or none (RFC 3502), CATENATE (RFC 4469), OBJECTID (RFC
8474), SAVEDATE (RFC 8514) and PREVIEW (RFC 8970)."""

import imaplib
import re
import socket
import time

import pytest

from conftest import assert_ok

DOMAIN = "ext.example"
USER = f"amy@{DOMAIN}"
PASSWORD = "ext-test-pw"


@pytest.fixture
def node(backend_nodes):
    node = backend_nodes("imapext", env={"EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "1",
                                 "EVMAIL_SMTP_HOSTNAME": "mx1.evmail.test"})
    node.start(wait="ready")
    assert_ok(node.ctl("tenant", "create", "extt"))
    assert_ok(node.ctl("domain", "add", DOMAIN, "--tenant", "extt"))
    assert_ok(node.ctl("account", "add", USER, "--quota", "65536", "--password-stdin",
                       input=PASSWORD + "\n"))
    return node


def login(node):
    m = imaplib.IMAP4("127.0.0.1", node.imap_port, timeout=30)
    assert m.login(USER, PASSWORD)[0] == "OK"
    return m


def command(m, name, *args):
    """A command imaplib has no method for: (typ, tagged data, untagged by name)."""
    m.untagged_responses.clear()
    typ, data = m._simple_command(name, *args)
    return typ, data, {k: list(v) for k, v in m.untagged_responses.items()}


class Raw:
    """A raw IMAP client: sends whole lines with LITERAL+ literals."""

    def __init__(self, node):
        self.sock = socket.create_connection(("127.0.0.1", node.imap_port), timeout=30)
        self.buf = b"\r\n"   # the greeting is read as an answer to the "* " tag
        self.tagged(None, b"* ")
        self.tagged(f"L LOGIN {USER} {PASSWORD}".encode())

    def tagged(self, line, tag=None):
        """Sends line (CRLF added) and reads through the tagged answer of tag."""
        if line is not None:
            self.sock.sendall(line + b"\r\n")
        needle = tag if tag is not None else line.split(b" ", 1)[0] + b" "
        deadline = time.monotonic() + 30
        while True:
            start = self.buf.find(b"\r\n" + needle)
            if start >= 0:
                end = self.buf.find(b"\r\n", start + 2)
                if end >= 0:
                    out, self.buf = self.buf[:end + 2], self.buf[end:]   # keep the CRLF as a line start
                    return out
            assert time.monotonic() < deadline, f"no answer for {needle!r}: {self.buf!r}"
            chunk = self.sock.recv(65536)
            assert chunk, f"closed: {self.buf!r}"
            self.buf += chunk

    def close(self):
        self.sock.close()


def literal(data):
    return b"{%d+}\r\n" % len(data) + data


def msg(subject, body="Hello from the extension test.\r\n"):
    return (f"From: Bob <bob@sender.example>\r\nTo: {USER}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject}.{time.monotonic_ns()}@sender.example>\r\n\r\n{body}").encode()


def test_capabilities(node):
    m = login(node)
    caps = set(m.capabilities)
    for c in ("LIST-EXTENDED", "LIST-STATUS", "STATUS=SIZE", "CREATE-SPECIAL-USE", "SPECIAL-USE",
              "QUOTA", "QUOTA=RES-STORAGE", "MULTIAPPEND", "CATENATE", "PREVIEW", "SAVEDATE", "OBJECTID"):
        assert c in caps, (c, caps)
    m.logout()


def test_list_extended_and_special_use(node):
    m = login(node)
    typ, data, _ = command(m, "CREATE", "Outgoing", "(USE (\\Sent))")
    assert typ == "OK" and re.search(rb"\[MAILBOXID \([0-9a-f]+\)\]", data[0]), data
    typ, data, _ = command(m, "CREATE", "Weird", "(USE (\\Nope))")
    assert typ == "NO" and b"[USEATTR]" in data[0], data
    assert m.create("Lists/Work")[0] == "OK"
    assert m.create("Lists/Home")[0] == "OK"
    assert m.subscribe("Lists/Work")[0] == "OK"
    typ, _, u = command(m, "LIST", '""', "*", "RETURN", "(SPECIAL-USE)")
    assert typ == "OK"
    assert b'(\\HasNoChildren \\Sent) "/" "Outgoing"' in u["LIST"], u
    typ, _, u = command(m, "LIST", "(SPECIAL-USE)", '""', "*")
    names = b"\n".join(u["LIST"])
    assert b'"Outgoing"' in names and b'"Trash"' in names and b'"INBOX"' not in names, u
    typ, _, u = command(m, "LIST", "(SUBSCRIBED RECURSIVEMATCH)", '""', "%")
    lists = [x for x in u["LIST"] if b'"Lists' in x]
    assert lists == [b'(\\NonExistent \\HasChildren) "/" "Lists" ("CHILDINFO" ("SUBSCRIBED"))'], u
    typ, _, u = command(m, "LIST", "(SUBSCRIBED)", '""', "Lists*")
    assert u["LIST"] == [b'(\\HasNoChildren \\Subscribed) "/" "Lists/Work"'], u
    assert m.subscribe("Gone")[0] == "OK"
    typ, _, u = command(m, "LIST", "(SUBSCRIBED)", '""', "Gone")
    assert u["LIST"] == [b'(\\NonExistent \\Subscribed) "/" "Gone"'], u
    typ, data = m.lsub('""', "Gone")
    assert data == [b'() "/" "Gone"'], data
    typ, _, u = command(m, "LIST", '""', '("INBOX" "Lists/*")', "RETURN", "(CHILDREN STATUS (MESSAGES SIZE))")
    assert typ == "OK"
    assert len(u["LIST"]) == 3, u
    assert b'"INBOX" (MESSAGES 0 SIZE 0)' in u["STATUS"], u
    assert len(u["STATUS"]) == 3, u
    with pytest.raises(imaplib.IMAP4.error, match="RECURSIVEMATCH"):
        command(m, "LIST", "(RECURSIVEMATCH)", '""', "%")
    typ, data = m.status("Outgoing", "(MESSAGES SIZE MAILBOXID)")
    assert typ == "OK" and re.search(rb"MESSAGES 0 SIZE 0 MAILBOXID \([0-9a-f]+\)", data[0]), data
    m.logout()


def test_quota_multiappend_catenate(node):
    m = login(node)
    typ, _, u = command(m, "GETQUOTAROOT", "INBOX")
    assert typ == "OK"
    assert u["QUOTAROOT"] == [b'"INBOX" ""'], u
    assert u["QUOTA"] == [b'"" (STORAGE 0 64)'], u
    typ, data, _ = command(m, "SETQUOTA", '""', "(STORAGE 1)")
    assert typ == "NO" and b"NOPERM" in data[0], data
    m.logout()

    r = Raw(node)
    one, two = msg("one"), msg("two", "Second message body.\r\n")
    out = r.tagged(b"a APPEND INBOX (\\Seen) " + literal(one) + b" " + literal(two))
    assert re.search(rb"a OK \[APPENDUID \d+ 1:2\]", out), out
    big = msg("big", "x" * 70000 + "\r\n")
    out = r.tagged(b"b APPEND INBOX " + literal(one) + b" " + literal(big))
    assert b"b NO [OVERQUOTA]" in out, out
    out = r.tagged(b"c STATUS INBOX (MESSAGES UIDNEXT)")
    assert b"(MESSAGES 2 UIDNEXT 4)" in out, out
    out = r.tagged(b'd APPEND INBOX CATENATE (TEXT ' + literal(b"Subject: joined\r\n\r\n") +
                   b' URL "/INBOX/;UID=2/;SECTION=TEXT")')
    assert b"d OK [APPENDUID" in out, out
    out = r.tagged(b'e APPEND INBOX CATENATE (URL "/INBOX;UIDVALIDITY=999999/;UID=2")')
    assert b"e NO [BADURL /INBOX;UIDVALIDITY=999999/;UID=2]" in out, out
    out = r.tagged(b"f SELECT INBOX")
    assert re.search(rb"\* OK \[MAILBOXID \([0-9a-f]+\)\]", out), out
    out = r.tagged(b"g UID FETCH 4 BODY.PEEK[]")
    assert b"Subject: joined\r\n\r\nSecond message body.\r\n)" in out, out
    out = r.tagged(b"h FETCH 1 (EMAILID THREADID SAVEDATE PREVIEW)")
    assert re.search(rb'EMAILID \([0-9a-f]+\) THREADID NIL SAVEDATE "[^"]+" '
                     rb'PREVIEW "Hello from the extension test."', out), out
    out = r.tagged(b"i SEARCH SAVEDSINCE 1-Jan-2020")
    assert b"* SEARCH 1 2 3\r\n" in out, out
    out = r.tagged(b"j SEARCH SAVEDBEFORE 1-Jan-2020")
    assert b"* SEARCH\r\n" in out, out
    r.close()
    m = login(node)
    typ, _, u = command(m, "GETQUOTA", '""')
    assert typ == "OK" and re.match(rb'"" \(STORAGE [1-9]\d* 64\)', u["QUOTA"][0]), u
    typ, data = m.append("INBOX", None, None, big)
    assert typ == "NO" and b"[OVERQUOTA]" in data[0], data
    m.logout()
