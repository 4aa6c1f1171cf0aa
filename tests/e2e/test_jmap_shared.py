"""JMAP accounts shared by ACL (issue #10): an owner shares INBOX with a
sharee over IMAP SETACL; the sharee's Session lists the owner's account
(isPersonal false, Mail only), Mailbox/get shows only the shared mailbox
with myRights from the ACL, Email/get reads the shared message and not
one of an unshared mailbox, a method that does not filter by the share
refuses the account, and after the revoke the account is accountNotFound
like another tenant's. Then the writes: Email/set within the rights
granted (forbidden beyond them), Email/copy out of and into the shared
account (onSuccessDestroyOriginal, destroyFromIfInState), the blob of a
shared message downloads for the sharee and an unshared one is a 404, and
the sharee's EventSource carries the shared account's state changes,
from a share granted after it opened too. Email/set create and
Email/import into a mailbox shared with i (the owner reads the result),
Thread/changes and Email/queryChanges in the shared account; and
Identity/changes after an alias of the user is added."""

import imaplib
import json
import socket
import time

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
        # Email/query: the shared copies only, whatever the filter.
        name, r = call(node, SHAREE, "Email/query", {"accountId": own_id})
        assert name == "Email/query" and len(r["ids"]) == 1 and private[0] not in r["ids"], r
        name, r = call(node, SHAREE, "Email/query", {"accountId": own_id, "filter": {"text": "private"}})
        assert r["ids"] == [], r
        # Email/queryChanges: the shared copies only, as Email/query.
        name, r = call(node, SHAREE, "Email/queryChanges", {"accountId": own_id, "sinceQueryState": "0"})
        assert name == "Email/queryChanges", r
        shared_ids = call(node, SHAREE, "Email/query", {"accountId": own_id})[1]["ids"]
        assert [a["id"] for a in r["added"]] == shared_ids, r
        assert private[0] not in r["removed"], r
        # A method that does not filter by the share refuses the account.
        name, r = call(node, SHAREE, "Mailbox/query", {"accountId": own_id})
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


def email_by_subject(node, user, acct, subject):
    _, r = call(node, user, "Email/get", {"accountId": acct, "ids": None,
                                          "properties": ["subject", "keywords", "mailboxIds"]})
    return next((e for e in r.get("list", []) if e["subject"] == subject), None)


def inbox_of(node, user, acct):
    _, r = call(node, user, "Mailbox/get", {"accountId": acct, "ids": None})
    return next(b["id"] for b in r["list"] if b["role"] == "inbox")


