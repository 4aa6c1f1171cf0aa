"""The cluster under fire: a 3-broker KRaft cluster (replication factor 3,
min.insync.replicas 2) and evmaild nodes (projector, gateway, delivery) on
127.0.0.1, under a mixed load of SMTP inbound, IMAP APPEND / STORE / MOVE /
EXPUNGE and submission relayed to a sink (clients.py, imap_client.py).

test_kill_nodes_and_brokers: for CHAOS_DURATION seconds, kill -9 a random
node or a random broker every CHAOS_KILL_MIN..MAX seconds and restart it
(one at a time: at most one broker down, and only when every partition had
its full ISR, so the cluster stays writable).

test_join_and_rolling_restart: a fourth node joins a quarter of the way in
(fresh data directory: it replays the log, then serves; the clients add it
once /readyz says ready), then every node is restarted (SIGTERM) one at a
time, each gated on /readyz. The clients see nothing worse than a
reconnect: every operation is done in the end, and every stop exits 0.

Both end with verify.py's checks on every node; the counts are printed.
"""

import collections
import json
import random
import time

from clients import Control, SmtpInbound, Submitter
from e2e_bridge import e2e
from imap_client import ImapWorker
from ledger import Ledger, NodePool
from verify import check_node_mail, check_sink, wait_converged

DOMAIN = "chaos.test"
SINK_DOMAIN = "sink.example"
PASSWORD = "reference-pw"          # e2e.reference_hash's password
INBOUND = [f"in{i}@{DOMAIN}" for i in range(4)]
IMAP_USERS = [f"box{i}@{DOMAIN}" for i in range(2)]
SENDER = f"sender@{DOMAIN}"
EXPECTED = "expected copies (acked mail x nodes, expunged left out)"
DRAIN = 120.0                      # seconds for retries after the load stopped


def node_env(kenv, sink_port, name):
    return {**kenv,
            "EVMAIL_NODE_ROLES": "projector,gateway,delivery",
            "EVMAIL_SMTP_HOSTNAME": f"{name}.{DOMAIN}",
            "EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "1",
            "EVMAIL_SUBMISSION_ALLOW_PLAINTEXT_AUTH": "1",
            "EVMAIL_LIMITS_SUBMISSION_PER_HOUR": "0",
            "EVMAIL_DELIVERY_ROUTES": f"{SINK_DOMAIN}=127.0.0.1:{sink_port}",
            "EVMAIL_DELIVERY_RELAY_TLS": "none",
            "EVMAIL_DELIVERY_RETRY_MIN_S": "1",
            "EVMAIL_DELIVERY_RETRY_MAX_S": "3",
            "EVMAIL_DELIVERY_CONNECT_TIMEOUT_S": "5",
            "EVMAIL_DELIVERY_COMMAND_TIMEOUT_S": "30"}


def kafka_env(cluster):
    return {"EVMAIL_LOG_BROKERS": cluster.bootstrap,
            "EVMAIL_LOG_TOPIC_PREFIX": e2e.random_prefix(),
            "EVMAIL_LOG_PARTITIONS": "4",
            "EVMAIL_LOG_REPLICATION_FACTOR": "3",
            "EVMAIL_LOG_MIN_INSYNC_REPLICAS": "2"}


def start_cluster(chaos_nodes, kafka3, sink, names):
    """Topics (RF 3, min ISR 2), ready nodes, the directory; every account
    able to log in on every node."""
    kenv = kafka_env(kafka3)
    e2e.assert_ok(e2e.evmailctl(["topics", "create"], e2e.clean_env(**kenv), timeout=120))
    # A cluster that has just formed may answer DescribeConfigs for a topic
    # with an error for a moment (the topic then shows no configs): ask again.
    deadline = time.monotonic() + 60
    while True:
        desc = e2e.assert_ok(e2e.evmailctl(["topics", "describe", "--json"], e2e.clean_env(**kenv))).json()
        if all("min.insync.replicas" in t["configs"] for t in desc) or time.monotonic() > deadline:
            break
        time.sleep(1)
    for t in desc:
        assert t["replication_factor"] == 3 and t["configs"].get("min.insync.replicas") == "2", t
    nodes = [chaos_nodes(n, node_env(kenv, sink.port, n)) for n in names]
    for n in nodes:
        n.start(wait="ready", timeout=120)
    a = nodes[0]
    pw_hash = e2e.reference_hash(a, tenant="chaos", domain=DOMAIN)
    cmds = [e2e.cmd("account.create", e2e.account_data(addr, pw_hash), tenant="chaos", account=addr)
            for addr in INBOUND + IMAP_USERS + [SENDER]]
    outs = a.commands(cmds)
    assert all(o.get("status") == "accepted" for o in outs), outs
    for n in nodes:
        e2e.wait_until(lambda n=n: can_login(n, SENDER), 60, interval=0.3,
                       what=f"{n.name}: the accounts", diag=n.diag)
    return kenv, nodes


