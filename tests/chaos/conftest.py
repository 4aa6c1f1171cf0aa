"""Fixtures of the chaos tests: a 3-broker KRaft cluster for the module
(tests/kafka/cluster.sh), evmaild nodes (tests/e2e's Node) killed at
teardown, and an SMTP sink. A failing test gets the tail of every node's
and broker's log in its report.

Environment (defaults: the short variant run by scripts/test.sh):
  CHAOS_DURATION     seconds of load with kills in test_kill_nodes_and_brokers (75)
  CHAOS_KILL_MIN/MAX seconds between two kills (8 / 15)
  CHAOS_JOIN_DURATION seconds of load in test_join_and_rolling_restart (60)
  CHAOS_SEED         seed of every random choice (random; printed)
  EVMAIL_BUILD_DIR, CI / EVMAIL_REQUIRE_KAFKA as in tests/e2e
"""

import os
import random
import signal

import pytest

from e2e_bridge import SmtpSink, e2e
from kafka_cluster import KafkaCluster


def _interrupted(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config):
    # `timeout` (scripts/test.sh, scripts/chaos.sh) sends SIGTERM: unwind
    # like ^C so that the fixtures stop every broker and node.
    signal.signal(signal.SIGTERM, _interrupted)


def _env_num(name, default, kind=float):
    v = os.environ.get(name, "")
    return kind(v) if v else default


@pytest.fixture(scope="session")
def chaos_settings():
    seed = _env_num("CHAOS_SEED", random.randrange(1 << 30), int)
    s = {
        "duration": _env_num("CHAOS_DURATION", 75.0),
        "kill_min": _env_num("CHAOS_KILL_MIN", 8.0),
        "kill_max": _env_num("CHAOS_KILL_MAX", 15.0),
        "join_duration": _env_num("CHAOS_JOIN_DURATION", 60.0),
        "seed": seed,
    }
    assert 0 < s["kill_min"] <= s["kill_max"], s
    print(f"\nchaos settings: {s} (set CHAOS_SEED={seed} to repeat the choices)")
    return s


@pytest.fixture(scope="module")
def kafka3(tmp_path_factory, binaries):
    """A started 3-broker cluster (replication factor 3, min ISR 2)."""
    cluster = KafkaCluster(tmp_path_factory.mktemp("kafka3"))
    try:
        cluster.start()
    except Exception as e:  # noqa: BLE001 - reported as skip or failure
        msg = f"3-broker Kafka cluster did not start: {e}"
        if e2e.kafka_required():
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def binaries():
    missing = [str(p) for p in (e2e.EVMAILD, e2e.EVMAILCTL) if not os.access(p, os.X_OK)]
    if missing:
        pytest.fail(f"not built: {', '.join(missing)} (set EVMAIL_BUILD_DIR)")
    return e2e.EVMAILD, e2e.EVMAILCTL


@pytest.fixture
def chaos_nodes(request, tmp_path, binaries):
    """Factory: chaos_nodes(name, env) -> e2e.Node (not started); every node
    is killed at teardown."""
    registry = []
    request.node._evmail_nodes = registry

    def make(name, env):
        return e2e.Node(name, tmp_path / name, env=env, registry=registry)

    yield make
    for n in registry:
        n.kill9()


@pytest.fixture
def sink():
    s = SmtpSink(hostname="sink.example").start()
    yield s
    s.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when in ("setup", "call") and rep.failed:
        for node in getattr(item, "_evmail_nodes", []):
            rep.sections.append((f"evmaild log: {node.name}", node.diag(60)))
        cluster = item.funcargs.get("kafka3") if hasattr(item, "funcargs") else None
        if cluster is not None:
            rep.sections.append(("kafka brokers", cluster.diag()))
