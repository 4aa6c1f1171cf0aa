"""JMAP driven by a published client library, jmapc (PyPI), against a real
evmaild on https.listen (jmapc only speaks https://HOST/.well-known/jmap;
the node gets a throwaway certificate for 127.0.0.1 and requests trusts it
through REQUESTS_CA_BUNDLE): the Session and Core/echo, Mailbox/get, query
and set, Email/query with filters and a sort + Email/get by a result
reference, Email/set (keywords, a move, a draft created from body parts),
an upload through jmapc's upload_blob imported by Email/import (jmapc has
no Email/import class: its CustomMethod carries it) and downloaded back
through download_attachment, and EventSource push through jmapc's events
(sseclient) after an SMTP delivery and after a change the client made,
and EmailSubmission of a draft with onSuccessUpdateEmail.

sseclient 0.0.27 reads the socket under the response (raw._fp.fp.read1),
so it sees our chunked framing: each event is written as one chunk, and
the chunk-size lines parse as fields it ignores. jmapc is installed by
scripts/install-deps.sh (pinned): a missing library is an error here."""

import queue
import smtplib
import socket
import threading
import time

import pytest
from jmapc import (
    Client, Comparator, Email, EmailAddress, EmailBodyPart, EmailBodyValue,
    EmailQueryFilterCondition, EmailQueryFilterOperator, Mailbox,
    MailboxQueryFilterCondition, Operator, Ref,
)
from jmapc.methods import (
    CoreEcho, CustomMethod, EmailChanges, EmailGet, EmailQuery, EmailSet, IdentityGet,
    MailboxGet, MailboxQuery, MailboxSet,
)

from conftest import assert_ok, clean_env, free_port, run, wait_until

DOMAIN = "jmapc.example"
USER = f"cleo@{DOMAIN}"
OTHER = f"dan@{DOMAIN}"
PASSWORD = "jmapc-test-pw"
TIMEOUT = 20


def cert_for_loopback(directory):
    """(cert, key): self-signed, with 127.0.0.1 as its subjectAltName so
    that requests verifies it by the URL's host."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    p = run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", key, "-out", cert], env=clean_env(), timeout=60)
    assert p.returncode == 0, p.stderr
    return cert, key


@pytest.fixture(scope="module")
def node(tmp_path_factory, binaries):
    from conftest import Node
    d = tmp_path_factory.mktemp("jmapc")
    cert, key = cert_for_loopback(d)
    n = Node("jmapc", d, env={"EVMAIL_HTTPS_LISTEN": f"127.0.0.1:{free_port()}",
                              "EVMAIL_TLS_CERT": str(cert), "EVMAIL_TLS_KEY": str(key),
                              "EVMAIL_SMTP_HOSTNAME": "mx1.evmail.test"})
    n.start(wait="ready")
    assert_ok(n.ctl("tenant", "create", "jmapct"))
    assert_ok(n.ctl("domain", "add", DOMAIN, "--tenant", "jmapct"))
    for u in (USER, OTHER):
        assert_ok(n.ctl("account", "add", u, "--password-stdin", input=PASSWORD + "\n"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REQUESTS_CA_BUNDLE", str(cert))
        n.cert = cert
        yield n
    n.kill9()


def client(node, user=USER):
    return Client.create_with_password(node.env["EVMAIL_HTTPS_LISTEN"], user, PASSWORD)


def deliver(node, subject, sender="bob@sender.example", body="Hello."):
    msg = (f"From: Bob <{sender}>\r\nTo: {USER}\r\nSubject: {subject}\r\n"
           f"Message-ID: <{time.monotonic_ns()}@sender.example>\r\n\r\n{body}\r\n")
    with smtplib.SMTP("127.0.0.1", node.smtp_port, local_hostname="client.example",
                      timeout=60) as s:
        s.sendmail(sender, [USER], msg.encode())


def roles(c):
    """{role: Mailbox} of the client's account."""
    got = c.request(MailboxGet(ids=None), raise_errors=True)
    return {m.role: m for m in got.data if m.role}


def find(c, subject):
    """The ids of the emails whose Subject holds `subject`."""
    return c.request(EmailQuery(filter=EmailQueryFilterCondition(header=["Subject", subject])),
                     raise_errors=True).ids


def wait_for(c, subject, count=1):
    return wait_until(lambda: len(find(c, subject)) >= count and find(c, subject), TIMEOUT,
                      what=f"{count} email(s) with subject {subject!r}")


