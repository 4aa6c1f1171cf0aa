"""Two evmaild nodes on one real Apache Kafka broker (KRaft, tests/kafka):
topic management, readiness, replication of the directory between nodes,
kill -9 of a replica during a write stream, rebuild, and topic checks.

Each test has its own topic prefix (fixture kafka_env), so tests do not see
each other's events."""

import re
import threading
import time

import pytest

from conftest import (KAFKA_LIB, assert_fail, assert_ok, clean_env, evmailctl, free_port, make_batches,
                      random_prefix, reference_hash, run, wait_until)

pytestmark = pytest.mark.kafka


def ctl_kafka(kenv, *args, timeout=120):
    """evmailctl with only the Kafka settings: it talks to the brokers."""
    return evmailctl(list(args), clean_env(**kenv), timeout=timeout)


def topics_create(kenv):
    res = assert_ok(ctl_kafka(kenv, "topics", "create"))
    return res


def two_nodes(nodes, kenv, **extra):
    a = nodes("kafka-a", env={**kenv, **extra})
    b = nodes("kafka-b", env={**kenv, **extra})
    return a, b


def test_readiness_topics_and_replication(nodes, kafka_env):
    a, b = two_nodes(nodes, kafka_env)
    a.start(wait="healthy")
    b.start(wait="healthy")

    # no topics yet: not ready, and /readyz says why
    def says_missing(node):
        r = node.http("GET", "/readyz")
        return r.status == 503 and "missing" in r.text.lower() and "topic" in r.text.lower() and r
    for n in (a, b):
        r = wait_until(lambda n=n: says_missing(n), 30, what=f"{n.name} /readyz to report missing topics",
                       diag=n.diag)
        assert r.text.startswith("not ready: "), r
        assert kafka_env["EVMAIL_LOG_TOPIC_PREFIX"] in r.text, r
    assert re.search(r"^evmail_ready 0\s*$", a.metrics(), re.M)
    res = ctl_kafka(kafka_env, "topics", "check")
    assert_fail(res, "problem")

    # create the topics with evmailctl talking to Kafka directly
    topics_create(kafka_env)
    a.wait_ready(90)
    b.wait_ready(90)
    assert_ok(ctl_kafka(kafka_env, "topics", "check"))
    # creating again is harmless
    assert_ok(ctl_kafka(kafka_env, "topics", "create"))

    desc = assert_ok(ctl_kafka(kafka_env, "topics", "describe", "--json")).json()
    prefix = kafka_env["EVMAIL_LOG_TOPIC_PREFIX"]
    by_name = {t["name"]: t for t in desc}
    for suffix, parts in [("directory", 1), ("cluster", 1),
                          ("mail", int(kafka_env["EVMAIL_LOG_PARTITIONS"]))]:
        t = by_name.get(prefix + suffix)
        assert t is not None, f"{prefix + suffix} missing from {list(by_name)}"
        assert t["exists"] is True and t["partitions"] == parts, t
        assert t["problems"] == [], t
    assert by_name[prefix + "directory"]["configs"]["cleanup.policy"] == "compact"
    assert by_name[prefix + "mail"]["configs"]["cleanup.policy"] == "delete"
    txt = assert_ok(ctl_kafka(kafka_env, "topics", "describe")).out
    assert prefix + "directory" in txt

    # writes through A: read-your-writes on A, visible on B soon after
    assert_ok(a.ctl("tenant", "create", "acme"))
    assert [t["name"] for t in a.get_json("/admin/tenants")] == ["acme"]
    assert_ok(a.ctl("domain", "add", "acme.example", "--tenant", "acme"))
    assert_ok(a.ctl("account", "add", "alice@acme.example", "--name", "Alice", "--password-stdin",
                    input="pw-alice\n"))
    assert a.get_json("/admin/accounts/alice@acme.example")["display_name"] == "Alice"
    assert_ok(a.ctl("alias", "add", "info@acme.example", "alice@acme.example"))
    wait_until(lambda: b.http("GET", "/admin/aliases/info@acme.example").status == 200, 30,
               what="the alias on B", diag=b.diag)
    acc_b = b.get_json("/admin/accounts/alice@acme.example?credentials=1")
    acc_a = a.get_json("/admin/accounts/alice@acme.example?credentials=1")
    assert acc_a == acc_b
    assert acc_b["password_hash"].startswith("$y$")
    # writes through B reach A as well, and conflicts resolve the same way
    assert_fail(b.ctl("tenant", "create", "acme"), "exists")
    assert_ok(b.ctl("tenant", "create", "globex"))
    wait_until(lambda: len(a.get_json("/admin/tenants")) == 2, 30, what="globex on A")

    # the same log gives the same view
    wait_until(lambda: a.digest() == b.digest(), 30, what="equal digests on A and B",
               diag=lambda: f"A {a.digest()} B {b.digest()}")

    # status on A lists both nodes from their heartbeats (by the node id
    # carried in the heartbeat; how the table is keyed: see
    # test_status_nodes_keyed_by_node_id)
    def both_nodes():
        st = a.status()
        ids = {v.get("id") for v in st.get("nodes", {}).values()}
        return {"kafka-a", "kafka-b"} <= ids and st
    st = wait_until(both_nodes, 30, what="both nodes in A's status", diag=lambda: str(a.status()))
    assert st["node"]["log_backend"] == "kafka", st
    res = assert_ok(a.ctl("status"))
    assert "kafka-a" in res.out and "kafka-b" in res.out, repr(res)
    assert b.listen in res.out, repr(res)
    sj = assert_ok(a.ctl("status", "--json")).json()
    hb_b = [v for v in sj["nodes"].values() if v.get("id") == "kafka-b"][0]
    assert hb_b.get("mgmt") == b.listen and "ready" in hb_b, sj["nodes"]
    assert isinstance(hb_b.get("ts"), int) and hb_b.get("applied"), hb_b
    mail_parts = [p for p in sj["partitions"] if p["topic"] == "mail"]
    assert len(mail_parts) == int(kafka_env["EVMAIL_LOG_PARTITIONS"]), sj["partitions"]


