"""IMAP BINARY (RFC 3516) on one evmaild, over a raw socket (imaplib has
no literal8): FETCH BINARY[section]<partial>, BINARY.PEEK and BINARY.SIZE
decode the part's Content-Transfer-Encoding; a result holding NUL comes
as literal8 (~{n}), others as a plain literal; an unknown encoding is
NO [UNKNOWN-CTE]; APPEND with literal8 data stores the octets as they
are and they read back unchanged; CAPABILITY advertises BINARY."""

import base64
import re
import socket

import pytest

from conftest import assert_ok

DOMAIN = "bin.example"
USER = f"bina@{DOMAIN}"
PASSWORD = "binary-test-pw"

PAYLOAD = bytes(range(256)) * 3          # NULs, CR, LF, 8-bit octets


@pytest.fixture
def node(backend_nodes):
    node = backend_nodes("binary", env={"EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "1",
                                       "EVMAIL_SMTP_HOSTNAME": "mx1.evmail.test"})
    node.start(wait="ready")
    assert_ok(node.ctl("tenant", "create", "bint"))
    assert_ok(node.ctl("domain", "add", DOMAIN, "--tenant", "bint"))
    assert_ok(node.ctl("account", "add", USER, "--password-stdin", input=PASSWORD + "\n"))
    return node


class Raw:
    """An IMAP client that reads literals and literal8 (~{n}) exactly.
    A response is (text, literals): text with each literal's octets
    replaced by "<LIT>"."""

    def __init__(self, node):
        self.sock = socket.create_connection(("127.0.0.1", node.imap_port), timeout=30)
        self.buf = b""
        self.n = 0
        text, _ = self.response()
        assert text.startswith(b"* OK"), text

    def _fill(self):
        data = self.sock.recv(65536)
        assert data, "connection closed"
        self.buf += data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def response(self):
        text, lits = b"", []
        while True:
            line = self._line()
            text += line
            m = re.search(rb"~?\{(\d+)\}$", line)
            if not m:
                return text, lits
            n = int(m.group(1))
            while len(self.buf) < n:
                self._fill()
            lits.append(self.buf[:n])
            self.buf = self.buf[n:]
            text += b"<LIT>"

    def _collect(self, tag):
        out = []
        while True:
            text, lits = self.response()
            out.append((text, lits))
            if text.startswith(tag.encode() + b" "):
                return out

    def cmd(self, text):
        self.n += 1
        tag = f"t{self.n}"
        self.sock.sendall(f"{tag} {text}\r\n".encode())
        return self._collect(tag)

    def ok(self, text):
        out = self.cmd(text)
        assert out[-1][0].split(b" ")[1] == b"OK", out
        return out

    def append(self, head, data, sync=True):
        """APPEND with a synchronizing (continuation) or LITERAL+ literal;
        head ends with "{" or "~{"."""
        self.n += 1
        tag = f"t{self.n}"
        if sync:
            self.sock.sendall(f"{tag} {head}{len(data)}}}\r\n".encode())
            text, _ = self.response()
            assert text.startswith(b"+"), text
            self.sock.sendall(data + b"\r\n")
        else:
            self.sock.sendall(f"{tag} {head}{len(data)}+}}\r\n".encode() + data + b"\r\n")
        return self._collect(tag)

    def close(self):
        self.sock.close()


def login(node):
    c = Raw(node)
    c.ok(f"LOGIN {USER} {PASSWORD}")
    return c


def fetch1(out):
    """The untagged FETCH response of a command's output."""
    for text, lits in out:
        if re.match(rb"\* \d+ FETCH ", text):
            return text, lits
    raise AssertionError(f"no FETCH in {out}")


def multipart():
    b64 = base64.encodebytes(PAYLOAD).replace(b"\n", b"\r\n")
    return (b"From: Bob <bob@sender.example>\r\nTo: " + USER.encode() + b"\r\n"
            b"Subject: binary parts\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=\"BB\"\r\n\r\n"
            b"--BB\r\nContent-Type: text/plain; charset=us-ascii\r\n"
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
            b"caf=C3=A9 soft=\r\nbreak\r\n"
            b"--BB\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + b64 +
            b"--BB\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\nend\r\n"
            b"--BB--\r\n")


def test_capability(node):
    c = login(node)
    try:
        out = c.ok("CAPABILITY")
        caps = out[0][0].split()
        assert b"BINARY" in caps, out
    finally:
        c.close()


