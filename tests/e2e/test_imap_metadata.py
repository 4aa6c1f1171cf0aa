"""IMAP METADATA and METADATA-SERVER (RFC 5464) on one evmaild (embedded
log), over a raw socket: SETMETADATA / GETMETADATA with DEPTH and MAXSIZE,
the METADATA response codes (MAXSIZE, TOOMANY, LONGENTRIES), NIL for
unset entries, server entries ("" mailbox; /shared/admin read-only),
another account's mailbox answered like a missing one, RENAME keeping and
DELETE dropping the entries, and the entries surviving a restart and a
rebuild with equal digests."""

import re
import socket
import time

from conftest import assert_ok

DOMAIN = "meta.example"
USER = f"mia@{DOMAIN}"
OTHER = f"ola@{DOMAIN}"
PASSWORD = "meta-test-pw"


class Raw:
    """A raw IMAP client: whole lines, LITERAL+ literals, reads through a tag."""

    def __init__(self, node, user=USER):
        self.sock = socket.create_connection(("127.0.0.1", node.imap_port), timeout=30)
        self.buf = b"\r\n"
        self.n = 0
        self.read_through(b"* ")
        assert b" OK " in self.cmd(f"LOGIN {user} {PASSWORD}".encode())

    def read_through(self, needle):
        deadline = time.monotonic() + 30
        while True:
            start = self.buf.find(b"\r\n" + needle)
            if start >= 0:
                end = self.buf.find(b"\r\n", start + 2)
                if end >= 0:
                    out, self.buf = self.buf[:end + 2], self.buf[end:]
                    return out
            assert time.monotonic() < deadline, f"no answer for {needle!r}: {self.buf!r}"
            chunk = self.sock.recv(65536)
            assert chunk, f"closed: {self.buf!r}"
            self.buf += chunk

    def cmd(self, line):
        """Sends "<tag> line" and returns everything through the tagged answer."""
        self.n += 1
        tag = b"t%d" % self.n
        self.sock.sendall(tag + b" " + line + b"\r\n")
        return self.read_through(tag + b" ")

    def close(self):
        self.sock.close()


def tagged(out):
    return out.rstrip(b"\r\n").rsplit(b"\r\n", 1)[-1]


def lit(data):
    return b"{%d+}\r\n" % len(data) + data


