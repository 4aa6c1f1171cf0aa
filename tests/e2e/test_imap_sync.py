"""A selected session learns exactly what changed (issue #9 section 3): a
session idling on a mailbox of many messages is told one FETCH for one
STORE made by another session, one EXPUNGE for one expunge, one EXISTS
for one arrival, and nothing for a change to another mailbox; a session
that did not idle learns the same at its next command, and its UID,
FLAGS and MODSEQ of every message agree with a fresh SELECT."""

import re
import socket

import pytest

from conftest import assert_ok

DOMAIN = "sync.example"
USER = f"sam@{DOMAIN}"
PASSWORD = "sync-test-pw"
N = 300


@pytest.fixture
def node(nodes):
    node = nodes("sync", env={"EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "1"})
    node.start(wait="ready")
    assert_ok(node.ctl("tenant", "create", "synct"))
    assert_ok(node.ctl("domain", "add", DOMAIN, "--tenant", "synct"))
    assert_ok(node.ctl("account", "add", USER, "--password-stdin", input=PASSWORD + "\n"))
    return node


class Raw:
    """A line-level IMAP client."""

    def __init__(self, node):
        self.sock = socket.create_connection(("127.0.0.1", node.imap_port), timeout=30)
        self.buf = b""
        self.n = 0
        assert self.line().startswith("* OK")

    def line(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            assert data, "connection closed"
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode()

    def send(self, text):
        self.sock.sendall(text.encode())

    def cmd(self, text, payload=b""):
        self.n += 1
        tag = f"t{self.n}"
        self.sock.sendall(f"{tag} {text}\r\n".encode() + payload)
        out = []
        while True:
            line = self.line()
            out.append(line)
            if line.startswith(tag + " "):
                assert line.split(" ")[1] == "OK", out
                return out

    def until(self, pred):
        """Lines up to the first one pred accepts (bounded by the socket timeout)."""
        out = []
        while True:
            line = self.line()
            out.append(line)
            if pred(line):
                return out


def login(node):
    c = Raw(node)
    c.cmd(f"LOGIN {USER} {PASSWORD}")
    c.cmd("ENABLE IMAP4rev2 CONDSTORE")
    return c


def message(i):
    return (f"From: a@x.test\r\nTo: {USER}\r\nSubject: sync {i}\r\n"
            f"Message-ID: <sync-{i}@x.test>\r\n\r\nbody {i}\r\n").encode()


def snapshot(c, mbox):
    """{uid: (flags, modseq)} from a fresh SELECT."""
    c.cmd(f"SELECT {mbox}")
    out = c.cmd("FETCH 1:* (UID FLAGS MODSEQ)")
    got = {}
    for line in out:
        m = re.match(r"\* \d+ FETCH \(UID (\d+) FLAGS \(([^)]*)\) MODSEQ \((\d+)\)\)", line)
        if m:
            got[int(m.group(1))] = (m.group(2), int(m.group(3)))
    c.cmd("UNSELECT")
    return got


def test_idle_session_learns_exactly_the_changes(node):
    w = login(node)
    w.cmd("CREATE Other")
    for i in range(N):
        w.cmd(f"APPEND INBOX {{{len(message(i))}+}}", message(i) + b"\r\n")
    idler = login(node)
    out = idler.cmd("SELECT INBOX")
    assert f"* {N} EXISTS" in out
    idler.send("i1 IDLE\r\n")
    assert idler.line().startswith("+ ")

    # One STORE on one message: exactly one FETCH, with its new MODSEQ.
    w.cmd("SELECT INBOX")
    out = w.cmd("UID STORE 150 +FLAGS (\\Flagged $Work)")
    modseq = re.search(r"MODSEQ \((\d+)\)", " ".join(out)).group(1)
    got = idler.until(lambda l: " FETCH " in l)
    fetches = [l for l in got if " FETCH " in l]
    assert fetches == [f"* 150 FETCH (UID 150 FLAGS (\\Flagged $Work) MODSEQ ({modseq}))"], got

    # A change to another mailbox says nothing here; an arrival one EXISTS.
    w.cmd(f"APPEND Other {{{len(message(0))}+}}", message(0) + b"\r\n")
    w.cmd(f"APPEND INBOX {{{len(message(N))}+}}", message(N) + b"\r\n")
    got = idler.until(lambda l: "EXISTS" in l)
    assert got[-1] == f"* {N + 1} EXISTS", got
    assert not any(" FETCH " in l or "EXPUNGE" in l for l in got), got

    # One expunge: one EXPUNGE (IDLE may send it, RFC 9051 7.5.1).
    w.cmd("UID STORE 10 +FLAGS.SILENT (\\Deleted)")
    got = idler.until(lambda l: " FETCH " in l)
    assert got[-1].startswith("* 10 FETCH (UID 10 FLAGS (\\Deleted)"), got
    w.cmd("UID EXPUNGE 10")
    got = idler.until(lambda l: "EXPUNGE" in l)
    assert got == ["* 10 EXPUNGE"], got
    idler.send("DONE\r\n")
    out = idler.until(lambda l: l.startswith("i1 "))
    assert out[-1].startswith("i1 OK"), out
    # Nothing announced twice.
    assert not any("FETCH" in l or "EXPUNGE" in l or "EXISTS" in l for l in out), out

    # The idler's records agree with a fresh SELECT in another session.
    out = idler.cmd("FETCH 1:* (UID FLAGS MODSEQ)")
    mine = {}
    for line in out:
        m = re.match(r"\* \d+ FETCH \(UID (\d+) FLAGS \(([^)]*)\) MODSEQ \((\d+)\)\)", line)
        if m:
            mine[int(m.group(1))] = (m.group(2), int(m.group(3)))
    fresh = snapshot(login(node), "INBOX")
    assert len(fresh) == N
    assert mine == fresh


def test_session_without_idle_learns_at_next_command(node):
    w = login(node)
    for i in range(40):
        w.cmd(f"APPEND INBOX (\\Seen) {{{len(message(i))}+}}", message(i) + b"\r\n")
    r = login(node)
    r.cmd("SELECT INBOX")
    w.cmd("SELECT INBOX")
    w.cmd("UID STORE 5,7 -FLAGS.SILENT (\\Seen)")
    w.cmd("UID STORE 9 +FLAGS.SILENT ($Later)")
    w.cmd("UID STORE 11 +FLAGS.SILENT (\\Deleted)")
    w.cmd("UID EXPUNGE 11")
    out = r.cmd("NOOP")
    fetches = sorted(l for l in out if " FETCH " in l)
    assert [re.match(r"\* \d+ FETCH \(UID (\d+)", l).group(1) for l in fetches] == ["5", "7", "9"], out
    assert "* 9 FETCH" in " ".join(fetches) and "$Later" in " ".join(fetches)
    # The FLAGS announcement comes before the FETCH carrying a new keyword.
    flags_at = next(i for i, l in enumerate(out) if l.startswith("* FLAGS") and "$Later" in l)
    fetch_at = next(i for i, l in enumerate(out) if "$Later" in l and " FETCH " in l)
    assert flags_at < fetch_at, out
    assert [l for l in out if "EXPUNGE" in l] == ["* 11 EXPUNGE"], out
    out = r.cmd("NOOP")
    assert len(out) == 1, out
