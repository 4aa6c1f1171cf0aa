"""Body garbage collection (issue #13 item 1, projector/blob_gc.h) on one
evmaild with blob.gc_interval_s=1 and blob.gc_grace_s=2, on the embedded
log and on Kafka (fixture backend):

- N messages delivered to amy (EVMAIL_BLOB_GC_N, 200 by default; the
  issue's 1,000 is the same test with EVMAIL_BLOB_GC_N=1000), the first one
  in the same SMTP transaction to bob too (one body, two references); amy
  expunges everything: once the grace is over every body nobody references
  has left the view (GET /admin/blobs/<id>), bob's copy still FETCHes
  whole over IMAP, and on Kafka the blob topic (read with kcat) holds a
  tombstone for exactly the chunk keys of the collected bodies;
- the same bytes APPENDed again during the grace, and again right after a
  collection, stay readable through the following scans."""

import imaplib
import os
import re
import smtplib
import subprocess
import time

import pytest

from conftest import assert_ok, mail_inbox, wait_until

DOMAIN = "gc.example"
AMY = f"amy@{DOMAIN}"
BOB = f"bob@{DOMAIN}"
PASSWORD = "gc-test-pw"
N = int(os.environ.get("EVMAIL_BLOB_GC_N", "200"))


@pytest.fixture
def node(backend_nodes, backend):
    env = {"EVMAIL_SMTP_HOSTNAME": "mx1.evmail.test", "EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "1",
           "EVMAIL_BLOB_GC_INTERVAL_S": "1", "EVMAIL_BLOB_GC_GRACE_S": "2"}
    if backend == "kafka":
        # the decider holds queue partition 0: the delivery role's group
        env["EVMAIL_NODE_ROLES"] = "projector,gateway,delivery"
    n = backend_nodes("gc", env=env)
    n.start(wait="ready")
    assert_ok(n.ctl("tenant", "create", "gct"))
    assert_ok(n.ctl("domain", "add", DOMAIN, "--tenant", "gct"))
    for a in (AMY, BOB):
        assert_ok(n.ctl("account", "add", a, "--password-stdin", input=PASSWORD + "\n"))
    return n


def metric(node, name):
    m = re.search(rf"^{name} (\d+)$", node.metrics(), re.M)
    return int(m.group(1)) if m else -1


def blob(node, blob_id):
    return node.get_json(f"/admin/blobs/{blob_id}")


def login(node, user):
    m = imaplib.IMAP4("127.0.0.1", node.imap_port, timeout=30)
    assert m.login(user, PASSWORD)[0] == "OK"
    return m


def message(i, body="Hello.\r\n"):
    return (f"From: Sender <s@sender.example>\r\nTo: <{AMY}>\r\nSubject: gc {i}\r\n"
            f"Message-ID: <gc-{i}.{time.monotonic_ns()}@sender.example>\r\n\r\n"
            f"message {i}\r\n{body}").encode()


def inbox(node, addr):
    return mail_inbox(node, addr)[1]


def scans_pass(node, count=3):
    """Waits until the collector has completed count more scans."""
    start = metric(node, "evmail_blob_gc_scans_total")
    wait_until(lambda: metric(node, "evmail_blob_gc_scans_total") >= start + count, 20,
               what=f"{count} more blob gc scans")


def expunge_all(node, user):
    m = login(node, user)
    assert m.select("INBOX")[0] == "OK"
    assert m.store("1:*", "+FLAGS", "(\\Deleted)")[0] == "OK"
    assert m.expunge()[0] == "OK"
    m.logout()


def append(node, user, raw):
    m = login(node, user)
    typ, data = m.append("INBOX", None, None, raw)
    assert typ == "OK", data
    m.logout()


def fetch_all(node, user):
    m = login(node, user)
    assert m.select("INBOX", readonly=True)[0] == "OK"
    typ, data = m.fetch("1:*", "(BODY.PEEK[])")
    assert typ == "OK", data
    m.logout()
    return [d[1] for d in data if isinstance(d, tuple)]