def setup_node(nodes, name):
    node = nodes(name, env={"EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "1"})
    node.start(wait="ready")
    assert_ok(node.ctl("tenant", "create", "metat"))
    assert_ok(node.ctl("domain", "add", DOMAIN, "--tenant", "metat"))
    for u in (USER, OTHER):
        assert_ok(node.ctl("account", "add", u, "--password-stdin", input=PASSWORD + "\n"))
    return node


def test_metadata(nodes):
    node = setup_node(nodes, "meta")
    c = Raw(node)
    caps = c.cmd(b"CAPABILITY")
    for cap in (b" METADATA", b" METADATA-SERVER"):
        assert cap in caps, caps
    assert tagged(c.cmd(b"CREATE Work")).split()[1] == b"OK"
    out = c.cmd(b'SETMETADATA Work (/private/comment "my notes" /shared/Vendor/x/y "deep")')
    assert tagged(out).split()[1] == b"OK", out
    out = c.cmd(b"GETMETADATA Work /private/comment")
    assert b'* METADATA "Work" (/private/comment "my notes")' in out, out
    # case-insensitive entry names; an unset entry is NIL
    out = c.cmd(b"GETMETADATA Work (/PRIVATE/Comment /private/none)")
    assert b'(/private/comment "my notes" /private/none NIL)' in out, out
    # DEPTH
    out = c.cmd(b"GETMETADATA (DEPTH 1) Work /shared")
    assert b"* METADATA" not in out and tagged(out).split()[1] == b"OK", out
    out = c.cmd(b"GETMETADATA (DEPTH infinity) Work /shared")
    assert b'/shared/vendor/x/y "deep"' in out, out
    # MAXSIZE: a longer value is left out and reported
    assert b" OK" in c.cmd(b"SETMETADATA Work (/private/long " + lit(b"x" * 200) + b")")
    out = c.cmd(b"GETMETADATA (MAXSIZE 100) Work (/private/long /private/comment)")
    assert b"[METADATA LONGENTRIES 200]" in tagged(out), out
    assert b"/private/long" not in out and b'"my notes"' in out, out
    out = c.cmd(b"GETMETADATA Work /private/long")
    assert b'/private/long "' + b"x" * 200 + b'"' in out, out
    # binary values (literal8 when they hold a NUL)
    assert b" OK" in c.cmd(b"SETMETADATA Work (/private/bin ~{3+}\r\na\x00b)")
    out = c.cmd(b"GETMETADATA Work /private/bin")
    assert b"/private/bin ~{3}\r\na\x00b" in out, out
    # remove with NIL
    assert b" OK" in c.cmd(b"SETMETADATA Work (/private/comment NIL)")
    assert b"/private/comment NIL" in c.cmd(b"GETMETADATA Work /private/comment")
    # MAXSIZE on SETMETADATA
    out = c.cmd(b"SETMETADATA Work (/private/huge " + lit(b"y" * 70000) + b")")
    assert b"NO [METADATA MAXSIZE 65536]" in out, out
    # TOOMANY: decided by the applier
    pairs = b" ".join(b"/private/e%d \"v\"" % i for i in range(97))
    assert b" OK" in c.cmd(b"SETMETADATA Work (" + pairs + b")"), "100 entries fit"
    out = c.cmd(b'SETMETADATA Work (/private/too "many")')
    assert b"NO [METADATA TOOMANY]" in out, out
    # syntax
    for bad in (b"SETMETADATA Work (/other/x 1)", b"SETMETADATA Work (/private/a* 1)",
                b"SETMETADATA Work (/private/x)", b"GETMETADATA Work /priv",
                b"GETMETADATA (DEPTH 2) Work /private/x", b"GETMETADATA (MAXSIZE -1) Work /private/x"):
        assert tagged(c.cmd(bad)).split()[1] == b"BAD", bad
    # missing mailbox, and another account's mailbox names nothing here
    assert b"NO [NONEXISTENT]" in c.cmd(b"GETMETADATA Nope /private/comment")
    assert b"NO [NONEXISTENT]" in c.cmd(b'SETMETADATA Nope (/private/comment "x")')
    o = Raw(node, OTHER)
    assert b" OK" in o.cmd(b"CREATE Secret")
    assert b" OK" in o.cmd(b'SETMETADATA Secret (/private/comment "theirs")')
    assert b"NO [NONEXISTENT]" in c.cmd(b"GETMETADATA Secret /private/comment")
    # server entries: /private per account, /shared/admin the administrator's
    assert b" OK" in c.cmd(b'SETMETADATA "" (/private/theme "dark")')
    out = c.cmd(b'GETMETADATA "" (/private/theme /shared/admin)')
    assert b'* METADATA "" (/private/theme "dark" /shared/admin "mailto:postmaster@meta.example")' in out, out
    assert b"/private/theme NIL" in o.cmd(b'GETMETADATA "" /private/theme')
    assert b"NO [NOPERM]" in c.cmd(b'SETMETADATA "" (/shared/comment "x")')
    o.close()
    # RENAME keeps, DELETE drops (RFC 5464 3.2)
    assert b" OK" in c.cmd(b"RENAME Work Job")
    assert b'/shared/vendor/x/y "deep"' in c.cmd(b"GETMETADATA Job /shared/vendor/x/y")
    assert b" OK" in c.cmd(b"CREATE Tmp")
    assert b" OK" in c.cmd(b'SETMETADATA Tmp (/private/comment "gone soon")')
    assert b" OK" in c.cmd(b"DELETE Tmp")
    assert b" OK" in c.cmd(b"CREATE Tmp")
    assert b"/private/comment NIL" in c.cmd(b"GETMETADATA Tmp /private/comment")
    c.close()

    # restart and rebuild: the same entries, the same digest
    digest = node.digest()
    assert node.stop() == 0
    node.start(wait="ready")
    assert node.digest() == digest
    res = assert_ok(node.ctl("rebuild", timeout=300))
    assert "rebuilt" in res.out, repr(res)
    node.wait_ready(120)
    assert node.digest() == digest, "rebuild changed the view"
    c = Raw(node)
    out = c.cmd(b'GETMETADATA Job (/shared/vendor/x/y /private/bin)')
    assert b'/shared/vendor/x/y "deep"' in out and b"~{3}\r\na\x00b" in out, out
    assert b'"dark"' in c.cmd(b'GETMETADATA "" /private/theme')
    c.close()
    assert re.match(r"^[0-9a-f]{64}$", digest)
