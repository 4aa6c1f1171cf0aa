"""IMAP and JMAP on the same account agree, in both directions (issue 10,
"What must be proved"), on a real evmaild: flags <-> keywords, mailbox
create/rename/delete, moves and expunges/destroys. A change over IMAP
(imaplib) shows in JMAP's Email/get, Mailbox/get and Email/changes /
Mailbox/changes; a change over JMAP shows in a new IMAP session's FETCH
FLAGS and LIST, and as untagged FETCH/EXPUNGE in the NOOP or IDLE of a
session that had the mailbox selected before the change."""

import base64
import http.client
import imaplib
import json
import re
import smtplib
import socket
import time

import pytest

from conftest import assert_ok, free_port, wait_until

DOMAIN = "agree.example"
USER = f"ida@{DOMAIN}"
PASSWORD = "agree-test-pw"
USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"]
TIMEOUT = 20


@pytest.fixture(scope="module")
def node(tmp_path_factory, binaries):
    from conftest import Node
    n = Node("agree", tmp_path_factory.mktemp("agree"),
             env={"EVMAIL_HTTP_LISTEN": f"127.0.0.1:{free_port()}",
                  "EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "1",
                  "EVMAIL_SMTP_HOSTNAME": "mx1.evmail.test"})
    n.start(wait="ready")
    assert_ok(n.ctl("tenant", "create", "agreet"))
    assert_ok(n.ctl("domain", "add", DOMAIN, "--tenant", "agreet"))
    assert_ok(n.ctl("account", "add", USER, "--password-stdin", input=PASSWORD + "\n"))
    yield n
    n.kill9()


class Jmap:
    """A JMAP client over one keep-alive connection."""

    def __init__(self, node):
        host, port = node.env["EVMAIL_HTTP_LISTEN"].rsplit(":", 1)
        self.c = http.client.HTTPConnection(host, int(port), timeout=TIMEOUT)
        self.auth = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        self.c.request("GET", "/.well-known/jmap", headers={"Authorization": self.auth})
        r = self.c.getresponse()
        self.session = json.loads(r.read())
        self.acct = self.session["primaryAccounts"]["urn:ietf:params:jmap:mail"]

    def calls(self, *calls):
        body = json.dumps({"using": USING, "methodCalls": [
            [name, dict(args, accountId=self.acct), str(i)]
            for i, (name, args) in enumerate(calls)]})
        self.c.request("POST", "/jmap/api/", body=body,
                       headers={"Authorization": self.auth, "Content-Type": "application/json"})
        r = self.c.getresponse()
        data = r.read()
        assert r.status == 200, data
        out = []
        for name, args, _ in json.loads(data)["methodResponses"]:
            assert name != "error", args
            out.append(args)
        return out

    def call(self, name, args=None):
        return self.calls((name, args or {}))[0]

    def mailboxes(self):
        """{name path ("A/B"): Mailbox object}."""
        boxes = self.call("Mailbox/get")["list"]
        by_id = {m["id"]: m for m in boxes}

        def path(m):
            return m["name"] if m["parentId"] is None else path(by_id[m["parentId"]]) + "/" + m["name"]
        return {path(m): m for m in boxes}

    def role(self, role):
        return [m for m in self.call("Mailbox/get")["list"] if m["role"] == role][0]["id"]

    def state(self, typ):
        return self.call(f"{typ}/get", {"ids": []})["state"]

    def changes(self, typ, since):
        return self.call(f"{typ}/changes", {"sinceState": since})

    def by_subject(self, subject):
        return self.call("Email/query", {"filter": {"subject": subject}})["ids"]

    def email(self, eid, props=("keywords", "mailboxIds")):
        got = self.call("Email/get", {"ids": [eid], "properties": list(props)})
        return got["list"][0] if got["list"] else None

    def close(self):
        self.c.close()


@pytest.fixture
def jmap(node):
    j = Jmap(node)
    yield j
    j.close()


def imap(node):
    m = imaplib.IMAP4("127.0.0.1", node.imap_port, timeout=TIMEOUT)
    m.login(USER, PASSWORD)
    return m


