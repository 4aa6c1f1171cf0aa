"""Email/query pages that stop early (gateway/jmap/jmap_email_query_narrow.c,
jmap_email_query_first) on a real evmaild: a text query sorted by
receivedAt (either way, or not sorted) without calculateTotal answers the
same window of ids as the same query with calculateTotal (which checks
every email before sorting), for windows inside, across and past the
end of the matches, in the account and in a mailbox; "total" is absent
when not asked (RFC 8620 5.5) and queryState is the same."""
import base64
import http.client
import json
import smtplib
import time

import pytest
from conftest import assert_ok, free_port, wait_until

DOMAIN = "qwin.example"
USER = f"pat@{DOMAIN}"
PASSWORD = "qwin-test-pw"
USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"]
TIMEOUT = 20
COUNT = 24   # every fourth says "dog", the others "fox"


@pytest.fixture(scope="module")
def node(tmp_path_factory, binaries):
    from conftest import Node
    n = Node("qwin", tmp_path_factory.mktemp("qwin"),
             env={"EVMAIL_HTTP_LISTEN": f"127.0.0.1:{free_port()}"})
    n.start(wait="ready")
    assert_ok(n.ctl("tenant", "create", "qwint"))
    assert_ok(n.ctl("domain", "add", DOMAIN, "--tenant", "qwint"))
    assert_ok(n.ctl("account", "add", USER, "--password-stdin", input=PASSWORD + "\n"))
    yield n
    n.kill9()


def api(node, calls):
    host, port = node.env["EVMAIL_HTTP_LISTEN"].rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=TIMEOUT)
    auth = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    c.request("POST", "/jmap/api/", json.dumps({"using": USING, "methodCalls": calls}),
              {"Authorization": auth, "Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    assert r.status == 200, data
    return json.loads(data)["methodResponses"]


def query(node, args):
    (name, res, _), = api(node, [["Email/query", args, "q"]])
    assert name == "Email/query", res
    return res


def test_windows_match_the_whole_answer(node):
    with smtplib.SMTP("127.0.0.1", node.smtp_port, local_hostname="client.example",
                      timeout=60) as s:
        for i in range(COUNT):
            word = "dog" if i % 4 == 0 else "fox"
            msg = (f"From: Bob <bob@sender.example>\r\nTo: {USER}\r\nSubject: note {i}\r\n"
                   f"Message-ID: <{i}.{time.monotonic_ns()}@sender.example>\r\n\r\n"
                   f"the quick {word} number {i}\r\n")
            s.sendmail("bob@sender.example", [USER], msg.encode())
    host, port = node.env["EVMAIL_HTTP_LISTEN"].rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=TIMEOUT)
    c.request("GET", "/.well-known/jmap", headers={
        "Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()})
    acct = json.loads(c.getresponse().read())["primaryAccounts"]["urn:ietf:params:jmap:mail"]
    c.close()
    wait_until(lambda: query(node, {"accountId": acct, "filter": {"text": "fox"},
                                    "calculateTotal": True}).get("total") == COUNT * 3 // 4,
               timeout=TIMEOUT)
    boxes = api(node, [["Mailbox/get", {"accountId": acct}, "m"]])[0][1]["list"]
    inbox = next(b["id"] for b in boxes if b["role"] == "inbox")
    sorts = [None, [{"property": "receivedAt"}],
             [{"property": "receivedAt", "isAscending": False}]]
    filters = [{"text": "fox"}, {"body": "dog"}, {"inMailbox": inbox, "text": "quick fox"},
               {"text": "no such word"}]
    windows = [(0, 1), (0, 5), (3, 4), (10, 50), (17, 1), (18, 5), (100, 5), (0, None)]
    for f in filters:
        for sort in sorts:
            base = {"accountId": acct, "filter": f}
            if sort is not None:
                base["sort"] = sort
            whole = query(node, dict(base, calculateTotal=True))
            for pos, limit in windows:
                args = dict(base, position=pos)
                if limit is not None:
                    args["limit"] = limit
                res = query(node, args)
                end = None if limit is None else pos + limit
                assert res["ids"] == whole["ids"][pos:end], (f, sort, pos, limit)
                assert res["position"] == pos
                assert "total" not in res
                assert res["queryState"] == whole["queryState"]
                assert res["canCalculateChanges"] is True
