"""JMAP (RFC 8620, RFC 8621) on a real evmaild with http.listen set, over
raw HTTP with Python's http.client: the Session resource behind Basic
authentication (401 without it), the API endpoint with request-level
errors (notJSON, unknownCapability) and method-level ones (unknownMethod,
accountNotFound), Mailbox/get, Email/changes after a delivery over SMTP,
an IMAP flag change seen as a JMAP change, and EventSource push: a
delivery reaches an open stream as a StateChange, closeafter=state ends
the answer, and a bad parameter is a 400."""

import base64
import http.client
import imaplib
import json
import smtplib
import socket
import time

import pytest

from conftest import assert_ok, free_port, wait_until

DOMAIN = "jmap.example"
USER = f"jo@{DOMAIN}"
OTHER = f"ann@{DOMAIN}"
PASSWORD = "jmap-test-pw"
USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"]
TIMEOUT = 20


@pytest.fixture(scope="module")
def node(request, tmp_path_factory, binaries):
    from conftest import Node
    n = Node("jmap", tmp_path_factory.mktemp("jmap"),
             env={"EVMAIL_HTTP_LISTEN": f"127.0.0.1:{free_port()}",
                  "EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "1",
                  "EVMAIL_SMTP_HOSTNAME": "mx1.evmail.test"})
    n.start(wait="ready")
    assert_ok(n.ctl("tenant", "create", "jmapt"))
    assert_ok(n.ctl("domain", "add", DOMAIN, "--tenant", "jmapt"))
    for u in (USER, OTHER):
        assert_ok(n.ctl("account", "add", u, "--password-stdin", input=PASSWORD + "\n"))
    yield n
    n.kill9()


def hostport(node):
    host, port = node.env["EVMAIL_HTTP_LISTEN"].rsplit(":", 1)
    return host, int(port)


def auth(user=USER, password=PASSWORD):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def request(node, method, path, body=None, headers=None, user=USER, conn=None):
    c = conn or http.client.HTTPConnection(*hostport(node), timeout=TIMEOUT)
    h = {"Authorization": auth(user)} if user else {}
    h.update(headers or {})
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    if conn is None:
        c.close()
    return r.status, dict(r.getheaders()), data


def session(node, user=USER):
    status, _, data = request(node, "GET", "/.well-known/jmap", user=user)
    assert status == 200, data
    return json.loads(data)


def api(node, calls, using=USING, user=USER):
    body = json.dumps({"using": using, "methodCalls": calls})
    status, headers, data = request(node, "POST", "/jmap/api/", body,
                                    {"Content-Type": "application/json"}, user=user)
    return status, headers, json.loads(data)


def account_id(node, user=USER):
    s = session(node, user)
    return s["primaryAccounts"]["urn:ietf:params:jmap:mail"]


def deliver(node, subject):
    msg = (f"From: Bob <bob@sender.example>\r\nTo: {USER}\r\nSubject: {subject}\r\n"
           f"Message-ID: <{time.monotonic_ns()}@sender.example>\r\n\r\nHello.\r\n")
    with smtplib.SMTP("127.0.0.1", node.smtp_port, local_hostname="client.example",
                      timeout=60) as s:
        s.sendmail("bob@sender.example", [USER], msg.encode())


def email_state(node, acct):
    _, _, r = api(node, [["Email/changes", {"accountId": acct, "sinceState": "0",
                                            "maxChanges": 1}, "c"]])
    return r["methodResponses"][0][1]


def test_session_and_auth(node):
    status, headers, _ = request(node, "GET", "/.well-known/jmap", user=None)
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Basic")
    status, _, _ = request(node, "GET", "/.well-known/jmap", user=USER,
                           headers={"Authorization": auth(USER, "wrong")})
    assert status == 401
    s = session(node)
    host, port = hostport(node)
    assert s["username"] == USER
    assert s["apiUrl"] == f"http://{host}:{port}/jmap/api/"
    assert "{blobId}" in s["downloadUrl"] and "{accountId}" in s["uploadUrl"]
    assert "urn:ietf:params:jmap:core" in s["capabilities"]
    acct = s["primaryAccounts"]["urn:ietf:params:jmap:mail"]
    assert s["accounts"][acct]["isPersonal"] is True
    # Another user's session names another account; the state is stable.
    assert account_id(node, OTHER) != acct
    assert session(node)["state"] == s["state"]


