"""blob.store = log (issue #13 item 5, projector/blob_store.h): a node keeps
only where each chunk is in the blob topic and reads bodies from the log
through a bounded cache (<data dir>/blobcache). On the embedded log and on
Kafka (fixture backend):

- messages delivered (one of three chunks) to a node in view mode, which
  is restarted in log mode (the view is rebuilt: its records hold chunk
  locations, no chunk bytes), then restarted again with its cache dir
  removed: IMAP FETCH BODY[] and JMAP download return the right bytes
  from the log (a miss: /admin/blobs says not cached, then cached), and
  again from the cache (a hit); with the cache's files deleted under the
  running node, every body still reads right (from the log) and is
  cached again;
- kill -9 while clients fetch bodies in a loop; restarted, every body
  still reads right.

On the embedded log only, the disk property: 200 messages of 64 KB in a
view-mode node and in a log-mode node; the log-mode view is much smaller
than the bodies, the view-mode view is not."""

import base64
import imaplib
import json
import os
import shutil
import smtplib
import threading
import time

import pytest

from conftest import assert_ok, free_port, mail_inbox, wait_until
from jmaplib import _request, jmap_api, jmap_session

DOMAIN = "bl.example"
AMY = f"amy@{DOMAIN}"
PASSWORD = "blob-log-pw"
BIG = 1200 * 1024  # three chunks of at most 512 KiB


def node_env(store, extra=None):
    return {"EVMAIL_SMTP_HOSTNAME": "mx1.evmail.test", "EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "1",
            "EVMAIL_HTTP_LISTEN": f"127.0.0.1:{free_port()}",
            "EVMAIL_BLOB_STORE": store, **(extra or {})}


def provision(n):
    assert_ok(n.ctl("tenant", "create", "blt"))
    assert_ok(n.ctl("domain", "add", DOMAIN, "--tenant", "blt"))
    assert_ok(n.ctl("account", "add", AMY, "--password-stdin", input=PASSWORD + "\n"))


