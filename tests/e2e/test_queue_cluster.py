"""The distributed outbound queue on two delivery nodes and a real Kafka
broker: 1,000 messages queued to a slow SMTP sink, one delivery node killed
with SIGKILL half way. Every message arrives at least once; a message
arrives twice only if an attempt for it was in flight on the killed node;
the queue ends empty; both views end with the same digest.

Peers: tests/e2e/smtp_sink.py (slowed by message_delay), submission with
AUTH PLAIN allowed without TLS on loopback, delivery.routes sending the
sink's domain straight to it, evmailctl queue list --json.
"""

import json
import smtplib
import threading
from email.message import EmailMessage

import pytest

from conftest import assert_ok, clean_env, evmailctl, free_port, wait_until

from smtp_sink import SmtpSink

pytestmark = pytest.mark.kafka

N_MESSAGES = 1000
SINK_DOMAIN = "sink.test"
USER = "sender@queue.test"
PASSWORD = "queue-cluster-pw"
# Both nodes together never have more attempts open than this: each node
# holds at most delivery.concurrency * 4 items in flight (queue_worker.c).
CONCURRENCY = 4
MAX_IN_FLIGHT_PER_NODE = CONCURRENCY * 4


def seq_of(msg):
    """The X-Seq header of a message the sink received."""
    data = msg.data.decode("utf-8", "replace")
    for line in data.split("\r\n"):
        if line.lower().startswith("x-seq:"):
            return int(line.split(":", 1)[1].strip())
        if line == "":
            break
    raise AssertionError(f"message without X-Seq: {data[:200]!r}")


def queue_items(node):
    """The queue as the node's view has it."""
    res = assert_ok(node.ctl("queue", "list", "--json"))
    return json.loads(res.out)


def submit_all(port, first, last, errors):
    """Submits messages first..last-1 on one connection (AUTH PLAIN)."""
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
            s.ehlo("client.queue.test")
            s.login(USER, PASSWORD)
            for i in range(first, last):
                m = EmailMessage()
                m["From"] = USER
                m["To"] = f"rcpt{i % 7}@{SINK_DOMAIN}"
                m["Subject"] = f"queued message {i}"
                m["X-Seq"] = str(i)
                m.set_content(f"body of message {i}\n")
                s.send_message(m)
    except Exception as e:   # reported by the test, never swallowed
        errors.append(repr(e))


def delivery_node(nodes, name, kenv, sink_port):
    env = {
        **kenv,
        "EVMAIL_NODE_ROLES": "projector,gateway,delivery",
        "EVMAIL_SUBMISSION_ALLOW_PLAINTEXT_AUTH": "1",
        "EVMAIL_DELIVERY_ROUTES": f"{SINK_DOMAIN}=127.0.0.1:{sink_port}",
        "EVMAIL_DELIVERY_RELAY_TLS": "none",      # the sink offers no STARTTLS
        "EVMAIL_DELIVERY_RETRY_MIN_S": "1",
        "EVMAIL_DELIVERY_RETRY_MAX_S": "2",
        "EVMAIL_DELIVERY_CONCURRENCY": str(CONCURRENCY),
        "EVMAIL_DELIVERY_CONCURRENCY_PER_DOMAIN": "2",
        "EVMAIL_DELIVERY_CONNECT_TIMEOUT_S": "5",
        "EVMAIL_DELIVERY_COMMAND_TIMEOUT_S": "30",
        "EVMAIL_SMTP_HOSTNAME": f"{name}.queue.test",
    }
    return nodes(name, env=env)


def test_kill_one_delivery_node_half_way(nodes, kafka_env):
    sink = SmtpSink()
    sink.message_delay = 0.05
    sink.start()
    try:
        _run(nodes, kafka_env, sink)
    finally:
        sink.stop()