def test_session_and_echo(node):
    c = client(node)
    s = c.jmap_session
    hostport = node.env["EVMAIL_HTTPS_LISTEN"]
    assert s.username == USER
    assert s.api_url == f"https://{hostport}/jmap/api/"
    assert s.upload_url.startswith(f"https://{hostport}/") and "{accountId}" in s.upload_url
    assert "{closeafter}" in s.event_source_url
    core = s.capabilities.core
    assert core.max_calls_in_request >= 1 and core.max_objects_in_get >= 1
    assert core.max_size_request > 0 and core.max_objects_in_set >= 1
    assert "urn:ietf:params:jmap:mail" in s.capabilities.urns
    assert c.account_id == s.primary_accounts.mail
    assert client(node, OTHER).account_id != c.account_id
    echo = c.request(CoreEcho(data={"hello": [1, "two", None]}), raise_errors=True)
    assert echo.data == {"hello": [1, "two", None]}
    # A wrong password: the library sees the 401 as an HTTP error.
    bad = Client.create_with_password(hostport, USER, "wrong")
    with pytest.raises(Exception) as e:
        bad.jmap_session
    assert "401" in str(e.value)


def test_mailboxes(node):
    c = client(node)
    r = roles(c)
    assert set(r) >= {"inbox", "drafts", "sent", "trash", "junk", "archive"}
    q = c.request(MailboxQuery(filter=MailboxQueryFilterCondition(role="inbox")),
                  raise_errors=True)
    assert q.ids == [r["inbox"].id]
    # Create a child of the archive, rename it, then find it by name.
    created = c.request(MailboxSet(create={"p": Mailbox(name="Projects",
                                                        parent_id=r["archive"].id)}),
                        raise_errors=True)
    assert "p" in created.created, created
    pid = created.created["p"].id
    upd = c.request(MailboxSet(update={pid: {"name": "Projects 2024", "isSubscribed": True}}),
                    raise_errors=True)
    assert pid in upd.updated
    got = c.request(MailboxGet(ids=[pid]), raise_errors=True).data[0]
    assert (got.name, got.parent_id, got.is_subscribed, got.total_emails) == \
        ("Projects 2024", r["archive"].id, True, 0)
    q = c.request(MailboxQuery(filter=MailboxQueryFilterCondition(name="Projects 2024")),
                  raise_errors=True)
    assert q.ids == [pid]
    # A sibling with the same name is refused; destroying it works.
    dup = c.request(MailboxSet(create={"d": Mailbox(name="Projects 2024",
                                                    parent_id=r["archive"].id)}))
    assert dup.not_created["d"].type in ("invalidProperties", "alreadyExists"), dup
    gone = c.request(MailboxSet(destroy=[pid]), raise_errors=True)
    assert gone.destroyed == [pid]
    assert c.request(MailboxGet(ids=[pid]), raise_errors=True).not_found == [pid]


def test_query_and_get(node):
    c = client(node)
    deliver(node, "quarterly report one", sender="alice@reports.example", body="numbers")
    deliver(node, "quarterly report two", sender="bob@sender.example", body="more numbers")
    wait_for(c, "quarterly report", 2)
    inbox = roles(c)["inbox"].id
    # One request: the query, then Email/get through a result reference.
    res = c.request([
        EmailQuery(filter=EmailQueryFilterOperator(operator=Operator.AND, conditions=[
            EmailQueryFilterCondition(in_mailbox=inbox),
            EmailQueryFilterCondition(header=["Subject", "quarterly report"])]),
            sort=[Comparator(property="receivedAt", is_ascending=False)],
            calculate_total=True),
        EmailGet(ids=Ref("/ids"), properties=["subject", "from", "mailboxIds", "preview",
                                               "receivedAt", "keywords"]),
    ], raise_errors=True)
    q, g = res[0].response, res[1].response
    assert q.total == 2 and len(q.ids) == 2
    assert [e.id for e in g.data] == q.ids
    assert [e.subject for e in g.data] == ["quarterly report two", "quarterly report one"]
    assert g.data[0].received_at >= g.data[1].received_at
    assert g.data[1].mail_from[0].email == "alice@reports.example"
    assert g.data[0].mailbox_ids == {inbox: True}
    assert "numbers" in g.data[1].preview
    # The from filter, and a filter nothing matches.
    assert len(c.request(EmailQuery(filter=EmailQueryFilterCondition(
        mail_from="alice@reports.example")), raise_errors=True).ids) == 1
    assert c.request(EmailQuery(filter=EmailQueryFilterCondition(
        header=["Subject", "no such subject anywhere"])), raise_errors=True).ids == []
    # Body values through EmailGet's own arguments.
    g = c.request(EmailGet(ids=[q.ids[0]], properties=["textBody", "bodyValues"],
                           fetch_text_body_values=True), raise_errors=True)
    part = g.data[0].text_body[0].part_id
    assert g.data[0].body_values[part].value.strip() == "more numbers"


