"""Checkpoints and replicas bootstrapped from a peer (issue #12 item 2):
GET /admin/checkpoint, `evmailctl checkpoint create`, node.bootstrap_from
and `evmailctl replica bootstrap` (gateway/checkpoint/checkpoint.h).

The bootstrap tests run on a real Kafka broker (a node with a view
bootstrapped from a peer tails the same log). EVMAIL_CHECKPOINT_EVENTS sets
how many events the first node holds (default 20000 here; the issue's
200,000 is `EVMAIL_CHECKPOINT_EVENTS=200000 pytest tests/e2e/test_checkpoint.py`).
The refusal tests only need a checkpoint file and run on the embedded log."""

import http.server
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from conftest import assert_fail, assert_ok, clean_env, evmailctl, make_batches, wait_until, DUMMY_PASSWORD_HASH

EVENTS = int(os.environ.get("EVMAIL_CHECKPOINT_EVENTS", "20000"))
TOKEN = "ckpt-admin-token"
BATCH = 5000


def load_events(node, total, tag):
    """About total events through POST /admin/commands: tenants, domains and
    accounts (an account.create also appends its mail-side provisioning
    event, so each counts twice)."""
    nbatches = max(1, total // (2 * BATCH))
    made = 0
    for cmds, _ in make_batches(tag, DUMMY_PASSWORD_HASH, nbatches=nbatches, batch_size=BATCH):
        outs = node.commands(cmds, timeout=300)
        assert all(o["status"] == "accepted" for o in outs), [o for o in outs if o["status"] != "accepted"][:3]
        made += len(cmds) * 2
    return made


def caught_up(node):
    parts = node.status()["partitions"]
    return all(p["lag"] == 0 for p in parts if p["topic"] != "cluster")


def same_digest(a, b, timeout=120):
    """Both caught up with the log and equal digests (writes have stopped)."""
    def equal():
        if not (caught_up(a) and caught_up(b)):
            return False
        da, db = a.digest(), b.digest()
        return da == db and da
    return wait_until(equal, timeout, interval=0.5, what=f"{a.name} and {b.name} to agree",
                      diag=lambda: a.diag(20) + "\n" + b.diag(40))


def timed_ready(node, timeout):
    t0 = time.monotonic()
    node.start(wait=None)     # during a bootstrap /healthz answers, /readyz is 503
    node.wait_ready(timeout)
    return time.monotonic() - t0


@pytest.fixture
def kenv(kafka_env):
    env = {**kafka_env, "EVMAIL_MGMT_ADMIN_TOKEN": TOKEN}
    assert_ok(evmailctl(["topics", "create"], clean_env(**kafka_env), timeout=120))
    return env


class Writer(threading.Thread):
    """Keeps writing small directory batches to a node until stopped."""

    def __init__(self, node, tag):
        super().__init__(daemon=True)
        self.node, self.tag, self.stop_ev, self.batches, self.error = node, tag, threading.Event(), 0, None

    def run(self):
        try:
            while not self.stop_ev.is_set():
                t = f"{self.tag}-{self.batches}"
                outs = self.node.commands([{"type": "tenant.create", "tenant": t, "account": "",
                                            "data": {"name": t}}])
                assert outs[0]["status"] == "accepted", outs
                self.batches += 1
        except Exception as e:     # reported by the test
            self.error = e

    def finish(self):
        self.stop_ev.set()
        self.join(60)
        assert self.error is None, self.error
        assert self.batches > 0


@pytest.mark.kafka
def test_bootstrap_while_writing_beside_full_replay(nodes, kenv):
    a = nodes("ckpt-a", env=kenv)
    a.start(wait="ready", timeout=90)
    t0 = time.monotonic()
    made = load_events(a, EVENTS, "ck")
    wait_until(lambda: caught_up(a), 300, interval=0.5, what="a to apply the load", diag=a.diag)
    load_s = time.monotonic() - t0

    # a full replay: a new node with an empty view and no bootstrap
    r = nodes("ckpt-replay", env=kenv)
    replay_s = timed_ready(r, 600)
    r.stop()

    # a bootstrapped replica, while writes continue on a
    w = Writer(a, "during")
    w.start()
    b = nodes("ckpt-b", env={**kenv, "EVMAIL_NODE_BOOTSTRAP_FROM": a.listen})
    boot_s = timed_ready(b, 600)
    w.finish()
    digest = same_digest(a, b)
    log = Path(b.log_path).read_text(errors="replace")
    assert "checkpoint: installed" in log, b.diag()
    assert not (b.data_dir / "view.bootstrap").exists()
    print(f"\n{made} events loaded in {load_s:.1f}s; time to ready: full replay {replay_s:.1f}s, "
          f"bootstrap from a checkpoint {boot_s:.1f}s (with {w.batches} writes meanwhile); digest {digest}")

    # a restarted replica keeps its view (no second bootstrap) and agrees
    b.stop()
    b.start(wait="ready", timeout=120)
    assert Path(b.log_path).read_text(errors="replace").count("checkpoint: installed") == 1
    assert same_digest(a, b) == digest


class SlowProxy(threading.Thread):
    """A TCP proxy to target that passes the first `first` octets of the
    answer and then holds the rest until release() (or forever)."""

    def __init__(self, target_port, first):
        super().__init__(daemon=True)
        self.target, self.first = target_port, first
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(120)
        self.port = self.sock.getsockname()[1]
        self.held = threading.Event()
        self.go = threading.Event()

    def run(self):
        try:
            client, _ = self.sock.accept()
        except OSError:
            return
        up = socket.create_connection(("127.0.0.1", self.target), timeout=120)
        up.sendall(client.recv(65536))      # the request (one small GET)
        sent = 0
        try:
            while True:
                data = up.recv(65536)
                if not data:
                    break
                if sent + len(data) > self.first and not self.go.is_set():
                    self.held.set()
                    self.go.wait(120)
                client.sendall(data)
                sent += len(data)
        except OSError:
            pass
        finally:
            client.close()
            up.close()

    def release(self):
        self.go.set()
        self.sock.close()


@pytest.mark.kafka
def test_kill9_during_bootstrap_then_next_start_finishes(nodes, kenv):
    a = nodes("ckpt-a", env=kenv)
    a.start(wait="ready", timeout=90)
    load_events(a, min(EVENTS, 20000), "k9")
    wait_until(lambda: caught_up(a), 300, interval=0.5, what="a to apply the load", diag=a.diag)
    proxy = SlowProxy(a.port, 256 * 1024)
    proxy.start()
    b = nodes("ckpt-b", env={**kenv, "EVMAIL_NODE_BOOTSTRAP_FROM": f"127.0.0.1:{proxy.port}"})
    b.start(wait=None)
    tmp = b.data_dir / "view.bootstrap"
    wait_until(lambda: proxy.held.is_set() and tmp.is_dir() and any(tmp.iterdir()), 60,
               what="the bootstrap to be under way", diag=b.diag)
    # the management API answers during the bootstrap: alive, not ready
    assert b.http("GET", "/healthz", timeout=5).status == 200
    r = b.http("GET", "/readyz", timeout=5)
    assert r.status == 503 and b"starting" in r.body, r
    assert b.http("GET", "/admin/status", timeout=5).status == 503
    b.kill9()
    proxy.release()
    assert tmp.is_dir() and not (b.data_dir / "view").exists()

    b.extra_env["EVMAIL_NODE_BOOTSTRAP_FROM"] = a.listen
    b.start(wait="ready", timeout=180)
    log = Path(b.log_path).read_text(errors="replace")
    assert "did not finish: discarding it" in log, b.diag()
    assert "checkpoint: installed" in log, b.diag()
    same_digest(a, b)


# ---- refusals: on the embedded log, from a checkpoint file ----------------

@pytest.fixture
def ckpt_file(nodes, tmp_path):
    a = nodes("ckpt-src", env={"EVMAIL_MGMT_ADMIN_TOKEN": TOKEN, "EVMAIL_LOG_PARTITIONS": "4"})
    a.start(wait="ready")
    load_events(a, 2 * BATCH, "rf")
    wait_until(lambda: caught_up(a), 120, interval=0.3, what="a to apply", diag=a.diag)
    out = tmp_path / "a.ckpt"
    res = assert_ok(a.ctl("checkpoint", "create", "--out", str(out)))
    assert "checkpoint of node ckpt-src" in res.out and out.stat().st_size > 0, repr(res)
    assert not Path(str(out) + ".part").exists()
    digest = a.digest()
    assert digest in res.out, (digest, res.out)
    # the serving side leaves no checkpoint directory behind
    wait_until(lambda: not list(a.data_dir.glob("checkpoint-*")), 10, what="checkpoint dir removed")
    a.stop()
    return out, digest


def replica_ctl(tmp_path, name, *args, **env):
    data = tmp_path / name
    e = clean_env(**{"EVMAIL_NODE_DATA_DIR": str(data), "EVMAIL_LOG_PARTITIONS": "4", **env})
    return evmailctl(["replica", "bootstrap", *args], e, timeout=120), data


def test_installed_file_has_the_peers_digest(nodes, ckpt_file, tmp_path):
    path, digest = ckpt_file
    res, data = replica_ctl(tmp_path, "r-ok", "--file", str(path))
    assert_ok(res)
    assert digest in res.out and (data / "view" / "CURRENT").exists()
    # a second install into a view that now holds data is refused
    res, _ = replica_ctl(tmp_path, "r-ok", "--file", str(path))
    assert_fail(res, "already holds a view")


def test_corrupted_checkpoint_refused(ckpt_file, tmp_path):
    path, _ = ckpt_file
    raw = bytearray(path.read_bytes())
    mlen = int.from_bytes(raw[8:12], "big")
    pos = 12 + mlen + (len(raw) - 12 - mlen) // 2    # in the middle of the files
    raw[pos] ^= 0x55
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(bytes(raw))
    res, data = replica_ctl(tmp_path, "r-bad", "--file", str(bad))
    assert_fail(res, "is corrupt: SHA-256")
    assert not (data / "view").exists() and not (data / "view.bootstrap").exists()


class OneFile(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/x-evmail-checkpoint")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *a):
        pass


def test_truncated_stream_refused_at_start(nodes, ckpt_file, tmp_path):
    """A peer whose stream stops early: evmaild refuses to start, says why,
    and leaves neither a view nor the temporary copy."""
    path, _ = ckpt_file
    raw = path.read_bytes()
    OneFile.body = raw[:len(raw) - 3000]
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), OneFile)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        c = nodes("ckpt-trunc", env={"EVMAIL_LOG_PARTITIONS": "4",
                                     "EVMAIL_NODE_BOOTSTRAP_FROM": f"127.0.0.1:{srv.server_address[1]}"})
        c.start(wait=None)
        c.proc.wait(60)
        assert c.proc.returncode != 0
        log = Path(c.log_path).read_text(errors="replace")
        assert "truncated" in log, c.diag()
        assert not (c.data_dir / "view").exists() and not (c.data_dir / "view.bootstrap").exists()
    finally:
        srv.shutdown()
    res, _ = replica_ctl(tmp_path, "r-trunc", "--file", "-")
    # stdin is empty here: nothing at all is a truncated stream too
    assert_fail(res, "truncated")


def test_checkpoint_of_another_cluster_refused(ckpt_file, tmp_path):
    path, _ = ckpt_file
    res, _ = replica_ctl(tmp_path, "r-parts", "--file", str(path), EVMAIL_LOG_PARTITIONS="8")
    assert_fail(res, "has 4 partitions there, this node expects 8")
    res, _ = replica_ctl(tmp_path, "r-prefix", "--file", str(path), EVMAIL_LOG_TOPIC_PREFIX="other.")
    assert_fail(res, "this node's log.topic_prefix is 'other.'")
