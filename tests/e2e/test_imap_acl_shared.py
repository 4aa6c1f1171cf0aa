"""RFC 4314 completeness for shared mailboxes (issue #9, ACL2): a sharee
CREATEs with k on the owner's parent, DELETEs with x, RENAMEs with x and k
on the new parent, all in the owner's partition (also on Kafka); the
"anyone" identifier reaches every account of the owner's tenant and none of
another; negative entries take rights away; GETACL, LISTRIGHTS and MYRIGHTS
show them."""

from conftest import assert_ok
from test_imap_acl import BOB, CAROL, DAVE, cmd, listed, login_as
from test_imap_core import DOMAIN, PASSWORD, USER, imap_node, login

import imaplib

import pytest

imaplib.Commands.setdefault("LISTRIGHTS", ("AUTH", "SELECTED"))

OTHER = f"Other Users/{USER}"


def add_accounts(n):
    for addr in (BOB, CAROL):
        assert_ok(n.ctl("account", "add", addr, "--password-stdin", input=PASSWORD + "\n"))
    assert_ok(n.ctl("tenant", "create", "othert"))
    assert_ok(n.ctl("domain", "add", "other.example", "--tenant", "othert"))
    assert_ok(n.ctl("account", "add", DAVE, "--password-stdin", input=PASSWORD + "\n"))


def q(name):
    return f'"{name}"'


def myrights(m, name):
    typ, data = m.myrights(q(name))
    return data[0].decode().rsplit(" ", 1)[1] if typ == "OK" else typ


def test_sharee_create_rename_delete(backend_nodes):
    """k and x for a sharee (RFC 4314 4), on the embedded log and on Kafka:
    the sharee's commands go to the owner's partition with "as"."""
    node = imap_node(backend_nodes)
    add_accounts(node)
    owner, bob, carol, dave = login(node), login_as(node, BOB), login_as(node, CAROL), login_as(node, DAVE)
    try:
        assert owner.create("Projects")[0] == "OK"
        assert owner.setacl("Projects", BOB, "lr")[0] == "OK"
        # no k yet; then k on Projects
        typ, text = cmd(bob, "CREATE", q(f"{OTHER}/Projects/Bob1"))
        assert typ == "NO" and "NOPERM" in text, text
        assert owner.setacl("Projects", BOB, "+k")[0] == "OK"
        typ, text = cmd(bob, "CREATE", q(f"{OTHER}/Projects/Bob1"))
        assert typ == "OK" and "MAILBOXID" in text, text
        # the mailbox is the owner's; its creator holds every right
        assert any('"Projects/Bob1"' in n for n in listed(owner)), listed(owner)
        assert any(f'"{OTHER}/Projects/Bob1"' in n for n in listed(bob)), listed(bob)
        assert myrights(bob, f"{OTHER}/Projects/Bob1") == "lrswipkxteacd"
        typ, data = owner.getacl("Projects/Bob1")
        assert typ == "OK" and f'"{BOB}" lrswipkxteacd' in data[0].decode(), data
        # top-level in the owner's root: nothing grants k there
        typ, text = cmd(bob, "CREATE", q(f"{OTHER}/Top"))
        assert typ == "NO" and "NOPERM" in text, text
        typ, text = cmd(bob, "CREATE", q(f"{OTHER}/Nope/Sub"))
        assert typ == "NO" and "NOPERM" in text, text
        # carol (no grant) and dave (another tenant) cannot
        for m in (carol, dave):
            typ, text = cmd(m, "CREATE", q(f"{OTHER}/Projects/Intruder"))
            assert typ == "NO" and "NOPERM" in text, text
        # RENAME: x on the source, k on the new parent, same owner
        typ, text = cmd(bob, "RENAME", q(f"{OTHER}/Projects/Bob1"), q(f"{OTHER}/Projects/Bob2"))
        assert typ == "OK", text
        assert any('"Projects/Bob2"' in n for n in listed(owner)), listed(owner)
        typ, text = cmd(bob, "RENAME", q(f"{OTHER}/Projects/Bob2"), q(f"{OTHER}/Bob2"))
        assert typ == "NO" and "NOPERM" in text, text
        typ, text = cmd(bob, "RENAME", q(f"{OTHER}/Projects/Bob2"), q("Mine"))
        assert typ == "NO" and "CANNOT" in text, text
        typ, text = cmd(bob, "RENAME", q(f"{OTHER}/Projects"), q(f"{OTHER}/Projects2"))
        assert typ == "NO" and "NOPERM" in text, text   # no x on Projects
        # DELETE: x
        typ, text = cmd(bob, "DELETE", q(f"{OTHER}/Projects"))
        assert typ == "NO" and "NOPERM" in text, text
        for m in (carol, dave):
            typ, text = cmd(m, "DELETE", q(f"{OTHER}/Projects/Bob2"))
            assert typ == "NO" and "NONEXISTENT" in text, text
        typ, text = cmd(bob, "DELETE", q(f"{OTHER}/Projects/Bob2"))
        assert typ == "OK", text
        assert not any("Bob2" in n for n in listed(owner)), listed(owner)
        assert not any("Bob2" in n for n in listed(bob)), listed(bob)
        # x granted by the owner on a mailbox bob did not create
        assert owner.create("Projects/Old")[0] == "OK"
        assert owner.setacl("Projects/Old", BOB, "lx")[0] == "OK"
        assert cmd(bob, "DELETE", q(f"{OTHER}/Projects/Old"))[0] == "OK"
        assert not any("Old" in n for n in listed(owner)), listed(owner)
    finally:
        for m in (owner, bob, carol, dave):
            m.logout()