def test_shared_set_copy_and_blobs(node):
    owner = imap(node, OWNER)
    try:
        for subject in ("set me", "take me"):
            assert owner.append("INBOX", None, None,
                                f"From: x@y.example\r\nSubject: {subject}\r\n\r\nBody.\r\n".encode())[0] == "OK"
        assert owner.create("Hidden")[0] == "OK"
        assert owner.append("Hidden", None, None,
                            b"From: x@y.example\r\nSubject: hidden\r\n\r\nSecret.\r\n")[0] == "OK"
        own_id = session(node, OWNER)["primaryAccounts"][MAIL]
        mine = session(node, SHAREE)["primaryAccounts"][MAIL]
        assert owner._simple_command("SETACL", "INBOX", SHAREE, "lrs")[0] == "OK"
        wait_until(lambda: own_id in session(node, SHAREE)["accounts"], timeout=20)
        shared = email_by_subject(node, SHAREE, own_id, "set me")
        assert shared is not None and "$seen" not in shared["keywords"]
        eid = shared["id"]

        # s: $seen may be set, and the owner sees it; w and t are missing.
        name, r = call(node, SHAREE, "Email/set", {"accountId": own_id,
                                                   "update": {eid: {"keywords/$seen": True}}})
        assert name == "Email/set" and eid in r["updated"], r
        assert "$seen" in email_by_subject(node, OWNER, own_id, "set me")["keywords"]
        name, r = call(node, SHAREE, "Email/set", {"accountId": own_id,
                                                   "update": {eid: {"keywords/$flagged": True}}})
        assert r["notUpdated"][eid]["type"] == "forbidden", r
        name, r = call(node, SHAREE, "Email/set", {"accountId": own_id, "destroy": [eid]})
        assert r["notDestroyed"][eid]["type"] == "forbidden", r
        # A mailbox of the owner that is not shared does not exist here.
        hidden_box = next(b["id"] for b in call(node, OWNER, "Mailbox/get",
                                                {"accountId": own_id})[1]["list"] if b["name"] == "Hidden")
        name, r = call(node, SHAREE, "Email/set", {"accountId": own_id, "update": {
            eid: {f"mailboxIds/{hidden_box}": True}}})
        assert r["notUpdated"][eid]["type"] == "invalidProperties", r
        # A copy in the unshared mailbox, flagged there: invisible to the
        # sharee (keywords and mailboxIds come from the shared copies only).
        owner.select("INBOX")
        uid = owner.uid("SEARCH", None, 'SUBJECT "set me"')[1][0].split()[-1]
        assert owner.uid("COPY", uid, "Hidden")[0] == "OK"
        owner.select("Hidden")
        huid = owner.uid("SEARCH", None, 'SUBJECT "set me"')[1][0].split()[-1]
        assert owner.uid("STORE", huid, "+FLAGS", "(\\Flagged)")[0] == "OK"
        assert email_by_subject(node, OWNER, own_id, "set me")["keywords"].get("$flagged")
        seen_by_sharee = email_by_subject(node, SHAREE, own_id, "set me")
        assert "$flagged" not in seen_by_sharee["keywords"], seen_by_sharee
        assert list(seen_by_sharee["mailboxIds"]) == [inbox_of(node, SHAREE, own_id)]
        # Thread/get: the thread's emails in shared mailboxes only.
        _, r = call(node, SHAREE, "Email/get", {"accountId": own_id, "ids": [eid], "properties": ["threadId"]})
        tid = r["list"][0]["threadId"]
        name, r = call(node, SHAREE, "Thread/get", {"accountId": own_id, "ids": [tid]})
        assert name == "Thread/get" and r["list"][0]["emailIds"] == [eid], r
        _, r = call(node, OWNER, "Email/get", {"accountId": own_id, "ids": None, "properties": ["subject", "threadId"]})
        hidden_tid = next(e["threadId"] for e in r["list"] if e["subject"] == "hidden")
        _, r = call(node, SHAREE, "Thread/get", {"accountId": own_id, "ids": [hidden_tid]})
        assert r["notFound"] == [hidden_tid], r
        # Creating needs i, which lrs does not grant.
        name, r = call(node, SHAREE, "Email/set", {"accountId": own_id, "create": {
            "k": {"mailboxIds": {inbox_of(node, SHAREE, own_id): True}, "subject": "x"}}})
        assert r["notCreated"]["k"]["type"] == "forbidden", r

        # The shared message's blob downloads for the sharee; the hidden
        # one's is a 404 like a blob that does not exist.
        status, _, data = request(node, "GET", f"/jmap/download/{own_id}/m{eid}/m.eml", user=SHAREE)
        assert status == 200 and b"Subject: set me" in data
        hidden = email_by_subject(node, OWNER, own_id, "hidden")["id"]
        assert request(node, "GET", f"/jmap/download/{own_id}/m{hidden}/m.eml", user=SHAREE)[0] == 404
        assert request(node, "GET", f"/jmap/download/{own_id}/m{eid}/m.eml", user=ALIEN)[0] == 404

        # Email/copy into the sharee's own INBOX: the same content, the
        # original's keywords; a second copy already exists.
        my_inbox = inbox_of(node, SHAREE, mine)
        name, r = call(node, SHAREE, "Email/copy", {"fromAccountId": own_id, "accountId": mine,
                                                    "create": {"c1": {"id": eid,
                                                                      "mailboxIds": {my_inbox: True}}}})
        assert name == "Email/copy" and r["created"]["c1"]["id"] == eid, r
        assert r["fromAccountId"] == own_id and r["accountId"] == mine
        copy = email_by_subject(node, SHAREE, mine, "set me")
        assert copy is not None and copy["keywords"].get("$seen") and my_inbox in copy["mailboxIds"]
        _, r = call(node, SHAREE, "Email/copy", {"fromAccountId": own_id, "accountId": mine,
                                                 "create": {"c1": {"id": eid, "mailboxIds": {my_inbox: True}}}})
        assert r["notCreated"]["c1"]["type"] == "alreadyExists" and r["notCreated"]["c1"]["existingId"] == eid
        # The hidden message cannot be copied out.
        _, r = call(node, SHAREE, "Email/copy", {"fromAccountId": own_id, "accountId": mine,
                                                 "create": {"c2": {"id": hidden, "mailboxIds": {my_inbox: True}}}})
        assert r["notCreated"]["c2"]["type"] == "notFound", r
        # Into the shared account without i: forbidden.
        _, r = call(node, SHAREE, "Email/copy", {"fromAccountId": mine, "accountId": own_id, "create": {
            "c3": {"id": eid, "mailboxIds": {inbox_of(node, SHAREE, own_id): True}}}})
        assert r["notCreated"]["c3"]["type"] == "forbidden", r

        # With t and e: a move out (copy + destroy of the original).
        assert owner._simple_command("SETACL", "INBOX", SHAREE, "lrste")[0] == "OK"
        take = email_by_subject(node, SHAREE, own_id, "take me")["id"]
        # destroyFromIfInState that is stale: copied, not destroyed.
        status, _, resp = api(node, [["Email/copy", {
            "fromAccountId": own_id, "accountId": mine, "onSuccessDestroyOriginal": True,
            "destroyFromIfInState": "1", "create": {"m": {"id": take, "mailboxIds": {my_inbox: True}}}}, "c"]],
            user=SHAREE)
        out = resp["methodResponses"]
        assert out[0][0] == "Email/copy" and out[0][1]["created"]["m"]["id"] == take, out
        assert out[1][0] == "error" and out[1][1]["type"] == "stateMismatch", out
        assert email_by_subject(node, OWNER, own_id, "take me") is not None
        # Destroy in the shared account, now allowed.
        name, r = call(node, SHAREE, "Email/set", {"accountId": own_id, "destroy": [take]})
        assert r["destroyed"] == [take], r
        assert email_by_subject(node, OWNER, own_id, "take me") is None
        assert email_by_subject(node, SHAREE, mine, "take me") is not None
    finally:
        owner._simple_command("DELETEACL", "INBOX", SHAREE)
        owner.logout()


