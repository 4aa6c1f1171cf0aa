"""A node whose disk fills (ISSUE 8, "Bad input and faults"), on the
embedded log: the data directory is a small tmpfs of its own, filled with a
filler file until the file system says ENOSPC. The node keeps serving reads,
refuses writes with a clear error (SMTP 452 4.3.1 "insufficient system
storage", RFC 3463 3.4; IMAP NO [UNAVAILABLE] saying the disk is full),
/readyz says the log's storage is full, and it recovers by itself once the
filler is removed: writes work again, nothing acknowledged is lost, and a
restart finds a log that is not corrupt. A second test fills only the
view's file system (RocksDB hits ENOSPC while the log accepts): the
projector stops and retries, /readyz reports it, the node does not crash,
and what the log took is applied once space returns.

Needs root and tmpfs mounts (mount -t tmpfs): a real file system that
fills, not a simulation. Where mounting is not permitted the tests skip."""

import imaplib
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import SmtpRaw, assert_ok, wait_until

DOMAIN = "full.example"
USER = f"fred@{DOMAIN}"
PASSWORD = "disk-full-pw"
WRITE_TIMEOUT_MS = 5000
CLIENT_TIMEOUT = 90.0      # write timeout + the node's apply wait, with room


def mount_tmpfs(path, size):
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a tmpfs that can fill")
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                         capture_output=True, text=True, timeout=30)
    if res.returncode != 0:
        pytest.skip(f"mount -t tmpfs not permitted here: {res.stderr.strip()}")
    return path


def umount(path):
    subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30)


@pytest.fixture
def mounts():
    made = []

    def make(path, size):
        made.append(mount_tmpfs(Path(path), size))
        return made[-1]

    yield make
    for p in reversed(made):
        umount(p)


def fill(directory):
    """Writes a filler file until the file system is full; returns it."""
    filler = Path(directory) / "filler"
    chunk = b"\0" * (256 * 1024)
    with open(filler, "wb", buffering=0) as f:
        while True:
            try:
                f.write(chunk)
            except OSError:
                break
        # The last bytes too: a page at a time.
        while True:
            try:
                f.write(b"\0" * 4096)
            except OSError:
                break
    return filler


def message(subject):
    mid = f"<{subject.replace(' ', '-')}.{time.monotonic_ns()}@full.example>"
    return mid, (f"From: Bob <bob@sender.example>\r\nTo: Fred <{USER}>\r\nSubject: {subject}\r\n"
                 f"Message-ID: {mid}\r\n\r\n" + "Hello, full disk.\r\n" * 20).encode()


def smtp_send(node, subject):
    mid, data = message(subject)
    s = SmtpRaw(node.smtp_port, timeout=CLIENT_TIMEOUT)
    try:
        assert s.reply()[0] == 220, s.log()
        assert s.cmd("EHLO client.example")[0] == 250, s.log()
        assert s.cmd("MAIL FROM:<bob@sender.example>")[0] == 250, s.log()
        assert s.cmd(f"RCPT TO:<{USER}>")[0] == 250, s.log()
        assert s.cmd("DATA")[0] == 354, s.log()
        s.send(data + b".\r\n")
        code, lines = s.reply()
        return code, " ".join(lines), mid
    except socket.timeout:
        pytest.fail(f"SMTP: no answer within {CLIENT_TIMEOUT}s\n{s.log()}")
    finally:
        s.close()


def imap(node):
    m = imaplib.IMAP4("127.0.0.1", node.imap_port, timeout=CLIENT_TIMEOUT)
    assert m.login(USER, PASSWORD)[0] == "OK"
    return m


def inbox_ids(node):
    m = imap(node)
    assert m.select("INBOX", readonly=True)[0] == "OK"
    typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    m.logout()
    if data == [None]:
        return []
    return [re.search(rb"(<[^>]+>)", d[1]).group(1).decode() for d in data if isinstance(d, tuple)]


def start_node(nodes, data_dir):
    node = nodes("full", data_dir=data_dir,
                 env={"EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "1", "EVMAIL_SMTP_HOSTNAME": "mx1.evmail.test",
                      "EVMAIL_LOG_WRITE_TIMEOUT_MS": str(WRITE_TIMEOUT_MS),
                      "EVMAIL_LOG_SEGMENT_BYTES": str(256 * 1024)})
    node.start(wait="ready")
    assert_ok(node.ctl("tenant", "create", "full"))
    assert_ok(node.ctl("domain", "add", DOMAIN, "--tenant", "full"))
    assert_ok(node.ctl("account", "add", USER, "--password-stdin", input=PASSWORD + "\n"))
    return node


def readyz(node):
    r = node.http("GET", "/readyz")
    return r.status, r.text


def test_log_disk_full_refuses_writes_and_recovers(nodes, mounts, tmp_path):
    data = mounts(tmp_path / "data", "48m")
    node = start_node(nodes, data)
    acked = []
    for i in range(3):
        code, text, mid = smtp_send(node, f"before {i}")
        assert code == 250, text
        acked.append(mid)

    filler = fill(data)

    # Writes: refused with a clear, temporary error; the node stays up.
    code, text, _ = smtp_send(node, "disk full")
    assert code == 452 and "4.3.1" in text and "storage" in text.lower(), text
    m = imap(node)
    typ, resp = m.append("INBOX", None, None, message("append on a full disk")[1])
    assert typ == "NO" and b"[UNAVAILABLE]" in resp[0] and b"disk is full" in resp[0], resp
    st, text = readyz(node)
    assert st == 503 and "storage full" in text, text
    assert "evmail_log_storage_full 1" in node.metrics()
    # Reads: from the view, as before.
    assert m.select("INBOX")[0] == "OK"
    assert sorted(inbox_ids(node)) == sorted(acked)
    assert node.alive()

    # Space returns: the node recovers by itself.
    filler.unlink()
    node.wait_ready(timeout=60)
    code, text, mid = smtp_send(node, "after")
    assert code == 250, text
    acked.append(mid)
    typ, resp = m.append("INBOX", None, None, message("append after")[1])
    assert typ == "OK", resp
    m.logout()
    ids = inbox_ids(node)
    for mid in acked:
        assert ids.count(mid) == 1, (mid, ids)

    # A restart finds the log whole (recovery would refuse a corrupt one).
    assert node.stop() == 0
    node.start(wait="ready")
    assert inbox_ids(node) == ids
    assert "partition has a gap" not in node.diag(400)
    code, text, mid = smtp_send(node, "after restart")
    assert code == 250, text


def test_view_disk_full_projector_retries(nodes, mounts, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    view = mounts(data / "view", "48m")
    node = start_node(nodes, data)
    code, text, first = smtp_send(node, "before")
    assert code == 250, text

    filler = fill(view)
    # The log takes the message; the view cannot apply it: a temporary
    # failure that says the disk is full (its fate unknown to the node),
    # never a crash.
    code, text, during = smtp_send(node, "view full")
    assert code == 452 and "4.3.1" in text, text
    wait_until(lambda: readyz(node)[0] == 503, 30, what="/readyz 503 while the view is full")
    st, text = readyz(node)
    assert "not ready" in text, text
    assert node.alive()

    filler.unlink()
    node.wait_ready(timeout=90)
    assert node.alive()
    # What the log took is applied now: nothing was lost.
    wait_until(lambda: during in inbox_ids(node), 60, what="the message logged while the view was full")
    ids = inbox_ids(node)
    assert ids.count(first) == 1 and ids.count(during) == 1, ids
    code, text, _ = smtp_send(node, "after")
    assert code == 250, text
