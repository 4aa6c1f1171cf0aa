"""RFC 4314 ACL and mailboxes shared between accounts of one tenant
(issue #9 section 2): the owner grants rights with SETACL, the sharee finds
the mailbox as "Other Users/<owner>/<name>" (RFC 2342 NAMESPACE), reads it
from its own node's view and writes to it through the owner's partition,
with the rights enforced; an account without a grant, or of another
tenant, cannot tell the mailbox from one that does not exist; IDLE of a
sharee learns of the owner's new mail; a rebuild gives the same digest."""

import imaplib
import re

from conftest import assert_ok, mail_inbox, wait_until
from test_imap_core import DOMAIN, PASSWORD, USER, Raw, deliver, imap_node, login, message

import pytest

BOB = f"bob@{DOMAIN}"
CAROL = f"carol@{DOMAIN}"
DAVE = "dave@other.example"
SHARED = f"Other Users/{USER}/INBOX"
Q = f'"{SHARED}"'


@pytest.fixture
def node(backend_nodes):
    n = imap_node(backend_nodes)
    for addr in (BOB, CAROL):
        assert_ok(n.ctl("account", "add", addr, "--password-stdin", input=PASSWORD + "\n"))
    assert_ok(n.ctl("tenant", "create", "othert"))
    assert_ok(n.ctl("domain", "add", "other.example", "--tenant", "othert"))
    assert_ok(n.ctl("account", "add", DAVE, "--password-stdin", input=PASSWORD + "\n"))
    return n


def login_as(node, addr):
    m = imaplib.IMAP4("127.0.0.1", node.imap_port, timeout=30)
    typ, _ = m.login(addr, PASSWORD)
    assert typ == "OK"
    return m


def cmd(m, *args):
    """(typ, tagged text) of one command; a SELECT that succeeds puts
    imaplib in the selected state."""
    if args[0] in ("SELECT", "EXAMINE"):
        m.untagged_responses.clear()
        m.is_readonly = True   # imaplib raises on READ-ONLY otherwise
    typ, data = m._simple_command(*args)
    if args[0] in ("SELECT", "EXAMINE") and typ == "OK":
        m.state = "SELECTED"
    return typ, " ".join(d.decode() if isinstance(d, bytes) else str(d) for d in data if d is not None)


def listed(m):
    typ, data = m.list('""', "*")
    assert typ == "OK"
    return [d.decode() for d in data if d is not None]