def blob_topic(node):
    """{record key: value size (-1: a tombstone)} of the blob topic, the
    latest record of each key (kcat to the end of every partition)."""
    env = node.env
    topic = env["EVMAIL_LOG_TOPIC_PREFIX"] + "blob"
    p = subprocess.run(["kcat", "-C", "-b", env["EVMAIL_LOG_BROKERS"], "-t", topic, "-e", "-q",
                        "-f", "%k\t%S\n"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    keys = {}
    for line in p.stdout.splitlines():
        k, size = line.rsplit("\t", 1)
        keys[k] = int(size)
    return keys


def test_blob_gc(node, backend):
    # N deliveries; the first to bob as well (one body, two references).
    with smtplib.SMTP("127.0.0.1", node.smtp_port, local_hostname="client.example", timeout=60) as s:
        s.sendmail("s@sender.example", [AMY, BOB], message(0, "shared\r\n"))
        for i in range(1, N):
            s.sendmail("s@sender.example", [AMY], message(i))
    wait_until(lambda: len(inbox(node, AMY)) == N and len(inbox(node, BOB)) == 1, 30,
               what="every delivery in the INBOXes")
    amy_blobs = {m["blob_id"] for m in inbox(node, AMY)}
    shared = inbox(node, BOB)[0]["blob_id"]
    assert len(amy_blobs) == N and shared in amy_blobs
    for b in amy_blobs:
        assert blob(node, b)["chunks"] == 1

    expunge_all(node, AMY)
    gone = amy_blobs - {shared}
    wait_until(lambda: metric(node, "evmail_blob_gc_blobs_deleted_total") >= len(gone), 40,
               what="the collector's decisions", diag=lambda: node.metrics()[-1500:])
    scans_pass(node, 2)
    for b in gone:
        info = blob(node, b)
        assert info["chunks"] == 0 and info["meta"] is None and info["uploads"] == {}, info
    info = blob(node, shared)
    assert info["chunks"] == 1 and len(info["uploads"]) == 1, info
    assert metric(node, "evmail_blob_gc_blobs_deleted_total") == len(gone)
    assert metric(node, "evmail_blob_gc_failures_total") == 0
    bodies = fetch_all(node, BOB)
    assert len(bodies) == 1 and b"message 0\r\nshared\r\n" in bodies[0]

    if backend == "kafka":
        keys = blob_topic(node)
        tombstoned = {k for k, size in keys.items() if size < 0}
        chunks = {k for k in keys if "/gc/" not in k}
        expect = {k for k in chunks if k.split("/")[0] in gone}
        assert tombstoned == expect and len(expect) == len(gone), (len(tombstoned), len(expect))
        assert all(keys[k] > 0 for k in chunks if k.split("/")[0] == shared)
        assert sum(1 for k in keys if "/gc/" in k) == len(gone)


def test_blob_gc_redelivery(node, backend):
    # Appended, expunged, and the same bytes appended again inside the grace.
    raw = message("again", "the same bytes twice\r\n")
    append(node, AMY, raw)
    rid = inbox(node, AMY)[0]["blob_id"]
    expunge_all(node, AMY)
    append(node, AMY, raw)
    scans_pass(node, 4)
    assert fetch_all(node, AMY) == [raw]
    assert blob(node, rid)["chunks"] == 1

    # Collected, then the same bytes again right after the decision.
    expunge_all(node, AMY)
    wait_until(lambda: blob(node, rid)["uploads"] == {}, 30, what="the collection of the body")
    assert blob(node, rid)["chunks"] == 0
    append(node, AMY, raw)
    scans_pass(node, 4)
    assert fetch_all(node, AMY) == [raw]
    info = blob(node, rid)
    assert info["chunks"] == 1 and len(info["uploads"]) == 1, info


def blob_log_bytes(node):
    """Bytes of the blob topic's segment files on disk (embedded log)."""
    root = node.data_dir / "log" / "evmail.blob"
    return sum(f.stat().st_size for f in root.glob("*/*.log"))


def test_blob_gc_embedded_compaction(nodes):
    """Embedded log (issue #13 item 1, ingest/embedded_compact.h): after the
    GC, a compaction pass (evmailctl log compact) shrinks the blob topic's
    segment files on disk; a rebuild from the compacted log gives the same
    mail and bodies (every surviving message FETCHes the same, every blob's
    record in the view is the same) and the same digest on every rebuild.

    The digest before and after compaction differs, and must: the view
    counts applied events (stat/applied) and keeps each one's outcome
    (ev/<id>), and the chunk events of collected bodies are gone from the
    log (Kafka's compaction does the same). The test checks that exactly
    those events are missing."""
    n = nodes("gcc", env={"EVMAIL_SMTP_HOSTNAME": "mx1.evmail.test",
                          "EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "1",
                          "EVMAIL_BLOB_GC_INTERVAL_S": "1", "EVMAIL_BLOB_GC_GRACE_S": "2",
                          "EVMAIL_LOG_PARTITIONS": "2", "EVMAIL_LOG_SEGMENT_BYTES": "16384",
                          "EVMAIL_LOG_EMBEDDED_COMPACT_INTERVAL_S": "0"})
    n.start(wait="ready")
    assert_ok(n.ctl("tenant", "create", "gct"))
    assert_ok(n.ctl("domain", "add", DOMAIN, "--tenant", "gct"))
    for a in (AMY, BOB):
        assert_ok(n.ctl("account", "add", a, "--password-stdin", input=PASSWORD + "\n"))
    count = 60
    filler = "".join(f"line {k} of a body that fills a segment or two\r\n" for k in range(40))
    with smtplib.SMTP("127.0.0.1", n.smtp_port, local_hostname="client.example", timeout=60) as s:
        s.sendmail("s@sender.example", [AMY, BOB], message(0, "shared\r\n" + filler))
        for i in range(1, count):
            s.sendmail("s@sender.example", [AMY], message(i, filler))
    wait_until(lambda: len(inbox(n, AMY)) == count and len(inbox(n, BOB)) == 1, 30,
               what="every delivery in the INBOXes")
    blobs = sorted({m["blob_id"] for m in inbox(n, AMY)})

    # amy expunges all but the first (shared) message and the second half;
    # the GC collects those bodies.
    m = login(n, AMY)
    assert m.select("INBOX")[0] == "OK"
    assert m.store(f"2:{count // 2}", "+FLAGS", "(\\Deleted)")[0] == "OK"
    assert m.expunge()[0] == "OK"
    m.logout()
    gone = count // 2 - 1
    wait_until(lambda: metric(n, "evmail_blob_gc_blobs_deleted_total") >= gone, 40,
               what="the collector's decisions", diag=lambda: n.metrics()[-1500:])
    scans_pass(n, 2)
    assert metric(n, "evmail_blob_gc_blobs_deleted_total") == gone
    assert_ok(n.ctl("rebuild"))
    amy_before = fetch_all(n, AMY)
    bob_before = fetch_all(n, BOB)
    assert len(amy_before) == count - gone and len(bob_before) == 1
    blobs_before = [blob(n, b) for b in blobs]
    applied_before = n.status()["events_applied"]
    size_before = blob_log_bytes(n)

    res = assert_ok(n.ctl("log", "compact"))
    assert "bytes reclaimed" in res.out, res.out
    stats = n.get_json("/admin/log/compact")
    assert stats["runs"] >= 1 and stats["errors"] == 0, stats
    assert stats["records_removed"] >= gone, stats
    size_after = blob_log_bytes(n)
    assert size_after < size_before, (size_before, size_after)
    assert stats["bytes_reclaimed"] >= size_before - size_after, stats
    assert metric(n, "evmail_log_compaction_bytes_reclaimed_total") == stats["bytes_reclaimed"]

    # Rebuilt from the compacted log: the same mail, bodies and blob
    # records; only the chunk events of the collected bodies are missing.
    assert_ok(n.ctl("rebuild"))
    assert fetch_all(n, AMY) == amy_before
    assert fetch_all(n, BOB) == bob_before
    assert [blob(n, b) for b in blobs] == blobs_before
    assert n.status()["events_applied"] == applied_before - gone
    digest = n.digest()
    assert_ok(n.ctl("rebuild"))
    assert n.digest() == digest

    # After a restart (the compacted segments recovered at open) too.
    n.stop()
    n.start(wait="ready")
    assert n.digest() == digest
    assert_ok(n.ctl("rebuild"))
    assert n.digest() == digest
    assert fetch_all(n, AMY) == amy_before