def test_copy_with_destroy_original(node):
    owner = imap(node, OWNER)
    try:
        assert owner.append("INBOX", None, None,
                            b"From: x@y.example\r\nSubject: moved out\r\n\r\nGo.\r\n")[0] == "OK"
        own_id = session(node, OWNER)["primaryAccounts"][MAIL]
        mine = session(node, SHAREE)["primaryAccounts"][MAIL]
        assert owner._simple_command("SETACL", "INBOX", SHAREE, "lrstei")[0] == "OK"
        wait_until(lambda: own_id in session(node, SHAREE)["accounts"], timeout=20)
        eid = email_by_subject(node, SHAREE, own_id, "moved out")["id"]
        my_inbox = inbox_of(node, SHAREE, mine)
        status, _, resp = api(node, [["Email/copy", {
            "fromAccountId": own_id, "accountId": mine, "onSuccessDestroyOriginal": True,
            "create": {"m": {"id": eid, "mailboxIds": {my_inbox: True},
                             "keywords": {"$flagged": True}}}}, "c"]], user=SHAREE)
        out = resp["methodResponses"]
        assert [o[0] for o in out] == ["Email/copy", "Email/set"], out
        assert out[1][1]["accountId"] == own_id and out[1][1]["destroyed"] == [eid], out
        assert email_by_subject(node, OWNER, own_id, "moved out") is None
        assert email_by_subject(node, SHAREE, mine, "moved out")["keywords"] == {"$flagged": True}

        # The reverse with i: the sharee's own message into the owner's
        # INBOX; its $flagged would need w, so without keywords only.
        shared_inbox = inbox_of(node, SHAREE, own_id)
        name, r = call(node, SHAREE, "Email/copy", {"fromAccountId": mine, "accountId": own_id, "create": {
            "b": {"id": eid, "mailboxIds": {shared_inbox: True}}}})
        assert r["notCreated"]["b"]["type"] == "forbidden", r
        name, r = call(node, SHAREE, "Email/copy", {"fromAccountId": mine, "accountId": own_id, "create": {
            "b": {"id": eid, "mailboxIds": {shared_inbox: True}, "keywords": {}}}})
        assert name == "Email/copy" and r["created"]["b"]["id"] == eid, r
        assert email_by_subject(node, OWNER, own_id, "moved out") is not None
        # The same id in one account is invalidArguments.
        name, r = call(node, SHAREE, "Email/copy", {"fromAccountId": mine, "accountId": mine, "create": {
            "x": {"id": eid, "mailboxIds": {my_inbox: True}}}})
        assert name == "error" and r["type"] == "invalidArguments"
    finally:
        owner._simple_command("DELETEACL", "INBOX", SHAREE)
        owner.logout()