@pytest.fixture
def node(nodes):
    n = imap_node(nodes)
    add_accounts(n)
    return n


def test_anyone_and_negative_rights(node):
    owner, bob, carol, dave = login(node), login_as(node, BOB), login_as(node, CAROL), login_as(node, DAVE)
    shared = f"{OTHER}/INBOX"
    try:
        assert not any("Other Users" in n for n in listed(bob))
        assert owner.setacl("INBOX", "anyone", "lr")[0] == "OK"
        typ, data = owner.getacl("INBOX")
        assert typ == "OK" and '"anyone" lr' in data[0].decode(), data
        # every account of the tenant, none of another
        for m in (bob, carol):
            assert any(q(shared) in n for n in listed(m)), listed(m)
            assert myrights(m, shared) == "lr"
            typ, text = cmd(m, "EXAMINE", q(shared))
            assert typ == "OK", text
        assert not any("Other Users" in n for n in listed(dave)), listed(dave)
        for args in (("MYRIGHTS", q(shared)), ("EXAMINE", q(shared)), ("STATUS", q(shared), "(MESSAGES)")):
            typ, text = cmd(dave, *args)
            assert typ == "NO" and "NONEXISTENT" in text, (args, text)
        # own and anyone entries add up
        assert owner.setacl("INBOX", BOB, "i")[0] == "OK"
        assert myrights(bob, shared) == "lri"
        # a negative entry takes away from both
        assert owner.setacl("INBOX", f"-{CAROL}", "r")[0] == "OK"
        assert owner.setacl("INBOX", f"-{BOB}", "i")[0] == "OK"
        typ, data = owner.getacl("INBOX")
        acl = data[0].decode()
        assert f'"-{CAROL}" r' in acl and f'"-{BOB}" i' in acl and '"anyone" lr' in acl, acl
        assert myrights(carol, shared) == "l"
        assert myrights(bob, shared) == "lr"
        typ, text = cmd(carol, "EXAMINE", q(shared))
        assert typ == "NO" and "NOPERM" in text, text
        # LISTRIGHTS for anyone and negative identifiers
        typ, data = owner._simple_command("LISTRIGHTS", "INBOX", "anyone")
        lr = owner.untagged_responses.pop("LISTRIGHTS", [b""])[-1].decode()
        assert typ == "OK" and lr.endswith('"anyone" "" l r s w i p k x t e a c d'), lr
        typ, data = owner._simple_command("LISTRIGHTS", "INBOX", f"-{BOB}")
        lr = owner.untagged_responses.pop("LISTRIGHTS", [b""])[-1].decode()
        assert typ == "OK" and '"" l r s' in lr, lr
        # DELETEACL of a negative entry gives the rights back
        assert owner.deleteacl("INBOX", f"-{CAROL}")[0] == "OK"
        assert myrights(carol, shared) == "lr"
        # -anyone: every sharee loses l, and LIST no longer shows it
        assert owner.setacl("INBOX", "-anyone", "l")[0] == "OK"
        assert myrights(bob, shared) == "r"
        assert not any("Other Users" in n for n in listed(carol)), listed(carol)
        # a negative entry for the owner, or another tenant's account: NO
        assert owner.setacl("INBOX", f"-{USER}", "l")[0] == "NO"
        assert owner.setacl("INBOX", f"-{DAVE}", "l")[0] == "NO"
        assert owner.setacl("INBOX", "-nobody", "l")[0] == "NO"
        # removing anyone: nothing left for carol
        assert owner.deleteacl("INBOX", "anyone")[0] == "OK"
        assert owner.deleteacl("INBOX", "-anyone")[0] == "OK"
        typ, text = cmd(carol, "MYRIGHTS", q(shared))
        assert typ == "NO" and "NONEXISTENT" in text, text
        assert myrights(bob, shared) == "NO"   # own i minus -bob i
    finally:
        for m in (owner, bob, carol, dave):
            m.logout()
