"""UIDONLY (RFC 9586) against two sessions: after ENABLE UIDONLY a session
is never told a sequence number: FETCH responses are UIDFETCH (for its own
UID FETCH and STORE, and for flag changes made elsewhere), expunges come as
VANISHED, EXISTS still counts; commands by sequence number are BAD
[UIDREQUIRED] and the session stays usable; a session without UIDONLY on
the same mailbox keeps sequence numbers."""

import re

from test_imap_ext2 import OTHER, PASSWORD, USER, Raw, lit, login, msg, node, tagged  # noqa: F401


def test_uidonly(node):
    a, b = Raw(node), Raw(node)
    caps = login(a)
    assert b"UIDONLY" in caps, caps
    login(b)
    assert tagged(a.cmd(b"a1 CREATE Box"), b"a1").startswith(b"a1 OK")
    for i in range(3):
        assert b"OK [APPENDUID" in a.cmd(b"a2 APPEND Box " + lit(msg(f"m{i}")))
    assert b"* ENABLED UIDONLY" in a.cmd(b"a3 ENABLE UIDONLY")
    out = a.cmd(b"a4 SELECT Box")
    assert b"* 3 EXISTS" in out and tagged(out, b"a4").startswith(b"a4 OK"), out
    # its own commands
    out = a.cmd(b"a5 UID FETCH 1:* (FLAGS)")
    assert re.findall(rb"\* (\d+) UIDFETCH \(UID \1 FLAGS \(", out) == [b"1", b"2", b"3"], out
    assert b" FETCH (" not in out
    out = a.cmd(b"a6 UID STORE 2 +FLAGS (\\Flagged)")
    assert re.search(rb"\* 2 UIDFETCH \((UID 2 )?FLAGS \([^)]*\\Flagged", out), out
    out = a.cmd(b"a7 FETCH 1 (FLAGS)")
    assert tagged(out, b"a7").startswith(b"a7 BAD [UIDREQUIRED]") and b"FETCH (" not in out, out
    assert tagged(a.cmd(b"a8 NOOP"), b"a8").startswith(b"a8 OK")
    # changes made by another session
    assert tagged(b.cmd(b"b1 SELECT Box"), b"b1").startswith(b"b1 OK")
    assert tagged(b.cmd(b"b2 UID STORE 1 +FLAGS (\\Seen)"), b"b2").startswith(b"b2 OK")
    assert b"OK [APPENDUID" in b.cmd(b"b3 APPEND Box " + lit(msg("m3")))
    assert tagged(b.cmd(b"b4 UID STORE 3 +FLAGS (\\Deleted)"), b"b4").startswith(b"b4 OK")
    out = b.cmd(b"b5 EXPUNGE")
    assert b"* 3 EXPUNGE" in out, out                       # b keeps sequence numbers
    out = a.cmd(b"a9 NOOP")
    assert re.search(rb"\* 1 UIDFETCH \((UID 1 )?FLAGS \([^)]*\\Seen", out), out
    assert b"* VANISHED 3\r\n" in out and b"EXPUNGE" not in out, out
    assert b"* 4 EXISTS" in out or b"* 3 EXISTS" in out, out
    assert not re.search(rb"\* \d+ FETCH", out), out
    out = a.cmd(b"a10 UID SEARCH ALL")
    assert re.search(rb"\* (SEARCH|ESEARCH).* 1 2 4\r\n|\* SEARCH 1 2 4\r\n", out), out
    assert tagged(a.cmd(b"a11 UID SEARCH 1:2"), b"a11").startswith(b"a11 BAD [UIDREQUIRED]")
    a.close()
    b.close()