def _run(nodes, kafka_env, sink):
    assert_ok(evmailctl(["topics", "create"], clean_env(**kafka_env), timeout=120))
    a = delivery_node(nodes, "qa", kafka_env, sink.port)
    b = delivery_node(nodes, "qb", kafka_env, sink.port)
    a.start(wait="ready", timeout=90)
    b.start(wait="ready", timeout=90)
    # The group settles before the load: a partition moved from a to b by
    # b's arrival while a had an attempt in flight would be attempted twice
    # (that duplicate is the rebalance's, not the kill's this test is about).
    nparts = int(kafka_env.get("EVMAIL_LOG_PARTITIONS", "16"))

    def settled():
        owned = [set(n.status().get("delivery", {}).get("owned", [])) for n in (a, b)]
        return (all(owned) and not (owned[0] & owned[1])
                and owned[0] | owned[1] == set(range(nparts)))
    wait_until(settled, 60, what="the delivery group to own every queue partition, once",
               diag=lambda: json.dumps([n.status().get("delivery") for n in (a, b)]))
    assert_ok(a.ctl("tenant", "create", "queuet"))
    assert_ok(a.ctl("domain", "add", "queue.test", "--tenant", "queuet"))
    assert_ok(a.ctl("account", "add", USER, "--password-stdin", input=PASSWORD + "\n"))

    # Submit on a (it stays alive), in the background, 4 connections.
    errors = []
    step = N_MESSAGES // 4
    threads = [threading.Thread(target=submit_all, args=(a.submission_port, k * step, (k + 1) * step, errors))
               for k in range(4)]
    for t in threads:
        t.start()

    # Half way through, kill -9 b (it owns some queue partitions).
    wait_until(lambda: len({seq_of(m) for m in list(sink.messages)}) >= N_MESSAGES // 2, 180,
               what="half of the messages at the sink", diag=lambda: a.diag() + b.diag())
    b.kill9()

    for t in threads:
        t.join(300)
    assert not any(t.is_alive() for t in threads), "submission did not finish"
    assert not errors, errors

    # Every message at least once; a's group takes b's partitions after
    # the session timeout (10 s) and retries what b had not logged.
    wait_until(lambda: len({seq_of(m) for m in list(sink.messages)}) == N_MESSAGES, 300,
               what="every message at the sink", diag=a.diag)
    wait_until(lambda: queue_items(a) == [], 120, what="the queue to drain on a", diag=a.diag)

    seqs = [seq_of(m) for m in sink.messages]
    counts = {}
    for s in seqs:
        counts[s] = counts.get(s, 0) + 1
    assert set(counts) == set(range(N_MESSAGES))
    dups = sorted(s for s, n in counts.items() if n > 1)
    # A duplicate is an attempt that was in flight on b when it was killed:
    # b's copy reached the sink (b never logged the outcome), then a, owning
    # b's partitions, sent it again. Each node says EHLO with its own name.
    by_seq = {}
    for m in sink.messages:
        by_seq.setdefault(seq_of(m), []).append(m.helo)
    for s_ in dups:
        assert by_seq[s_] == ["qb.queue.test", "qa.queue.test"], (s_, by_seq[s_])
    assert len(dups) <= MAX_IN_FLIGHT_PER_NODE, dups
    print(f"queue cluster: {N_MESSAGES} submitted, {len(seqs)} arrived, {len(set(seqs))} distinct, "
          f"{len(dups)} duplicates (in flight at the kill), 1 delivery node killed")
    # Recipients as sent.
    for m in sink.messages:
        assert m.mail_from == USER
        assert m.accepted_rcpts == [f"rcpt{seq_of(m) % 7}@{SINK_DOMAIN}"]

    # b comes back with its data: it applies what a logged, the queue is
    # empty there too, and both views are identical.
    b.start(wait="ready", timeout=90)
    wait_until(lambda: queue_items(b) == [], 120, what="the queue to be empty on b", diag=b.diag)
    def same_digest():
        return a.digest() == b.digest()
    wait_until(same_digest, 60, what="equal view digests", diag=lambda: a.diag() + b.diag())
