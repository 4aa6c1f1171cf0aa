"""deploy/kubernetes: every object validates with kubernetes-validate
(strict: unknown fields refused) for a recent Kubernetes; the Strimzi
resources, which it has no schema for, against tests/static/schemas/
strimzi.schema.json (a structural subset of ours); the KafkaTopics equal
the topics evmail creates (ingest/evlog.c); the objects refer to each other
consistently (names, ports, labels, probes). The checkers are also used by
test_deploy_helm.py on the chart's rendered output."""
import json
import re
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy/kubernetes"
K8S_VERSION = "1.34.0"
STRIMZI_SCHEMA = json.loads((ROOT / "tests/static/schemas/strimzi.schema.json").read_text())


def load_docs(paths):
    """Every non-empty YAML document of the given files."""
    docs = []
    for p in paths:
        docs += [d for d in yaml.safe_load_all(Path(p).read_text()) if d]
    return docs


def validate_objects(docs):
    """Errors of docs: kubernetes-validate strict for core kinds, the Strimzi
    schema for kafka.strimzi.io; an unknown API group is an error."""
    errors = []
    for d in docs:
        name = f"{d.get('kind')}/{d.get('metadata', {}).get('name')}"
        if str(d.get("apiVersion", "")).startswith("kafka.strimzi.io/"):
            for e in jsonschema.Draft7Validator(STRIMZI_SCHEMA).iter_errors(d):
                errors.append(f"{name}: {e.message} at {list(e.absolute_path)}")
            continue
        try:
            kubernetes_validate.validate(d, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as e:
            errors.append(f"{name}: {e.message} at {list(e.path)}")
        except kubernetes_validate.SchemaNotFoundError as e:
            errors.append(f"{name}: no schema ({e})")
    return errors


def evlog_topics():
    """{suffix: (fixed partitions, cleanup.policy, retention.ms)} from ingest/evlog.c."""
    src = (ROOT / "ingest/evlog.c").read_text()
    rows = re.findall(r'\{ EVM_TOPIC_\w+, "(\w+)", (\d+), "(\w+)", (?:"(-?\d+)"|NULL) \}', src)
    return {s: (int(p), c, r or None) for s, p, c, r in rows}


def topic_problems(docs, prefix="evmail.", partitions=16, replicas=3, min_isr=2):
    """Differences between the KafkaTopics in docs and the topics evmail makes."""
    want = evlog_topics()
    got = {d["spec"].get("topicName", d["metadata"]["name"]): d["spec"]
           for d in docs if d.get("kind") == "KafkaTopic"}
    problems = []
    if set(got) != {prefix + s for s in want}:
        problems.append(f"topics {sorted(got)} != {sorted(prefix + s for s in want)}")
    for suffix, (fixed, cleanup, retention) in want.items():
        spec = got.get(prefix + suffix)
        if spec is None:
            continue
        cfg = spec.get("config", {})
        if spec["partitions"] != (fixed or partitions):
            problems.append(f"{suffix}: partitions {spec['partitions']}")
        if spec["replicas"] != replicas:
            problems.append(f"{suffix}: replicas {spec['replicas']}")
        if cfg.get("cleanup.policy") != cleanup:
            problems.append(f"{suffix}: cleanup.policy {cfg.get('cleanup.policy')}")
        if str(cfg.get("retention.ms")) != str(retention):
            if not (retention is None and "retention.ms" not in cfg):
                problems.append(f"{suffix}: retention.ms {cfg.get('retention.ms')}")
        if int(cfg.get("min.insync.replicas", 0)) != min_isr:
            problems.append(f"{suffix}: min.insync.replicas {cfg.get('min.insync.replicas')}")
    return problems


def ini_listens(text):
    """{section: port} of every 'listen = host:port' in an evmail INI text."""
    listens, section = {}, None
    for line in text.splitlines():
        m = re.match(r"^\s*\[(\w+)\]", line)
        if m:
            section = m.group(1)
        m = re.match(r"^\s*listen\s*=\s*\S*:(\d+)\s*$", line)
        if m:
            listens[section] = m.group(1)
    return listens


def reference_problems(docs, external_secrets=()):
    """Cross-object consistency of the evmail StatefulSet and its Services,
    ConfigMap, Secrets and PodDisruptionBudget; external_secrets: Secrets
    the user creates (the chart's TLS Secret)."""
    by_kind = {"Secret": {}}
    for d in docs:
        by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
    for name in external_secrets:
        by_kind["Secret"][name] = {"type": "kubernetes.io/tls"}
    problems = []
    (sts,) = by_kind["StatefulSet"].values()
    pod = sts["spec"]["template"]
    labels = pod["metadata"]["labels"]
    if not set(sts["spec"]["selector"]["matchLabels"].items()) <= set(labels.items()):
        problems.append("StatefulSet selector does not select its pods")
    spec = pod["spec"]
    (c,) = spec["containers"]
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    claims = {t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]}
    for m in c["volumeMounts"]:
        if m["name"] not in volumes and m["name"] not in claims:
            problems.append(f"mount {m['name']} has no volume")
    if not any(m["mountPath"] == "/var/lib/evmail" and m["name"] in claims for m in c["volumeMounts"]):
        problems.append("/var/lib/evmail is not on a PVC of the volumeClaimTemplates")
    for v in volumes.values():
        if "configMap" in v and v["configMap"]["name"] not in by_kind.get("ConfigMap", {}):
            problems.append(f"ConfigMap {v['configMap']['name']} missing")
        if "secret" in v and v["secret"]["secretName"] not in by_kind.get("Secret", {}):
            problems.append(f"Secret {v['secret']['secretName']} missing")
        if "secret" in v:
            s = by_kind["Secret"].get(v["secret"]["secretName"], {})
            if s and s.get("type") != "kubernetes.io/tls":
                problems.append(f"Secret {v['secret']['secretName']} is not kubernetes.io/tls")
    for e in c.get("env", []):
        ref = e.get("valueFrom", {}).get("secretKeyRef")
        if ref and ref["name"] not in by_kind.get("Secret", {}):
            problems.append(f"Secret {ref['name']} missing")
    if c["livenessProbe"]["httpGet"]["path"] != "/healthz":
        problems.append("liveness is not /healthz")
    if c["readinessProbe"]["httpGet"]["path"] != "/readyz":
        problems.append("readiness is not /readyz")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        if probe in c and c[probe]["httpGet"]["port"] not in ports:
            problems.append(f"{probe} port is not a container port")
    ann = pod["metadata"].get("annotations", {})
    if ann.get("prometheus.io/scrape") != "true" or int(ann.get("prometheus.io/port", 0)) != ports.get("mgmt"):
        problems.append("Prometheus annotations missing or not on the mgmt port")
    sc = c["securityContext"]
    if not (spec["securityContext"].get("runAsNonRoot") and sc.get("allowPrivilegeEscalation") is False
            and sc.get("readOnlyRootFilesystem") and sc["capabilities"].get("drop") == ["ALL"]):
        problems.append("container is not non-root, read-only, without capabilities")
    # The listeners of the config file are the container ports.
    (cm,) = [m for m in by_kind.get("ConfigMap", {}).values() if "evmail.conf" in m["data"]]
    listens = ini_listens(cm["data"]["evmail.conf"])
    if set(listens) != set(ports):
        problems.append(f"listeners {sorted(listens)} != container ports {sorted(ports)}")
    for name, port in listens.items():
        if ports.get(name) != int(port):
            problems.append(f"{name} listens on {port}, container port {ports.get(name)}")
    svc_ports = {}
    for svc in by_kind["Service"].values():
        if not set(svc["spec"]["selector"].items()) <= set(labels.items()):
            problems.append(f"Service {svc['metadata']['name']} selects no evmail pod")
        for p in svc["spec"]["ports"]:
            if p["targetPort"] not in ports:
                problems.append(f"Service {svc['metadata']['name']} targets unknown port {p['targetPort']}")
            svc_ports[p["port"]] = svc["spec"].get("type", "ClusterIP")
    if not any(s["spec"].get("clusterIP") == "None" and s["metadata"]["name"] == sts["spec"]["serviceName"]
               for s in by_kind["Service"].values()):
        problems.append("no headless Service named as the StatefulSet's serviceName")
    for port in (25, 587, 143) + ((465, 993) if "imaps" in ports else ()):
        if svc_ports.get(port) not in ("LoadBalancer", "NodePort"):
            problems.append(f"mail port {port} not published")
    if svc_ports.get(8080) not in ("ClusterIP", None):
        problems.append("management port published outside the cluster")
    (pdb,) = by_kind["PodDisruptionBudget"].values()
    if not set(pdb["spec"]["selector"]["matchLabels"].items()) <= set(labels.items()):
        problems.append("PodDisruptionBudget selects no evmail pod")
    return problems


