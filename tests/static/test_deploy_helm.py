"""deploy/helm/evmail: `helm lint` passes and `helm template` renders,
with the default values and with the other choices (Strimzi cluster, no
TLS, NodePort), objects that pass the same checks as deploy/kubernetes
(kubernetes-validate strict, the Strimzi schema, topics equal to evmail's,
cross references), and a config file that evmaild accepts. helm is built
from its Go module by scripts/install-deps.sh."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from test_deploy_kubernetes import (load_docs, reference_problems, topic_problems,
                                    validate_objects)
from test_deploy_config import check_config

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy/helm/evmail"
HELM = shutil.which("helm") or "/usr/local/bin/helm"


def helm(*args):
    r = subprocess.run([HELM, *args], capture_output=True, text=True,
                       env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")})
    assert r.returncode == 0, r.stderr + r.stdout
    return r.stdout


def render(tmp_path, *sets):
    out = helm("template", "evmail", str(CHART), "--namespace", "mail",
               *[a for s in sets for a in ("--set", s)])
    path = tmp_path / "rendered.yaml"
    path.write_text(out)
    return load_docs([path])


def test_helm_lint():
    out = helm("lint", "--strict", str(CHART))
    assert "0 chart(s) failed" in out


def test_helm_lint_fails_on_broken_chart(tmp_path):
    broken = tmp_path / "evmail"
    shutil.copytree(CHART, broken)
    tpl = broken / "templates/pdb.yaml"
    tpl.write_text(tpl.read_text().replace("{{ .Values.podDisruptionBudget.maxUnavailable }}",
                                           "{{ .Values.podDisruptionBudget.maxUnavailable "))
    r = subprocess.run([HELM, "lint", str(broken)], capture_output=True, text=True)
    assert r.returncode != 0


VARIANTS = {
    "default": [],
    "strimzi": ["kafka.strimzi.enabled=true", "replicaCount=5", "persistence.size=200Gi"],
    "no-tls-nodeport": ["tls.enabled=false", "service.mail.type=NodePort",
                        "service.mail.externalTrafficPolicy=", "service.mail.nodePorts.smtp=30025",
                        "admin.existingSecret=my-admin", "kafka.strimzi.topics=false",
                        "kafka.brokers=k1:9092\\,k2:9092"],
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_rendered_objects_validate(tmp_path, variant):
    docs = render(tmp_path, *VARIANTS[variant])
    assert validate_objects(docs) == []
    external = ["evmail-tls"] + (["my-admin"] if variant == "no-tls-nodeport" else [])
    assert reference_problems(docs, external) == []
    kinds = {d["kind"] for d in docs}
    assert kinds >= {"StatefulSet", "Service", "ConfigMap", "PodDisruptionBudget"}
    if variant != "no-tls-nodeport":
        assert topic_problems(docs) == []
    if variant == "strimzi":
        assert {"Kafka", "KafkaNodePool"} <= kinds
        sts = next(d for d in docs if d["kind"] == "StatefulSet")
        assert sts["spec"]["replicas"] == 5
        assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "200Gi"


def test_rendered_config_is_accepted(tmp_path):
    for variant, sets in VARIANTS.items():
        docs = render(tmp_path, *sets)
        cm = next(d for d in docs if d["kind"] == "ConfigMap")
        conf = tmp_path / f"{variant}.conf"
        conf.write_text(cm["data"]["evmail.conf"])
        r = check_config(conf)
        assert r.returncode == 0, f"{variant}: {r.stderr}"
        if variant == "no-tls-nodeport":
            assert "log.brokers = k1:9092,k2:9092" in r.stdout
            assert "tls.cert = \n" in r.stdout


def test_extra_config(tmp_path):
    docs = render(tmp_path, "extraConfig=[limits]\nconnections = 10")
    cm = next(d for d in docs if d["kind"] == "ConfigMap")
    conf = tmp_path / "extra.conf"
    conf.write_text(cm["data"]["evmail.conf"])
    r = check_config(conf)
    assert r.returncode == 0, r.stderr
    assert "limits.connections = 10\n" in r.stdout


def test_chart_renders_what_the_manifests_hold(tmp_path):
    """The chart and deploy/kubernetes describe the same node: same kinds,
    container ports, probes, security context, mounts."""
    chart = render(tmp_path, "kafka.strimzi.enabled=true")
    plain = load_docs(sorted((ROOT / "deploy/kubernetes").rglob("*.yaml")))
    assert {d["kind"] for d in plain} - {"Secret"} <= {d["kind"] for d in chart}

    def node(docs):
        sts = next(d for d in docs if d["kind"] == "StatefulSet")
        c = sts["spec"]["template"]["spec"]["containers"][0]
        return ({p["name"]: p["containerPort"] for p in c["ports"]},
                c["livenessProbe"], c["readinessProbe"], c["securityContext"],
                sorted(m["mountPath"] for m in c["volumeMounts"]),
                sts["spec"]["template"]["spec"]["securityContext"])
    assert node(chart) == node(plain)