def can_login(node, user):
    import imaplib
    m = imaplib.IMAP4("127.0.0.1", node.imap_port, timeout=10)
    try:
        return m.login(user, PASSWORD)[0] == "OK"
    except imaplib.IMAP4.error:
        return False
    finally:
        m.shutdown()


def start_load(pool, ledger, control, seed):
    rng = random.Random(seed)
    workers = [SmtpInbound(f"smtp{i}", pool, ledger, control, rng.random(), INBOUND) for i in range(2)]
    workers += [ImapWorker(f"imap{i}", pool, ledger, control, rng.random(), u, PASSWORD)
                for i, u in enumerate(IMAP_USERS)]
    workers.append(Submitter("sub0", pool, ledger, control, rng.random(), SENDER, PASSWORD, SINK_DOMAIN))
    for w in workers:
        w.start()
    return workers


def stop_load(workers, control, ledger):
    """No new work; retries for up to DRAIN seconds; returns what was left."""
    control.stop_new.set()
    control.deadline = time.monotonic() + DRAIN
    for w in workers:
        w.join(DRAIN + 2 * 30 + 10)
    stuck = [w.name for w in workers if w.is_alive()]
    assert not stuck, f"client threads did not end: {stuck}\n{ledger.summary()}"
    left = sum(len(w.pending) for w in workers)
    ledger.count("operations never completed", left)
    return left


def finish(nodes, ledger, sink, extra):
    """Converged views and the mail checks on every node; prints the counts
    and returns the problems."""
    digests = wait_converged(nodes)
    stats = collections.Counter()
    problems = []
    for n in nodes:
        problems += check_node_mail(n, ledger, INBOUND + IMAP_USERS, PASSWORD, stats)
    problems += check_sink(sink, ledger, stats)
    counts = {**extra,
              "acknowledged": sum(m.acked for m in ledger.msgs.values()),
              EXPECTED: stats.pop("expected", 0),
              "found": stats.pop("found", 0),
              "client reconnects": sum(v for k, v in ledger.counts.items() if k.endswith("reconnects")),
              "unknown outcomes": sum(v for k, v in ledger.counts.items() if k.endswith("unknown outcomes")),
              **dict(stats), "digest": next(iter(digests.values()))[:16]}
    print("\n==== chaos events ====\n" + ledger.event_log())
    print("==== chaos ledger ====\n" + ledger.summary())
    print("==== chaos counts ====")
    for k, v in counts.items():
        print(f"  {k}: {v}")
    print("CHAOS-SUMMARY " + json.dumps(counts, sort_keys=True))
    return problems, counts


def test_kill_nodes_and_brokers(chaos_nodes, kafka3, sink, chaos_settings):
    s = chaos_settings
    rng = random.Random(s["seed"])
    kenv, nodes = start_cluster(chaos_nodes, kafka3, sink, ["n1", "n2", "n3"])
    prefix = kenv["EVMAIL_LOG_TOPIC_PREFIX"]
    ledger, control = Ledger(), Control(pause=0.1)
    pool = NodePool(nodes)
    workers = start_load(pool, ledger, control, rng.random())
    kills = collections.Counter()
    try:
        chaos_loop(rng, s, nodes, kafka3, prefix, ledger, kills)
    finally:
        control.stop_new.set()
        for i in sorted(kafka3.down):
            kafka3.restart(i)
        for n in nodes:
            if not n.alive():
                n.start(wait="healthy", timeout=120)
    left = stop_load(workers, control, ledger)
    problems, counts = finish(nodes, ledger, sink, {"kills of nodes": kills["node"],
                                                    "kills of brokers": kills["broker"]})
    assert not ledger.failures, ledger.summary()
    assert counts["found"] == counts[EXPECTED], problems[:20]
    assert not problems, "\n".join(problems[:40])
    assert left == 0, f"{left} operations never completed after {DRAIN:.0f}s of retries\n{ledger.summary()}"