def test_request_errors(node):
    status, headers, data = request(node, "POST", "/jmap/api/", b"{not json",
                                    {"Content-Type": "application/json"})
    assert status == 400
    assert headers["Content-Type"].startswith("application/problem+json")
    assert json.loads(data)["type"] == "urn:ietf:params:jmap:error:notJSON"
    status, _, r = api(node, [], using=["urn:example:nothing"])
    assert status == 400 and r["type"] == "urn:ietf:params:jmap:error:unknownCapability"
    acct = account_id(node)
    status, _, r = api(node, [["Nope/get", {}, "a"],
                              ["Mailbox/get", {"accountId": account_id(node, OTHER)}, "b"],
                              ["Core/echo", {"x": 1}, "c"]])
    assert status == 200
    names = [m[0] for m in r["methodResponses"]]
    assert names == ["error", "error", "Core/echo"]
    assert r["methodResponses"][0][1]["type"] == "unknownMethod"
    # Another user's account is indistinguishable from a missing one.
    assert r["methodResponses"][1][1]["type"] == "accountNotFound"
    assert r["methodResponses"][2][1] == {"x": 1}
    assert acct


def test_mailboxes_and_changes(node):
    acct = account_id(node)
    deliver(node, "first")
    wait_until(lambda: email_state(node, acct)["created"], TIMEOUT, what="the first email")
    _, _, r = api(node, [["Mailbox/get", {"accountId": acct}, "m"]])
    mboxes = {m["role"]: m for m in r["methodResponses"][0][1]["list"] if m["role"]}
    assert set(mboxes) >= {"inbox", "sent", "drafts", "trash", "junk", "archive"}
    assert mboxes["inbox"]["totalEmails"] >= 1
    state = r["methodResponses"][0][1]["state"]
    _, _, r = api(node, [["Email/changes", {"accountId": acct, "sinceState": "0"}, "e"]])
    since = r["methodResponses"][0][1]["newState"]
    # An IMAP STORE is a JMAP change of the email and of its mailbox.
    m = imaplib.IMAP4("127.0.0.1", node.imap_port)
    m.login(USER, PASSWORD)
    m.select("INBOX")
    assert m.store("1", "+FLAGS", "(\\Flagged)")[0] == "OK"
    m.logout()
    _, _, r = api(node, [["Email/changes", {"accountId": acct, "sinceState": since}, "e"],
                         ["Mailbox/changes", {"accountId": acct, "sinceState": state}, "m"]])
    e, mb = r["methodResponses"][0][1], r["methodResponses"][1][1]
    assert len(e["updated"]) == 1 and not e["created"]
    assert mboxes["inbox"]["id"] in mb["updated"]
    assert mb["updatedProperties"] is None


def read_events(sock, want, deadline):
    """Reads the event stream until `want` events are parsed."""
    buf = b""
    events = []
    while len(events) < want and time.monotonic() < deadline:
        try:
            b = sock.recv(65536)
        except socket.timeout:
            continue
        if not b:
            break
        buf += b
        for block in buf.split(b"\n\n")[:-1]:
            fields = dict(line.split(b": ", 1) for line in block.split(b"\n")
                          if b": " in line and not line.startswith(b"HTTP/"))
            if b"event" in fields:
                events.append((fields[b"event"].decode().split("\r\n")[-1], fields.get(b"data")))
        buf = buf.split(b"\n\n")[-1]
    return events, buf


def open_stream(node, query):
    s = socket.create_connection(hostport(node), timeout=1)
    s.sendall(f"GET /jmap/eventsource/?{query} HTTP/1.1\r\nHost: x\r\n"
              f"Authorization: {auth()}\r\nAccept: text/event-stream\r\n\r\n".encode())
    return s


