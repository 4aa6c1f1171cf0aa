"""CONDSTORE and QRESYNC (RFC 7162) on one evmaild, on the embedded log and
on Kafka (fixture backend), over a raw socket so the exact response grammar
is checked: ENABLE, SELECT (CONDSTORE) and (QRESYNC (...)), FETCH MODSEQ
and CHANGEDSINCE, UID FETCH (VANISHED), STORE UNCHANGEDSINCE with
[MODIFIED], SEARCH MODSEQ with its (MODSEQ n) suffix, STATUS HIGHESTMODSEQ,
VANISHED instead of EXPUNGE; and imaplib's view of the same session."""

import imaplib
import re
import socket

import pytest

from conftest import assert_ok

DOMAIN = "cond.example"
USER = f"cora@{DOMAIN}"
PASSWORD = "condstore-test-pw"


@pytest.fixture
def node(backend_nodes):
    node = backend_nodes("condstore", env={"EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "1",
                                   "EVMAIL_SMTP_HOSTNAME": "mx1.evmail.test"})
    node.start(wait="ready")
    assert_ok(node.ctl("tenant", "create", "condt"))
    assert_ok(node.ctl("domain", "add", DOMAIN, "--tenant", "condt"))
    assert_ok(node.ctl("account", "add", USER, "--password-stdin", input=PASSWORD + "\n"))
    return node