def test_push_of_shared_account(node):
    from test_jmap import read_events
    owner = imap(node, OWNER)
    s = None
    try:
        own_id = session(node, OWNER)["primaryAccounts"][MAIL]
        assert owner._simple_command("SETACL", "INBOX", SHAREE, "lr")[0] == "OK"
        wait_until(lambda: own_id in session(node, SHAREE)["accounts"], timeout=20)
        s, events = sharee_eventsource(node)
        first = json.loads(events[0][1].split(b"\r\n")[0])
        before = first["changed"][own_id]
        assert set(before) == {"Mailbox", "Email", "Thread"}, before
        # A message in the owner's shared INBOX reaches the sharee's stream
        # as a state change of the owner's account.
        assert owner.append("INBOX", None, None,
                            b"From: x@y.example\r\nSubject: pushed to sharee\r\n\r\nHi.\r\n")[0] == "OK"
        events, _ = read_events(s, 1, time.monotonic() + 30)
        assert events, "no StateChange after a change in the shared mailbox"
        change = json.loads(events[0][1].split(b"\r\n")[0])
        assert change["changed"][own_id]["Email"] != before["Email"], change
    finally:
        if s is not None:
            s.close()
        owner._simple_command("DELETEACL", "INBOX", SHAREE)
        owner.logout()


def test_websocket_push_of_shared_account(node):
    websockets = pytest.importorskip("websockets")  # noqa: F841 (the client below)
    import asyncio
    from test_jmap_ws import connect, recv_json
    owner = imap(node, OWNER)
    try:
        own_id = session(node, OWNER)["primaryAccounts"][MAIL]
        assert owner._simple_command("SETACL", "INBOX", SHAREE, "lr")[0] == "OK"
        wait_until(lambda: own_id in session(node, SHAREE)["accounts"], timeout=20)
        before = call(node, SHAREE, "Email/get", {"accountId": own_id, "ids": []})[1]["state"]

        async def main():
            async with connect(node, headers={"Authorization": auth(SHAREE, PASSWORD)}) as ws:
                await ws.send(json.dumps({"@type": "WebSocketPushEnable", "dataTypes": ["Email"]}))
                await asyncio.get_running_loop().run_in_executor(None, lambda: owner.append(
                    "INBOX", None, None, b"From: x@y.example\r\nSubject: ws shared\r\n\r\nHi.\r\n"))
                change = await recv_json(ws)
                while own_id not in change.get("changed", {}):
                    change = await recv_json(ws)
                return change
        change = asyncio.run(asyncio.wait_for(main(), 60))
        assert change["@type"] == "StateChange"
        assert set(change["changed"][own_id]) == {"Email"}
        assert change["changed"][own_id]["Email"] != before
    finally:
        owner._simple_command("DELETEACL", "INBOX", SHAREE)
        owner.logout()


