"""The log goes away under a node (ISSUE 8, "Bad input and faults"): a
private Kafka broker (tests/kafka/broker.sh on its own port; the session
broker is shared and must not be killed) is killed with SIGKILL under one
evmaild, then started again on the same data.

While it is away: reads are served from the view (IMAP LOGIN, SELECT with a
\\Recent claim pending, FETCH, SEARCH, LIST, STATUS, NOOP, EXAMINE; the
management reads), each answered before the write timeout would even have
fired (read timeouts 30 s > log.write_timeout_ms 10 s + its grace, so a
read stuck behind a write fails here); writes fail with a temporary error
within about twice the write timeout (the clients' own timeouts): SMTP
451 4.3.0, IMAP NO [UNAVAILABLE], admin HTTP 503; /readyz is 503 naming the
log and /metrics shows evmail_log_reachable 0. Once the broker is back the
node becomes ready by itself, writes work, and every message acknowledged
before is there exactly once."""

import imaplib
import os
import re
import signal
import smtplib
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import (BROKER_SH, KAFKA_LIB, SmtpRaw, assert_ok, clean_env, cmd, evmailctl, free_port,
                      kafka_required, random_prefix, run, tail, wait_until)

pytestmark = pytest.mark.kafka

DOMAIN = "outage.example"
USER = f"olga@{DOMAIN}"
PASSWORD = "outage-test-pw"
WRITE_TIMEOUT_MS = 10000
READ_TIMEOUT = 30.0                        # > write timeout + grace: a read behind a write fails
WRITE_FAIL_TIMEOUT = 2.5 * WRITE_TIMEOUT_MS / 1000   # a write must have failed by then


class PrivateBroker:
    """One KRaft broker of this test only: started by broker.sh, killed with
    SIGKILL, and started again on the same data (broker.sh start would
    format it anew)."""

    def __init__(self, bdir):
        self.dir = Path(bdir)
        self.port = free_port(pair=True)
        self.proc = None

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    def start(self):
        if not BROKER_SH.exists() or subprocess.run(["sh", "-c", "command -v java"],
                                                    capture_output=True).returncode != 0:
            msg = "no java or tests/kafka/broker.sh: cannot start a private broker"
            if kafka_required():
                pytest.fail(msg)
            pytest.skip(msg)
        base = self.dir
        for attempt in range(3):
            # The port was free when chosen; an outgoing connection may take
            # it before the JVM binds it: then a new port and a fresh dir.
            self.dir = base if attempt == 0 else base.with_name(f"{base.name}-{attempt}")
            res = run(["bash", BROKER_SH, "start", self.dir, self.port], env=clean_env(), timeout=240)
            if res.returncode == 0 or "Address already in use" not in tail(self.dir / "broker.log", 200):
                break
            self.port = free_port(pair=True)
        if res.returncode != 0:
            msg = f"broker.sh start failed:\n{res.stderr}\n{tail(self.dir / 'broker.log', 40)}"
            if kafka_required():
                pytest.fail(msg)
            pytest.skip(msg)

    def pid(self):
        return int((self.dir / "broker.pid").read_text())

    def kill9(self):
        pid = self.pid()
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not os.path.exists(f"/proc/{pid}") or
                   Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z", 10, what="broker gone")

    def restart(self):
        """Starts the broker again on its data, as broker.sh does but
        without formatting."""
        here = BROKER_SH.parent
        started = (self.dir / "broker.log").read_text(errors="replace").count("Kafka Server started")
        logf = open(self.dir / "broker.log", "ab")
        self.proc = subprocess.Popen(
            ["java", "-Xmx512m", "-XX:+UseG1GC", "-Djava.awt.headless=true",
             f"-Dlog4j.configuration=file:{here}/log4j.properties",
             f"-Dlog4j2.configurationFile={here}/log4j2.properties",
             f"-Dkafka.logs.dir={self.dir}/logs", "-cp", f"{KAFKA_LIB}/*", "kafka.Kafka",
             str(self.dir / "server.properties")],
            stdout=logf, stderr=logf, stdin=subprocess.DEVNULL, start_new_session=True)
        logf.close()
        (self.dir / "broker.pid").write_text(str(self.proc.pid))
        wait_until(lambda: (self.dir / "broker.log").read_text(errors="replace")
                   .count("Kafka Server started") > started, 120, interval=0.2,
                   what="the restarted broker", diag=lambda: tail(self.dir / "broker.log", 40))

    def stop(self):
        if (self.dir / "broker.pid").exists():
            run(["bash", BROKER_SH, "stop", self.dir], env=clean_env(), timeout=60)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def broker(tmp_path):
    b = PrivateBroker(tmp_path / "broker")
    b.start()
    yield b
    b.stop()


def message(subject):
    mid = f"<{subject.replace(' ', '-')}.{time.monotonic_ns()}@outage.example>"
    return mid, (f"From: Bob <bob@sender.example>\r\nTo: Olga <{USER}>\r\nSubject: {subject}\r\n"
                 f"Message-ID: {mid}\r\n\r\nHello.\r\n").encode()


def smtp_send(node, subject):
    """One message over SMTP; returns (reply code, text, Message-ID). The
    client's timeout bounds how long the node may take to answer."""
    mid, data = message(subject)
    s = SmtpRaw(node.smtp_port, timeout=WRITE_FAIL_TIMEOUT)
    try:
        assert s.reply()[0] == 220, s.log()
        assert s.cmd("EHLO client.example")[0] == 250, s.log()
        assert s.cmd("MAIL FROM:<bob@sender.example>")[0] == 250, s.log()
        assert s.cmd(f"RCPT TO:<{USER}>")[0] == 250, s.log()
        assert s.cmd("DATA")[0] == 354, s.log()
        s.send(data + b".\r\n")
        code, lines = s.reply()
        s.cmd("QUIT")
        return code, " ".join(lines), mid
    except socket.timeout:
        pytest.fail(f"SMTP: no answer within {WRITE_FAIL_TIMEOUT}s\n{s.log()}")
    finally:
        s.close()


