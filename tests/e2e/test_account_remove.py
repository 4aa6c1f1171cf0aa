"""Account removal frees everything (issue #13 item 3, projector/mail_purge.c)
on one evmaild with blob.gc_interval_s=1 and blob.gc_grace_s=1, on the
embedded log and on Kafka (fixture backend):

- amy gets three messages, the first in the same SMTP transaction to bob
  too (one body, two references), shares her INBOX with bob and bob his
  with her (SETACL);
- `evmailctl account remove amy`: her store is gone from the view (no
  mailbox, usage 0), bob no longer lists her shared INBOX, bob's grant to
  her is revoked (GETACL), the bodies only
  she referenced leave the view once the collector's grace is over (GET
  /admin/blobs/<id>), and the shared one still FETCHes whole for bob;
- removing again (no such account) re-issues the purge and succeeds;
- amy re-created starts with an empty INBOX, sees nothing of bob's, and
  receives again (UID 1)."""

import imaplib
import smtplib
import time

import pytest

from conftest import assert_ok, mail_inbox, mail_mailboxes, wait_until

DOMAIN = "rm.example"
AMY = f"amy@{DOMAIN}"
BOB = f"bob@{DOMAIN}"
PASSWORD = "rm-test-pw"
SHARED = f'"Other Users/{AMY}/INBOX"'
BOBS = f"Other Users/{BOB}/INBOX"


@pytest.fixture
def node(backend_nodes, backend):
    env = {"EVMAIL_SMTP_HOSTNAME": "mx1.evmail.test", "EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "1",
           "EVMAIL_BLOB_GC_INTERVAL_S": "1", "EVMAIL_BLOB_GC_GRACE_S": "1"}
    if backend == "kafka":
        # the decider holds queue partition 0: the delivery role's group
        env["EVMAIL_NODE_ROLES"] = "projector,gateway,delivery"
    n = backend_nodes("rm", env=env)
    n.start(wait="ready")
    assert_ok(n.ctl("tenant", "create", "rmt"))
    assert_ok(n.ctl("domain", "add", DOMAIN, "--tenant", "rmt"))
    for a in (AMY, BOB):
        assert_ok(n.ctl("account", "add", a, "--password-stdin", input=PASSWORD + "\n"))
    return n


def login(node, user):
    m = imaplib.IMAP4("127.0.0.1", node.imap_port, timeout=30)
    assert m.login(user, PASSWORD)[0] == "OK"
    return m


def message(i, body="Hello.\r\n"):
    return (f"From: Sender <s@sender.example>\r\nTo: <{AMY}>\r\nSubject: rm {i}\r\n"
            f"Message-ID: <rm-{i}.{time.monotonic_ns()}@sender.example>\r\n\r\n"
            f"message {i}\r\n{body}").encode()


def send(node, rcpts, raw):
    with smtplib.SMTP("127.0.0.1", node.smtp_port, local_hostname="client.example", timeout=60) as s:
        s.sendmail("s@sender.example", rcpts, raw)


def inbox(node, addr):
    return mail_inbox(node, addr)[1]


def blob(node, blob_id):
    return node.get_json(f"/admin/blobs/{blob_id}")


def listed(m):
    typ, data = m.list('""', "*")
    assert typ == "OK"
    return [d.decode() for d in data if d is not None]


def test_account_remove(node):
    send(node, [AMY, BOB], message(0, "shared\r\n"))
    for i in (1, 2):
        send(node, [AMY], message(i))
    wait_until(lambda: len(inbox(node, AMY)) == 3 and len(inbox(node, BOB)) == 1, 30,
               what="every delivery in the INBOXes")
    amy_blobs = {m["blob_id"] for m in inbox(node, AMY)}
    shared = inbox(node, BOB)[0]["blob_id"]
    assert len(amy_blobs) == 3 and shared in amy_blobs
    owner = login(node, AMY)
    assert owner.setacl("INBOX", BOB, "lr")[0] == "OK"
    owner.logout()
    bob = login(node, BOB)
    assert bob.setacl("INBOX", AMY, "lr")[0] == "OK"
    assert any(SHARED.strip('"') in n for n in listed(bob))
    bob.logout()
    owner = login(node, AMY)
    assert any(BOBS in n for n in listed(owner))
    owner.logout()

    res = node.ctl("account", "remove", AMY)
    assert_ok(res)
    assert "its mail purged" in res.out, res.out
    # The reply came after the purge was applied on this node.
    assert mail_mailboxes(node, AMY) == []
    assert node.get_json(f"/admin/mail/{AMY}/usage") == {"messages": 0, "quota_used": 0}
    bob = login(node, BOB)
    assert not any(SHARED.strip('"') in n for n in listed(bob))
    assert bob.select(SHARED, readonly=True)[0] == "NO"
    typ, data = bob.getacl("INBOX")
    assert typ == "OK" and AMY.encode() not in data[0], data
    bob.logout()

    # The bodies only amy referenced go after the grace; bob's stays.
    gone = amy_blobs - {shared}
    wait_until(lambda: all(blob(node, b)["chunks"] == 0 for b in gone), 40,
               what="amy's bodies collected", diag=lambda: [blob(node, b) for b in gone])
    for b in gone:
        info = blob(node, b)
        assert info["meta"] is None and info["uploads"] == {}, info
    info = blob(node, shared)
    assert info["chunks"] == 1, info
    bob = login(node, BOB)
    assert bob.select("INBOX", readonly=True)[0] == "OK"
    typ, data = bob.fetch("1", "(BODY.PEEK[])")
    assert typ == "OK" and b"message 0\r\nshared\r\n" in data[0][1]
    bob.logout()

    # Again: no such account, the purge is issued anyway (the way to heal
    # a removal whose purge was lost).
    res = node.ctl("account", "remove", AMY)
    assert_ok(res)
    assert "purged again" in res.out, res.out

    # Re-created: empty, and receives again.
    assert_ok(node.ctl("account", "add", AMY, "--password-stdin", input=PASSWORD + "\n"))
    assert inbox(node, AMY) == []
    m = login(node, AMY)
    assert not any(BOBS in n for n in listed(m))
    m.logout()
    send(node, [AMY], message(3))
    wait_until(lambda: len(inbox(node, AMY)) == 1, 30, what="the new delivery")
    assert inbox(node, AMY)[0]["uid"] == 1
    m = login(node, AMY)
    assert m.select("INBOX", readonly=True)[0] == "OK"
    typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert typ == "OK" and len([d for d in data if isinstance(d, tuple)]) == 1
    assert b"rm 3" in data[0][1]
    m.logout()
