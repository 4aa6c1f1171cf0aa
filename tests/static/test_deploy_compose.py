"""deploy/docker/compose.yaml and deploy/swarm/stack.yaml against the
Compose Specification's JSON schema (vendored in tests/static/schemas, see
its README), plus what the schema cannot say: the cluster profile is a
3-broker KRaft quorum with replication 3 and min.insync.replicas 2, every
evmail node has its own id and volume, container ports are the ones the
image's config listens on, and the swarm service has secrets, a health
check, placement and per-slot ids."""
import copy
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "tests/static/schemas/compose_spec.json").read_text())
COMPOSE = ROOT / "deploy/docker/compose.yaml"
STACK = ROOT / "deploy/swarm/stack.yaml"
# The image's listeners (deploy/docker/evmail.conf): container ports.
IMAGE_PORTS = {2525, 5587, 4465, 1143, 1993, 8080}


def schema_errors(doc):
    v = jsonschema.Draft201909Validator(SCHEMA)
    return [f"{list(e.absolute_path)}: {e.message}" for e in v.iter_errors(doc)]


def load(path):
    return yaml.safe_load(path.read_text())


def env(svc):
    e = svc.get("environment", {})
    if isinstance(e, list):
        e = dict(x.split("=", 1) for x in e)
    return {k: str(v) for k, v in e.items()}


def evmail_nodes(doc):
    return {n: s for n, s in doc["services"].items() if "EVMAIL_NODE_ID" in env(s)}


def test_image_ports_are_the_image_config():
    conf = (ROOT / "deploy/docker/evmail.conf").read_text()
    assert {int(p) for p in re.findall(r"^listen = [0-9.]+:(\d+)$", conf, re.M)} == IMAGE_PORTS


@pytest.mark.parametrize("path", [COMPOSE, STACK], ids=["compose", "stack"])
def test_schema(path):
    assert schema_errors(load(path)) == []


def test_schema_refuses_mistakes():
    doc = load(COMPOSE)
    bad = copy.deepcopy(doc)
    bad["services"]["evmail"]["healthcheck"]["retires"] = 3
    assert schema_errors(bad)
    bad = copy.deepcopy(doc)
    bad["services"]["evmail"]["ports"] = "25:2525"
    assert schema_errors(bad)
    bad = copy.deepcopy(load(STACK))
    bad["services"]["evmail"]["deploy"]["placement"]["constraint"] = []
    assert schema_errors(bad)


def published(svc):
    """{target: published} of a service's ports, short or long syntax."""
    out = {}
    for p in svc.get("ports", []):
        if isinstance(p, dict):
            out[int(p["target"])] = int(p["published"])
        else:
            parts = str(p).split(":")
            out[int(parts[-1])] = int(parts[-2])
    return out


def test_compose_single_node():
    doc = load(COMPOSE)
    svc = doc["services"]["evmail"]
    assert "profiles" not in svc
    assert "EVMAIL_LOG_BROKERS" not in env(svc)
    assert published(svc) == {2525: 25, 5587: 587, 4465: 465, 1143: 143, 1993: 993, 8080: 8080}
    assert "127.0.0.1:8080:8080" in svc["ports"]
    assert any(v.endswith(":/var/lib/evmail") for v in svc["volumes"])
    assert svc["read_only"] is True and svc["cap_drop"] == ["ALL"]
    assert "/readyz" in " ".join(svc["healthcheck"]["test"])
    # Only the single node and nothing of the cluster starts by default.
    assert [n for n, s in doc["services"].items() if "profiles" not in s] == ["evmail"]


def test_compose_cluster_profile():
    doc = load(COMPOSE)
    services = doc["services"]
    kafkas = {n: s for n, s in services.items() if s.get("image", "").startswith("apache/kafka")}
    assert len(kafkas) == 3
    ids, voters = set(), set()
    for name, s in kafkas.items():
        e = env(s)
        assert s["profiles"] == ["cluster"]
        assert e["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert e["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://{name}:9092"
        assert e["KAFKA_MIN_INSYNC_REPLICAS"] == "2" and e["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3"
        assert len(e["CLUSTER_ID"]) == 22
        ids.add(e["KAFKA_NODE_ID"])
        voters.add(e["KAFKA_CONTROLLER_QUORUM_VOTERS"])
        assert any(v.endswith(":/var/lib/kafka/data") for v in s["volumes"])
    assert ids == {"1", "2", "3"}
    (quorum,) = voters
    assert quorum == ",".join(f"{i}@kafka-{i}:9093" for i in (1, 2, 3))
    topics = services["topics"]
    assert topics["entrypoint"] == ["/usr/local/bin/evmailctl"] and topics["command"] == ["topics", "create"]
    assert set(topics["depends_on"]) == set(kafkas)
    nodes = {n: s for n, s in evmail_nodes(doc).items() if s.get("profiles") == ["cluster"]}
    assert len(nodes) == 3
    assert len({env(s)["EVMAIL_NODE_ID"] for s in nodes.values()}) == 3
    assert len({v for s in nodes.values() for v in s["volumes"]}) == 3
    brokers = {f"{n}:9092" for n in kafkas}
    for s in nodes.values():
        assert set(env(s)["EVMAIL_LOG_BROKERS"].split(",")) == brokers
        assert s["depends_on"]["topics"]["condition"] == "service_completed_successfully"
        assert set(published(s)) <= IMAGE_PORTS
    host_ports = [p for s in doc["services"].values() if s.get("profiles") == ["cluster"]
                  for p in published(s).values()]
    assert len(host_ports) == len(set(host_ports)), "two cluster services publish one host port"


def test_stack():
    doc = load(STACK)
    (svc,) = doc["services"].values()
    e = env(svc)
    assert e["EVMAIL_NODE_ID"] == "evmail-{{.Task.Slot}}"
    assert doc["volumes"]["data"]["name"] == "evmail-data-{{.Task.Slot}}"
    assert any(v["source"] == "data" and v["target"] == "/var/lib/evmail" for v in svc["volumes"]
               if isinstance(v, dict))
    d = svc["deploy"]
    assert d["mode"] == "replicated" and d["replicas"] == 3
    assert d["placement"]["constraints"] and d["placement"]["max_replicas_per_node"] == 1
    assert d["update_config"]["parallelism"] == 1
    assert "/healthz" in " ".join(svc["healthcheck"]["test"])
    secrets = {s["source"] for s in svc["secrets"]}
    assert secrets == set(doc["secrets"])
    for var in ("EVMAIL_TLS_CERT", "EVMAIL_TLS_KEY", "EVMAIL_CONFIG"):
        assert e[var].removeprefix("/run/secrets/") in secrets
    assert set(published(svc)) | {8080} == IMAGE_PORTS
    assert all(p["mode"] == "host" for p in svc["ports"])
    assert {int(e[k].rsplit(":", 1)[1]) for k in e if k.endswith("_LISTEN")} == IMAGE_PORTS