def test_fetch_binary(node):
    c = login(node)
    try:
        out = c.append("APPEND INBOX () {", multipart())
        assert b"OK [APPENDUID" in out[-1][0], out
        c.ok("SELECT INBOX")
        # base64 part decoded, as literal8 (it holds NUL)
        text, lits = fetch1(c.ok("FETCH 1 (BINARY.PEEK[2])"))
        assert b"BINARY[2] ~{%d}" % len(PAYLOAD) in text, text
        assert lits == [PAYLOAD]
        text, _ = fetch1(c.ok("FETCH 1 (BINARY.SIZE[2])"))
        assert b"BINARY.SIZE[2] %d" % len(PAYLOAD) in text, text
        # partial fetches: literal8 only when the octets sent hold NUL
        text, lits = fetch1(c.ok("FETCH 1 (BINARY.PEEK[2]<0.20>)"))
        assert b"BINARY[2]<0> ~{20}" in text, text
        assert lits == [PAYLOAD[:20]]
        text, lits = fetch1(c.ok("FETCH 1 (BINARY.PEEK[2]<10.20>)"))
        assert b"BINARY[2]<10> {20}" in text, text
        assert lits == [PAYLOAD[10:30]]
        # quoted-printable decoded; no NUL: a plain literal
        text, lits = fetch1(c.ok("FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1])"))
        # (the CRLF before the boundary belongs to it, RFC 2046 5.1.1)
        want = "café softbreak".encode()
        assert b"BINARY[1] {%d}" % len(want) in text, text
        assert lits == [want]
        assert b"BINARY.SIZE[1] %d" % len(want) in text, text
        # PEEK kept \Seen off; BINARY[] sets it
        text, _ = fetch1(c.ok("FETCH 1 (FLAGS)"))
        assert b"\\Seen" not in text, text
        out = c.ok("FETCH 1 (BINARY[2])")
        assert any(b"\\Seen" in t for t, _ in out), out
        # unknown transfer encoding
        out = c.cmd("FETCH 1 (BINARY[3])")
        assert out[-1][0].startswith(b"t") and b" NO [UNKNOWN-CTE]" in out[-1][0], out
        out = c.cmd("FETCH 1 (BINARY.SIZE[3])")
        assert b" NO [UNKNOWN-CTE]" in out[-1][0], out
        # BINARY takes part numbers only
        out = c.cmd("FETCH 1 (BINARY[1.HEADER])")
        assert b" BAD " in out[-1][0], out
    finally:
        c.close()


def test_append_literal8_round_trip(node):
    c = login(node)
    msg = (b"From: Bob <bob@sender.example>\r\nTo: " + USER.encode() + b"\r\n"
           b"Subject: raw binary\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: application/octet-stream\r\n"
           b"Content-Transfer-Encoding: binary\r\n\r\n" + PAYLOAD)
    try:
        out = c.append("APPEND INBOX (\\Flagged) ~{", msg)
        m = re.search(rb"OK \[APPENDUID \d+ (\d+)\]", out[-1][0])
        assert m, out
        uid = int(m.group(1))
        # LITERAL+ form of literal8 too
        out = c.append("APPEND INBOX ~{", msg, sync=False)
        assert b"OK [APPENDUID" in out[-1][0], out
        c.ok("SELECT INBOX")
        text, lits = fetch1(c.ok(f"UID FETCH {uid} (RFC822.SIZE BINARY.PEEK[] BINARY.SIZE[])"))
        assert b"RFC822.SIZE %d" % len(msg) in text, text
        assert b"BINARY.SIZE[] %d" % len(msg) in text, text
        assert lits == [msg]
        # the body part as stored (CTE binary: nothing to decode)
        text, lits = fetch1(c.ok(f"UID FETCH {uid} (BINARY.PEEK[1] BINARY.SIZE[1])"))
        assert lits == [PAYLOAD], text
        assert b"BINARY.SIZE[1] %d" % len(PAYLOAD) in text, text
        # BODY[] returns the same octets (literal8: they hold NUL)
        text, lits = fetch1(c.ok(f"UID FETCH {uid} (BODY.PEEK[])"))
        assert b"BODY[] ~{%d}" % len(msg) in text, text
        assert lits == [msg]
        # the MIME structure parsed
        text, _ = fetch1(c.ok(f"UID FETCH {uid} (BODYSTRUCTURE ENVELOPE FLAGS)"))
        assert b'"application" "octet-stream"' in text.lower().replace(b'"APPLICATION"', b'"application"'), text
        assert b'"raw binary"' in text, text
        assert b"\\Flagged" in text, text
        # a NUL in a plain literal is still refused
        out = c.append("APPEND INBOX {", b"Subject: x\r\n\r\na\x00b\r\n")
        assert b" BAD " in out[-1][0] or b" NO " in out[-1][0], out
    finally:
        c.close()


def test_append_literal8_multipart_binary(node):
    """Binary octets inside a multipart (and a NUL in a header) do not
    break the MIME parse: the parts are found and read back exactly."""
    c = login(node)
    msg = (b"From: Bob <bob@sender.example>\r\nSubject: nul\x00here \xff\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"ZZ\"\r\n\r\n"
           b"--ZZ\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
           b"--ZZ\r\nContent-Type: application/octet-stream\r\n"
           b"Content-Transfer-Encoding: binary\r\n\r\n" + PAYLOAD + b"\r\n"
           b"--ZZ--\r\n")
    try:
        out = c.append("APPEND INBOX ~{", msg)
        m = re.search(rb"OK \[APPENDUID \d+ (\d+)\]", out[-1][0])
        assert m, out
        uid = int(m.group(1))
        c.ok("SELECT INBOX")
        text, lits = fetch1(c.ok(f"UID FETCH {uid} (BINARY.PEEK[2] BINARY.PEEK[1])"))
        assert lits == [PAYLOAD, b"hello"], text
        text, _ = fetch1(c.ok(f"UID FETCH {uid} (BODYSTRUCTURE ENVELOPE)"))
        assert b"mixed" in text.lower(), text
        text, lits = fetch1(c.ok(f"UID FETCH {uid} (BODY.PEEK[])"))
        assert lits == [msg]
        c.ok(f"UID SEARCH BODY hello")
    finally:
        c.close()