def test_eventsource_push(node):
    acct = account_id(node)
    s = open_stream(node, "types=*&closeafter=no&ping=0")
    try:
        events, _ = read_events(s, 1, time.monotonic() + TIMEOUT)
        assert events and events[0][0] == "state"
        first = json.loads(events[0][1].split(b"\r\n")[0])
        assert first["@type"] == "StateChange"
        before = first["changed"][acct]["Email"]
        deliver(node, "pushed")
        events, _ = read_events(s, 1, time.monotonic() + TIMEOUT)
        assert events, "no StateChange after a delivery"
        change = json.loads(events[0][1].split(b"\r\n")[0])
        assert change["changed"][acct]["Email"] != before
    finally:
        s.close()


def test_eventsource_closeafter_and_errors(node):
    s = open_stream(node, "types=Email&closeafter=state&ping=0")
    try:
        time.sleep(0.3)
        deliver(node, "long poll")
        events, tail = read_events(s, 1, time.monotonic() + TIMEOUT)
        assert [e[0] for e in events] == ["state"]
        # The answer ends after that event: the chunked body's last chunk.
        deadline = time.monotonic() + TIMEOUT
        while b"0\r\n\r\n" not in tail and time.monotonic() < deadline:
            try:
                b = s.recv(4096)
            except socket.timeout:
                continue
            if not b:
                break
            tail += b
        assert b"0\r\n\r\n" in tail
    finally:
        s.close()
    status, _, _ = request(node, "GET", "/jmap/eventsource/?closeafter=maybe&ping=0")
    assert status == 400
    status, _, _ = request(node, "GET", "/jmap/eventsource/?ping=-1")
    assert status == 400


def inbox_subjects(node, user):
    m = imaplib.IMAP4("127.0.0.1", node.imap_port)
    m.login(user, PASSWORD)
    _, n = m.select("INBOX")
    if int(n[0]) == 0:
        m.logout()
        return []
    _, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT AUTO-SUBMITTED)])")
    m.logout()
    return [d[1].decode() for d in data if isinstance(d, tuple)]


def test_vacation_response(node):
    acct = account_id(node)
    _, _, r = api(node, [["VacationResponse/get", {"accountId": acct}, "g"]],
                  using=USING + ["urn:ietf:params:jmap:vacationresponse"])
    got = r["methodResponses"][0][1]["list"][0]
    assert got["id"] == "singleton" and got["isEnabled"] is False
    _, _, r = api(node, [["VacationResponse/set", {
        "accountId": acct,
        "update": {"singleton": {"isEnabled": True, "subject": "Away until Monday",
                                 "textBody": "I read mail on Monday.", "toDate": None}},
        "create": {"x": {}}, "destroy": ["singleton"]}, "s"],
        ["VacationResponse/get", {"accountId": acct}, "g"]],
        using=USING + ["urn:ietf:params:jmap:vacationresponse"])
    s, g = r["methodResponses"][0][1], r["methodResponses"][1][1]
    assert "singleton" in s["updated"], s
    assert s["notCreated"]["x"]["type"] == "singleton"
    assert s["notDestroyed"]["singleton"]["type"] == "singleton"
    assert g["list"][0]["isEnabled"] is True and g["list"][0]["subject"] == "Away until Monday"
    _, _, r = api(node, [["VacationResponse/set", {
        "accountId": acct, "update": {"singleton": {"fromDate": "yesterday"}}}, "s"]],
        using=USING + ["urn:ietf:params:jmap:vacationresponse"])
    assert r["methodResponses"][0][1]["notUpdated"]["singleton"]["type"] == "invalidProperties"
    # Two messages from one sender: one automatic reply, in its INBOX.
    before = len(inbox_subjects(node, OTHER))
    for i in range(2):
        msg = (f"From: Ann <{OTHER}>\r\nTo: {USER}\r\nSubject: lunch {i}?\r\n"
               f"Message-ID: <v{i}.{time.monotonic_ns()}@jmap.example>\r\n\r\nLunch?\r\n")
        with smtplib.SMTP("127.0.0.1", node.smtp_port, local_hostname="client.example",
                          timeout=60) as smtp:
            smtp.sendmail(OTHER, [USER], msg.encode())
    wait_until(lambda: len(inbox_subjects(node, OTHER)) > before, TIMEOUT, what="the vacation reply")
    time.sleep(1.0)
    replies = inbox_subjects(node, OTHER)[before:]
    assert len(replies) == 1, replies
    assert "Away until Monday" in replies[0] and "auto-replied" in replies[0]
    # A list message gets none.
    with smtplib.SMTP("127.0.0.1", node.smtp_port, local_hostname="client.example",
                      timeout=60) as smtp:
        smtp.sendmail(f"list@{DOMAIN}", [USER],
                      (f"From: list@{DOMAIN}\r\nTo: {USER}\r\nList-Id: <l.jmap.example>\r\n"
                       "Subject: digest\r\n\r\nx\r\n").encode())
    time.sleep(1.0)
    assert len(inbox_subjects(node, OTHER)) == before + 1