class Raw:
    """A line-level IMAP client: cmd() returns the lines up to and
    including the tagged response."""

    def __init__(self, node):
        self.sock = socket.create_connection(("127.0.0.1", node.imap_port), timeout=30)
        self.buf = b""
        self.n = 0
        greeting = self.line()
        assert greeting.startswith("* OK"), greeting

    def line(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            assert data, "connection closed"
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode()

    def cmd(self, text, payload=b""):
        self.n += 1
        tag = f"t{self.n}"
        self.sock.sendall(f"{tag} {text}\r\n".encode() + payload)
        out = []
        while True:
            line = self.line()
            out.append(line)
            if line.startswith(tag + " "):
                return out

    def ok(self, text, payload=b""):
        out = self.cmd(text, payload)
        assert out[-1].split(" ")[1] == "OK", out
        return out

    def append(self, mbox, flags, msg):
        # LITERAL+ (RFC 7888): no continuation round trip.
        out = self.cmd(f"APPEND {mbox} {flags} {{{len(msg)}+}}", msg + b"\r\n")
        assert "OK [APPENDUID" in out[-1], out

    def close(self):
        self.sock.close()


def login(node):
    c = Raw(node)
    c.ok(f"LOGIN {USER} {PASSWORD}")
    return c


def num(lines, pattern):
    for line in lines:
        m = re.search(pattern, line)
        if m:
            return int(m.group(1))
    raise AssertionError(f"{pattern!r} not in {lines}")


def msg(subject):
    return f"From: b@x.example\r\nSubject: {subject}\r\n\r\nbody {subject}\r\n".encode()


def test_condstore_grammar(node):
    c = login(node)
    caps = c.ok("CAPABILITY")[0].split()
    assert "CONDSTORE" in caps and "QRESYNC" in caps
    c.ok("CREATE Cond")
    for i in range(3):
        c.append("Cond", "()", msg(f"c{i}"))
    st = c.ok("STATUS Cond (MESSAGES HIGHESTMODSEQ)")
    h0 = num(st, r"^\* STATUS \"Cond\" \(MESSAGES 3 HIGHESTMODSEQ (\d+)\)$")
    sel = c.ok("SELECT Cond (CONDSTORE)")
    assert f"* OK [HIGHESTMODSEQ {h0}] Highest" in sel[:-1] or num(sel, r"\[HIGHESTMODSEQ (\d+)\]") == h0
    assert not any("NOMODSEQ" in line for line in sel)
    f = c.ok("FETCH 1:3 (UID MODSEQ)")
    assert all(re.fullmatch(r"\* \d FETCH \(UID \d MODSEQ \(\d+\)\)", line) for line in f[:-1]), f
    s = c.ok("STORE 1 +FLAGS (\\Flagged)")
    # c selected first (rev1): its messages are \Recent here (RFC 3501 2.3.2)
    m = re.fullmatch(r"\* 1 FETCH \(UID 1 FLAGS \(\\Recent \\Flagged\) MODSEQ \((\d+)\)\)", s[0])
    assert m, s
    m1 = int(m.group(1))
    assert m1 > h0
    out = c.cmd(f"STORE 1:3 (UNCHANGEDSINCE {h0}) +FLAGS.SILENT (\\Seen)")
    assert out[-1].startswith(f"t{c.n} OK [MODIFIED 1] "), out
    assert re.fullmatch(r"\* 2 FETCH \(UID 2 MODSEQ \(\d+\)\)", out[0]), out
    out = c.cmd(f"UID STORE 1:3 (UNCHANGEDSINCE {h0}) -FLAGS (\\Seen)")
    assert out[-1].startswith(f"t{c.n} OK [MODIFIED 1:3] "), out
    ch = c.ok(f"FETCH 1:* (FLAGS) (CHANGEDSINCE {m1})")
    assert [line.split(" ")[1] for line in ch[:-1]] == ["2", "3"], ch
    assert all(re.search(r"MODSEQ \(\d+\)\)$", line) for line in ch[:-1])
    se = c.ok(f"SEARCH MODSEQ {m1 + 1}")
    hs = num(se, r"^\* SEARCH 2 3 \(MODSEQ (\d+)\)$")
    es = c.ok(f"UID SEARCH RETURN (MIN MAX COUNT) MODSEQ {m1 + 1}")
    assert es[0] == f'* ESEARCH (TAG "t{c.n}") UID MIN 2 MAX 3 COUNT 2 MODSEQ {hs}', es
    assert c.ok("SEARCH MODSEQ 99999999999")[0] == "* SEARCH"
    assert num(c.ok("STATUS Cond (HIGHESTMODSEQ)"), r"HIGHESTMODSEQ (\d+)") == hs
    assert c.cmd("STORE 1 (UNCHANGEDSINCE -1) FLAGS ()")[-1].split(" ")[1] == "BAD"
    assert c.cmd("FETCH 1 (FLAGS) (CHANGEDSINCE 5 VANISHED)")[-1].split(" ")[1] == "BAD"
    c.close()


def test_qresync(node):
    a, b = login(node), login(node)
    assert a.ok("ENABLE QRESYNC")[0] == "* ENABLED QRESYNC"
    a.ok("CREATE Qr")
    for i in range(5):
        a.append("Qr", "()", msg(f"q{i}"))
    sel = a.ok("SELECT Qr")
    uv = num(sel, r"\[UIDVALIDITY (\d+)\]")
    h0 = num(sel, r"\[HIGHESTMODSEQ (\d+)\]")
    b.ok("SELECT Qr")
    a.ok("UID STORE 2,4 +FLAGS.SILENT (\\Deleted)")
    ex = a.ok("EXPUNGE")
    assert ex[0] == "* VANISHED 2,4", ex
    assert not any(line.endswith(" EXPUNGE") for line in ex)
    h1 = num(ex, r"OK \[HIGHESTMODSEQ (\d+)\]")
    assert h1 > h0
    nb = b.ok("NOOP")
    assert "* 4 EXPUNGE" in nb and "* 2 EXPUNGE" in nb
    b.ok("STORE 1 +FLAGS (\\Answered)")
    # A new session resynchronises from h0.
    c = login(node)
    assert c.ok("ENABLE QRESYNC")[0] == "* ENABLED QRESYNC"
    rs = c.ok(f"SELECT Qr (QRESYNC ({uv} {h0}))")
    assert "* 3 EXISTS" in rs
    assert "* VANISHED (EARLIER) 2,4" in rs, rs
    assert any(re.fullmatch(r"\* 1 FETCH \(UID 1 FLAGS \(\\Answered\) MODSEQ \(\d+\)\)", line) for line in rs), rs
    assert rs.index("* VANISHED (EARLIER) 2,4") < len(rs) - 1
    rs = c.ok(f"EXAMINE Qr (QRESYNC ({uv} {h0} 3:5 (1:3 1:3)))")
    assert "* OK [CLOSED] Previous mailbox closed" in rs
    assert "* VANISHED (EARLIER) 4" in rs and not any("FETCH" in line for line in rs), rs
    rs = c.ok(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {h0} VANISHED)")
    assert rs[0] == "* VANISHED (EARLIER) 2,4", rs
    assert re.fullmatch(r"\* 1 FETCH \(UID 1 FLAGS \(\\Answered\) MODSEQ \(\d+\)\)", rs[1]), rs
    rs = c.ok(f"SELECT Qr (QRESYNC ({uv + 1} {h0}))")
    assert not any("VANISHED" in line or "FETCH" in line for line in rs), rs
    # Without ENABLE QRESYNC the parameter and the modifier are BAD.
    assert b.cmd(f"SELECT Qr (QRESYNC ({uv} {h0}))")[-1].split(" ")[1] == "BAD"
    b.ok("SELECT Qr")
    assert b.cmd(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {h0} VANISHED)")[-1].split(" ")[1] == "BAD"
    # b expunges: a (QRESYNC) hears VANISHED.
    b.ok("STORE 3 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    assert "* VANISHED 5" in a.ok("NOOP")
    for x in (a, b, c):
        x.close()


def test_imaplib_condstore(node):
    """imaplib speaks the same commands through _simple_command/xatom."""
    m = imaplib.IMAP4("127.0.0.1", node.imap_port, timeout=30)
    m.login(USER, PASSWORD)
    assert "CONDSTORE" in m.capabilities and "QRESYNC" in m.capabilities
    m.create("Lib")
    m.append("Lib", None, None, msg("lib"))
    typ, data = m.enable("CONDSTORE")
    assert typ == "OK" and m.untagged_responses.pop("ENABLED") == [b"CONDSTORE"]
    typ, data = m.select("Lib")
    assert typ == "OK"
    assert re.fullmatch(rb"\d+", m.untagged_responses["HIGHESTMODSEQ"][0])
    typ, data = m.fetch("1", "(MODSEQ)")
    assert typ == "OK" and re.fullmatch(rb"1 \(MODSEQ \(\d+\)\)", data[0]), data
    typ, data = m._simple_command("STORE", "1", "(UNCHANGEDSINCE 1)", "+FLAGS", "(\\Seen)")
    assert typ == "OK" and b"[MODIFIED 1]" in data[0], data
    m.logout()
