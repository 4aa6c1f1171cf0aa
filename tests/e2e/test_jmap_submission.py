"""JMAP Identity and EmailSubmission (RFC 8621 6, 7) on a real evmaild
over raw HTTP: a draft made with Email/set is submitted to a local
account and to a remote one. The local copy arrives (seen over IMAP, Bcc
field removed), the remote one waits in the outbound queue (`evmailctl
queue list`; the node has no delivery role, so it stays queued), and the
draft moves to Sent without $draft (onSuccessUpdateEmail, the implicit
Email/set answered after EmailSubmission/set)."""

import imaplib
import json

import pytest

from conftest import assert_ok, free_port, wait_until
from jmaplib import TIMEOUT, jmap_api, jmap_node, jmap_session

DOMAIN = "subm.example"
USER = f"jo@{DOMAIN}"
OTHER = f"ann@{DOMAIN}"
REMOTE = "zed@remote.invalid"
PASSWORD = "subm-test-pw"
USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail", "urn:ietf:params:jmap:submission"]


@pytest.fixture(scope="module")
def node(tmp_path_factory, binaries):
    n = jmap_node("jmapsubm", tmp_path_factory, "submt", DOMAIN, (USER, OTHER), PASSWORD,
                  env={"EVMAIL_SMTP_HOSTNAME": "msa.subm.example"})
    yield n
    n.kill9()


def api(node, calls, user=USER):
    return jmap_api(node, calls, user, PASSWORD, USING)


def session(node):
    return jmap_session(node, USER, PASSWORD)


def inbox_subjects(node, user):
    m = imaplib.IMAP4("127.0.0.1", node.imap_port)
    try:
        m.login(user, PASSWORD)
        m.select("INBOX", readonly=True)
        typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER])")
        if typ != "OK":
            return []
        return [part[1].decode() for part in data if isinstance(part, tuple)]
    finally:
        m.logout()


def test_submit_local_and_remote(node):
    s = session(node)
    assert s["capabilities"]["urn:ietf:params:jmap:submission"] == {}
    acct = s["primaryAccounts"]["urn:ietf:params:jmap:mail"]
    assert s["accounts"][acct]["accountCapabilities"]["urn:ietf:params:jmap:submission"] == \
        {"maxDelayedSend": 0, "submissionExtensions": {}}
    r = api(node, [["Identity/get", {"accountId": acct}, "i"],
                   ["Mailbox/get", {"accountId": acct}, "m"]])
    ident = r[0][1]["list"][0]
    assert ident["email"] == USER and ident["mayDelete"] is False
    roles = {m["role"]: m["id"] for m in r[1][1]["list"] if m["role"]}
    draft = {"mailboxIds": {roles["drafts"]: True}, "keywords": {"$draft": True, "$seen": True},
             "from": [{"email": USER}], "to": [{"email": OTHER}], "bcc": [{"email": REMOTE}],
             "subject": "Quarterly", "bodyValues": {"b": {"value": "See you."}},
             "textBody": [{"partId": "b", "type": "text/plain"}]}
    r = api(node, [
        ["Email/set", {"accountId": acct, "create": {"d": draft}}, "0"],
        ["EmailSubmission/set", {
            "accountId": acct, "create": {"s": {"identityId": ident["id"], "emailId": "#d"}},
            "onSuccessUpdateEmail": {"#s": {f"mailboxIds/{roles['drafts']}": None,
                                            f"mailboxIds/{roles['sent']}": True,
                                            "keywords/$draft": None}}}, "1"]])
    assert [x[0] for x in r] == ["Email/set", "EmailSubmission/set", "Email/set"], r
    email_id = r[0][1]["created"]["d"]["id"]
    sub = r[1][1]["created"]["s"]
    assert sub["undoStatus"] == "final"
    assert email_id in r[2][1]["updated"]
    # The remote recipient is in the outbound queue, the local one arrived.
    items = json.loads(assert_ok(node.ctl("queue", "list", "--json")).out)
    assert any(rc["addr"] == REMOTE for it in items for rc in it["rcpts"]), items
    heads = wait_until(lambda: inbox_subjects(node, OTHER), TIMEOUT, what="the local copy")
    assert any("Subject: Quarterly" in h for h in heads)
    assert not any("Bcc:" in h or REMOTE in h for h in heads)
    # The draft is in Sent now, without $draft; the submission says where
    # each recipient's copy is.
    r = api(node, [["Email/get", {"accountId": acct, "ids": [email_id],
                                  "properties": ["mailboxIds", "keywords"]}, "g"],
                   ["EmailSubmission/get", {"accountId": acct, "ids": [sub["id"]]}, "s"]])
    e = r[0][1]["list"][0]
    assert e["mailboxIds"] == {roles["sent"]: True}
    assert "$draft" not in e["keywords"]
    ds = r[1][1]["list"][0]["deliveryStatus"]
    assert ds[OTHER]["delivered"] == "yes"
    assert ds[REMOTE]["delivered"] == "queued"


