"""JMAP Mailbox role and sortOrder, and stored Identities (RFC 8621 2, 6),
on a real evmaild over raw HTTP and a raw IMAP socket: a role and a
sortOrder set over JMAP show in IMAP LIST (RFC 6154 special-use
attributes); a special use set over IMAP (SETMETADATA /private/specialuse,
RFC 6154 4, and CREATE ... (USE (...)), RFC 6154 3) shows in Mailbox/get
and Mailbox/changes; an Identity is created, its signature updated, used
to submit a message, and destroyed; forbiddenFrom for another account's
address."""

import socket
import time

import pytest

from conftest import wait_until
from jmaplib import TIMEOUT, jmap_api, jmap_node, jmap_session

DOMAIN = "props.example"
USER = f"pia@{DOMAIN}"
OTHER = f"ole@{DOMAIN}"
PASSWORD = "props-test-pw"
USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail", "urn:ietf:params:jmap:submission"]


@pytest.fixture(scope="module")
def node(tmp_path_factory, binaries):
    n = jmap_node("jmapprops", tmp_path_factory, "propt", DOMAIN, (USER, OTHER), PASSWORD,
                  env={"EVMAIL_SMTP_HOSTNAME": "msa.props.example"})
    yield n
    n.kill9()


def api(node, calls, user=USER):
    return jmap_api(node, calls, user, PASSWORD, USING)


def account(node, user=USER):
    return jmap_session(node, user, PASSWORD)["primaryAccounts"]["urn:ietf:params:jmap:mail"]


class Imap:
    """A raw IMAP client: whole lines, reads through the tagged answer."""

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
        self.n += 1
        tag = b"t%d" % self.n
        self.sock.sendall(tag + b" " + line + b"\r\n")
        return self.read_through(tag + b" ")

    def close(self):
        self.sock.close()


def tagged(out):
    return out.rstrip(b"\r\n").rsplit(b"\r\n", 1)[-1]


def list_line(out, name):
    for line in out.split(b"\r\n"):
        if line.startswith(b"* LIST") and line.endswith(b' "' + name + b'"'):
            return line
        if line.startswith(b"* LIST") and line.endswith(b" " + name):
            return line
    return b""


def mailboxes(node, acct):
    r = api(node, [["Mailbox/get", {"accountId": acct}, "m"]])
    return {m["name"]: m for m in r[0][1]["list"]}, r[0][1]["state"]


def test_role_and_sort_order_jmap_to_imap(node):
    acct = account(node)
    boxes, _ = mailboxes(node, acct)
    sent = boxes["Sent"]["id"]
    r = api(node, [["Mailbox/set", {"accountId": acct, "create": {"o": {"name": "Outgoing", "sortOrder": 5}}}, "c"]])
    out_id = r[0][1]["created"]["o"]["id"]
    # The role moves from Sent to Outgoing (one mailbox per role).
    r = api(node, [["Mailbox/set", {"accountId": acct, "update": {out_id: {"role": "sent"}}}, "a"],
                   ["Mailbox/set", {"accountId": acct, "update": {sent: {"role": None}}}, "b"],
                   ["Mailbox/set", {"accountId": acct, "update": {out_id: {"role": "sent", "sortOrder": 2}}}, "c"]])
    assert r[0][1]["notUpdated"][out_id]["type"] == "invalidProperties"
    assert sent in r[1][1]["updated"] and out_id in r[2][1]["updated"], r
    boxes, _ = mailboxes(node, acct)
    assert boxes["Outgoing"]["role"] == "sent" and boxes["Outgoing"]["sortOrder"] == 2
    assert boxes["Sent"]["role"] is None
    r = api(node, [["Mailbox/query", {"accountId": acct, "filter": {"hasAnyRole": True},
                                      "sort": [{"property": "sortOrder", "isAscending": False}]}, "q"]])
    assert r[0][1]["ids"][0] == out_id
    # IMAP LIST shows the special use where JMAP put it.
    c = Imap(node)
    try:
        out = c.cmd(b'LIST "" "*" RETURN (SPECIAL-USE)')
        assert b"\\Sent" in list_line(out, b"Outgoing"), out
        assert b"\\Sent" not in list_line(out, b"Sent"), out
        out = c.cmd(b"GETMETADATA Outgoing /private/specialuse")
        assert b'/private/specialuse "\\\\Sent"' in out, out
    finally:
        c.close()