def test_set_keywords_move_and_draft(node):
    c = client(node)
    deliver(node, "to be filed")
    (eid,) = wait_for(c, "to be filed")
    r = roles(c)
    since = c.request(EmailChanges(since_state="0", max_changes=1000000),
                      raise_errors=True).new_state
    res = c.request(EmailSet(update={eid: {"keywords/$seen": True, "keywords/$flagged": True}}),
                    raise_errors=True)
    assert eid in res.updated
    res = c.request(EmailSet(update={eid: {"mailboxIds": {r["archive"].id: True}}}),
                    raise_errors=True)
    assert eid in res.updated
    got = c.request(EmailGet(ids=[eid], properties=["keywords", "mailboxIds"]),
                    raise_errors=True).data[0]
    assert got.keywords == {"$seen": True, "$flagged": True}
    assert got.mailbox_ids == {r["archive"].id: True}
    ch = c.request(EmailChanges(since_state=since), raise_errors=True)
    assert eid in ch.updated and not ch.destroyed
    # Unknown ids and bad patches are refused per object, the rest applies.
    res = c.request(EmailSet(update={eid: {"keywords/$flagged": None},
                                     "Mnosuchid": {"keywords/$seen": True}}))
    assert eid in res.updated and res.not_updated["Mnosuchid"].type == "notFound"
    # A draft from body parts, read back.
    draft = Email(mail_from=[EmailAddress(name="Cleo", email=USER)],
                  to=[EmailAddress(name="Dan", email=OTHER)],
                  subject="draft from jmapc", keywords={"$draft": True, "$seen": True},
                  mailbox_ids={r["drafts"].id: True},
                  body_values={"b1": EmailBodyValue(value="Draft body line.\n")},
                  text_body=[EmailBodyPart(part_id="b1", type="text/plain")])
    res = c.request(EmailSet(create={"d": draft}), raise_errors=True)
    assert "d" in res.created, res
    did = res.created["d"].id
    g = c.request(EmailGet(ids=[did], properties=["subject", "from", "to", "keywords",
                                                   "mailboxIds", "textBody", "bodyValues"],
                           fetch_text_body_values=True), raise_errors=True).data[0]
    assert g.subject == "draft from jmapc"
    assert [a.email for a in g.mail_from] == [USER] and [a.email for a in g.to] == [OTHER]
    assert g.keywords == {"$draft": True, "$seen": True}
    assert g.mailbox_ids == {r["drafts"].id: True}
    assert g.body_values[g.text_body[0].part_id].value.rstrip("\r\n") == "Draft body line."
    assert did in find(c, "draft from jmapc")
    # Destroy the draft.
    res = c.request(EmailSet(destroy=[did]), raise_errors=True)
    assert res.destroyed == [did]
    assert c.request(EmailGet(ids=[did]), raise_errors=True).not_found == [did]


def test_upload_import_download(node, tmp_path):
    c = client(node)
    raw = (f"From: Up <up@sender.example>\r\nTo: {USER}\r\nSubject: imported by jmapc\r\n"
           f"Message-ID: <jmapc.{time.monotonic_ns()}@sender.example>\r\n\r\n"
           "Through upload_blob.\r\n").encode()
    path = tmp_path / "message.eml"
    path.write_bytes(raw)
    blob = c.upload_blob(path)
    assert blob.size == len(raw) and blob.type == "message/rfc822"
    inbox = roles(c)["inbox"].id
    imp = CustomMethod(data={"accountId": c.account_id, "emails": {
        "i1": {"blobId": blob.id, "mailboxIds": {inbox: True}, "keywords": {"$seen": True}}}})
    imp.jmap_method = "Email/import"
    imp.using = {"urn:ietf:params:jmap:mail"}
    res = c.request(imp, raise_errors=True)
    eid = res.data["created"]["i1"]["id"]
    assert find(c, "imported by jmapc") == [eid]
    got = c.request(EmailGet(ids=[eid], properties=["blobId", "keywords", "size"]),
                    raise_errors=True).data[0]
    assert got.keywords == {"$seen": True}
    out = tmp_path / "back.eml"
    c.download_attachment(EmailBodyPart(blob_id=got.blob_id, name="back.eml",
                                        type="message/rfc822"), out)
    assert out.read_bytes().endswith(raw)
    # Another user's client cannot use the blob: it answers as for an id
    # that does not exist (RFC 8621 4.8: an id not found is
    # invalidProperties).
    other = client(node, OTHER)
    oinbox = roles(other)["inbox"].id
    imp2 = CustomMethod(data={"accountId": other.account_id, "emails": {
        "i2": {"blobId": blob.id, "mailboxIds": {oinbox: True}},
        "i3": {"blobId": "b" + "0" * 64, "mailboxIds": {oinbox: True}}}})
    imp2.jmap_method = "Email/import"
    imp2.using = {"urn:ietf:params:jmap:mail"}
    res = other.request(imp2, raise_errors=True)
    bad = res.data["notCreated"]
    assert bad["i2"]["type"] == "invalidProperties" and bad["i2"]["properties"] == ["blobId"]
    assert {k: v for k, v in bad["i2"].items()} == {k: v for k, v in bad["i3"].items()}
    assert not res.data.get("created")


