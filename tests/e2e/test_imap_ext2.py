"""IMAP extensions on one evmaild (embedded log), over raw sockets:
UNAUTHENTICATE (RFC 8437) back to the not-authenticated state and a second
login, also under COMPRESS=DEFLATE; REPLACE and UID REPLACE (RFC 8508)
with their responses and error cases; LITERAL- before login and LITERAL+
after it (RFC 7888 4), a non-synchronizing literal over 4096 octets
before login being BAD [TOOBIG] and the end of the connection."""

import re
import socket
import time
import zlib

import pytest

from test_imap_core import PASSWORD, USER, imap_node

OTHER = USER.replace("amy@", "bob@")


@pytest.fixture
def node(nodes):
    n = imap_node(nodes)
    from conftest import assert_ok
    assert_ok(n.ctl("account", "add", OTHER, "--password-stdin", input=PASSWORD + "\n"))
    return n


class Raw:
    """A raw IMAP client reading through tagged answers; optional DEFLATE."""

    def __init__(self, node):
        self.sock = socket.create_connection(("127.0.0.1", node.imap_port), timeout=30)
        self.buf = b"\r\n"   # every line is found after a CRLF
        self.zin = self.zout = None
        self.greeting = self.until(b"* OK")

    def send(self, data):
        if self.zout is not None:
            data = self.zout.compress(data) + self.zout.flush(zlib.Z_SYNC_FLUSH)
        self.sock.sendall(data)

    def recv(self):
        chunk = self.sock.recv(65536)
        if self.zin is not None and chunk:
            chunk = self.zin.decompress(chunk)
        return chunk

    def until(self, needle):
        """Reads through the line starting with needle; returns everything
        before it and that line."""
        deadline = time.monotonic() + 30
        while True:
            start = self.buf.find(b"\r\n" + needle)
            if start >= 0:
                end = self.buf.find(b"\r\n", start + 2)
                if end >= 0:
                    out, self.buf = self.buf[:end + 2], self.buf[end:]
                    return out
            assert time.monotonic() < deadline, f"no {needle!r}: {self.buf!r}"
            chunk = self.recv()
            assert chunk, f"closed: {self.buf!r}"
            self.buf += chunk

    def cmd(self, line):
        """Sends line (CRLF added), returns the output through its tagged answer."""
        self.send(line + b"\r\n")
        return self.until(line.split(b" ", 1)[0] + b" ")

    def eof(self):
        """True once the server closed the connection (bounded)."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if not self.sock.recv(65536):
                    return True
            except ConnectionResetError:
                return True
        return False

    def close(self):
        self.sock.close()


def tagged(out, tag):
    return [ln for ln in out.split(b"\r\n") if ln.startswith(tag + b" ")][-1]


def lit(data):
    return b"{%d+}\r\n" % len(data) + data


def msg(subject):
    return (f"From: Bob <bob@sender.example>\r\nTo: {USER}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject}.{time.monotonic_ns()}@sender.example>\r\n\r\nbody\r\n").encode()


def login(r, user=USER):
    out = r.cmd(f"L LOGIN {user} {PASSWORD}".encode())
    assert tagged(out, b"L").startswith(b"L OK"), out
    return out


def test_unauthenticate(node):
    r = Raw(node)
    assert b"UNAUTHENTICATE" in r.greeting and b"LITERAL-" in r.greeting
    assert b"LITERAL+" not in r.greeting
    assert tagged(r.cmd(b"a UNAUTHENTICATE"), b"a").startswith(b"a BAD")
    out = login(r)
    assert b"LITERAL+" in out and b"AUTH=PLAIN" not in out, out
    assert b"* ENABLED UTF8=ACCEPT" in r.cmd(b"b ENABLE UTF8=ACCEPT")
    assert tagged(r.cmd(b"c SELECT INBOX"), b"c").startswith(b"c OK")
    out = tagged(r.cmd(b"d UNAUTHENTICATE"), b"d")
    assert out.startswith(b"d OK [CAPABILITY ") and b"AUTH=PLAIN" in out and b"LITERAL-" in out, out
    assert tagged(r.cmd(b"e FETCH 1 FLAGS"), b"e").startswith(b"e BAD")
    assert tagged(r.cmd(b"f LIST \"\" *"), b"f").startswith(b"f BAD")
    # another user on the same connection, with ENABLE starting over
    login(r, OTHER)
    assert b"* ENABLED UTF8=ACCEPT" in r.cmd(b"g ENABLE UTF8=ACCEPT")
    out = r.cmd(b"h APPEND INBOX " + lit(msg("for-bob")))
    assert tagged(out, b"h").startswith(b"h OK [APPENDUID"), out
    out = r.cmd(b"i STATUS INBOX (MESSAGES)")
    assert b"(MESSAGES 1)" in out, out
    assert tagged(r.cmd(b"z LOGOUT"), b"z").startswith(b"z OK")
    r.close()


def test_unauthenticate_keeps_compress(node):
    """RFC 8437: the COMPRESS layer stays; the next login goes through it."""
    r = Raw(node)
    login(r)
    r.send(b"c COMPRESS DEFLATE\r\n")
    assert tagged(r.until(b"c "), b"c").startswith(b"c OK")
    r.zin = zlib.decompressobj(-15)
    r.zout = zlib.compressobj(6, zlib.DEFLATED, -15)
    out = tagged(r.cmd(b"d UNAUTHENTICATE"), b"d")
    assert out.startswith(b"d OK") and b"AUTH=PLAIN" in out, out
    assert tagged(r.cmd(b"e COMPRESS DEFLATE"), b"e").startswith(b"e BAD")   # not authenticated
    login(r, OTHER)
    assert tagged(r.cmd(b"f COMPRESS DEFLATE"), b"f").startswith(b"f NO [COMPRESSIONACTIVE]")
    assert tagged(r.cmd(b"g SELECT INBOX"), b"g").startswith(b"g OK")
    r.close()


def test_replace(node):
    r = Raw(node)
    assert b"REPLACE" in login(r)
    assert tagged(r.cmd(b"a CREATE Work"), b"a").startswith(b"a OK")
    for t, s in ((b"b", "one"), (b"c", "two")):
        assert b"OK [APPENDUID" in r.cmd(t + b" APPEND Work " + lit(msg(s)))
    assert tagged(r.cmd(b"d SELECT Work"), b"d").startswith(b"d OK [READ-WRITE]")
    out = r.cmd(b"e REPLACE 1 Work (\\Seen) " + lit(msg("one-v2")))
    m = re.search(rb"\* OK \[APPENDUID (\d+) 3\][^\r]*\r\n(.*)e OK", out, re.S)
    assert m, out
    assert re.search(rb"\* 1 EXPUNGE", m.group(2)), out   # after the APPENDUID
    out = r.cmd(b"f UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert b"UID 2 " in out and b"UID 3 " in out and b"UID 1 " not in out, out
    assert b"one-v2" in out and b"\\Seen" in out
    # errors: nothing changes
    assert tagged(r.cmd(b"g UID REPLACE 3 Nowhere " + lit(msg("x"))), b"g").startswith(b"g NO [TRYCREATE]")
    assert tagged(r.cmd(b"h REPLACE 7 Work " + lit(msg("x"))), b"h").startswith(b"h BAD")
    assert tagged(r.cmd(b"i UID REPLACE 77 Work " + lit(msg("x"))), b"i").startswith(b"i NO")
    assert b"(MESSAGES 2 UIDNEXT 4)" in r.cmd(b"j STATUS Work (MESSAGES UIDNEXT)")
    # QRESYNC: the old message is reported as VANISHED
    assert tagged(r.cmd(b"k ENABLE QRESYNC"), b"k").startswith(b"k OK")
    assert tagged(r.cmd(b"l CREATE Out"), b"l").startswith(b"l OK")
    out = r.cmd(b"m UID REPLACE 3 Out " + lit(msg("sent")))
    assert re.search(rb"\* OK \[APPENDUID \d+ 1\].*\* VANISHED 3\r\n.*m OK", out, re.S), out
    assert b"(MESSAGES 1)" in r.cmd(b"n STATUS Out (MESSAGES)")
    assert tagged(r.cmd(b"o EXAMINE Work"), b"o").startswith(b"o OK [READ-ONLY]")
    assert tagged(r.cmd(b"p REPLACE 1 Work " + lit(msg("x"))), b"p").startswith(b"p NO [READ-ONLY]")
    r.close()


def test_literal_minus_before_login(node):
    r = Raw(node)
    # 4096 octets: fine without a continuation
    out = r.cmd(b"a LOGIN " + lit(b"x" * 4096) + b" pw")
    assert tagged(out, b"a").startswith(b"a NO [AUTHENTICATIONFAILED]"), out
    # 4097: BAD [TOOBIG], then BYE and the connection ends (RFC 7888 4)
    r.send(b"b LOGIN " + lit(b"x" * 4097) + b" pw\r\n")
    out = r.until(b"b ")
    assert tagged(out, b"b").startswith(b"b BAD [TOOBIG]"), out
    assert b"* BYE" in r.until(b"* BYE")
    assert r.eof()
    r.close()
    # a synchronizing literal of the same size still gets its "+"
    r = Raw(node)
    r.send(b"c LOGIN {4097}\r\n")
    assert r.until(b"+ ").strip().startswith(b"+")
    r.send(b"y" * 4097 + b" pw\r\n")
    assert tagged(r.until(b"c "), b"c").startswith(b"c NO [AUTHENTICATIONFAILED]")
    # after login: LITERAL+, far above 4096
    login(r)
    out = r.cmd(b"d APPEND INBOX " + lit(msg("big") + b"z" * 20000 + b"\r\n"))
    assert tagged(out, b"d").startswith(b"d OK [APPENDUID"), out
    r.close()


def test_replace_catenate(node):
    """RFC 8508 4.2: a server with REPLACE and CATENATE takes CATENATE's
    append-data in REPLACE; a part may be the message being replaced."""
    r = Raw(node)
    out = login(r)
    assert b"CATENATE" in out and b"REPLACE" in out, out
    assert tagged(r.cmd(b"a CREATE Drafts2"), b"a").startswith(b"a OK")
    assert b"OK [APPENDUID" in r.cmd(b"b APPEND Drafts2 " + lit(msg("draft-1")))
    assert tagged(r.cmd(b"c SELECT Drafts2"), b"c").startswith(b"c OK [READ-WRITE]")
    # the new draft = the old one's header + a new text
    out = r.cmd(b'd UID REPLACE 1 Drafts2 (\\Draft) CATENATE (URL "/Drafts2/;UID=1/;SECTION=HEADER" TEXT '
                + lit(b"second version\r\n") + b")")
    assert re.search(rb"\* OK \[APPENDUID \d+ 2\].*\* 1 EXPUNGE\r\n.*d OK", out, re.S), out
    out = r.cmd(b"e UID FETCH 2 (FLAGS BODY.PEEK[])")
    assert b"draft-1" in out and b"second version" in out and b"\\Draft" in out, out
    assert b"(MESSAGES 1)" in r.cmd(b"f STATUS Drafts2 (MESSAGES)")
    # a URL that names nothing: NO [BADURL], the old message stays
    out = tagged(r.cmd(b'g UID REPLACE 2 Drafts2 CATENATE (URL "/Drafts2/;UID=99")'), b"g")
    assert out.startswith(b"g NO [BADURL"), out
    assert b"(MESSAGES 1 UIDNEXT 3)" in r.cmd(b"h STATUS Drafts2 (MESSAGES UIDNEXT)")
    # CATENATE without its list is BAD, the session stays usable
    assert tagged(r.cmd(b"i REPLACE 1 Drafts2 CATENATE"), b"i").startswith(b"i BAD")
    assert tagged(r.cmd(b"j NOOP"), b"j").startswith(b"j OK")
    r.close()


def test_fetch_of_message_expunged_elsewhere(node):
    """RFC 2180 4.1, RFC 5530: a message another session expunged, not yet
    announced here, is left out of FETCH; the others are still answered,
    and the tagged OK says [EXPUNGEISSUED]."""
    a, b = Raw(node), Raw(node)
    login(a)
    login(b)
    assert tagged(a.cmd(b"a1 CREATE Gone"), b"a1").startswith(b"a1 OK")
    for i in range(3):
        assert b"OK [APPENDUID" in a.cmd(b"a2 APPEND Gone " + lit(msg(f"g{i}")))
    assert tagged(a.cmd(b"a3 SELECT Gone"), b"a3").startswith(b"a3 OK")
    assert tagged(b.cmd(b"b1 SELECT Gone"), b"b1").startswith(b"b1 OK")
    assert tagged(b.cmd(b"b2 UID STORE 2 +FLAGS.SILENT (\\Deleted)"), b"b2").startswith(b"b2 OK")
    assert b"* 2 EXPUNGE" in b.cmd(b"b3 EXPUNGE")
    out = a.cmd(b"a4 UID FETCH 1:3 (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert b"Subject: g0" in out and b"Subject: g2" in out and b"Subject: g1" not in out, out
    assert tagged(out, b"a4").startswith(b"a4 OK [EXPUNGEISSUED]"), out
    out += a.cmd(b"a5 NOOP")     # UID FETCH may announce it already (RFC 9051 7.5.1)
    assert out.count(b"* 2 EXPUNGE") == 1, out
    a.close()
    b.close()