def deliver(node, subject):
    msg = (f"From: Bob <bob@sender.example>\r\nTo: {USER}\r\nSubject: {subject}\r\n"
           f"Message-ID: <{time.monotonic_ns()}@sender.example>\r\n\r\nHello.\r\n")
    with smtplib.SMTP("127.0.0.1", node.smtp_port, local_hostname="client.example",
                      timeout=60) as s:
        s.sendmail("bob@sender.example", [USER], msg.encode())


def delivered(node, jmap, subject):
    """Delivers one message and waits until JMAP finds it: its id."""
    deliver(node, subject)
    ids = wait_until(lambda: jmap.by_subject(subject), TIMEOUT, what=f"email {subject!r}")
    assert len(ids) == 1
    return ids[0]


def uid_of(m, subject):
    typ, data = m.uid("SEARCH", None, "HEADER", "Subject", f'"{subject}"')
    assert typ == "OK"
    uids = data[0].split()
    assert len(uids) == 1, data
    return uids[0].decode()


def flags_of(m, uid):
    typ, data = m.uid("FETCH", uid, "(FLAGS)")
    assert typ == "OK" and data[0] is not None, data
    flags = set(re.search(rb"FLAGS \(([^)]*)\)", data[0]).group(1).decode().split())
    return flags - {"\\Recent"}   # IMAP's session flag, no keyword


def untagged_after_noop(m, pred, what):
    """NOOPs until the untagged answers gathered satisfy pred: the lines."""
    lines = []

    def poll():
        typ, _ = m.noop()
        assert typ == "OK"
        for kind in ("FETCH", "EXPUNGE", "EXISTS"):
            for d in m.untagged_responses.pop(kind, []):
                lines.append((kind, d if isinstance(d, bytes) else d[0] if isinstance(d, tuple) else d))
        return pred(lines)
    wait_until(poll, TIMEOUT, interval=0.2, what=what, diag=lambda: f"untagged: {lines!r}")
    return lines


class Idle:
    """RFC 2177 IDLE on an imaplib connection (imaplib has none before
    3.14): the untagged lines are read raw until a predicate holds."""

    def __init__(self, m):
        self.m = m
        self.tag = m._new_tag()
        m.send(self.tag + b" IDLE\r\n")
        line = m.readline()
        assert line.startswith(b"+"), line
        self.lines = []

    def wait(self, pred, what):
        # A timed-out read leaves the socket's file unusable: the whole wait
        # is one deadline, and running past it fails the test.
        deadline = time.monotonic() + TIMEOUT
        try:
            while not pred(self.lines):
                self.m.sock.settimeout(max(0.1, deadline - time.monotonic()))
                try:
                    line = self.m.readline()
                except (socket.timeout, TimeoutError):
                    pytest.fail(f"IDLE: no {what}; got {self.lines!r}")
                assert line, "connection closed during IDLE"
                self.lines.append(line.rstrip(b"\r\n"))
        finally:
            self.m.sock.settimeout(TIMEOUT)
        return self.lines

    def done(self):
        self.m.send(b"DONE\r\n")
        while True:
            line = self.m.readline()
            assert line, "connection closed after DONE"
            if line.startswith(self.tag):
                assert b" OK" in line, line
                return
            self.lines.append(line.rstrip(b"\r\n"))


# -- flags <-> keywords ------------------------------------------------------

def unread_in(jmap, mailbox):
    return jmap.call("Mailbox/get", {"ids": [mailbox]})["list"][0]["unreadEmails"]