def test_upload_download_import(node):
    acct = account_id(node)
    raw = (f"From: Up <up@sender.example>\r\nTo: {USER}\r\nSubject: uploaded mail\r\n"
           f"Message-ID: <up.{time.monotonic_ns()}@sender.example>\r\n\r\nFrom a blob.\r\n").encode()
    status, _, data = request(node, "POST", f"/jmap/upload/{acct}/", raw,
                              {"Content-Type": "message/rfc822"})
    assert status == 201, data
    up = json.loads(data)
    assert up["accountId"] == acct and up["size"] == len(raw) and up["type"] == "message/rfc822"
    blob = up["blobId"]
    status, headers, data = request(node, "GET", f"/jmap/download/{acct}/{blob}/mail.eml?accept=text/plain")
    assert status == 200 and data == raw
    assert headers["Content-Type"] == "text/plain"
    assert 'filename="mail.eml"' in headers["Content-Disposition"]
    # Another account's id, another user's credentials, a forged blob id.
    other = account_id(node, OTHER)
    assert request(node, "POST", f"/jmap/upload/{other}/", b"x")[0] == 404
    assert request(node, "GET", f"/jmap/download/{acct}/{blob}/x", user=OTHER)[0] == 404
    assert request(node, "GET", f"/jmap/download/{other}/{blob}/x", user=OTHER)[0] == 404
    assert request(node, "GET", f"/jmap/download/{acct}/b{'0' * 64}/x")[0] == 404
    # Import it into the INBOX; it is found by Email/query and its blob
    # downloads as the raw message.
    _, _, r = api(node, [["Mailbox/get", {"accountId": acct}, "m"]])
    inbox = [m["id"] for m in r["methodResponses"][0][1]["list"] if m["role"] == "inbox"][0]
    _, _, r = api(node, [["Email/import", {"accountId": acct, "emails": {
        "e1": {"blobId": blob, "mailboxIds": {inbox: True}, "keywords": {"$seen": True}}}}, "i"],
        ["Email/query", {"accountId": acct, "filter": {"subject": "uploaded mail"}}, "q"],
        ["Email/get", {"accountId": acct, "#ids": {"resultOf": "q", "name": "Email/query",
                                                   "path": "/ids"},
                       "properties": ["blobId", "subject", "keywords", "mailboxIds"]}, "g"]])
    imp, q, g = (m[1] for m in r["methodResponses"])
    assert "e1" in imp["created"], imp
    assert q["ids"] == [imp["created"]["e1"]["id"]]
    email = g["list"][0]
    assert email["subject"] == "uploaded mail" and email["keywords"] == {"$seen": True}
    assert email["mailboxIds"] == {inbox: True}
    status, _, data = request(node, "GET", f"/jmap/download/{acct}/{email['blobId']}/m.eml")
    assert status == 200 and data.endswith(raw)