def test_create_and_import_in_shared_account(node):
    owner = imap(node, OWNER)
    try:
        assert owner.append("INBOX", None, None,
                            b"From: x@y.example\r\nSubject: before create\r\n\r\nHi.\r\n")[0] == "OK"
        own_id = session(node, OWNER)["primaryAccounts"][MAIL]
        mine = session(node, SHAREE)["primaryAccounts"][MAIL]
        assert owner._simple_command("SETACL", "INBOX", SHAREE, "lrsi")[0] == "OK"
        wait_until(lambda: own_id in session(node, SHAREE)["accounts"], timeout=20)
        inbox = inbox_of(node, SHAREE, own_id)
        _, q = call(node, SHAREE, "Email/query", {"accountId": own_id})
        _, t = call(node, SHAREE, "Thread/get", {"accountId": own_id, "ids": []})

        # Email/set create with i and $seen (s): the owner holds it.
        name, r = call(node, SHAREE, "Email/set", {"accountId": own_id, "create": {"k": {
            "mailboxIds": {inbox: True}, "keywords": {"$seen": True}, "subject": "made by sharee",
            "from": [{"email": SHAREE}], "bodyValues": {"b": {"value": "Hello."}},
            "textBody": [{"partId": "b", "type": "text/plain"}]}}})
        assert name == "Email/set" and "k" in r["created"], r
        made = r["created"]["k"]
        got = email_by_subject(node, OWNER, own_id, "made by sharee")
        assert got is not None and got["id"] == made["id"] and got["keywords"] == {"$seen": True}
        status, _, data = request(node, "GET", f"/jmap/download/{own_id}/{made['blobId']}/m.eml", user=OWNER)
        assert status == 200 and b"Subject: made by sharee" in data
        # $flagged needs w; a mailbox not shared does not exist here.
        _, r = call(node, SHAREE, "Email/set", {"accountId": own_id, "create": {"f": {
            "mailboxIds": {inbox: True}, "keywords": {"$flagged": True}, "subject": "x"}}})
        assert r["notCreated"]["f"]["type"] == "forbidden", r
        assert owner.create("Closed")[0] == "OK"
        closed = next(b["id"] for b in call(node, OWNER, "Mailbox/get", {"accountId": own_id})[1]["list"]
                      if b["name"] == "Closed")
        _, r = call(node, SHAREE, "Email/set", {"accountId": own_id, "create": {"c": {
            "mailboxIds": {closed: True}, "subject": "x"}}})
        assert r["notCreated"]["c"]["type"] == "invalidProperties", r

        # Email/queryChanges and Thread/changes see the new email.
        name, r = call(node, SHAREE, "Email/queryChanges", {"accountId": own_id,
                                                          "sinceQueryState": q["queryState"]})
        assert name == "Email/queryChanges" and made["id"] in [a["id"] for a in r["added"]], r
        name, r = call(node, SHAREE, "Thread/changes", {"accountId": own_id, "sinceState": t["state"]})
        assert name == "Thread/changes" and made["threadId"] in r["created"], r
        # The owner's message in the closed mailbox shows in neither.
        assert owner.append("Closed", None, None,
                            b"From: x@y.example\r\nSubject: closed one\r\n\r\nNo.\r\n")[0] == "OK"
        hidden = email_by_subject(node, OWNER, own_id, "closed one")
        _, tr = call(node, OWNER, "Email/get", {"accountId": own_id, "ids": [hidden["id"]],
                                                "properties": ["threadId"]})
        name, r = call(node, SHAREE, "Thread/changes", {"accountId": own_id, "sinceState": t["state"]})
        assert tr["list"][0]["threadId"] not in r["created"] + r["updated"] + r["destroyed"], r
        name, r = call(node, SHAREE, "Email/queryChanges", {"accountId": own_id,
                                                          "sinceQueryState": q["queryState"]})
        assert hidden["id"] not in r["removed"] + [a["id"] for a in r["added"]], r

        # Email/import of the sharee's own upload into the shared INBOX.
        raw = b"From: x@y.example\r\nSubject: imported by sharee\r\n\r\nUp.\r\n"
        status, _, data = request(node, "POST", f"/jmap/upload/{mine}/", raw,
                                  {"Content-Type": "message/rfc822"}, user=SHAREE)
        assert status == 201, data
        blob = json.loads(data)["blobId"]
        name, r = call(node, SHAREE, "Email/import", {"accountId": own_id, "emails": {
            "i": {"blobId": blob, "mailboxIds": {inbox: True}}}})
        assert name == "Email/import" and "i" in r["created"], r
        imported = r["created"]["i"]
        assert email_by_subject(node, OWNER, own_id, "imported by sharee")["id"] == imported["id"]
        status, _, data = request(node, "GET", f"/jmap/download/{own_id}/{imported['blobId']}/m.eml", user=OWNER)
        assert status == 200 and data == raw
        _, r = call(node, SHAREE, "Email/import", {"accountId": own_id, "emails": {
            "i": {"blobId": blob, "mailboxIds": {inbox: True}}}})
        assert r["notCreated"]["i"]["type"] == "alreadyExists", r
        # Without i: forbidden, nothing written.
        assert owner._simple_command("SETACL", "INBOX", SHAREE, "lrs")[0] == "OK"
        raw2 = b"From: x@y.example\r\nSubject: not imported\r\n\r\nNo.\r\n"
        status, _, data = request(node, "POST", f"/jmap/upload/{mine}/", raw2,
                                  {"Content-Type": "message/rfc822"}, user=SHAREE)
        _, r = call(node, SHAREE, "Email/import", {"accountId": own_id, "emails": {
            "j": {"blobId": json.loads(data)["blobId"], "mailboxIds": {inbox: True}}}})
        assert r["notCreated"]["j"]["type"] == "forbidden", r
        assert email_by_subject(node, OWNER, own_id, "not imported") is None
    finally:
        owner._simple_command("DELETEACL", "INBOX", SHAREE)
        owner.logout()