def test_submission(node):
    """A draft made by jmapc, sent with EmailSubmission/set (RFC 8621 7.5;
    jmapc's CustomMethod: its EmailSubmission model needs fields we do not
    use) whose onSuccessUpdateEmail files it in Sent without $draft; the
    local recipient finds it in its INBOX through its own client."""
    c = client(node)
    r = roles(c)
    ident = c.request(IdentityGet(), raise_errors=True).data
    assert [i.email for i in ident] == [USER]
    draft = Email(mail_from=[EmailAddress(name="Cleo", email=USER)],
                  to=[EmailAddress(name="Dan", email=OTHER)],
                  subject="sent by jmapc", keywords={"$draft": True, "$seen": True},
                  mailbox_ids={r["drafts"].id: True},
                  body_values={"b1": EmailBodyValue(value="Hello Dan.\n")},
                  text_body=[EmailBodyPart(part_id="b1", type="text/plain")])
    did = c.request(EmailSet(create={"d": draft}), raise_errors=True).created["d"].id
    sub = CustomMethod(data={"accountId": c.account_id,
                             "create": {"s": {"identityId": ident[0].id, "emailId": did}},
                             "onSuccessUpdateEmail": {"#s": {
                                 f"mailboxIds/{r['drafts'].id}": None,
                                 f"mailboxIds/{r['sent'].id}": True,
                                 "keywords/$draft": None}}})
    sub.jmap_method = "EmailSubmission/set"
    sub.using = {"urn:ietf:params:jmap:submission"}
    res = c.request(sub, raise_errors=True)
    # Two answers to one call: EmailSubmission/set, then the implicit
    # Email/set of onSuccessUpdateEmail.
    assert len(res) == 2, res
    assert type(res[0]).__name__ == "EmailSubmissionSetResponse" and "s" in res[0].created, res
    assert type(res[1]).__name__ == "EmailSetResponse" and did in res[1].updated, res
    g = c.request(EmailGet(ids=[did], properties=["keywords", "mailboxIds"]),
                  raise_errors=True).data[0]
    assert g.mailbox_ids == {r["sent"].id: True}
    assert g.keywords == {"$seen": True}
    dan = client(node, OTHER)
    wait_until(lambda: find(dan, "sent by jmapc"), TIMEOUT, what="the submission at the recipient")



class EventReader:
    """Consumes jmapc's blocking `events` generator in a daemon thread so
    that the test waits on a queue with a timeout."""

    def __init__(self, c):
        self.c = c
        self.q = queue.Queue()
        self.error = None
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        try:
            for ev in self.c.events:
                self.q.put(ev)
        except Exception as e:  # the stream closed under it, or a failure
            self.error = e
            self.q.put(None)

    def next(self, timeout=TIMEOUT):
        try:
            ev = self.q.get(timeout=timeout)
        except queue.Empty:
            return None
        assert ev is not None, f"event stream failed: {self.error!r}"
        return ev

    def wait(self, pred, what):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            ev = self.next(max(0.1, deadline - time.monotonic()))
            if ev is not None and pred(ev):
                return ev
        pytest.fail(f"no event: {what}")

    def close(self):
        """Ends the stream under the reading thread: closing the response
        would wait for the thread's read, a shutdown of its socket does not."""
        if self.c._events is not None:
            def ended():
                raise EOFError("the test closed the stream")
            self.c._events._connect = ended   # sseclient would reconnect
            raw = self.c._events.resp.raw
            sock = getattr(getattr(raw, "_connection", None), "sock", None)
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
        self.t.join(TIMEOUT)
        assert not self.t.is_alive(), "the event stream did not end"


def test_eventsource_push(node):
    c = client(node)
    acct = c.account_id
    reader = EventReader(c)
    try:
        first = reader.next()
        assert first is not None, "no initial StateChange"
        before = first.data.changed[acct].email
        assert before
        deliver(node, "pushed to jmapc")
        ev = reader.wait(lambda e: acct in e.data.changed and
                         e.data.changed[acct].email != before, "the delivery's Email change")
        after = ev.data.changed[acct].email
        # The client's own change is pushed too, with another Email state.
        (eid,) = wait_for(c, "pushed to jmapc")
        c.request(EmailSet(update={eid: {"keywords/$seen": True}}), raise_errors=True)
        reader.wait(lambda e: acct in e.data.changed and
                    e.data.changed[acct].email not in (before, after), "the keyword change")
        # The state pushed is the state Email/get now reports.
        state = c.request(EmailGet(ids=[eid], properties=["id"]), raise_errors=True).state
        assert state not in (before, after)
    finally:
        reader.close()