def test_status_nodes_keyed_by_node_id(nodes, kafka_env):
    """/admin/status "nodes" is a map node id -> its last heartbeat
    (ARCHITECTURE: cluster topic keyed by node id)."""
    a, b = two_nodes(nodes, kafka_env)
    topics_create(kafka_env)
    a.start(wait="ready", timeout=90)
    b.start(wait="ready", timeout=90)

    def seen():
        st = a.status()
        ids = {v.get("id") for v in st.get("nodes", {}).values()}
        return {"kafka-a", "kafka-b"} <= ids and st
    st = wait_until(seen, 30, what="both heartbeats on A", diag=lambda: str(a.status()))
    assert set(st["nodes"]) == {"kafka-a", "kafka-b"}, \
        f"status nodes keyed {sorted(st['nodes'])}, expected the node ids"
    # evmailctl status prints the node ids in its NODE column
    res = assert_ok(a.ctl("status"))
    rows = [ln.split()[0] for ln in res.out.splitlines()[res.out.splitlines().index(
        next(ln for ln in res.out.splitlines() if ln.startswith("NODE"))) + 1:] if ln.strip()]
    assert sorted(rows) == ["kafka-a", "kafka-b"], repr(res)


def test_replica_kill9_during_stream(nodes, kafka_env):
    a, b = two_nodes(nodes, kafka_env)
    topics_create(kafka_env)
    a.start(wait="ready", timeout=90)
    b.start(wait="ready", timeout=90)
    pw_hash = reference_hash(a)
    batches = make_batches("kaf", pw_hash, nbatches=20, batch_size=500)
    assert sum(len(c) for c, _ in batches) == 10000

    outcomes = {}
    errors = []
    progress = [0]

    def post_all():
        try:
            for i, (cmds, _) in enumerate(batches):
                r = a.http("POST", "/admin/commands", body=cmds, timeout=120)
                if r.status != 200:
                    errors.append(f"batch {i}: {r!r}")
                    return
                outcomes[i] = r.json()
                progress[0] = i + 1
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    t = threading.Thread(target=post_all, daemon=True)
    t0 = time.monotonic()
    t.start()
    wait_until(lambda: progress[0] >= 5 or errors, 240, interval=0.01, what="5 batches", diag=a.diag)
    b.kill9()
    wait_until(lambda: progress[0] >= 10 or errors or not t.is_alive(), 240, interval=0.05,
               what="10 batches", diag=a.diag)
    b.start(wait="healthy")
    t.join(600)
    assert not t.is_alive(), "the stream did not finish"
    assert not errors, f"{errors}\n{a.diag()}"
    elapsed = time.monotonic() - t0
    for i, outs in outcomes.items():
        bad = [o for o in outs if o.get("status") != "accepted"]
        assert not bad, f"batch {i}: {len(bad)} not accepted, first {bad[0]}"

    expected = {addr for _, addrs in batches for addr in addrs} | {"ref@hashref.example"}
    # read-your-writes on A: everything is there at once
    on_a = {x["address"] for x in a.get_json("/admin/accounts", timeout=120)}
    assert on_a == expected, f"A: {len(expected - on_a)} missing, {len(on_a - expected)} extra"
    # B catches up (bounded) and loses nothing
    b.wait_ready(180)

    def b_has_all():
        return len(b.get_json("/admin/accounts", timeout=120)) == len(expected)
    wait_until(b_has_all, 120, interval=0.5, what="B to catch up with all accounts", diag=b.diag)
    on_b = {x["address"] for x in b.get_json("/admin/accounts", timeout=120)}
    assert on_b == expected
    assert len(b.get_json("/admin/tenants")) == len(a.get_json("/admin/tenants"))
    da = a.digest()
    assert b.digest() == da, "A and B disagree after B's crash and catch-up"
    st = b.status()
    assert st["decode_errors"] == 0, st

    # rebuild on B replays the whole log to the same view
    res = assert_ok(b.ctl("rebuild", timeout=300))
    assert "rebuilt" in res.out, repr(res)
    b.wait_ready(120)
    assert b.digest() == da, "rebuild on B changed its view"
    assert a.digest() == da
    print(f"stream of 10000 events: {elapsed:.1f}s")