def sharee_eventsource(node):
    """The sharee's JMAP EventSource (RFC 8620 7.3), connected: the socket
    and its first events (the initial state)."""
    from test_jmap import hostport, read_events
    s = socket.create_connection(hostport(node), timeout=1)
    s.sendall(f"GET /jmap/eventsource/?types=*&closeafter=no&ping=0 HTTP/1.1\r\nHost: x\r\n"
              f"Authorization: {auth(SHAREE, PASSWORD)}\r\nAccept: text/event-stream\r\n\r\n".encode())
    events, _ = read_events(s, 1, time.monotonic() + 30)
    assert events and events[0][0] == "state", events
    return s, events


def test_push_of_share_granted_later(node):
    from test_jmap import read_events
    owner = imap(node, OWNER)
    s = None
    try:
        own_id = session(node, OWNER)["primaryAccounts"][MAIL]
        assert own_id not in session(node, SHAREE)["accounts"]
        s, events = sharee_eventsource(node)
        assert own_id not in json.loads(events[0][1].split(b"\r\n")[0])["changed"]
        # The grant alone (no change of the sharee's own) reaches the stream.
        assert owner._simple_command("SETACL", "INBOX", SHAREE, "lr")[0] == "OK"
        events, _ = read_events(s, 1, time.monotonic() + 30)
        assert events, "no StateChange after the grant"
        change = json.loads(events[0][1].split(b"\r\n")[0])
        assert set(change["changed"][own_id]) == {"Mailbox", "Email", "Thread"}, change
    finally:
        if s is not None:
            s.close()
        owner._simple_command("DELETEACL", "INBOX", SHAREE)
        owner.logout()


def test_identity_changes_after_alias(node):
    mine = session(node, SHAREE)["primaryAccounts"][MAIL]
    sub = "urn:ietf:params:jmap:submission"
    using = ["urn:ietf:params:jmap:core", MAIL, sub]
    _, _, r = api(node, [["Identity/get", {"accountId": mine}, "g"]], using=using, user=SHAREE)
    before = r["methodResponses"][0][1]
    assert [i["email"] for i in before["list"]] == [SHAREE], before
    assert_ok(node.ctl("alias", "add", f"desk@{DOMAIN}", SHAREE))
    wait_until(lambda: len(api(node, [["Identity/get", {"accountId": mine}, "g"]], using=using,
                               user=SHAREE)[2]["methodResponses"][0][1]["list"]) == 2, timeout=20)
    _, _, r = api(node, [["Identity/get", {"accountId": mine}, "g"],
                         ["Identity/changes", {"accountId": mine, "sinceState": before["state"]}, "c"]],
                  using=using, user=SHAREE)
    got, changes = r["methodResponses"][0][1], r["methodResponses"][1]
    assert got["state"] != before["state"]
    # RFC 8620 5.2: the derived defaults changed; the client fetches again.
    assert changes[0] == "error" and changes[1]["type"] == "cannotCalculateChanges", changes
    _, _, r = api(node, [["Identity/changes", {"accountId": mine, "sinceState": got["state"]}, "c"]],
                  using=using, user=SHAREE)
    assert r["methodResponses"][0][0] == "Identity/changes", r
    assert r["methodResponses"][0][1]["newState"] == got["state"]


