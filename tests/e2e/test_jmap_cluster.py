"""JMAP across two evmaild nodes A and B on one real Apache Kafka broker:
after writes through A (SMTP delivery, IMAP STORE), both nodes answer the
Session and the Email/Mailbox/Thread changes with the same state strings
and the same objects; an EventSource client on B gets the StateChange of
a delivery made through A (bounded by PUSH_BOUND, measured and printed)."""

import base64
import http.client
import imaplib
import json
import smtplib
import socket
import time

import pytest

from conftest import assert_ok, clean_env, evmailctl, free_port, wait_until

pytestmark = pytest.mark.kafka

DOMAIN = "cluster-jmap.example"
USER = f"jem@{DOMAIN}"
PASSWORD = "cluster-jmap-pw"
USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"]
PUSH_BOUND = 5.0


def auth():
    return "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def http_port(node):
    return int(node.env["EVMAIL_HTTP_LISTEN"].rsplit(":", 1)[1])


def get(node, path):
    c = http.client.HTTPConnection("127.0.0.1", http_port(node), timeout=20)
    c.request("GET", path, headers={"Authorization": auth()})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def api(node, calls):
    c = http.client.HTTPConnection("127.0.0.1", http_port(node), timeout=20)
    c.request("POST", "/jmap/api/", body=json.dumps({"using": USING, "methodCalls": calls}),
              headers={"Authorization": auth(), "Content-Type": "application/json"})
    r = c.getresponse()
    body = json.loads(r.read())
    c.close()
    assert r.status == 200, body
    return [m[1] for m in body["methodResponses"]]


@pytest.fixture
def cluster(nodes, kafka_env):
    assert_ok(evmailctl(["topics", "create"], clean_env(**kafka_env), timeout=120))
    env = {**kafka_env, "EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "1"}
    a = nodes("jmap-a", env={**env, "EVMAIL_SMTP_HOSTNAME": "mx-a.cluster.test",
                             "EVMAIL_HTTP_LISTEN": f"127.0.0.1:{free_port()}"})
    b = nodes("jmap-b", env={**env, "EVMAIL_SMTP_HOSTNAME": "mx-b.cluster.test",
                             "EVMAIL_HTTP_LISTEN": f"127.0.0.1:{free_port()}"})
    a.start(wait="ready", timeout=90)
    b.start(wait="ready", timeout=90)
    assert_ok(a.ctl("tenant", "create", "clusterjmap"))
    assert_ok(a.ctl("domain", "add", DOMAIN, "--tenant", "clusterjmap"))
    assert_ok(a.ctl("account", "add", USER, "--password-stdin", input=PASSWORD + "\n"))
    for n in (a, b):
        wait_until(lambda n=n: get(n, "/.well-known/jmap")[0] == 200, 60, interval=0.2,
                   what=f"{n.name}: JMAP session of {USER}", diag=n.diag)
    return a, b


def deliver(node, subject):
    msg = (f"From: Bob <bob@sender.example>\r\nTo: {USER}\r\nSubject: {subject}\r\n"
           f"Message-ID: <{time.monotonic_ns()}@sender.example>\r\n\r\nHello.\r\n")
    with smtplib.SMTP("127.0.0.1", node.smtp_port, local_hostname="client.example", timeout=60) as s:
        s.sendmail("bob@sender.example", [USER], msg.encode())


def states(node, acct):
    out = api(node, [["Email/changes", {"accountId": acct, "sinceState": "0"}, "e"],
                     ["Mailbox/changes", {"accountId": acct, "sinceState": "0"}, "m"],
                     ["Thread/changes", {"accountId": acct, "sinceState": "0"}, "t"],
                     ["Mailbox/get", {"accountId": acct}, "g"]])
    return ([o["newState"] for o in out[:3]], sorted(out[0]["created"]),
            sorted((m["id"], m["totalEmails"], m["unreadEmails"]) for m in out[3]["list"]))


def test_same_state_on_both_nodes_and_push(cluster):
    a, b = cluster
    acct = json.loads(get(a, "/.well-known/jmap")[1])["primaryAccounts"]["urn:ietf:params:jmap:mail"]
    assert json.loads(get(b, "/.well-known/jmap")[1])["primaryAccounts"]["urn:ietf:params:jmap:mail"] == acct
    for i in range(3):
        deliver(a, f"cluster {i}")
    m = imaplib.IMAP4("127.0.0.1", a.imap_port, timeout=30)
    m.login(USER, PASSWORD)
    wait_until(lambda: int(m.select("INBOX")[1][0]) == 3, 60, what="three messages on A")
    assert m.store("2", "+FLAGS", "(\\Seen)")[0] == "OK"
    m.logout()
    want = wait_until(lambda: states(a, acct) if len(states(a, acct)[1]) == 3 else None, 60,
                      what="A's view")
    wait_until(lambda: states(b, acct) == states(a, acct), 60, what="B agreeing with A",
               diag=lambda: f"A {states(a, acct)}\nB {states(b, acct)}")
    assert states(b, acct) == want

    # Push: a stream on B, a delivery through A.
    s = socket.create_connection(("127.0.0.1", http_port(b)), timeout=1)
    try:
        s.sendall(f"GET /jmap/eventsource/?types=Email&closeafter=state&ping=0 HTTP/1.1\r\n"
                  f"Host: b\r\nAuthorization: {auth()}\r\n\r\n".encode())
        head = b""
        deadline = time.monotonic() + 20
        while b"\r\n\r\n" not in head and time.monotonic() < deadline:
            try:
                head += s.recv(4096)
            except socket.timeout:
                pass
        assert head.startswith(b"HTTP/1.1 200"), head
        t0 = time.monotonic()
        deliver(a, "pushed across")
        got = head.split(b"\r\n\r\n", 1)[1]
        while b"event: state" not in got and time.monotonic() < t0 + 30:
            try:
                got += s.recv(4096)
            except socket.timeout:
                pass
        latency = time.monotonic() - t0
        print(f"JMAP push A -> B: {latency * 1000:.0f} ms (SMTP delivery through A included)")
        assert b"event: state" in got
        assert latency < PUSH_BOUND
    finally:
        s.close()
