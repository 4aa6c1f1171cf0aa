"""NOTIFY (RFC 5465) on mailboxes shared with the session (RFC 4314): a
sharee whose NOTIFY SET names "Other Users" (subtree) gets STATUS for the
owner's changes in the shared mailboxes it holds l and r on, and none for
one it may only look up; "subscribed" takes one the sharee subscribed to;
"personal" takes none of them (RFC 5465 6); a mailbox a new owner shares
with anyone of the tenant is announced at once (MailboxName); an
account of another tenant sees nothing."""

from conftest import assert_ok
from test_imap_acl import BOB, CAROL, DAVE
from test_imap_core import DOMAIN, PASSWORD, USER, imap_node, login
from test_imap_notify import MSG, Raw, tagged

import socket


class RawAs(Raw):
    """test_imap_notify's raw client, logged in as addr."""

    def __init__(self, node, addr):
        self.sock = socket.create_connection(("127.0.0.1", node.imap_port), timeout=30)
        self.buf = b""
        self.n = 0
        self.line()
        assert b" OK " in self.cmd(f"LOGIN {addr} {PASSWORD}".encode())


def append(c, box):
    out = c.cmd(b'APPEND "' + box.encode() + b'" {%d+}\r\n' % len(MSG) + MSG)
    assert tagged(out) == b"OK", out


def test_notify_shared_mailboxes(nodes):
    node = imap_node(nodes)
    for addr in (BOB, CAROL):
        assert_ok(node.ctl("account", "add", addr, "--password-stdin", input=PASSWORD + "\n"))
    assert_ok(node.ctl("tenant", "create", "othert"))
    assert_ok(node.ctl("domain", "add", "other.example", "--tenant", "othert"))
    assert_ok(node.ctl("account", "add", DAVE, "--password-stdin", input=PASSWORD + "\n"))
    owner = login(node)
    team = f"Other Users/{USER}/Team".encode()
    inbox = f"Other Users/{USER}/INBOX".encode()
    assert owner.create("Team")[0] == "OK"
    assert owner.setacl("Team", "anyone", "lr")[0] == "OK"
    assert owner.setacl("INBOX", BOB, "l")[0] == "OK"
    w = RawAs(node, USER)
    bob, carol, dave = RawAs(node, BOB), RawAs(node, CAROL), RawAs(node, DAVE)
    bob2 = RawAs(node, BOB)
    try:
        # "subscribed" (RFC 5465 6) may name a shared mailbox
        assert tagged(bob2.cmd(b'SUBSCRIBE "' + team + b'"')) == b"OK"
        out = bob2.cmd(b"NOTIFY SET (subscribed (MessageNew MessageExpunge))")
        assert tagged(out) == b"OK", out
        # RFC 5465 3.1: STATUS at once for what bob may read (Team, not INBOX)
        out = bob.cmd(b'NOTIFY SET STATUS (subtree "Other Users" (MessageNew MessageExpunge FlagChange '
                      b'MailboxName))')
        assert tagged(out) == b"OK", out
        assert b'* STATUS "' + team + b'" (MESSAGES 0' in out, out
        assert inbox not in out, out
        out = carol.cmd(b"NOTIFY SET STATUS (personal (MessageNew MessageExpunge))")
        assert tagged(out) == b"OK" and b"Other Users" not in out, out
        out = dave.cmd(b'NOTIFY SET STATUS (subtree "Other Users" (MessageNew MessageExpunge))')
        assert tagged(out) == b"OK" and b"Other Users" not in out, out
        # the owner's change in the owner's partition reaches bob, idle
        append(w, "INBOX")
        append(w, "Team")
        seen = bob.wait_for(rb'^\* STATUS "' + team.replace(b"/", rb"\/") + rb'" \(MESSAGES 1 ')
        assert not any(inbox in ln for ln in seen), seen
        bob2.wait_for(rb'^\* STATUS "' + team.replace(b"/", rb"\/") + rb'" \(MESSAGES 1 ')
        # carol ("personal") and dave (another tenant) got nothing of it:
        # anything pending for them is sent before their NOOP's reply
        for c in (carol, dave):
            out = c.cmd(b"NOOP")
            assert tagged(out) == b"OK" and b"Other Users" not in out, out
        # a new owner's grant to anyone: bob learns of the mailbox at once
        # (MailboxName, RFC 5465 5.4), dave (another tenant) does not
        assert tagged(carol.cmd(b"CREATE CarolBox")) == b"OK"
        assert tagged(carol.cmd(b"SETACL CarolBox anyone lr")) == b"OK"
        carolbox = f"Other Users/{CAROL}/CarolBox".encode()
        bob.wait_for(rb'^\* LIST \(\) "/" "' + carolbox.replace(b"/", rb"\/") + rb'"$')
        out = dave.cmd(b"NOOP")
        assert tagged(out) == b"OK" and b"Other Users" not in out, out
        # an expunge in the shared mailbox, and r taken away by -bob
        out = w.cmd(b"SELECT Team")
        assert tagged(out) == b"OK", out
        assert tagged(w.cmd(b"STORE 1 +FLAGS (\\Deleted)")) == b"OK"
        assert tagged(w.cmd(b"EXPUNGE")) == b"OK"
        bob.wait_for(rb'^\* STATUS "' + team.replace(b"/", rb"\/") + rb'" \(MESSAGES 0 ')
        assert owner.setacl("Team", f"-{BOB}", "r")[0] == "OK"
        append(w, "Team")
        out = bob.cmd(b"NOOP")
        assert tagged(out) == b"OK" and b"MESSAGES 1" not in out, out
        # NOTIFY NONE: nothing more
        assert tagged(bob.cmd(b"NOTIFY NONE")) == b"OK"
    finally:
        owner.logout()
        for c in (w, bob, bob2, carol, dave):
            c.close()
