"""Static checks of the deploy manifests (no Docker engine or cluster here):
they parse, they only use configuration keys evmaild knows, their probes
point at paths the node serves, and the example config is accepted by
`evmaild --check-config`."""
import configparser
import os
import re
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("EVMAIL_BUILD_DIR", ROOT / "build"))
EVMAILD = BUILD / "gateway" / "evmaild"


def known_env_names():
    out = subprocess.run([str(EVMAILD), "--check-config"], capture_output=True, text=True,
                         env={"PATH": os.environ["PATH"]}, check=True).stdout
    return set(re.findall(r"# environment: (EVMAIL_[A-Z_]+)", out))


def test_example_config_is_accepted():
    r = subprocess.run([str(EVMAILD), "--check-config", "--config",
                        str(ROOT / "deploy/config/evmail.conf")],
                       capture_output=True, text=True, env={"PATH": os.environ["PATH"]})
    assert r.returncode == 0, r.stderr
    assert "data_dir = /var/lib/evmail" in r.stdout


def test_check_config_rejects_unknown_key(tmp_path):
    bad = tmp_path / "bad.conf"
    bad.write_text("[log]\nbrokerz = x\n")
    r = subprocess.run([str(EVMAILD), "--check-config", "--config", str(bad)],
                       capture_output=True, text=True, env={"PATH": os.environ["PATH"]})
    assert r.returncode != 0
    assert "log.brokerz" in r.stderr


def test_kubernetes_manifest():
    docs = [d for d in yaml.safe_load_all((ROOT / "deploy/kubernetes/evmail.yaml").read_text()) if d]
    kinds = {d["kind"]: d for d in docs}
    assert set(kinds) >= {"ConfigMap", "StatefulSet"}
    env_names = known_env_names()
    for name in kinds["ConfigMap"]["data"]:
        assert name in env_names, f"ConfigMap sets unknown {name}"
    pod = kinds["StatefulSet"]["spec"]["template"]["spec"]
    c = pod["containers"][0]
    for e in c.get("env", []):
        assert e["name"] in env_names, f"container sets unknown {e['name']}"
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    mgmt = kinds["ConfigMap"]["data"]["EVMAIL_MGMT_LISTEN"]
    assert mgmt.endswith(":" + str(c["ports"][0]["containerPort"]))
    assert kinds["StatefulSet"]["spec"]["selector"]["matchLabels"] == pod.get("labels", kinds["StatefulSet"]["spec"]["template"]["metadata"]["labels"])


def test_systemd_unit():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(ROOT / "deploy/systemd/evmaild.service")
    svc = unit["Service"]
    assert svc["ExecStart"].split()[0].endswith("/evmaild")
    assert "--check-config" in svc["ExecStartPre"]
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    env = svc["Environment"].split("=", 1)[0]
    assert env == "EVMAIL_CONFIG"
