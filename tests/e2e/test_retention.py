"""Retention policies (issue #13 item 4) on two evmaild nodes A and B on one
real Apache Kafka broker (one topic prefix, separate views):

- `evmailctl retention set --tenant` (Trash and Junk after ~2 s) and
  `--mailbox` (Archive after ~2 s; Junk kept forever, overriding the
  tenant), shown by `retention show`;
- messages APPENDed to INBOX, Trash, Junk and Archive; after the interval
  the decider (the holder of queue partition 0) has expunged Trash and
  Archive with ordinary message.expunge events of actor "retention", INBOX
  and Junk are untouched, and an IMAP client on B with Trash SELECTed is
  told "* n EXPUNGE";
- both nodes applied the same log: equal view digests.

Every wait is bounded (wait_until); nothing depends on a timing threshold:
the rules are short so the test is short, and "untouched" is checked after
the expunges of the same rounds are seen."""

import imaplib
import re
import socket
import time

import pytest

from conftest import assert_fail, assert_ok, clean_env, evmailctl, wait_until

pytestmark = pytest.mark.kafka

TENANT = "retain"
DOMAIN = "retention.example"
USER = f"rita@{DOMAIN}"
PASSWORD = "retention-pw"
TWO_SECONDS = "0.000023149"   # days: 2000 ms
PER_BOX = {"INBOX": 3, "Trash": 4, "Junk": 2, "Archive": 3}


def message(n):
    return (f"From: Bob <bob@sender.example>\r\nTo: Rita <{USER}>\r\nSubject: keep or not {n}\r\n"
            f"Message-ID: <retention-{n}.{time.monotonic_ns()}@sender.example>\r\n\r\nBody {n}.\r\n").encode()


def login(node):
    m = imaplib.IMAP4("127.0.0.1", node.imap_port, timeout=30)
    assert m.login(USER, PASSWORD)[0] == "OK"
    return m


def count(node, mailbox):
    m = login(node)
    try:
        typ, data = m.status(mailbox, "(MESSAGES)")
        assert typ == "OK", data
        return int(re.search(rb"MESSAGES (\d+)", data[0]).group(1))
    finally:
        m.logout()


