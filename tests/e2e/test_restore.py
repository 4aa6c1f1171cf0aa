"""Point-in-time restore and the audit trail (issue #12 items 3 and 4) on
one evmaild with the embedded log: messages deleted over IMAP (STORE
\\Deleted + EXPUNGE) come back with new UIDs and the flags they had, as new
messages to a session that has the mailbox selected; --into a new mailbox;
an account restore re-creates a deleted mailbox; `account history` lists
the appends, stores, expunges and the restore itself with their actors,
and --since filters."""

import datetime
import json
import re
import time

import pytest

from conftest import assert_fail, assert_ok, mail_mailboxes
from test_imap_core import USER, deliver, imap_node, login, message


@pytest.fixture
def node(nodes):
    return imap_node(nodes, name="restore")


def now_ms():
    return int(time.time() * 1000)


def rfc3339(ms):
    dt = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def past(ms):
    """Waits until the clock is past ms, so later events have a later ts."""
    while now_ms() <= ms + 1:
        time.sleep(0.005)


def flags_by_uid(m, mailbox="INBOX"):
    typ, _ = m.select(mailbox)
    assert typ == "OK"
    typ, data = m.uid("FETCH", "1:*", "(FLAGS)")
    assert typ == "OK"
    out = {}
    for d in data:
        if d is None:
            continue
        line = d.decode() if isinstance(d, bytes) else d[0].decode()
        mo = re.search(r"UID (\d+) FLAGS \(([^)]*)\)", line) or re.search(r"FLAGS \(([^)]*)\) UID (\d+)", line)
        assert mo, line
        uid, flags = (mo.group(1), mo.group(2)) if mo.re.pattern.startswith("UID") else (mo.group(2), mo.group(1))
        out[int(uid)] = set(flags.split()) - {"\\Recent"}
    return out


def restore(node, *args):
    res = node.ctl("--json", *args)
    assert_ok(res)
    return res.json()


def history(node, *args):
    res = node.ctl("account", "history", USER, "--json", *args)
    assert_ok(res)
    return [json.loads(line) for line in res.out.splitlines() if line.strip()]


def test_restore_deleted_messages(node):
    deliver(node, *[message(f"m{i}") for i in range(1, 13)])
    a = login(node)
    assert a.select("INBOX")[0] == "OK"
    assert a.uid("STORE", "1:5", "+FLAGS", "(\\Seen)")[0] == "OK"
    assert a.uid("STORE", "6:10", "+FLAGS", "(\\Flagged $Important)")[0] == "OK"
    before = flags_by_uid(a)
    assert len(before) == 12
    t_before = now_ms()
    past(t_before)

    # a second session sits on the mailbox while the ten go and come back
    b = login(node)
    assert b.select("INBOX")[0] == "OK"
    assert a.uid("STORE", "1:10", "+FLAGS", "(\\Deleted)")[0] == "OK"
    assert a.expunge()[0] == "OK"
    assert sorted(flags_by_uid(a)) == [11, 12]
    b.noop()

    # into a new mailbox first: created, the ten appended there
    out = restore(node, "mailbox", "restore", USER, "INBOX", "--at", rfc3339(t_before), "--into", "Restored")
    assert len(out["restored"]) == 10, out
    assert out["mailboxes"][0]["created"] is True and out["mailboxes"][0]["into"] == "Restored"
    got = flags_by_uid(a, "Restored")
    assert sorted(got) == list(range(1, 11))

    # then into INBOX itself: the ten are back with new UIDs and their flags
    out = restore(node, "mailbox", "restore", USER, "INBOX", "--at", rfc3339(t_before))
    assert len(out["restored"]) == 10 and out["skipped"] == [] and out["failed"] == [], out
    now = flags_by_uid(a)
    assert sorted(now) == [11, 12] + list(range(13, 23))
    restored = sorted(now[u] for u in range(13, 23))
    original = sorted(before[u] for u in range(1, 11))
    assert restored == original
    assert all("\\Deleted" not in f for f in now.values())

    # the session that had it selected learns of them as new (EXISTS)
    typ, _ = b.noop()
    assert typ == "OK"
    exists = [int(x) for x in b.response("EXISTS")[1] if x is not None]
    assert exists and exists[-1] == 12, exists

    # a second restore finds nothing gone
    out = restore(node, "mailbox", "restore", USER, "INBOX", "--at", rfc3339(t_before))
    assert out["restored"] == [], out

    # a mailbox that did not exist then is refused
    assert_fail(node.ctl("mailbox", "restore", USER, "Nope", "--at", rfc3339(t_before)), "no such mailbox")
    assert_fail(node.ctl("mailbox", "restore", USER, "INBOX", "--at", "yesterday"), "RFC 3339")

    # history: the appends, stores, expunges and the restore, with actors
    events = history(node)
    types = {e["type"] for e in events}
    assert {"message.append", "message.store", "message.expunge", "mailbox.create"} <= types, types
    stores = [e for e in events if e["type"] == "message.store"]
    assert stores and all(e["actor"].startswith("imap") for e in stores), stores
    expunges = [e for e in events if e["type"] == "message.expunge" and e["status"] == "accepted"]
    assert expunges and len(expunges[-1]["result"]["expunged"]) >= 1
    by_restore = [e for e in events if e["actor"] == "admin:restore"]
    assert len([e for e in by_restore if e["type"] == "message.append"]) == 20
    assert all(e["status"] == "accepted" for e in by_restore)
    assert [e["ts"] for e in events] == sorted(e["ts"] for e in events)   # newest last
    deliveries = [e for e in events if e["type"] == "message.append" and e["actor"] != "admin:restore"]
    assert len(deliveries) == 12
    # --since: only what happened from then on
    later = history(node, "--since", rfc3339(t_before))
    assert later and all(e["ts"] >= t_before for e in later)
    assert not any(e in later for e in deliveries)
    assert len(later) < len(events)
    assert history(node, "--since", "-1h") == events
    # --limit keeps the newest
    assert history(node, "--limit", "3") == events[-3:]
    human = node.ctl("account", "history", USER, "--since", rfc3339(t_before))
    assert_ok(human)
    assert "admin:restore" in human.out and "message.expunge" in human.out
    a.logout()
    b.logout()


def test_account_restore_recreates_deleted_mailbox(node):
    a = login(node)
    assert a.create("Projects")[0] == "OK"
    for i in range(3):
        assert a.append("Projects", "(\\Seen)", None, message(f"p{i}"))[0] == "OK"
    t_then = now_ms()
    past(t_then)
    assert a.delete("Projects")[0] == "OK"
    assert "Projects" not in [m["name"] for m in mail_mailboxes(node, USER)]

    out = restore(node, "account", "restore", USER, "--at", rfc3339(t_then))
    projects = [m for m in out["mailboxes"] if m["mailbox"] == "Projects"]
    assert projects and projects[0]["created"] is True and projects[0]["restored"] == 3, out
    assert len(out["restored"]) == 3, out
    got = flags_by_uid(a, "Projects")
    assert len(got) == 3 and all(f == {"\\Seen"} for f in got.values()), got
    # the deletion and the re-creation are both in the trail
    events = history(node, "--since", rfc3339(t_then))
    assert any(e["type"] == "mailbox.delete" and e["actor"].startswith("imap") for e in events)
    assert any(e["type"] == "mailbox.create" and e["actor"] == "admin:restore" for e in events)
    a.logout()
