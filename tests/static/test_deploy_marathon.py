"""deploy/marathon/evmail.json against tests/static/schemas/
marathon-group.schema.json (the Marathon app fields we use, unknown ones
refused), plus: one app per node with its own node.id, a persistent
volume holding node.data_dir, /healthz health check and /readyz readiness
check on the management port, ports matching the image's listeners."""
import copy
import json
from pathlib import Path

import jsonschema

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "tests/static/schemas/marathon-group.schema.json").read_text())
GROUP = ROOT / "deploy/marathon/evmail.json"
IMAGE_PORTS = {2525, 5587, 4465, 1143, 1993, 8080}
SANDBOX = "/mnt/mesos/sandbox/"


def schema_errors(doc):
    return [f"{list(e.absolute_path)}: {e.message}"
            for e in jsonschema.Draft7Validator(SCHEMA).iter_errors(doc)]


def app_problems(app):
    """What is wrong with one evmail node app beyond the schema."""
    problems = []
    env = app["env"]
    ports = app["container"]["portMappings"]
    names = [p["name"] for p in ports]
    if {p["containerPort"] for p in ports} != IMAGE_PORTS:
        problems.append("container ports are not the image's listeners")
    if app["instances"] != 1:
        problems.append("a node app runs exactly one instance (one node.id)")
    if env.get("EVMAIL_NODE_ID") != app["id"].rsplit("/", 1)[1]:
        problems.append("EVMAIL_NODE_ID is not the app's name")
    persistent = [v for v in app["container"]["volumes"] if "persistent" in v]
    if [SANDBOX + v["containerPath"] for v in persistent] != [env.get("EVMAIL_NODE_DATA_DIR")]:
        problems.append("node.data_dir is not the persistent volume")
    (hc,) = app["healthChecks"]
    if hc.get("path") != "/healthz" or names[hc.get("portIndex", -1)] != "mgmt":
        problems.append("health check is not /healthz on mgmt")
    (rc,) = app["readinessChecks"]
    if rc.get("path") != "/readyz" or rc["portName"] != "mgmt":
        problems.append("readiness check is not /readyz on mgmt")
    if app.get("unreachableStrategy") != "disabled" or app["upgradeStrategy"]["maximumOverCapacity"] != 0:
        problems.append("resident app must not be replaced elsewhere or doubled")
    for k, v in env.items():
        if isinstance(v, dict) and v["secret"] not in app.get("secrets", {}):
            problems.append(f"{k} refers to an unknown secret")
    for v in app["container"]["volumes"]:
        if "secret" in v and v["secret"] not in app.get("secrets", {}):
            problems.append(f"volume {v['containerPath']} refers to an unknown secret")
    for k in ("EVMAIL_TLS_CERT", "EVMAIL_TLS_KEY"):
        if env.get(k, "").removeprefix(SANDBOX) not in {v["containerPath"] for v in app["container"]["volumes"]}:
            problems.append(f"{k} is not a mounted file")
    return problems


def test_schema():
    assert schema_errors(json.loads(GROUP.read_text())) == []


def test_schema_refuses_mistakes():
    doc = json.loads(GROUP.read_text())
    bad = copy.deepcopy(doc)
    bad["apps"][0]["healthChecks"][0]["protocol"] = "HTTP2"
    assert schema_errors(bad)
    bad = copy.deepcopy(doc)
    bad["apps"][0]["container"]["volumes"][0]["containerPath"] = "/var/lib/evmail"
    assert schema_errors(bad)
    bad = copy.deepcopy(doc)
    bad["apps"][0]["healthcheck"] = bad["apps"][0].pop("healthChecks")
    assert schema_errors(bad)
    bad = copy.deepcopy(doc)
    bad["apps"][0]["constraints"].append(["hostname", "UNIQ"])
    assert schema_errors(bad)


def test_nodes():
    doc = json.loads(GROUP.read_text())
    apps = doc["apps"]
    assert len(apps) == 3
    assert len({a["env"]["EVMAIL_NODE_ID"] for a in apps}) == 3
    for a in apps:
        assert a["id"].startswith(doc["id"] + "/")
        assert app_problems(a) == []


def test_node_check_finds_mistakes():
    app = json.loads(GROUP.read_text())["apps"][0]
    bad = copy.deepcopy(app)
    bad["env"]["EVMAIL_NODE_DATA_DIR"] = "/var/lib/evmail"
    assert app_problems(bad) == ["node.data_dir is not the persistent volume"]
    bad = copy.deepcopy(app)
    bad["healthChecks"][0]["portIndex"] = 1
    assert app_problems(bad) == ["health check is not /healthz on mgmt"]
    bad = copy.deepcopy(app)
    bad["instances"] = 3
    assert app_problems(bad)