def message(i, size):
    # base64 of random bytes: incompressible, so disk sizes mean something
    body = base64.encodebytes(os.urandom(size * 3 // 4)).replace(b"\n", b"\r\n")
    return (f"From: Sender <s@sender.example>\r\nTo: <{AMY}>\r\nSubject: blob log {i}\r\n"
            f"Message-ID: <bl-{i}.{time.monotonic_ns()}@sender.example>\r\n\r\n").encode() + body


def deliver(n, raws):
    with smtplib.SMTP("127.0.0.1", n.smtp_port, local_hostname="client.example", timeout=120) as s:
        for raw in raws:
            s.sendmail("s@sender.example", [AMY], raw)
    wait_until(lambda: len(mail_inbox(n, AMY)[1]) >= len(raws), 60, what="every delivery in the INBOX")


def fetch_all(n):
    """{uid: BODY[]} of amy's INBOX over IMAP."""
    m = imaplib.IMAP4("127.0.0.1", n.imap_port, timeout=60)
    try:
        assert m.login(AMY, PASSWORD)[0] == "OK"
        assert m.select("INBOX", readonly=True)[0] == "OK"
        typ, data = m.uid("FETCH", "1:*", "(UID BODY.PEEK[])")
        assert typ == "OK", data
    finally:
        try:
            m.logout()
        except (OSError, imaplib.IMAP4.error):
            pass
    out = {}
    for d in data:
        if isinstance(d, tuple):
            uid = int(d[0].split(b"UID ")[1].split()[0])
            out[uid] = d[1]
    return out


def check_bodies(n, raws):
    """Every body FETCHes whole: the delivered bytes after the node's prefix."""
    got = fetch_all(n)
    assert len(got) == len(raws)
    for uid, raw in zip(sorted(got), raws):
        assert got[uid].endswith(raw), (uid, len(got[uid]), len(raw))
    return got


def blob(n, blob_id):
    return n.get_json(f"/admin/blobs/{blob_id}")


def jmap_downloads(n):
    """{blobId: bytes} of every Email of amy through JMAP download."""
    acct = jmap_session(n, AMY, PASSWORD)["primaryAccounts"]["urn:ietf:params:jmap:mail"]
    r = jmap_api(n, [["Email/query", {"accountId": acct}, "q"],
                     ["Email/get", {"accountId": acct, "#ids": {"resultOf": "q", "name": "Email/query",
                                                               "path": "/ids"},
                                    "properties": ["blobId", "size"]}, "g"]], AMY, PASSWORD)
    out = {}
    for e in r[1][1]["list"]:
        status, data = _request(n, "GET", f"/jmap/download/{acct}/{e['blobId']}/m.eml", AMY, PASSWORD)
        assert status == 200, data[:200]
        assert len(data) == e["size"]
        out[e["blobId"]] = data
    return out


def restart(n, env=None, drop_cache=False):
    n.stop()
    if env:
        n.extra_env.update(env)
    if drop_cache:
        shutil.rmtree(n.data_dir / "blobcache", ignore_errors=True)
    n.start(wait="ready")


def test_blob_store_log_reads(backend_nodes, backend):
    n = backend_nodes("bl", env=node_env("view"))
    n.start(wait="ready")
    provision(n)
    raws = [message(0, BIG)] + [message(i, 2000) for i in range(1, 6)]
    deliver(n, raws)
    ids = [m["blob_id"] for m in mail_inbox(n, AMY)[1]]
    assert blob(n, ids[0])["chunks"] == 3 and blob(n, ids[0])["store"] == "view"

    # The same log, read in log mode: the view is rebuilt with locations.
    restart(n, {"EVMAIL_BLOB_STORE": "log"})
    assert "made with blob.store = view, this node has log" in n.log_path.read_text()
    for b in ids:
        info = blob(n, b)
        assert info["store"] == "log" and info["chunks"] == 0, info
        assert len(info["locations"]) == info["meta"]["count"], info
    assert len(blob(n, ids[0])["locations"]) == 3

    # Cache removed: every body is a miss, then a hit.
    restart(n, drop_cache=True)
    assert not (n.data_dir / "blobcache").exists() or not any((n.data_dir / "blobcache").rglob("*/*"))
    assert not any(blob(n, b)["cached"] for b in ids)
    first = check_bodies(n, raws)
    assert all(blob(n, b)["cached"] for b in ids)
    assert check_bodies(n, raws) == first

    # JMAP download: a miss after the cache is gone, then a hit.
    restart(n, drop_cache=True)
    down = jmap_downloads(n)
    assert sorted(down.values()) == sorted(first.values())
    assert all(blob(n, b)["cached"] for b in ids)
    assert jmap_downloads(n) == down

    # Files deleted under the running node (its index still lists them):
    # read from the log again.
    shutil.rmtree(n.data_dir / "blobcache")
    assert check_bodies(n, raws) == first
    assert all((n.data_dir / "blobcache" / b[:2] / b).exists() for b in ids)


def test_blob_store_log_kill9(backend_nodes, backend):
    n = backend_nodes("blk", env=node_env("log", {"EVMAIL_BLOB_CACHE_SIZE": str(64 * 1024)}))
    n.start(wait="ready")
    provision(n)
    raws = [message(i, 30000) for i in range(20)]   # the cache holds two: it keeps evicting
    deliver(n, raws)
    stop = threading.Event()
    done = []

    def reader():
        while not stop.is_set():
            try:
                fetch_all(n)
                done.append(1)
            except (OSError, imaplib.IMAP4.error, AssertionError):
                return   # the node died under it

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    wait_until(lambda: len(done) >= 2, 60, what="two whole FETCH loops")
    n.kill9()
    stop.set()
    for t in threads:
        t.join(60)
    n.start(wait="ready")
    check_bodies(n, raws)
    check_bodies(n, raws)


def du(path):
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def test_blob_store_log_view_size(nodes):
    raws = [message(i, 64 * 1024) for i in range(200)]
    total = sum(len(r) for r in raws)
    size = {}
    for store in ("view", "log"):
        n = nodes(f"bls-{store}", env=node_env(store))
        n.start(wait="ready")
        provision(n)
        deliver(n, raws)
        n.stop()   # the memtables flushed to table files
        size[store] = du(n.data_dir / "view")
    print(f"view sizes for {len(raws)} messages of {total} octets: {size}")
    assert size["view"] > total // 2, (size, total)
    assert size["log"] * 4 < total, (size, total)