def test_special_use_imap_to_jmap(node):
    acct = account(node)
    boxes, state = mailboxes(node, acct)
    c = Imap(node)
    try:
        # CREATE ... (USE (...)) (RFC 6154 3).
        out = c.cmd(b"CREATE Everything (USE (\\All))")
        assert tagged(out).split()[1] == b"OK", out
        # SETMETADATA /private/specialuse (RFC 6154 4) on an existing one.
        assert b" OK " in c.cmd(b"CREATE Lists")
        out = c.cmd(b'SETMETADATA Lists (/private/specialuse "\\\\Flagged")')
        assert tagged(out).split()[1] == b"OK", out
        # One mailbox per special use; unknown ones are refused.
        out = c.cmd(b'SETMETADATA Lists (/private/specialuse "\\\\All")')
        assert b"NO [USEATTR]" in out, out
        out = c.cmd(b'SETMETADATA Lists (/private/specialuse "\\\\Important")')
        assert b"NO [USEATTR]" in out, out
        out = c.cmd(b'LIST "" "*"')
        assert b"\\Flagged" in list_line(out, b"Lists") and b"\\All" in list_line(out, b"Everything"), out
    finally:
        c.close()
    now, _ = mailboxes(node, acct)
    assert now["Lists"]["role"] == "flagged" and now["Everything"]["role"] == "all"
    r = api(node, [["Mailbox/changes", {"accountId": acct, "sinceState": state}, "c"]])
    ch = r[0][1]
    assert now["Everything"]["id"] in ch["created"] and now["Lists"]["id"] in ch["created"], ch
    # NIL clears it; JMAP and LIST follow.
    _, state = mailboxes(node, acct)
    c = Imap(node)
    try:
        out = c.cmd(b"SETMETADATA Lists (/private/specialuse NIL)")
        assert tagged(out).split()[1] == b"OK", out
    finally:
        c.close()
    now, _ = mailboxes(node, acct)
    assert now["Lists"]["role"] is None
    r = api(node, [["Mailbox/changes", {"accountId": acct, "sinceState": state}, "c"]])
    assert r[0][1]["updated"] == [now["Lists"]["id"]], r


def test_identities(node):
    acct = account(node)
    r = api(node, [["Identity/get", {"accountId": acct}, "g"]])
    state = r[0][1]["state"]
    default = r[0][1]["list"][0]
    assert default["email"] == USER and default["mayDelete"] is False
    r = api(node, [["Identity/set", {"accountId": acct, "create": {
        "n": {"email": USER, "name": "Pia at work", "textSignature": "-- Pia"},
        "x": {"email": OTHER}}}, "s"]])
    created = r[0][1]["created"]["n"]
    assert created["mayDelete"] is True
    assert r[0][1]["notCreated"]["x"]["type"] == "forbiddenFrom"
    r = api(node, [["Identity/set", {"accountId": acct, "update": {created["id"]: {"textSignature": "-- P."}}}, "u"],
                   ["Identity/set", {"accountId": acct, "destroy": [default["id"]]}, "d"],
                   ["Identity/get", {"accountId": acct, "ids": [created["id"]]}, "g"],
                   ["Identity/changes", {"accountId": acct, "sinceState": state}, "c"]])
    assert created["id"] in r[0][1]["updated"]
    assert r[1][1]["notDestroyed"][default["id"]]["type"] == "forbidden"
    assert r[2][1]["list"][0]["textSignature"] == "-- P."
    assert r[3][1]["created"] == [created["id"]]
    # Submit with the created identity: the message reaches the other account.
    boxes, _ = mailboxes(node, acct)
    draft = {"mailboxIds": {boxes["Drafts"]["id"]: True}, "keywords": {"$draft": True},
             "from": [{"email": USER}], "to": [{"email": OTHER}], "subject": "From a created identity",
             "bodyValues": {"b": {"value": "Hi."}}, "textBody": [{"partId": "b", "type": "text/plain"}]}
    r = api(node, [["Email/set", {"accountId": acct, "create": {"d": draft}}, "0"],
                   ["EmailSubmission/set", {"accountId": acct, "create": {
                       "s": {"identityId": created["id"], "emailId": "#d"}}}, "1"]])
    assert r[1][1]["created"]["s"]["undoStatus"] == "final", r
    c = Imap(node, OTHER)
    try:
        def arrived():
            out = c.cmd(b"STATUS INBOX (MESSAGES)")
            return b"MESSAGES 0" not in out
        wait_until(arrived, TIMEOUT, what="the message at the recipient")
    finally:
        c.close()
    r = api(node, [["Identity/set", {"accountId": acct, "destroy": [created["id"]]}, "d"],
                   ["Identity/get", {"accountId": acct, "ids": [created["id"]]}, "g"]])
    assert r[0][1]["destroyed"] == [created["id"]]
    assert r[1][1]["notFound"] == [created["id"]]