def test_flags_imap_to_jmap(node, jmap):
    eid = delivered(node, jmap, "agree flags imap")
    since = jmap.state("Email")
    m = imap(node)
    try:
        m.select("INBOX")
        uid = uid_of(m, "agree flags imap")
        assert m.uid("STORE", uid, "+FLAGS", r"(\Seen \Flagged \Answered $Forwarded Work)")[0] == "OK"
        wait_until(lambda: jmap.email(eid)["keywords"] == {
            "$seen": True, "$flagged": True, "$answered": True, "$forwarded": True, "work": True},
            TIMEOUT, what="keywords from IMAP")
        ch = jmap.changes("Email", since)
        assert ch["updated"] == [eid] and not ch["created"] and not ch["destroyed"]
        assert m.uid("STORE", uid, "-FLAGS", r"(\Seen Work)")[0] == "OK"
        wait_until(lambda: jmap.email(eid)["keywords"] == {
            "$flagged": True, "$answered": True, "$forwarded": True},
            TIMEOUT, what="keywords removed over IMAP")
        unread = unread_in(jmap, jmap.role("inbox"))
        # \Draft is $draft; \Deleted has no keyword (RFC 8621 4.1.1); a
        # draft is not unread (RFC 8621 2, unreadEmails).
        assert m.uid("STORE", uid, "FLAGS", r"(\Draft \Deleted)")[0] == "OK"
        wait_until(lambda: jmap.email(eid)["keywords"] == {"$draft": True},
                   TIMEOUT, what="FLAGS replaced over IMAP")
        assert unread_in(jmap, jmap.role("inbox")) == unread - 1
        assert m.uid("STORE", uid, "FLAGS", r"(\Seen)")[0] == "OK"
        wait_until(lambda: jmap.email(eid)["keywords"] == {"$seen": True},
                   TIMEOUT, what="FLAGS replaced over IMAP")
        assert unread_in(jmap, jmap.role("inbox")) == unread - 1
    finally:
        m.logout()


def test_flags_jmap_to_imap(node, jmap):
    eid = delivered(node, jmap, "agree flags jmap")
    watcher = imap(node)
    try:
        watcher.select("INBOX")
        uid = uid_of(watcher, "agree flags jmap")
        assert flags_of(watcher, uid) == set()
        jmap.call("Email/set", {"update": {eid: {
            "keywords/$seen": True, "keywords/$flagged": True, "keywords/project-x": True}}})
        # The session that had INBOX selected is told in its next NOOP.
        lines = untagged_after_noop(watcher, lambda ls: any(
            b"FLAGS" in d and b"\\Flagged" in d for _, d in ls), "untagged FETCH FLAGS")
        fetch = [d for k, d in lines if k == "FETCH" and b"FLAGS" in d][-1]
        assert b"\\Seen" in fetch and b"project-x" in fetch, fetch
        # A new session reads the same flags.
        m = imap(node)
        m.select("INBOX", readonly=True)
        assert flags_of(m, uid) == {"\\Seen", "\\Flagged", "project-x"}
        m.logout()
        # Replacing the keywords over JMAP: an IDLEing session sees it.
        idle = Idle(watcher)
        jmap.call("Email/set", {"update": {eid: {"keywords": {"$answered": True}}}})
        got = idle.wait(lambda ls: any(b"FETCH" in x and b"\\Answered" in x for x in ls),
                        "untagged FETCH with \\Answered")
        idle.done()
        line = [x for x in got if b"\\Answered" in x][-1]
        assert b"\\Seen" not in line and b"\\Flagged" not in line, line
        assert flags_of(watcher, uid) == {"\\Answered"}
    finally:
        watcher.logout()


# -- mailboxes -----------------------------------------------------------------

def imap_list(m):
    typ, data = m.list()
    assert typ == "OK"
    names = set()
    for d in data:
        mm = re.match(rb'\((.*?)\) (?:"."|NIL) (.*)$', d)
        name = mm.group(2).decode()
        names.add(name[1:-1] if name.startswith('"') else name)
    return names