def test_share_read_write_idle_rebuild(node):
    deliver(node, message("shared one"), message("shared two"))
    owner, bob, carol, dave = login(node), login_as(node, BOB), login_as(node, CAROL), login_as(node, DAVE)
    try:
        typ, data = owner.capability()
        assert b"ACL" in data[0].split() and b"RIGHTS=texk" in data[0].split()
        # --- the owner shares INBOX with bob: lookup and read
        assert owner.setacl("INBOX", BOB, "lr")[0] == "OK"
        typ, data = owner.getacl("INBOX")
        assert typ == "OK"
        acl = data[0].decode()
        assert f'"{USER}" lrswipkxteacd' in acl and f'"{BOB}" lr' in acl, acl
        typ, data = owner.myrights("INBOX")
        assert typ == "OK" and data[0].decode().endswith("lrswipkxteacd")
        # obsolete rights and a member of another tenant
        assert owner.setacl("INBOX", DAVE, "lr")[0] == "NO"
        assert owner.setacl("INBOX", USER, "lr")[0] == "NO"
        # --- bob: NAMESPACE, LIST, STATUS, MYRIGHTS, EXAMINE/SELECT, FETCH
        typ, data = bob.namespace()
        assert typ == "OK" and b'(("Other Users/" "/"))' in data[0]
        names = listed(bob)
        assert any(SHARED in n for n in names), names
        typ, data = bob.status(Q, "(MESSAGES UIDNEXT)")
        assert typ == "OK" and b"MESSAGES 2" in data[0], data
        typ, data = bob.myrights(Q)
        assert typ == "OK" and data[0].decode().endswith(" lr"), data
        typ, text = cmd(bob, "GETACL", Q)
        assert typ == "NO" and "NOPERM" in text, text
        typ, text = cmd(bob, "SELECT", Q)
        assert typ == "OK" and "READ-ONLY" in text, text   # lr: nothing to change
        assert bob.untagged_responses["EXISTS"][-1] == b"2"
        typ, data = bob.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert typ == "OK" and b"shared one" in data[0][1]
        typ, text = cmd(bob, "STORE", "1", "+FLAGS", "(\\Seen)")
        assert typ == "NO", text
        # bob cannot grant (no a), cannot create in the owner's namespace
        typ, text = cmd(bob, "SETACL", Q, CAROL, "lr")
        assert typ == "NO" and "NOPERM" in text, text
        assert bob.create(f'"Other Users/{USER}/INBOX/sub"')[0] == "NO"
        bob.close()
        # --- carol (no grant) and dave (another tenant) see nothing
        for m in (carol, dave):
            assert not any("Other Users" in n for n in listed(m)), listed(m)
            for args in (("SELECT", Q), ("STATUS", Q, "(MESSAGES)"), ("MYRIGHTS", Q), ("GETACL", Q),
                         ("EXAMINE", f'"Other Users/{USER}/Nope"')):
                typ, text = cmd(m, *args)
                assert typ == "NO" and "NONEXISTENT" in text, (args, text)
            typ, data = m.append(Q, None, None, message("intruder"))
            assert typ == "NO" and b"TRYCREATE" in data[0], data
        # --- more rights: bob stores and expunges in the owner's mailbox
        assert owner.setacl("INBOX", BOB, "+wsite")[0] == "OK"
        typ, text = cmd(bob, "SELECT", Q)
        assert typ == "OK" and "READ-WRITE" in text, text
        typ, data = bob.myrights(Q)
        assert data[0].decode().endswith(" lrswited"), data   # RFC 4314 2.1.1: d for t e
        assert bob.store("1", "+FLAGS", "(\\Seen \\Deleted)")[0] == "OK"
        assert bob.expunge()[0] == "OK"
        wait_until(lambda: len(mail_inbox(node, USER)[1]) == 1, 30, what="the expunge in the owner's INBOX")
        _, msgs = mail_inbox(node, USER)
        assert msgs[0]["uid"] == 2
        # APPEND by the sharee lands in the owner's INBOX
        typ, data = bob.append(Q, "(\\Seen)", None, message("from bob"))
        assert typ == "OK", data
        wait_until(lambda: len(mail_inbox(node, USER)[1]) == 2, 30, what="bob's APPEND")
        # --- IDLE of bob learns of a delivery to the owner
        r = Raw(node.imap_port)
        r.until("* OK")
        r.send(f"a LOGIN {BOB} {PASSWORD}\r\n")
        r.until("a OK")
        r.send(f"b SELECT {Q}\r\n")
        assert b"* 2 EXISTS" in r.until("b OK")
        r.send("c IDLE\r\n")
        r.until("+ ")
        deliver(node, message("during idle"))
        assert b"* 3 EXISTS" in r.until("EXISTS")
        r.send("DONE\r\n")
        r.until("c OK")
        r.close()
        # --- revoking: the mailbox is gone for bob again
        assert owner.deleteacl("INBOX", BOB)[0] == "OK"
        typ, text = cmd(bob, "STATUS", Q, "(MESSAGES)")
        assert typ == "NO" and "NONEXISTENT" in text, text
        assert not any("Other Users" in n for n in listed(bob))
        # the sharee index survives a grant to carol on another mailbox
        assert owner.create("Team")[0] == "OK"
        assert owner.setacl("Team", CAROL, "lrs")[0] == "OK"
        assert any(f"Other Users/{USER}/Team" in n for n in listed(carol))
    finally:
        for m in (owner, bob, carol, dave):
            try:
                m.logout()
            except Exception:
                pass
    # --- a rebuild (replay of the log) gives the same view
    d1 = node.digest()
    res = assert_ok(node.ctl("rebuild", timeout=300))
    assert "rebuilt" in res.out, repr(res)
    node.wait_ready(120)
    assert node.digest() == d1


