"""IMAP PARTIAL (RFC 9394) on one evmaild (embedded log), over a raw
socket, with 50 messages: UID SEARCH RETURN (PARTIAL 1:10), 11:20 and
-1:-10 equal the matching slices of a plain UID SEARCH; a range beyond the
results gives NIL; UID SORT with PARTIAL pages the sort order; UID FETCH
with the PARTIAL modifier (alone and with CHANGEDSINCE) returns the
messages at those positions; SAVE with PARTIAL saves the page (3.2); bad
ranges and forms are BAD with the session still usable."""

import re
import socket
import time

from conftest import assert_ok

DOMAIN = "partial.example"
USER = f"pia@{DOMAIN}"
PASSWORD = "partial-test-pw"


class Raw:
    def __init__(self, node):
        self.sock = socket.create_connection(("127.0.0.1", node.imap_port), timeout=30)
        self.buf = b""
        self.n = 0
        self.read_until(rb"^\* OK")
        assert status(self.cmd(f"LOGIN {USER} {PASSWORD}".encode())) == b"OK"

    def read_until(self, pattern):
        deadline = time.monotonic() + 30
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                assert time.monotonic() < deadline, f"no answer: {self.buf!r}"
                chunk = self.sock.recv(65536)
                assert chunk, f"closed: {self.buf!r}"
                self.buf += chunk
            ln, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(ln)
            if re.search(pattern, ln):
                return lines

    def cmd(self, line):
        self.n += 1
        tag = b"t%d" % self.n
        self.sock.sendall(tag + b" " + line + b"\r\n")
        return self.read_until(rb"^" + tag + rb" ")

    def close(self):
        self.sock.close()


def status(lines):
    return lines[-1].split(b" ", 2)[1]


def expand(s):
    out = []
    for part in s.split(b","):
        if b":" in part:
            lo, hi = (int(x) for x in part.split(b":"))
            out.extend(range(lo, hi + 1) if lo <= hi else range(lo, hi - 1, -1))
        else:
            out.append(int(part))
    return out


def partial_of(lines):
    for ln in lines:
        m = re.search(rb"PARTIAL \((-?\d+:-?\d+) (NIL|[\d:,]+)\)", ln)
        if m:
            return m.group(1), ([] if m.group(2) == b"NIL" else expand(m.group(2)))
    raise AssertionError(lines)


