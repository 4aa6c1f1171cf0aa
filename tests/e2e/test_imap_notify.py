"""IMAP NOTIFY (RFC 5465) on one evmaild (embedded log), two raw sessions:
the first asks NOTIFY SET STATUS (personal (MessageNew MessageExpunge
FlagChange MailboxName)) and gets STATUS for every mailbox at once; the
second appends to a mailbox the first has not selected, stores a flag,
creates, renames and deletes a mailbox; the first, idle, gets the STATUS
and LIST responses it asked for and nothing for subscriptions, which it did
not ask for; NOTIFY NONE stops them; bad forms are BAD, an unsupported
event NO [BADEVENT], and the session stays usable."""

import re
import socket
import time

from conftest import assert_ok

DOMAIN = "notify.example"
USER = f"nia@{DOMAIN}"
PASSWORD = "notify-test-pw"
MSG = b"From: a@b.example\r\nSubject: n\r\n\r\nbody\r\n"


class Raw:
    """A raw IMAP client: whole lines, reads through a tag or a pattern."""

    def __init__(self, node):
        self.sock = socket.create_connection(("127.0.0.1", node.imap_port), timeout=30)
        self.buf = b""
        self.n = 0
        self.line()
        assert b" OK " in self.cmd(f"LOGIN {USER} {PASSWORD}".encode())

    def line(self):
        deadline = time.monotonic() + 30
        while b"\r\n" not in self.buf:
            assert time.monotonic() < deadline, f"no line: {self.buf!r}"
            chunk = self.sock.recv(65536)
            assert chunk, f"closed: {self.buf!r}"
            self.buf += chunk
        out, self.buf = self.buf.split(b"\r\n", 1)
        return out

    def wait_for(self, pattern):
        """Lines up to the first matching pattern (a regex), all returned."""
        seen = []
        while True:
            ln = self.line()
            seen.append(ln)
            if re.search(pattern, ln):
                return seen

    def cmd(self, line):
        self.n += 1
        tag = b"t%d" % self.n
        self.sock.sendall(tag + b" " + line + b"\r\n")
        return b"\r\n".join(self.wait_for(rb"^" + tag + rb" ")) + b"\r\n"

    def close(self):
        self.sock.close()


def tagged(out):
    return out.rstrip(b"\r\n").rsplit(b"\r\n", 1)[-1].split(b" ", 2)[1]


def append(c, box):
    out = c.cmd(b"APPEND " + box + b" {%d+}\r\n" % len(MSG) + MSG)
    assert tagged(out) == b"OK", out


def test_notify(nodes):
    node = nodes("notify", env={"EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "1"})
    node.start(wait="ready")
    assert_ok(node.ctl("tenant", "create", "nott"))
    assert_ok(node.ctl("domain", "add", DOMAIN, "--tenant", "nott"))
    assert_ok(node.ctl("account", "add", USER, "--password-stdin", input=PASSWORD + "\n"))
    a, b = Raw(node), Raw(node)
    try:
        assert b" NOTIFY" in a.cmd(b"CAPABILITY")
        assert tagged(b.cmd(b"CREATE Lists")) == b"OK"
        out = a.cmd(b"NOTIFY SET STATUS (personal (MessageNew MessageExpunge FlagChange MailboxName))")
        assert tagged(out) == b"OK", out
        assert re.search(rb'\* STATUS "?INBOX"? \(MESSAGES 0 ', out), out
        assert re.search(rb'\* STATUS "?Lists"? \(MESSAGES 0 UIDNEXT 1 ', out), out

        # a message arrives in a mailbox the first session has not selected
        append(b, b"Lists")
        seen = a.wait_for(rb'^\* STATUS "?Lists"? \(MESSAGES 1 UIDNEXT 2 ')
        assert not any(b"INBOX" in ln for ln in seen), seen
        # a flag changes: FlagChange gives STATUS with the new UNSEEN
        assert tagged(b.cmd(b"SELECT Lists")) == b"OK"
        assert tagged(b.cmd(b"STORE 1 +FLAGS (\\Seen)")) == b"OK"
        a.wait_for(rb'^\* STATUS "?Lists"? \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 0\)')
        # MailboxName: create, rename (OLDNAME), delete (\NonExistent)
        assert tagged(b.cmd(b"CREATE New")) == b"OK"
        a.wait_for(rb'^\* LIST \(\) "/" "?New"?$')
        assert tagged(b.cmd(b"RENAME New Newer")) == b"OK"
        a.wait_for(rb'^\* LIST \(\) "/" "?Newer"? \("OLDNAME" \("?New"?\)\)$')
        assert tagged(b.cmd(b"DELETE Newer")) == b"OK"
        a.wait_for(rb'^\* LIST \(\\NonExistent\) "/" "?Newer"?$')
        # SubscriptionChange was not asked for: nothing
        assert tagged(b.cmd(b"SUBSCRIBE Lists")) == b"OK"
        # the second session's own mailbox: no STATUS for what it did not ask
        out = a.cmd(b"NOOP")
        assert tagged(out) == b"OK"
        assert b"\\Subscribed" not in out and b"* LIST" not in out, out

        # bad forms: BAD; an unsupported event: NO [BADEVENT]
        for bad in (b"NOTIFY", b"NOTIFY BOGUS", b"NOTIFY SET (personal (MessageNew))",
                    b"NOTIFY SET (personal (FlagChange))", b"NOTIFY SET (nowhere (MailboxName))",
                    b"NOTIFY SET (personal (MessageNew (UID) MessageExpunge))",
                    b"NOTIFY SET (selected (MessageNew MessageExpunge)) (selected (MessageNew MessageExpunge))"):
            out = a.cmd(bad)
            assert tagged(out) == b"BAD", (bad, out)
        out = a.cmd(b"NOTIFY SET (personal (MessageNew MessageExpunge AnnotationChange))")
        assert tagged(out) == b"NO" and b"[BADEVENT (" in out, out
        # the earlier setting still holds after failed NOTIFYs
        append(b, b"Lists")
        a.wait_for(rb'^\* STATUS "?Lists"? \(MESSAGES 2 UIDNEXT 3 ')

        # NOTIFY NONE: no more notifications
        assert tagged(a.cmd(b"NOTIFY NONE")) == b"OK"
        append(b, b"Lists")
        assert tagged(b.cmd(b"CREATE Later")) == b"OK"
        out = a.cmd(b"NOOP")
        assert tagged(out) == b"OK"
        assert b"* STATUS" not in out and b"* LIST" not in out, out

        # SubscriptionChange when asked, for the subscribed filter too
        assert tagged(a.cmd(b"NOTIFY SET (personal (SubscriptionChange))")) == b"OK"
        assert tagged(b.cmd(b"SUBSCRIBE Later")) == b"OK"
        a.wait_for(rb'^\* LIST \(\\Subscribed\) "/" "?Later"?$')
        assert tagged(b.cmd(b"UNSUBSCRIBE Later")) == b"OK"
        a.wait_for(rb'^\* LIST \(\) "/" "?Later"?$')
        assert tagged(a.cmd(b"LOGOUT")) == b"OK"
    finally:
        a.close()
        b.close()
