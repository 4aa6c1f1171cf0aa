"""JMAP accounts shared by ACL (issue #10): an owner shares INBOX with a
sharee over IMAP SETACL; the sharee's Session lists the owner's account
(isPersonal false, Mail only), Mailbox/get shows only the shared mailbox
with myRights from the ACL, Email/get reads the shared message and not
one of an unshared mailbox, a method that does not filter by the share
refuses the account, and after the revoke the account is accountNotFound
like another tenant's."""

import imaplib
import json

import pytest

from conftest import assert_ok, free_port, wait_until
from test_jmap import api, auth, request, session  # noqa: F401 (helpers)

DOMAIN = "share.example"
OWNER = f"own@{DOMAIN}"
SHAREE = f"lrs@{DOMAIN}"
ALIEN = f"al@alien.example"
PASSWORD = "jmap-test-pw"
MAIL = "urn:ietf:params:jmap:mail"


@pytest.fixture(scope="module")
def node(tmp_path_factory, binaries):
    from conftest import Node
    n = Node("jshared", tmp_path_factory.mktemp("jshared"),
             env={"EVMAIL_HTTP_LISTEN": f"127.0.0.1:{free_port()}",
                  "EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "1"})
    n.start(wait="ready")
    assert_ok(n.ctl("tenant", "create", "sht"))
    assert_ok(n.ctl("domain", "add", DOMAIN, "--tenant", "sht"))
    assert_ok(n.ctl("tenant", "create", "alien"))
    assert_ok(n.ctl("domain", "add", "alien.example", "--tenant", "alien"))
    for u in (OWNER, SHAREE, ALIEN):
        assert_ok(n.ctl("account", "add", u, "--password-stdin", input=PASSWORD + "\n"))
    yield n
    n.kill9()


def imap(node, user):
    m = imaplib.IMAP4("127.0.0.1", node.imap_port, timeout=30)
    m.login(user, PASSWORD)
    return m


def call(node, user, name, args):
    status, _, r = api(node, [[name, args, "c"]], user=user)
    assert status == 200, r
    return r["methodResponses"][0][:2]


def test_shared_inbox_as_account(node):
    owner = imap(node, OWNER)
    try:
        msg = b"From: x@y.example\r\nSubject: shared one\r\n\r\nHi.\r\n"
        assert owner.append("INBOX", None, None, msg)[0] == "OK"
        assert owner.create("Private")[0] == "OK"
        assert owner.append("Private", None, None,
                            b"From: x@y.example\r\nSubject: private\r\n\r\nNo.\r\n")[0] == "OK"
        own_id = session(node, OWNER)["primaryAccounts"][MAIL]
        # Before any share the owner's account does not exist for others.
        assert call(node, SHAREE, "Mailbox/get", {"accountId": own_id})[1]["type"] == "accountNotFound"
        assert owner._simple_command("SETACL", "INBOX", SHAREE, "lrs")[0] == "OK"

        s = session(node, SHAREE)
        assert own_id in s["accounts"], s["accounts"]
        acct = s["accounts"][own_id]
        assert acct["name"] == OWNER and acct["isPersonal"] is False
        assert acct["isReadOnly"] is False  # s is a write right
        assert list(acct["accountCapabilities"]) == [MAIL]
        assert s["primaryAccounts"][MAIL] != own_id

        name, r = call(node, SHAREE, "Mailbox/get", {"accountId": own_id})
        assert name == "Mailbox/get", r
        assert [b["name"] for b in r["list"]] == ["INBOX"]
        rights = r["list"][0]["myRights"]
        assert rights["mayReadItems"] and rights["maySetSeen"]
        assert not rights["mayRemoveItems"] and not rights["mayAddItems"]
        assert not rights["maySetKeywords"] and not rights["mayDelete"]
        assert r["list"][0]["totalEmails"] == 1

        name, r = call(node, SHAREE, "Email/get",
                       {"accountId": own_id, "ids": None, "properties": ["subject", "mailboxIds"]})
        assert name == "Email/get", r
        assert [e["subject"] for e in r["list"]] == ["shared one"]
        # The owner's private message is notFound for the sharee.
        _, mine = call(node, OWNER, "Email/get", {"accountId": own_id, "ids": None,
                                                 "properties": ["subject"]})
        private = [e["id"] for e in mine["list"] if e["subject"] == "private"]
        name, r = call(node, SHAREE, "Email/get", {"accountId": own_id, "ids": private})
        assert r["notFound"] == private and r["list"] == []

        # Email/changes in the shared account: the owner's state.
        name, r = call(node, SHAREE, "Email/changes", {"accountId": own_id, "sinceState": "0"})
        assert name == "Email/changes", r
        assert private[0] not in r["created"]
        # A method that does not filter by the share refuses the account.
        name, r = call(node, SHAREE, "Email/query", {"accountId": own_id})
        assert name == "error" and r["type"] == "accountNotSupportedByMethod"

        # Another tenant never sees the account.
        assert call(node, ALIEN, "Mailbox/get", {"accountId": own_id})[1]["type"] == "accountNotFound"
        assert own_id not in session(node, ALIEN)["accounts"]

        # Revoked: the account is gone, as one that never existed.
        assert owner._simple_command("DELETEACL", "INBOX", SHAREE)[0] == "OK"
        wait_until(lambda: own_id not in session(node, SHAREE)["accounts"], timeout=20)
        assert call(node, SHAREE, "Mailbox/get", {"accountId": own_id})[1]["type"] == "accountNotFound"
    finally:
        owner.logout()