class Raw:
    """A raw IMAP client that reads untagged responses."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""

    def send(self, line):
        self.sock.sendall(line.encode() + b"\r\n")

    def until(self, pattern, timeout=30):
        rx = re.compile(pattern.encode(), re.M)
        deadline = time.monotonic() + timeout
        while True:
            mo = rx.search(self.buf)
            if mo is not None:
                out, self.buf = self.buf[:mo.end()], self.buf[mo.end():]
                return out
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {pattern!r}; got {self.buf!r}")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                raise AssertionError(f"connection closed waiting for {pattern!r}; got {self.buf!r}")
            self.buf += chunk

    def close(self):
        self.sock.close()


@pytest.fixture
def cluster(nodes, kafka_env):
    """(A, B): two ready nodes on one topic prefix with retention rounds
    every second, and USER able to log in over IMAP on both."""
    assert_ok(evmailctl(["topics", "create"], clean_env(**kafka_env), timeout=120))
    # The decider is the holder of queue partition 0: both run delivery.
    env = {**kafka_env, "EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "1", "EVMAIL_RETENTION_INTERVAL_S": "1",
           "EVMAIL_NODE_ROLES": "projector,gateway,delivery"}
    a = nodes("ret-a", env=env)
    b = nodes("ret-b", env=env)
    a.start(wait="ready", timeout=90)
    b.start(wait="ready", timeout=90)
    assert_ok(a.ctl("tenant", "create", TENANT))
    assert_ok(a.ctl("domain", "add", DOMAIN, "--tenant", TENANT))
    assert_ok(a.ctl("account", "add", USER, "--password-stdin", input=PASSWORD + "\n"))

    def can_login(node):
        try:
            login(node).logout()
            return True
        except (imaplib.IMAP4.error, OSError):
            return False
    for n in (a, b):
        wait_until(lambda n=n: can_login(n), 60, interval=0.2, what=f"{n.name}: IMAP login", diag=n.diag)
    return a, b


def metric(node, name):
    text = node.metrics()
    mo = re.search(rf"^{name} (\d+)$", text, re.M)
    return int(mo.group(1)) if mo else 0


def test_retention_two_nodes(cluster):
    a, b = cluster
    # The policies: usage errors first, then the real ones.
    assert_fail(a.ctl("retention", "set", "--tenant", TENANT, "--trash", "soon"), "not a number of days")
    assert_fail(a.ctl("retention", "set", "--tenant", "nosuch", "--trash", "1"), "no tenant")
    assert_fail(a.ctl("retention", "set", "--mailbox", USER, "Nope", "--days", "1"), "no mailbox")
    assert_ok(a.ctl("retention", "set", "--tenant", TENANT, "--trash", TWO_SECONDS, "--junk", TWO_SECONDS))
    assert_ok(a.ctl("retention", "set", "--mailbox", USER, "Archive", "--days", TWO_SECONDS))
    assert_ok(a.ctl("retention", "set", "--mailbox", USER, "Junk", "--days", "0"))
    shown = assert_ok(b.ctl("--json", "retention", "show", "--tenant", TENANT)).json()
    assert shown["retention"] == {"trash": 2000, "junk": 2000}, shown
    # What applies, as B sees it (the mailbox rules went through the mail topic).

    def applies():
        r = b.get_json(f"/admin/retention/{USER}")
        return {m["name"]: (m["max_age_ms"], m["source"]) for m in r["mailboxes"]}
    wait_until(lambda: applies()["Archive"] == (2000, "mailbox") and applies()["Junk"] == (0, "mailbox"),
               30, interval=0.2, what="the mailbox rules on B", diag=lambda: str(applies()))
    got = applies()
    assert got["Trash"] == (2000, "trash") and got["INBOX"] == (None, ""), got
    text = assert_ok(a.ctl("retention", "show", "--mailbox", USER)).out
    assert "Junk: kept forever" in text and "INBOX: no rule" in text, text

    # The messages, through A.
    m = login(a)
    n = 0
    for box, k in PER_BOX.items():
        for _ in range(k):
            n += 1
            typ, data = m.append(box, None, None, message(n))
            assert typ == "OK", data
    m.logout()
    # An IMAP client on B with Trash selected; it learns of the arrivals.
    raw = Raw(b.imap_port)
    try:
        raw.until(r"^\* OK.*\r\n")
        raw.send(f"a1 LOGIN {USER} {PASSWORD}")
        raw.until(r"^a1 OK.*\r\n")
        wait_until(lambda: count(b, "Trash") == PER_BOX["Trash"], 30, interval=0.2, what="Trash on B")
        raw.send("a2 SELECT Trash")
        head = raw.until(r"^a2 OK.*\r\n")
        assert f"* {PER_BOX['Trash']} EXISTS".encode() in head, head
        raw.send("a3 IDLE")
        raw.until(r"^\+ .*\r\n")
        # Retention empties Trash: one EXPUNGE per message, while idling.
        seen = b""
        deadline = time.monotonic() + 40
        while seen.count(b" EXPUNGE") < PER_BOX["Trash"]:
            assert time.monotonic() < deadline, f"EXPUNGEs seen on B: {seen!r}"
            seen += raw.until(r"^\* \d+ EXPUNGE\r\n", timeout=max(1, deadline - time.monotonic()))
        raw.send("DONE")
        raw.until(r"^a3 OK.*\r\n")
    finally:
        raw.close()

    wait_until(lambda: count(a, "Archive") == 0, 30, interval=0.2, what="Archive emptied", diag=a.diag)
    for node in (a, b):
        assert count(node, "Trash") == 0
        assert count(node, "INBOX") == PER_BOX["INBOX"]
        assert count(node, "Junk") == PER_BOX["Junk"]   # its own rule keeps it, over the tenant's
    # One decider: its counters say what retention did; the other did nothing.
    expunged = [metric(node, "evmail_retention_expunged_total") for node in (a, b)]
    assert sorted(expunged) == [0, PER_BOX["Trash"] + PER_BOX["Archive"]], expunged
    # The log says who: ordinary message.expunge events of actor "retention".
    hist = a.get_json(f"/admin/history/{USER}")["events"]
    by_retention = [e for e in hist if e["actor"] == "retention"]
    assert by_retention and all(e["type"] == "message.expunge" for e in by_retention), by_retention
    assert sum(sum(hi - lo + 1 for lo, hi in e["result"]["expunged"]) for e in by_retention) == \
        PER_BOX["Trash"] + PER_BOX["Archive"]

    # Both views applied the same log.
    def digests():
        da, db = a.get_json("/admin/digest"), b.get_json("/admin/digest")
        return da["digest"] == db["digest"] and (da, db)
    da, _ = wait_until(digests, 30, interval=0.5, what="A and B view digests to agree",
                       diag=lambda: f"A {a.get_json('/admin/digest')} B {b.get_json('/admin/digest')}")
    print(f"digest A = B = {da['digest']} ({da['keys']} keys)")
    # Clearing: the tenant's rules go, Junk's own rule goes.
    assert_ok(a.ctl("retention", "clear", "--tenant", TENANT))
    assert_ok(a.ctl("retention", "clear", "--mailbox", USER, "Junk"))
    shown = assert_ok(a.ctl("--json", "retention", "show", "--tenant", TENANT)).json()
    assert shown["retention"] is None, shown
