"""IMAP4rev1 \\Recent (RFC 3501 2.3.2; RFC 9051 dropped it) on one evmaild:
a message is \\Recent in exactly one session, the first to SELECT its
mailbox (read-write) after it arrived, decided by the log
(mailbox.claim_recent). A delivery while a rev1 session has the mailbox
selected becomes \\Recent in the first such session to learn of it: it
claims it before it answers the command that announces EXISTS, with RECENT
in the same response, so no session asking later counts it as recent.
EXAMINE shows what nobody claimed as \\Recent without claiming it; IMAP4rev2
sessions never see \\Recent. STATUS RECENT counts what nobody claimed."""

import re
import time

import pytest

from test_imap_core import deliver, imap_node, login, message


@pytest.fixture
def node(backend_nodes):
    return imap_node(backend_nodes)


def recent_resp(m):
    """The last RECENT count the server sent (None when none)."""
    _, data = m.response("RECENT")
    data = [d for d in data if d is not None]
    return int(data[-1]) if data else None


def recent_uids(m):
    typ, data = m.uid("FETCH", "1:*", "(FLAGS)")
    assert typ == "OK"
    out = set()
    for d in data:
        if d is None:
            continue
        line = d.decode() if isinstance(d, bytes) else d[0].decode()
        mo = re.search(r"UID (\d+)", line)
        if mo and "\\Recent" in line:
            out.add(int(mo.group(1)))
    return out


def search(m, *keys):
    typ, data = m.uid("SEARCH", *keys)
    assert typ == "OK"
    return [int(x) for x in data[0].split()] if data and data[0] else []


def status_recent(m):
    typ, data = m.status("INBOX", "(RECENT MESSAGES)")
    assert typ == "OK"
    return int(re.search(rb"RECENT (\d+)", data[0]).group(1))