def test_rebuild_no_wait_and_new_replica(nodes, kafka_env):
    """A third node started later (empty view) replays to the same digest;
    rebuild --no-wait returns at once and the node becomes ready again."""
    a, b = two_nodes(nodes, kafka_env)
    topics_create(kafka_env)
    a.start(wait="ready", timeout=90)
    cmds = []
    for i in range(20):
        cmds.append({"type": "tenant.create", "tenant": f"t{i}", "account": "", "data": {"name": f"t{i}"}})
        cmds.append({"type": "domain.add", "tenant": f"t{i}", "account": "",
                     "data": {"domain": f"d{i}.example", "tenant": f"t{i}"}})
    cmds.append({"type": "tenant.create", "tenant": "t0", "account": "", "data": {"name": "t0"}})
    outs = a.commands(cmds)
    assert [o["status"] for o in outs] == ["accepted"] * 40 + ["rejected"], outs
    b.start(wait="ready", timeout=90)
    assert b.digest() == a.digest()
    res = assert_ok(b.ctl("rebuild", "--no-wait"))
    assert "started" in res.out
    b.wait_ready(120)
    assert b.digest() == a.digest()


def test_topics_check_reports_wrong_partition_count(kafka_brokers):
    prefix = random_prefix()
    kenv = {"EVMAIL_LOG_BROKERS": kafka_brokers, "EVMAIL_LOG_TOPIC_PREFIX": prefix,
            "EVMAIL_LOG_PARTITIONS": "4"}
    p = run(["java", "-Xmx256m", "-cp", f"{KAFKA_LIB}/*", "org.apache.kafka.tools.TopicCommand",
             "--bootstrap-server", kafka_brokers, "--create", "--topic", prefix + "mail",
             "--partitions", "3", "--replication-factor", "1"], env=clean_env(), timeout=120)
    assert p.returncode == 0, (p.stdout, p.stderr)
    # create the rest; the existing topic is left as it is
    assert_ok(ctl_kafka(kenv, "topics", "create"))
    res = ctl_kafka(kenv, "topics", "check")
    assert_fail(res, "problem")
    assert "partition count is 3, expected 4" in res.out, repr(res)
    desc = assert_ok(ctl_kafka(kenv, "topics", "describe", "--json")).json()
    mail = [t for t in desc if t["name"] == prefix + "mail"][0]
    assert mail["partitions"] == 3 and mail["problems"], mail
    others = [t for t in desc if t["name"] != prefix + "mail"]
    assert others and all(t["problems"] == [] for t in others), others


def test_ctl_kafka_unreachable_fails_cleanly(binaries):
    """evmailctl topics against a port where no broker listens fails with
    one line, within a bounded time."""
    kenv = {"EVMAIL_LOG_BROKERS": f"127.0.0.1:{free_port()}", "EVMAIL_LOG_TOPIC_PREFIX": random_prefix()}
    t0 = time.monotonic()
    res = ctl_kafka(kenv, "topics", "check", timeout=90)
    assert res.rc == 1, repr(res)
    assert res.err.strip().splitlines()[-1].startswith("evmailctl: "), repr(res)
    assert time.monotonic() - t0 < 90


def test_conflicting_creates_through_two_nodes(nodes, kafka_env):
    """The same tenant created through A and through B at the same moment:
    exactly one is accepted, both nodes answer consistently (first in the
    log wins), and they end with equal digests."""
    a, b = two_nodes(nodes, kafka_env)
    topics_create(kafka_env)
    a.start(wait="ready", timeout=90)
    b.start(wait="ready", timeout=90)
    for round_ in range(5):
        name = f"race{round_}"
        barrier = threading.Barrier(2)
        results = {}

        def post(node):
            barrier.wait(10)
            results[node.name] = node.http("POST", "/admin/commands", body=[
                {"type": "tenant.create", "tenant": name, "account": "", "data": {"name": name}}])

        threads = [threading.Thread(target=post, args=(n,)) for n in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(results) == 2 and all(r.status == 200 for r in results.values()), results
        outs = {k: r.json()[0] for k, r in results.items()}
        assert sorted(o["status"] for o in outs.values()) == ["accepted", "rejected"], outs
        acc = [o for o in outs.values() if o["status"] == "accepted"][0]
        rej = [o for o in outs.values() if o["status"] == "rejected"][0]
        assert rej.get("code") == "exists" and acc["offset"] < rej["offset"], outs
    want = [f"race{i}" for i in range(5)]
    assert [t["name"] for t in a.get_json("/admin/tenants")] == want
    wait_until(lambda: [t["name"] for t in b.get_json("/admin/tenants")] == want, 30, what="tenants on B")
    wait_until(lambda: a.digest() == b.digest(), 30, what="equal digests")