def test_mailboxes_imap_to_jmap(node, jmap):
    mb_since = jmap.state("Mailbox")
    m = imap(node)
    try:
        assert m.create("Agree")[0] == "OK"
        assert m.create("Agree/Sub")[0] == "OK"
        boxes = wait_until(lambda: (b := jmap.mailboxes()) and "Agree/Sub" in b and b,
                           TIMEOUT, what="IMAP-created mailboxes in JMAP")
        parent, sub = boxes["Agree"], boxes["Agree/Sub"]
        assert sub["parentId"] == parent["id"] and sub["totalEmails"] == 0
        ch = jmap.changes("Mailbox", mb_since)
        assert set(ch["created"]) >= {parent["id"], sub["id"]}
        mb_since = ch["newState"]
        # RENAME keeps the id; the child follows its parent.
        assert m.rename("Agree", "Agreed")[0] == "OK"
        boxes = wait_until(lambda: (b := jmap.mailboxes()) and "Agreed/Sub" in b and b,
                           TIMEOUT, what="IMAP rename in JMAP")
        assert boxes["Agreed"]["id"] == parent["id"] and boxes["Agreed/Sub"]["id"] == sub["id"]
        assert "Agree" not in boxes
        ch = jmap.changes("Mailbox", mb_since)
        assert parent["id"] in ch["updated"] and not ch["destroyed"]
        mb_since = ch["newState"]
        # DELETE.
        assert m.delete("Agreed/Sub")[0] == "OK"
        wait_until(lambda: "Agreed/Sub" not in jmap.mailboxes(), TIMEOUT,
                   what="IMAP delete in JMAP")
        ch = jmap.changes("Mailbox", mb_since)
        assert ch["destroyed"] == [sub["id"]]
        got = jmap.call("Mailbox/get", {"ids": [sub["id"]]})
        assert got["notFound"] == [sub["id"]]
    finally:
        m.logout()


def test_mailboxes_jmap_to_imap(node, jmap):
    archive = jmap.role("archive")
    names = {m["id"]: p for p, m in jmap.mailboxes().items()}
    r = jmap.call("Mailbox/set", {"create": {
        "a": {"name": "Travel", "parentId": None},
        "b": {"name": "2025", "parentId": "#a"}}})
    assert set(r["created"]) == {"a", "b"}, r
    a, b = r["created"]["a"]["id"], r["created"]["b"]["id"]
    m = imap(node)
    try:
        wait_until(lambda: {"Travel", "Travel/2025"} <= imap_list(m), TIMEOUT,
                   what="JMAP-created mailboxes in LIST")
        # Rename and move under the archive.
        jmap.call("Mailbox/set", {"update": {a: {"name": "Trips", "parentId": archive}}})
        want = f"{names[archive]}/Trips"
        wait_until(lambda: {want, f"{want}/2025"} <= imap_list(m), TIMEOUT,
                   what="JMAP rename in LIST")
        assert "Travel" not in imap_list(m)
        # A new message in it over IMAP APPEND shows in JMAP's counts.
        assert m.append(f"{want}/2025", None, None,
                        b"Subject: appended\r\nFrom: a@b.example\r\n\r\nx\r\n")[0] == "OK"
        wait_until(lambda: jmap.call("Mailbox/get", {"ids": [b]})["list"][0]["totalEmails"] == 1,
                   TIMEOUT, what="the appended message in JMAP's count")
        # Destroy: a mailbox with a child or emails is refused (RFC 8621 2.5).
        r = jmap.call("Mailbox/set", {"destroy": [a]})
        assert r["notDestroyed"][a]["type"] == "mailboxHasChild"
        r = jmap.call("Mailbox/set", {"destroy": [b]})
        assert r["notDestroyed"][b]["type"] == "mailboxHasEmail"
        r = jmap.call("Mailbox/set", {"destroy": [b], "onDestroyRemoveEmails": True})
        assert r["destroyed"] == [b]
        r = jmap.call("Mailbox/set", {"destroy": [a]})
        assert r["destroyed"] == [a]
        wait_until(lambda: not any(n.startswith(want) for n in imap_list(m)), TIMEOUT,
                   what="JMAP destroy in LIST")
        assert m.select(f"{want}/2025")[0] == "NO"
    finally:
        m.logout()


# -- moves -----------------------------------------------------------------