def test_copy_and_move_between_owners(node):
    """COPY/MOVE between a shared mailbox and one's own (two partitions):
    one message.append per message naming the same blob; bodies, flags and
    COPYUID as for a COPY within one account; MOVE removes the sources;
    without the i right on the target nothing is copied."""
    deliver(node, message("x one"), message("x two"), message("x three"))
    owner, bob, carol = login(node), login_as(node, BOB), login_as(node, CAROL)
    try:
        assert owner.setacl("INBOX", BOB, "lrsite")[0] == "OK"
        assert owner.setacl("INBOX", CAROL, "lr")[0] == "OK"
        assert bob.create("Saved")[0] == "OK"
        typ, text = cmd(owner, "SELECT", "INBOX")
        assert typ == "OK"
        assert owner.uid("STORE", "2", "+FLAGS", "(\\Flagged)")[0] == "OK"
        typ, data = owner.uid("FETCH", "1:3", "(BODY.PEEK[])")
        src = [d[1] for d in data if isinstance(d, tuple)]
        assert len(src) == 3
        # shared -> own: COPY
        typ, text = cmd(bob, "SELECT", Q)
        assert typ == "OK", text
        typ, text = cmd(bob, "UID", "COPY", "1:3", "Saved")
        assert typ == "OK" and re.search(r"COPYUID \d+ 1:3 1:3", text), text
        typ, text = cmd(bob, "SELECT", "Saved")
        assert typ == "OK" and bob.untagged_responses["EXISTS"][-1] == b"3", text
        typ, data = bob.uid("FETCH", "1:3", "(FLAGS BODY.PEEK[])")
        got = [d[1] for d in data if isinstance(d, tuple)]
        assert got == src, (got, src)
        assert b"\\Flagged" in data[2][0], data[2][0]
        # own -> shared: COPY needs i there (bob has it)
        typ, text = cmd(bob, "UID", "COPY", "1", Q)
        assert typ == "OK" and "COPYUID" in text, text
        wait_until(lambda: len(mail_inbox(node, USER)[1]) == 4, 30, what="the copy in the owner's INBOX")
        # shared -> own: MOVE (t and e on the source)
        typ, text = cmd(bob, "SELECT", Q)
        assert typ == "OK", text
        typ, text = cmd(bob, "UID", "MOVE", "3", "Saved")
        assert typ == "OK", text
        wait_until(lambda: 3 not in [m["uid"] for m in mail_inbox(node, USER)[1]], 30,
                   what="the moved message gone from the owner's INBOX")
        typ, data = bob.status("Saved", "(MESSAGES)")
        assert b"MESSAGES 4" in data[0], data
        # carol (lr only): no i on the owner's INBOX -> nothing copied there
        assert carol.create("Mine")[0] == "OK"
        typ, data = carol.append("Mine", None, None, message("carol's"))
        assert typ == "OK"
        typ, text = cmd(carol, "SELECT", "Mine")
        assert typ == "OK"
        typ, text = cmd(carol, "UID", "COPY", "1", Q)
        assert typ == "NO", text
        assert len(mail_inbox(node, USER)[1]) == 3
        # carol may copy out of it into her own (r is enough)
        typ, text = cmd(carol, "SELECT", Q)
        assert typ == "OK", text
        typ, text = cmd(carol, "UID", "COPY", "1:*", "Mine")
        assert typ == "OK" and "COPYUID" in text, text
        typ, data = carol.status("Mine", "(MESSAGES)")
        assert b"MESSAGES 4" in data[0], data
    finally:
        for m in (owner, bob, carol):
            try:
                m.logout()
            except Exception:
                pass


def test_copy_between_owners_fails_whole(node):
    """RFC 9051 6.4.7: a COPY that fails part way (the target's quota is
    reached at the third message) leaves the target as it was."""
    erin = f"erin@{DOMAIN}"
    assert_ok(node.ctl("account", "add", erin, "--password-stdin", input=PASSWORD + "\n"))
    deliver(node, message("q one"), message("q two"), message("q three"))
    _, msgs = mail_inbox(node, USER)
    sizes = [m["size"] for m in msgs[-3:]]
    owner, e = login(node), login_as(node, erin)
    try:
        assert owner.setacl("INBOX", erin, "lr")[0] == "OK"
        assert e.create("Keep")[0] == "OK"
        # room for the first two, not the third
        assert_ok(node.ctl("account", "set", erin, "--quota", str(sizes[0] + sizes[1] + sizes[2] // 2)))

        def quota_applied():
            typ, data = e.getquotaroot("Keep")
            return typ == "OK" and any(b"STORAGE" in (d if isinstance(d, bytes) else b"")
                                       for part in data for d in (part if isinstance(part, list) else [part]))
        wait_until(quota_applied, 30, what="the quota in erin's mail state")
        typ, text = cmd(e, "SELECT", Q)
        assert typ == "OK", text
        typ, text = cmd(e, "UID", "COPY", f"{msgs[-3]['uid']}:{msgs[-1]['uid']}", "Keep")
        assert typ == "NO", text
        typ, data = e.status("Keep", "(MESSAGES)")
        assert b"MESSAGES 0" in data[0], (data, text)
        # a COPY that fits still works
        typ, text = cmd(e, "UID", "COPY", str(msgs[-3]["uid"]), "Keep")
        assert typ == "OK" and "COPYUID" in text, text
    finally:
        for m in (owner, e):
            try:
                m.logout()
            except Exception:
                pass
