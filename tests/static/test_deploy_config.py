"""Configuration files under deploy/ against the daemon itself: each is
accepted by `evmaild --check-config`, the example config has every key
--check-config knows, and every EVMAIL_* variable an orchestrator file sets
names a real key."""
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("EVMAIL_BUILD_DIR", ROOT / "build"))
EVMAILD = BUILD / "gateway" / "evmaild"
EXAMPLE = ROOT / "deploy/config/evmail.conf"
# Variables that are not configuration keys.
NOT_KEYS = {"EVMAIL_CONFIG"}


def check_config(path=None, env=None):
    """Runs evmaild --check-config [--config path]; returns the process."""
    cmd = [str(EVMAILD), "--check-config"] + (["--config", str(path)] if path else [])
    return subprocess.run(cmd, capture_output=True, text=True,
                          env={"PATH": os.environ["PATH"], **(env or {})})


def known_keys():
    """{key: environment name} of every key --check-config prints."""
    r = check_config()
    assert r.returncode == 0, r.stderr
    pairs = re.findall(r"^# environment: (EVMAIL_[A-Z0-9_]+)\n([a-z0-9_.]+) = ", r.stdout, re.M)
    return {key: env for env, key in pairs}


def keys_in_ini(text):
    """Keys (section.key) set or shown commented ('# key = ...') in an INI text."""
    keys, section = set(), None
    for line in text.splitlines():
        m = re.match(r"^\[([a-z0-9_]+)\]\s*$", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"^(?:#\s*)?([a-z0-9_.]+)\s*=", line)
        if m and section:
            keys.add(f"{section}.{m.group(1)}")
    return keys


def missing_keys(example_text, keys):
    """Keys of --check-config that the example does not show."""
    return sorted(set(keys) - keys_in_ini(example_text))


def test_known_keys_parsed():
    keys = known_keys()
    assert keys["log.brokers"] == "EVMAIL_LOG_BROKERS"
    assert keys["limits.connections_per_ip"] == "EVMAIL_LIMITS_CONNECTIONS_PER_IP"
    assert len(keys) > 50


def test_example_config_is_accepted():
    r = check_config(EXAMPLE)
    assert r.returncode == 0, r.stderr
    assert "node.data_dir = /var/lib/evmail" in r.stdout


def test_example_config_has_every_key():
    missing = missing_keys(EXAMPLE.read_text(), known_keys())
    assert not missing, f"deploy/config/evmail.conf lacks {missing} (see evmaild --check-config)"


def test_missing_key_is_found():
    text = EXAMPLE.read_text().replace("connections_per_ip = ", "connections_per_ipx = ")
    assert missing_keys(text, known_keys()) == ["limits.connections_per_ip"]
    # A key shown in another section does not count.
    assert missing_keys("[node]\nbrokers = x\n", {"log.brokers": ""}) == ["log.brokers"]


def test_check_config_rejects_unknown_key(tmp_path):
    bad = tmp_path / "bad.conf"
    bad.write_text("[log]\nbrokerz = x\n")
    r = check_config(bad)
    assert r.returncode != 0
    assert "log.brokerz" in r.stderr


@pytest.mark.parametrize("path", ["deploy/docker/evmail.conf"])
def test_image_config_is_accepted(path):
    r = check_config(ROOT / path)
    assert r.returncode == 0, r.stderr
    assert "mgmt.listen = 0.0.0.0:8080" in r.stdout


def test_kubernetes_config_file_is_accepted(tmp_path):
    docs = yaml.safe_load_all((ROOT / "deploy/kubernetes/configmap.yaml").read_text())
    (cm,) = [d for d in docs if d and d["kind"] == "ConfigMap"]
    conf = tmp_path / "evmail.conf"
    conf.write_text(cm["data"]["evmail.conf"])
    r = check_config(conf)
    assert r.returncode == 0, r.stderr
    assert "log.backend = kafka" in r.stdout


def env_names_in_deploy():
    """{file: set of EVMAIL_* names} set by the compose, swarm, Kubernetes and Marathon files."""
    found = {}
    for path in list((ROOT / "deploy").rglob("*.yaml")) + list((ROOT / "deploy").rglob("*.json")):
        if "helm" in path.parts:
            continue
        text = path.read_text()
        docs = [json.loads(text)] if path.suffix == ".json" else list(yaml.safe_load_all(text))
        names = set()

        def walk(node):
            if isinstance(node, dict):
                for k, v in node.items():
                    if isinstance(k, str) and k.startswith("EVMAIL_"):
                        names.add(k)
                    if k == "name" and isinstance(v, str) and v.startswith("EVMAIL_"):
                        names.add(v)
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        for d in docs:
            walk(d)
        found[path.relative_to(ROOT)] = names
    return found


def test_orchestrators_set_only_known_variables():
    known = set(known_keys().values()) | NOT_KEYS
    found = env_names_in_deploy()
    assert sum(len(v) for v in found.values()) > 20
    for path, names in found.items():
        assert names <= known, f"{path} sets unknown {sorted(names - known)}"