def manifests():
    return load_docs(sorted(K8S.glob("*.yaml")) + sorted((K8S / "kafka").glob("*.yaml")))


def test_kubernetes_validate_strict():
    docs = manifests()
    assert {d["kind"] for d in docs} >= {"StatefulSet", "Service", "ConfigMap", "Secret",
                                         "PodDisruptionBudget", "Kafka", "KafkaNodePool", "KafkaTopic"}
    assert validate_objects(docs) == []


def test_validator_refuses_mistakes():
    docs = manifests()
    sts = next(d for d in docs if d["kind"] == "StatefulSet")
    broken = json.loads(json.dumps(sts))
    broken["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["paht"] = "/x"
    assert validate_objects([broken])
    broken = json.loads(json.dumps(sts))
    broken["spec"]["replicas"] = "three"
    assert validate_objects([broken])
    assert validate_objects([{"apiVersion": "example.com/v1", "kind": "Nothing", "metadata": {"name": "x"}}])
    topic = next(d for d in docs if d["kind"] == "KafkaTopic")
    broken = json.loads(json.dumps(topic))
    broken["spec"]["partition"] = broken["spec"].pop("partitions")
    assert validate_objects([broken])
    broken = json.loads(json.dumps(topic))
    del broken["metadata"]["labels"]["strimzi.io/cluster"]
    assert validate_objects([broken])
    kafka = next(d for d in docs if d["kind"] == "Kafka")
    broken = json.loads(json.dumps(kafka))
    broken["spec"]["kafka"]["listeners"][0]["type"] = "external"
    assert validate_objects([broken])


def test_topics_match_evmail():
    assert set(evlog_topics()) == {"mail", "blob", "directory", "queue", "cluster"}
    assert topic_problems(manifests()) == []


def test_topic_check_finds_mistakes():
    docs = manifests()
    for d in docs:
        if d.get("kind") == "KafkaTopic" and d["spec"]["topicName"] == "evmail.directory":
            d["spec"]["partitions"] = 16
            d["spec"]["config"]["cleanup.policy"] = "delete"
    assert len(topic_problems(docs)) == 2


def test_kafka_cluster_is_kraft_with_three_replicas():
    docs = manifests()
    kafka = next(d for d in docs if d["kind"] == "Kafka")
    pools = [d for d in docs if d["kind"] == "KafkaNodePool"]
    assert kafka["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    assert kafka["metadata"]["annotations"]["strimzi.io/node-pools"] == "enabled"
    assert all(p["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"] for p in pools)
    assert sum(p["spec"]["replicas"] for p in pools if "controller" in p["spec"]["roles"]) == 3
    assert sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"]) >= 3
    cfg = kafka["spec"]["kafka"]["config"]
    assert cfg["min.insync.replicas"] == 2 and cfg["default.replication.factor"] == 3
    cm = next(d for d in docs if d["kind"] == "ConfigMap")
    assert f"brokers = {kafka['metadata']['name']}-kafka-bootstrap:9092" in cm["data"]["evmail.conf"]


def test_references():
    assert reference_problems(manifests()) == []


@pytest.mark.parametrize("mutate, expect", [
    (lambda c, s: c["readinessProbe"]["httpGet"].update(path="/healthz"), "readiness"),
    (lambda c, s: c["ports"][0].update(containerPort=25), "listens"),
    (lambda c, s: c["securityContext"].update(readOnlyRootFilesystem=False), "read-only"),
    (lambda c, s: s["spec"]["template"]["metadata"]["labels"].update({"app.kubernetes.io/name": "x"}), "select"),
])
def test_reference_check_finds_mistakes(mutate, expect):
    docs = manifests()
    sts = next(d for d in docs if d["kind"] == "StatefulSet")
    mutate(sts["spec"]["template"]["spec"]["containers"][0], sts)
    assert any(expect in p for p in reference_problems(docs)), reference_problems(docs)