def test_identity_set_forbidden_from(node):
    """Identities are stored now (tests/e2e/test_jmap_mailprops.py); one for
    another account's address is forbiddenFrom (RFC 8621 6.3)."""
    acct = session(node)["primaryAccounts"]["urn:ietf:params:jmap:mail"]
    r = api(node, [["Identity/set", {"accountId": acct, "create": {"n": {"email": OTHER}}}, "s"]])
    assert r[0][1]["notCreated"]["n"]["type"] == "forbiddenFrom"


def test_hourly_limit_counts_jmap_and_smtp_together(tmp_path_factory, binaries):
    """limits.submission_per_hour is one count per account over SMTP
    submission and JMAP EmailSubmission: with a limit of 2, one message
    over each uses it up, then JMAP answers forbiddenToSend (RFC 8621 7.5)
    and SMTP 450 4.7.1."""
    import smtplib
    n = jmap_node("jmaplimit", tmp_path_factory, "limt", DOMAIN, (USER, OTHER), PASSWORD,
                  env={"EVMAIL_SMTP_HOSTNAME": "msa.subm.example", "EVMAIL_LIMITS_SUBMISSION_PER_HOUR": "2",
                       "EVMAIL_SUBMISSION_ALLOW_PLAINTEXT_AUTH": "1",
                       "EVMAIL_SUBMISSION_LISTEN": f"127.0.0.1:{free_port()}"})
    try:
        acct = session(n)["primaryAccounts"]["urn:ietf:params:jmap:mail"]
        r = api(n, [["Identity/get", {"accountId": acct}, "i"], ["Mailbox/get", {"accountId": acct}, "m"]])
        ident = r[0][1]["list"][0]["id"]
        drafts = next(m["id"] for m in r[1][1]["list"] if m["role"] == "drafts")

        def submit(subject):
            draft = {"mailboxIds": {drafts: True}, "from": [{"email": USER}], "to": [{"email": OTHER}],
                     "subject": subject, "bodyValues": {"b": {"value": "x"}},
                     "textBody": [{"partId": "b", "type": "text/plain"}]}
            return api(n, [["Email/set", {"accountId": acct, "create": {"d": draft}}, "0"],
                           ["EmailSubmission/set", {"accountId": acct,
                                                    "create": {"s": {"identityId": ident, "emailId": "#d"}}}, "1"]])

        assert "s" in submit("one")[1][1]["created"]
        host, port = n.env["EVMAIL_SUBMISSION_LISTEN"].rsplit(":", 1)
        with smtplib.SMTP(host, int(port), timeout=TIMEOUT) as s:
            s.login(USER, PASSWORD)
            msg = f"From: {USER}\r\nTo: {OTHER}\r\nSubject: two\r\n\r\nx\r\n"
            assert s.sendmail(USER, [OTHER], msg) == {}
            with pytest.raises(smtplib.SMTPSenderRefused) as e:
                s.sendmail(USER, [OTHER], msg.replace("two", "four"))
            assert e.value.smtp_code == 450
        r = submit("three")
        assert r[1][1]["notCreated"]["s"]["type"] == "forbiddenToSend", r
    finally:
        n.kill9()