def test_anyone_and_negative_my_rights(node):
    """RFC 8621 2 myRights from the effective rights (RFC 4314 2): a grant
    to anyone reaches every account of the owner's tenant and none of
    another; a negative entry takes rights away."""
    owner2 = f"anyo@{DOMAIN}"
    assert_ok(node.ctl("account", "add", owner2, "--password-stdin", input=PASSWORD + "\n"))
    owner = imap(node, owner2)
    try:
        own_id = session(node, owner2)["primaryAccounts"][MAIL]
        assert owner._simple_command("SETACL", "INBOX", "anyone", "lri")[0] == "OK"
        for user in (SHAREE, OWNER):
            s = session(node, user)
            assert own_id in s["accounts"], (user, s["accounts"])
            _, r = call(node, user, "Mailbox/get", {"accountId": own_id})
            rights = r["list"][0]["myRights"]
            assert rights["mayReadItems"] and rights["mayAddItems"], rights
            assert not rights["maySetSeen"] and not rights["mayDelete"], rights
        assert own_id not in session(node, ALIEN)["accounts"]
        assert call(node, ALIEN, "Mailbox/get", {"accountId": own_id})[1]["type"] == "accountNotFound"
        # -sharee i: still readable, no longer mayAddItems
        assert owner._simple_command("SETACL", "INBOX", f"-{SHAREE}", "i")[0] == "OK"
        _, r = call(node, SHAREE, "Mailbox/get", {"accountId": own_id})
        rights = r["list"][0]["myRights"]
        assert rights["mayReadItems"] and not rights["mayAddItems"], rights
        _, r = call(node, OWNER, "Mailbox/get", {"accountId": own_id})
        assert r["list"][0]["myRights"]["mayAddItems"], r
        # -sharee r: the account is gone for the sharee only
        assert owner._simple_command("SETACL", "INBOX", f"-{SHAREE}", "r")[0] == "OK"
        wait_until(lambda: own_id not in session(node, SHAREE)["accounts"], timeout=20)
        assert own_id in session(node, OWNER)["accounts"]
    finally:
        owner._simple_command("DELETEACL", "INBOX", "anyone")
        owner._simple_command("DELETEACL", "INBOX", f"-{SHAREE}")
        owner.logout()


def test_push_of_share_with_anyone(node):
    """A grant to anyone reports no sharee's account changed; the push
    learns of it through the tenant's anyone channel (mail_acl.h)."""
    from test_jmap import read_events
    owner3 = f"anyone3@{DOMAIN}"
    assert_ok(node.ctl("account", "add", owner3, "--password-stdin", input=PASSWORD + "\n"))
    owner = imap(node, owner3)
    s = None
    try:
        own_id = session(node, owner3)["primaryAccounts"][MAIL]
        assert own_id not in session(node, SHAREE)["accounts"]
        s, events = sharee_eventsource(node)
        assert owner._simple_command("SETACL", "INBOX", "anyone", "lr")[0] == "OK"
        events, _ = read_events(s, 1, time.monotonic() + 30)
        assert events, "no StateChange after the grant to anyone"
        change = json.loads(events[0][1].split(b"\r\n")[0])
        assert set(change["changed"][own_id]) == {"Mailbox", "Email", "Thread"}, change
    finally:
        if s is not None:
            s.close()
        owner._simple_command("DELETEACL", "INBOX", "anyone")
        owner.logout()