def chaos_loop(rng, s, nodes, cluster, prefix, ledger, kills):
    """kill -9 one node or broker every kill_min..kill_max seconds, then
    restart it (down 1-3 s), until duration has passed."""
    t0 = time.monotonic()
    end = t0 + s["duration"]
    last = t0
    while True:
        nxt = last + rng.uniform(s["kill_min"], s["kill_max"])
        if nxt >= end:
            time.sleep(max(0.0, end - time.monotonic()))
            return
        time.sleep(max(0.0, nxt - time.monotonic()))
        last = time.monotonic()
        if rng.random() < 0.5:
            victim = rng.choice(nodes)
            victim.kill9()
            kills["node"] += 1
            ledger.event(f"kill -9 node {victim.name}")
            time.sleep(rng.uniform(1.0, 3.0))
            t = time.monotonic()
            victim.start(wait="ready", timeout=120)
            ledger.event(f"node {victim.name} restarted, ready after {time.monotonic() - t:.1f}s")
            continue
        t = time.monotonic()
        if not cluster.wait_full_isr(prefix, 60):
            ledger.event(f"ISR still not full after 60s ({cluster.under_replicated(prefix)}): no broker kill")
            continue
        b = rng.randrange(1, cluster.size + 1)
        cluster.kill(b)
        kills["broker"] += 1
        ledger.event(f"kill -9 broker {b} (full ISR waited {time.monotonic() - t:.1f}s)")
        time.sleep(rng.uniform(1.0, 3.0))
        t = time.monotonic()
        cluster.restart(b)
        ledger.event(f"broker {b} restarted in {time.monotonic() - t:.1f}s")


def test_join_and_rolling_restart(chaos_nodes, kafka3, sink, chaos_settings):
    s = chaos_settings
    rng = random.Random(s["seed"] + 1)
    kenv, nodes = start_cluster(chaos_nodes, kafka3, sink, ["r1", "r2", "r3"])
    ledger, control = Ledger(), Control(pause=0.1)
    pool = NodePool(nodes)
    workers = start_load(pool, ledger, control, rng.random())
    t0 = time.monotonic()
    exits = {}
    try:
        time.sleep(s["join_duration"] / 4)
        fourth = chaos_nodes("r4", node_env(kenv, sink.port, "r4"))
        t = time.monotonic()
        fourth.start(wait="ready", timeout=180)
        pool.add(fourth)
        nodes.append(fourth)
        ledger.event(f"node r4 joined (fresh data dir), ready after {time.monotonic() - t:.1f}s")
        for n in list(nodes):
            t = time.monotonic()
            rc = n.stop()
            exits[n.name] = rc
            ledger.event(f"node {n.name} stopped (SIGTERM, exit {rc}) in {time.monotonic() - t:.1f}s")
            t = time.monotonic()
            n.start(wait="ready", timeout=120)
            ledger.event(f"node {n.name} restarted, ready after {time.monotonic() - t:.1f}s")
            time.sleep(1.0)
        time.sleep(max(0.0, t0 + s["join_duration"] - time.monotonic()))
    finally:
        control.stop_new.set()
    left = stop_load(workers, control, ledger)
    problems, counts = finish(nodes, ledger, sink, {"nodes": len(nodes), "rolling restarts": len(nodes)})
    never = sum(not m.acked for m in ledger.msgs.values())
    assert not ledger.failures, ledger.summary()
    assert never == 0 and left == 0, (f"{never} messages never acknowledged, {left} operations never "
                                      f"completed\n{ledger.summary()}")
    assert counts["found"] == counts[EXPECTED], problems[:20]
    assert not problems, "\n".join(problems[:40])
    # A stop is part of every rolling restart: it must be clean.
    assert all(rc == 0 for rc in exits.values()), f"exit status after SIGTERM: {exits}"