def wait_recent(m, uid, timeout=15.0):
    """NOOPs until uid is \\Recent in m (the claim runs in the background)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        m.noop()
        if uid in recent_uids(m):
            return True
        time.sleep(0.1)
    return False


def test_recent_in_one_session_only(node):
    deliver(node, message("r1"), message("r2"))
    a, b, c, d = login(node), login(node), login(node), login(node)
    try:
        assert status_recent(c) == 2                 # nobody claimed yet
        typ, _ = a.select("INBOX")
        assert typ == "OK"
        assert recent_resp(a) == 2
        assert recent_uids(a) == {1, 2}
        assert search(a, "RECENT") == [1, 2]
        assert search(a, "NEW") == [1, 2]
        assert search(a, "OLD") == []
        # the second SELECT finds them claimed
        b.select("INBOX")
        assert recent_resp(b) == 0
        assert recent_uids(b) == set()
        assert search(b, "RECENT") == []
        assert search(b, "OLD") == [1, 2]
        assert status_recent(c) == 0
        # reading one makes it OLD? no: still \Recent, but not NEW
        a.uid("STORE", "1", "+FLAGS", "(\\Seen)")
        assert search(a, "NEW") == [2]
        assert search(a, "RECENT") == [1, 2]

        # a delivery while both have INBOX selected: the first to learn
        # of it (a) claims it; b does not get it
        deliver(node, message("r3"))
        assert status_recent(c) == 1
        assert wait_recent(a, 3)
        assert recent_uids(a) == {1, 2, 3}
        assert status_recent(c) == 0
        b.noop()
        assert 3 not in recent_uids(b)
        assert search(b, "RECENT") == []

        # EXAMINE shows what nobody claimed, and does not claim it
        deliver(node, message("r4"))
        typ, _ = d.select("INBOX", readonly=True)
        assert typ == "OK"
        assert recent_resp(d) == 1
        d.noop()
        assert recent_uids(d) == {4}
        assert status_recent(c) == 1
        assert wait_recent(a, 4)
        # a new SELECT in a: nothing left to claim, and the earlier
        # claims are forgotten with the old selection
        a.select("INBOX")
        assert recent_resp(a) == 0
        assert recent_uids(a) == set()
    finally:
        for m in (a, b, c, d):
            m.logout()


def test_selected_sessions_claim_before_telling(node):
    """Issue 9 1.1: two sessions have INBOX selected when a message
    arrives; the first told of it (its NOOP's EXISTS) gets it \\Recent,
    with RECENT in that NOOP's response; the second is told of it not
    recent; a third connection's STATUS then counts nothing recent."""
    deliver(node, message("s1"))
    a, b, c = login(node), login(node), login(node)
    try:
        assert a.select("INBOX")[0] == "OK"
        assert recent_resp(a) == 1
        assert b.select("INBOX")[0] == "OK"
        assert recent_resp(b) == 0
        assert status_recent(c) == 0

        deliver(node, message("s2"))
        assert status_recent(c) == 1                 # nobody told yet
        typ, _ = a.noop()
        assert typ == "OK"
        assert a.response("EXISTS")[1][-1] == b"2"
        assert recent_resp(a) == 2                   # in the same response
        typ, _ = b.noop()
        assert typ == "OK"
        assert b.response("EXISTS")[1][-1] == b"2"
        assert recent_resp(b) == 0
        assert status_recent(c) == 0                 # the third connection
        assert recent_uids(a) == {1, 2}
        assert recent_uids(b) == set()
        assert search(a, "RECENT") == [1, 2]
        assert search(b, "RECENT") == []

        # the same with the second session first
        deliver(node, message("s3"), message("s4"))
        typ, _ = b.noop()
        assert typ == "OK"
        assert b.response("EXISTS")[1][-1] == b"4"
        assert recent_resp(b) == 2
        assert status_recent(c) == 0
        a.noop()
        assert a.response("EXISTS")[1][-1] == b"4"
        assert recent_resp(a) == 2                   # still its 1 and 2
        assert recent_uids(a) == {1, 2}
        assert recent_uids(b) == {3, 4}
        # a new SELECT elsewhere finds nothing to claim
        assert c.select("INBOX")[0] == "OK"
        assert recent_resp(c) == 0
        assert recent_uids(c) == set()
    finally:
        for m in (a, b, c):
            m.logout()


def test_examine_reports_unclaimed_without_claiming(node):
    """Issue 9 1.1: EXAMINE of a mailbox with 2 new messages answers
    `* 2 RECENT` and leaves them to the next SELECT."""
    deliver(node, message("e1"), message("e2"))
    e, s, c = login(node), login(node), login(node)
    try:
        typ, _ = e.select("INBOX", readonly=True)
        assert typ == "OK"
        assert recent_resp(e) == 2
        assert recent_uids(e) == {1, 2}
        assert search(e, "RECENT") == [1, 2]
        assert status_recent(c) == 2                 # not claimed
        typ, _ = e.select("INBOX", readonly=True)    # again: still there
        assert typ == "OK"
        assert recent_resp(e) == 2
        # a message arriving while examined: unclaimed, so \Recent there
        deliver(node, message("e3"))
        e.noop()
        assert e.response("EXISTS")[1][-1] == b"3"
        assert recent_resp(e) == 3
        assert status_recent(c) == 3
        typ, _ = s.select("INBOX")
        assert typ == "OK"
        assert recent_resp(s) == 3                   # SELECT claims them all
        assert status_recent(c) == 0
        typ, _ = e.select("INBOX", readonly=True)
        assert typ == "OK"
        assert recent_resp(e) == 0
        assert recent_uids(e) == set()
    finally:
        for m in (e, s, c):
            m.logout()


def test_rev2_never_claims(node):
    deliver(node, message("v1"))
    r2 = login(node)
    r1 = login(node)
    try:
        typ, _ = r2.enable("IMAP4rev2")
        assert typ == "OK"
        typ, _ = r2.select("INBOX")
        assert typ == "OK"
        assert recent_resp(r2) is None               # RFC 9051: no RECENT
        assert recent_uids(r2) == set()
        deliver(node, message("v2"))
        r2.noop()
        assert recent_uids(r2) == set()
        assert recent_resp(r2) is None
        # a rev1 SELECT afterwards still claims both
        r1.select("INBOX")
        assert recent_resp(r1) == 2
        assert recent_uids(r1) == {1, 2}
    finally:
        r2.logout()
        r1.logout()