def test_partial(nodes):
    node = nodes("partial", env={"EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "1"})
    node.start(wait="ready")
    assert_ok(node.ctl("tenant", "create", "part"))
    assert_ok(node.ctl("domain", "add", DOMAIN, "--tenant", "part"))
    assert_ok(node.ctl("account", "add", USER, "--password-stdin", input=PASSWORD + "\n"))
    c = Raw(node)
    try:
        caps = b" ".join(c.cmd(b"CAPABILITY"))
        assert b" PARTIAL" in caps
        for i in range(50):
            msg = b"From: a@b.example\r\nSubject: m%02d\r\n\r\nbody %d\r\n" % (49 - i, i)
            assert status(c.cmd(b"APPEND INBOX {%d+}\r\n" % len(msg) + msg)) == b"OK"
        assert status(c.cmd(b"SELECT INBOX")) == b"OK"
        # a few expunged so UIDs are not positions
        assert status(c.cmd(b"UID STORE 3,17,30 +FLAGS (\\Deleted)")) == b"OK"
        assert status(c.cmd(b"EXPUNGE")) == b"OK"
        ref = None
        for ln in c.cmd(b"UID SEARCH ALL"):
            if ln.startswith(b"* SEARCH"):
                ref = [int(x) for x in ln.split()[2:]]
        assert ref is not None and len(ref) == 47

        for rng, want in ((b"1:10", ref[0:10]), (b"11:20", ref[10:20]), (b"20:11", ref[10:20]),
                          (b"-1:-10", ref[-10:]), (b"-10:-1", ref[-10:]), (b"40:60", ref[39:]),
                          (b"48:60", []), (b"-48:-60", [])):
            lines = c.cmd(b"UID SEARCH RETURN (PARTIAL " + rng + b") ALL")
            assert status(lines) == b"OK", lines
            got_rng, got = partial_of(lines)
            assert got == want, (rng, got, want)
        # sequence numbers too, with COUNT beside
        lines = c.cmd(b"SEARCH RETURN (COUNT PARTIAL -1:-5) ALL")
        assert b"COUNT 47" in b" ".join(lines)
        assert partial_of(lines)[1] == list(range(43, 48))

        # SORT: the page is in sort order (subjects run backwards by arrival)
        lines = c.cmd(b"UID SORT RETURN (ALL) (SUBJECT) UTF-8 ALL")
        full = None
        for ln in lines:
            m = re.search(rb" ALL ([\d:,]+)", ln)
            if m:
                full = expand(m.group(1))
        assert full is not None and len(full) == 47 and full == list(reversed(ref))
        lines = c.cmd(b"UID SORT RETURN (PARTIAL 1:5) (SUBJECT) UTF-8 ALL")
        assert partial_of(lines)[1] == full[:5]
        lines = c.cmd(b"UID SORT RETURN (PARTIAL -1:-5) (SUBJECT) UTF-8 ALL")
        assert partial_of(lines)[1] == full[-5:]

        # FETCH modifier
        lines = c.cmd(b"UID FETCH 1:* (FLAGS) (PARTIAL -1:-30)")
        assert status(lines) == b"OK", lines
        uids = [int(re.search(rb"UID (\d+)", ln).group(1)) for ln in lines if b" FETCH (" in ln]
        assert uids == ref[-30:]
        lines = c.cmd(b"UID FETCH 1:* (FLAGS) (PARTIAL 1:10)")
        uids = [int(re.search(rb"UID (\d+)", ln).group(1)) for ln in lines if b" FETCH (" in ln]
        assert uids == ref[:10]
        lines = c.cmd(b"FETCH 1:* (UID) (PARTIAL 5:6)")
        uids = [int(re.search(rb"UID (\d+)", ln).group(1)) for ln in lines if b" FETCH (" in ln]
        assert uids == ref[4:6]
        # with CHANGEDSINCE: the page of the changed messages
        assert status(c.cmd(b"UID STORE %d,%d,%d +FLAGS (\\Flagged)" % (ref[1], ref[5], ref[9]))) == b"OK"
        ms = [int(re.search(rb"MODSEQ \((\d+)\)", ln).group(1))
              for ln in c.cmd(b"UID FETCH %d (MODSEQ)" % ref[1]) if b" FETCH (" in ln][0]
        lines = c.cmd(b"UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d PARTIAL -1:-2)" % (ms - 1))
        uids = [int(re.search(rb"UID (\d+)", ln).group(1)) for ln in lines if b" FETCH (" in ln]
        assert uids == [ref[5], ref[9]], lines

        # SAVE with PARTIAL saves the page (RFC 9394 3.2)
        assert status(c.cmd(b"UID SEARCH RETURN (SAVE PARTIAL 2:4) ALL")) == b"OK"
        lines = c.cmd(b"UID FETCH $ (UID)")
        uids = [int(re.search(rb"UID (\d+)", ln).group(1)) for ln in lines if b" FETCH (" in ln]
        assert uids == ref[1:4]

        # bad forms: BAD, the session goes on (fewer than IMAP_MAX_BAD per session)
        for bad in (b"UID SEARCH RETURN (PARTIAL 0:5) ALL", b"UID SEARCH RETURN (PARTIAL 1:*) ALL",
                    b"UID SEARCH RETURN (PARTIAL -1:5) ALL", b"UID SEARCH RETURN (PARTIAL 5) ALL",
                    b"UID SEARCH RETURN (PARTIAL 1:4294967296) ALL",
                    b"UID SEARCH RETURN (PARTIAL \"1:5\") ALL",
                    b"UID SEARCH RETURN (PARTIAL 1:5 ALL) ALL",
                    b"UID SEARCH RETURN (PARTIAL 1:5 PARTIAL 6:9) ALL",
                    b"UID SEARCH RETURN (PARTIAL) ALL",
                    b"UID FETCH 1:* (FLAGS) (PARTIAL)", b"UID FETCH 1:* (FLAGS) (PARTIAL 1:2 PARTIAL 3:4)",
                    b"UID FETCH 1:* (FLAGS) (PARTIAL -1:-0)"):
            if bad.endswith(b"(PARTIAL 1:5 ALL) ALL"):   # IMAP_MAX_BAD: a fresh session
                c.close()
                c = Raw(node)
                assert status(c.cmd(b"SELECT INBOX")) == b"OK"
            lines = c.cmd(bad)
            assert status(lines) == b"BAD", (bad, lines)
            assert status(c.cmd(b"NOOP")) == b"OK"
    finally:
        c.close()