def imap(node, timeout=READ_TIMEOUT):
    m = imaplib.IMAP4("127.0.0.1", node.imap_port, timeout=timeout)
    typ, _ = m.login(USER, PASSWORD)
    assert typ == "OK"
    return m


def inbox_message_ids(m):
    """Message-IDs of the selected mailbox, in UID order."""
    typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    assert typ == "OK", data
    out = []
    for d in data:
        if isinstance(d, tuple):
            mo = re.search(rb"Message-ID:\s*(<[^>]+>)", d[1], re.I)
            assert mo, d
            out.append(mo.group(1).decode())
    return out


def metric(node, name):
    for line in node.metrics().splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    pytest.fail(f"no metric {name}")


def test_broker_killed_reads_served_writes_fail_then_recover(nodes, broker):
    prefix = random_prefix()
    kenv = {"EVMAIL_LOG_BROKERS": broker.bootstrap, "EVMAIL_LOG_TOPIC_PREFIX": prefix,
            "EVMAIL_LOG_PARTITIONS": "2", "EVMAIL_LOG_WRITE_TIMEOUT_MS": str(WRITE_TIMEOUT_MS)}
    assert_ok(evmailctl(["topics", "create"], clean_env(**kenv), timeout=120))
    node = nodes("n1", env={**kenv, "EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "1",
                            "EVMAIL_SMTP_HOSTNAME": "mx1.evmail.test"})
    node.start(wait="ready")
    assert_ok(node.ctl("tenant", "create", "outage"))
    assert_ok(node.ctl("domain", "add", DOMAIN, "--tenant", "outage"))
    assert_ok(node.ctl("account", "add", USER, "--password-stdin", input=PASSWORD + "\n"))

    # Acknowledged before the outage: these must survive it.
    acked = []
    for i in range(3):
        code, text, mid = smtp_send(node, f"before {i}")
        assert code == 250, text
        acked.append(mid)
    assert metric(node, "evmail_log_reachable") == 1
    # A session that has INBOX selected across the outage.
    idle = imap(node)
    assert idle.select("INBOX")[0] == "OK"
    # One more arrival: the next rev1 SELECT has a \Recent claim to make.
    code, text, mid = smtp_send(node, "before claim")
    assert code == 250, text
    acked.append(mid)

    broker.kill9()

    # ---- reads, from the view -------------------------------------------
    m = imap(node)                       # LOGIN checks the password in the view
    typ, data = m.select("INBOX")        # rev1: would claim \Recent
    assert typ == "OK", data
    assert int(data[0]) == len(acked)
    assert sorted(inbox_message_ids(m)) == sorted(acked)
    typ, data = m.search(None, "ALL")
    assert typ == "OK" and len(data[0].split()) == len(acked), data
    typ, data = m.list()
    assert typ == "OK" and any(b"INBOX" in d for d in data), data
    typ, data = m.status("INBOX", "(MESSAGES UIDNEXT)")
    assert typ == "OK" and f"MESSAGES {len(acked)}".encode() in data[0], data
    assert m.noop()[0] == "OK"
    assert m.select("INBOX", readonly=True)[0] == "OK"       # EXAMINE
    assert idle.noop()[0] == "OK"
    assert node.http("GET", "/admin/status", timeout=READ_TIMEOUT).status == 200
    r = node.http("GET", f"/admin/accounts/{USER}", timeout=READ_TIMEOUT)
    assert r.status == 200, r

    # ---- writes fail with a temporary error, bounded ---------------------
    code, text, _ = smtp_send(node, "during outage")
    assert code == 451 and "4.3.0" in text, text
    w = imap(node, timeout=WRITE_FAIL_TIMEOUT)
    assert w.select("INBOX")[0] == "OK"
    typ, data = w.store("1", "+FLAGS", "\\Flagged")
    assert typ == "NO" and b"[UNAVAILABLE]" in data[0], data
    typ, data = w.append("INBOX", None, None, message("appended during outage")[1])
    assert typ == "NO" and b"[UNAVAILABLE]" in data[0], data
    r = node.http("POST", "/admin/commands", body=[cmd("tenant.create", {"name": "during"}, tenant="during")],
                  timeout=WRITE_FAIL_TIMEOUT)
    assert r.status == 503 and "unavailable" in r.json()["error"], r

    # ---- readiness and metrics say why -----------------------------------
    r = node.http("GET", "/readyz")
    assert r.status == 503 and "log unreachable" in r.text, r
    assert metric(node, "evmail_log_reachable") == 0
    assert metric(node, "evmail_log_appends_failed_total") >= 1

    # ---- the broker is back ----------------------------------------------
    broker.restart()
    node.wait_ready(timeout=120)
    assert metric(node, "evmail_log_reachable") == 1
    code, text, mid = smtp_send(node, "after outage")
    assert code == 250, text
    acked.append(mid)
    typ, data = w.store("1", "+FLAGS", "\\Flagged")
    assert typ == "OK", data
    r = node.http("POST", "/admin/commands", body=[cmd("tenant.create", {"name": "after"}, tenant="after")])
    assert r.status == 200 and r.json()[0]["status"] == "accepted", r

    # Nothing acknowledged was lost, nothing acknowledged is there twice.
    c = imap(node)
    assert c.select("INBOX", readonly=True)[0] == "OK"
    ids = inbox_message_ids(c)
    for mid in acked:
        assert ids.count(mid) == 1, (mid, ids)
    for s in (m, w, c, idle):
        s.logout()