def test_move_imap_to_jmap(node, jmap):
    eid = delivered(node, jmap, "agree move imap")
    inbox, archive = jmap.role("inbox"), jmap.role("archive")
    names = {m["id"]: p for p, m in jmap.mailboxes().items()}
    since = jmap.state("Email")
    m = imap(node)
    try:
        m.select("INBOX")
        uid = uid_of(m, "agree move imap")
        assert m.uid("MOVE", uid, names[archive])[0] == "OK"
        # The same email (an id is its content), now in the archive only.
        wait_until(lambda: jmap.email(eid)["mailboxIds"] == {archive: True}, TIMEOUT,
                   what="the IMAP move in mailboxIds")
        ch = jmap.changes("Email", since)
        assert eid in ch["updated"] and not ch["destroyed"]
        q = jmap.call("Email/query", {"filter": {"inMailbox": inbox, "subject": "agree move imap"}})
        assert q["ids"] == []
        # COPY adds a mailbox.
        m.select(names[archive])
        uid = uid_of(m, "agree move imap")
        assert m.uid("COPY", uid, "INBOX")[0] == "OK"
        wait_until(lambda: jmap.email(eid)["mailboxIds"] == {archive: True, inbox: True},
                   TIMEOUT, what="the IMAP copy in mailboxIds")
    finally:
        m.logout()


def test_move_jmap_to_imap(node, jmap):
    eid = delivered(node, jmap, "agree move jmap")
    inbox, archive = jmap.role("inbox"), jmap.role("archive")
    names = {m["id"]: p for p, m in jmap.mailboxes().items()}
    watcher = imap(node)
    try:
        watcher.select("INBOX")
        uid_of(watcher, "agree move jmap")
        idle = Idle(watcher)
        jmap.call("Email/set", {"update": {eid: {"mailboxIds": {archive: True}}}})
        idle.wait(lambda ls: any(x.endswith(b" EXPUNGE") for x in ls), "untagged EXPUNGE")
        idle.done()
        typ, data = watcher.uid("SEARCH", None, "HEADER", "Subject", '"agree move jmap"')
        assert typ == "OK" and data[0].split() == []
        m = imap(node)
        m.select(names[archive], readonly=True)
        uid = uid_of(m, "agree move jmap")
        m.logout()
        assert uid
        # mailboxIds patch adding the inbox back: an untagged EXISTS on NOOP.
        jmap.call("Email/set", {"update": {eid: {f"mailboxIds/{inbox}": True}}})
        untagged_after_noop(watcher, lambda ls: any(k == "EXISTS" for k, _ in ls),
                            "untagged EXISTS")
        assert uid_of(watcher, "agree move jmap")
    finally:
        watcher.logout()


# -- expunge / destroy -------------------------------------------------------

def test_expunge_imap_to_jmap(node, jmap):
    eid = delivered(node, jmap, "agree expunge imap")
    since = jmap.state("Email")
    m = imap(node)
    try:
        m.select("INBOX")
        uid = uid_of(m, "agree expunge imap")
        assert m.uid("STORE", uid, "+FLAGS", r"(\Deleted)")[0] == "OK"
        assert m.uid("EXPUNGE", uid)[0] == "OK"   # RFC 4315: this one only
        wait_until(lambda: jmap.email(eid) is None, TIMEOUT, what="the IMAP expunge in JMAP")
        ch = jmap.changes("Email", since)
        assert ch["destroyed"] == [eid], ch
        assert jmap.call("Email/get", {"ids": [eid]})["notFound"] == [eid]
        assert jmap.by_subject("agree expunge imap") == []
    finally:
        m.logout()


def test_destroy_jmap_to_imap(node, jmap):
    eid = delivered(node, jmap, "agree destroy jmap")
    since = jmap.state("Email")
    watcher = imap(node)
    other = imap(node)
    try:
        watcher.select("INBOX")
        other.select("INBOX")
        uid_of(watcher, "agree destroy jmap")
        _, n = watcher.select("INBOX")
        before = int(n[0])
        idle = Idle(watcher)
        r = jmap.call("Email/set", {"destroy": [eid]})
        assert r["destroyed"] == [eid], r
        got = idle.wait(lambda ls: any(x.endswith(b" EXPUNGE") for x in ls), "untagged EXPUNGE")
        idle.done()
        assert len([x for x in got if x.endswith(b" EXPUNGE")]) == 1
        _, n = watcher.select("INBOX")
        assert int(n[0]) == before - 1
        # The other session learns it through NOOP; Email/changes agrees.
        untagged_after_noop(other, lambda ls: any(k == "EXPUNGE" for k, _ in ls),
                            "untagged EXPUNGE on NOOP")
        assert jmap.changes("Email", since)["destroyed"] == [eid]
    finally:
        watcher.logout()
        other.logout()
