"""One evmaild on the embedded log: configuration, health endpoints, and the
whole evmailctl directory CRUD with its error paths."""

import re
import threading
import time

import pytest

from conftest import (EVMAILD, assert_fail, assert_ok, clean_env, cmd, run, wait_until)


# --------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------

def test_check_config_lists_keys_and_env_names(tmp_path, binaries):
    env = clean_env(EVMAIL_LOG_PARTITIONS="7", EVMAIL_MGMT_ADMIN_TOKEN="s3cret-token")
    p = run([EVMAILD, "--check-config"], env=env, cwd=tmp_path, timeout=30)
    assert p.returncode == 0, (p.stdout, p.stderr)
    out = p.stdout
    for key, envname in [("node.id", "EVMAIL_NODE_ID"), ("node.data_dir", "EVMAIL_NODE_DATA_DIR"),
                         ("log.backend", "EVMAIL_LOG_BACKEND"), ("log.brokers", "EVMAIL_LOG_BROKERS"),
                         ("log.topic_prefix", "EVMAIL_LOG_TOPIC_PREFIX"),
                         ("log.partitions", "EVMAIL_LOG_PARTITIONS"),
                         ("mgmt.listen", "EVMAIL_MGMT_LISTEN"),
                         ("mgmt.admin_token", "EVMAIL_MGMT_ADMIN_TOKEN"),
                         ("projector.heartbeat_ms", "EVMAIL_PROJECTOR_HEARTBEAT_MS")]:
        assert re.search(rf"^{re.escape(key)}\s*=", out, re.M), f"{key} missing:\n{out}"
        assert envname in out, f"{envname} missing:\n{out}"
    # the environment override is the effective value
    assert re.search(r"^log\.partitions\s*=\s*7\s*$", out, re.M), out
    # without brokers the backend is the embedded log
    assert re.search(r"^log\.backend\s*=\s*embedded\s*$", out, re.M), out
    # the token is never printed
    assert "s3cret-token" not in out


def test_check_config_file_and_section_syntax(tmp_path, binaries):
    conf = tmp_path / "evmail.conf"
    conf.write_text("# test\n[log]\npartitions = 9\ntopic_prefix = \"cfgtest.\"\n"
                    "[node]\nid = from-file\n")
    p = run([EVMAILD, "--config", conf, "--check-config"], env=clean_env(), cwd=tmp_path, timeout=30)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert re.search(r"^log\.partitions\s*=\s*9\s*$", p.stdout, re.M), p.stdout
    assert re.search(r"^log\.topic_prefix\s*=\s*cfgtest\.\s*$", p.stdout, re.M), p.stdout
    assert re.search(r"^node\.id\s*=\s*from-file\s*$", p.stdout, re.M), p.stdout
    # environment overrides the file
    p = run([EVMAILD, "--config", conf, "--check-config"], env=clean_env(EVMAIL_NODE_ID="from-env"),
            cwd=tmp_path, timeout=30)
    assert p.returncode == 0, p.stderr
    assert re.search(r"^node\.id\s*=\s*from-env\s*$", p.stdout, re.M), p.stdout


@pytest.mark.parametrize("env,needle", [
    ({"EVMAIL_LOG_PARTITIONS": "abc"}, "EVMAIL_LOG_PARTITIONS"),
    ({"EVMAIL_LOG_PARTITIONS": "0"}, "EVMAIL_LOG_PARTITIONS"),
    ({"EVMAIL_LOG_BACKEND": "carrier-pigeon"}, "EVMAIL_LOG_BACKEND"),
    ({"EVMAIL_LOG_BACKEND": "kafka"}, "brokers"),
    ({"EVMAIL_PROJECTOR_HEARTBEAT_MS": "-5"}, "EVMAIL_PROJECTOR_HEARTBEAT_MS"),
])
def test_check_config_rejects_bad_values(tmp_path, binaries, env, needle):
    p = run([EVMAILD, "--check-config"], env=clean_env(**env), cwd=tmp_path, timeout=30)
    assert p.returncode != 0, f"accepted {env}: {p.stdout}"
    assert needle.lower() in p.stderr.lower(), p.stderr
    # The daemon itself refuses to start on it too (and exits, not hangs).
    p = run([EVMAILD], env=clean_env(**env), cwd=tmp_path, timeout=30)
    assert p.returncode != 0


def test_check_config_rejects_bad_file(tmp_path, binaries):
    conf = tmp_path / "bad.conf"
    conf.write_text("[log]\nno_such_key = 1\n")
    p = run([EVMAILD, "--config", conf, "--check-config"], env=clean_env(), cwd=tmp_path, timeout=30)
    assert p.returncode != 0
    assert "no_such_key" in p.stderr, p.stderr
    p = run([EVMAILD, "--config", tmp_path / "missing.conf", "--check-config"], env=clean_env(),
            cwd=tmp_path, timeout=30)
    assert p.returncode != 0
    p = run([EVMAILD, "--no-such-option"], env=clean_env(), cwd=tmp_path, timeout=30)
    assert p.returncode == 2


# --------------------------------------------------------------------------
# running node: no config file, endpoints
# --------------------------------------------------------------------------

def test_runs_without_config_in_fresh_cwd(nodes, tmp_path):
    fresh = tmp_path / "fresh-cwd"
    fresh.mkdir()
    node = nodes("bare", data_dir=None, cwd=fresh)
    node.start(wait="ready")
    assert (fresh / "data").is_dir(), list(fresh.iterdir())
    assert (fresh / "data" / "log").is_dir(), list((fresh / "data").iterdir())

    r = node.http("GET", "/healthz")
    assert r.status == 200 and r.text.strip() == "ok", r
    r = node.http("GET", "/readyz")
    assert r.status == 200, r

    assert_ok(node.ctl("tenant", "create", "fresh"))
    m = node.metrics()
    for name in ("evmail_events_applied_total", "evmail_partition_lag", "evmail_decode_errors_total",
                 "evmail_ready", "evmail_commands_total"):
        assert re.search(rf"^{name}(\{{|\s)", m, re.M), f"{name} missing from /metrics:\n{m}"
    wait_until(lambda: re.search(r"^evmail_ready 1\s*$", node.metrics(), re.M), 10,
               what="evmail_ready 1", diag=node.metrics)
    applied = re.search(r"^evmail_events_applied_total (\d+)", m, re.M)
    assert applied and int(applied.group(1)) >= 1, m
    assert re.search(r'^evmail_commands_total\{result="accepted"\} [1-9]\d*\s*$', m, re.M), m
    assert re.search(r"^evmail_decode_errors_total 0\s*$", m, re.M), m
    lag = re.search(r'^evmail_partition_lag\{[^}]*topic="directory"[^}]*\} (\d+)', m, re.M)
    assert lag and int(lag.group(1)) == 0, m

    st = wait_until(lambda: (lambda s: s["ready"] and s)(node.status()), 10, what="status ready")
    assert st["ready"] is True and st["state"] == "running", st
    assert st["node"]["id"] == "bare" and st["node"]["log_backend"] == "embedded", st
    assert any(p["topic"] == "directory" for p in st["partitions"]), st
    for p in st["partitions"]:
        if p["topic"] != "cluster":  # heartbeats keep the cluster topic moving
            assert p["lag"] == 0 and p["applied"] == p["end"], st

    r = node.http("GET", "/no/such/path")
    assert r.status == 404
    # evmailctl reaches the node through EVMAIL_MGMT_LISTEN, or --node
    assert_ok(node.ctl("status"))
    res = assert_ok(node.ctl("--node", node.listen, "status", env={"EVMAIL_MGMT_LISTEN": "127.0.0.1:1"}))
    assert "bare" in res.out
    assert node.stop() == 0


def test_readiness_stable_when_idle(nodes):
    """A caught-up node with nothing to do stays ready: /readyz must not
    flap while its own heartbeats move the cluster topic."""
    node = nodes("idle")
    node.start(wait="ready")
    assert_ok(node.ctl("tenant", "create", "idle"))
    wait_until(lambda: node.http("GET", "/readyz").status == 200, 10, what="ready")
    answers = []
    for _ in range(40):
        r = node.http("GET", "/readyz")
        answers.append((r.status, r.text.strip()))
        time.sleep(0.05)
    bad = [a for a in answers if a[0] != 200]
    assert not bad, (f"/readyz flapped on an idle node: {len(bad)}/40 answers not 200, e.g. {bad[0]}; "
                     f"status: {node.status()}")


def test_ctl_cannot_reach_node(nodes, tmp_path):
    node = nodes("nobody")  # never started
    res = node.ctl("tenant", "list")
    assert_fail(res, "cannot reach")


# --------------------------------------------------------------------------
# directory CRUD through evmailctl
# --------------------------------------------------------------------------

@pytest.fixture
def node(nodes):
    n = nodes("n1")
    n.start(wait="ready")
    return n


def test_tenant_crud(node):
    assert_ok(node.ctl("tenant", "create", "acme"))
    res = assert_ok(node.ctl("tenant", "create", "globex", "--json"))
    out = res.json()
    assert out["status"] == "accepted", out
    assert isinstance(out.get("offset"), int) and isinstance(out.get("partition"), int), out

    res = assert_ok(node.ctl("tenant", "list"))
    assert res.out.split() == ["acme", "globex"], res
    lst = assert_ok(node.ctl("tenant", "list", "--json")).json()
    assert [t["name"] for t in lst] == ["acme", "globex"], lst
    # --json before the command works too
    lst2 = assert_ok(node.ctl("--json", "tenant", "list")).json()
    assert lst2 == lst

    show = assert_ok(node.ctl("tenant", "show", "acme", "--json")).json()
    assert show["name"] == "acme" and show["domains"] == [], show
    txt = assert_ok(node.ctl("tenant", "show", "acme")).out
    assert "acme" in txt

    assert_ok(node.ctl("tenant", "delete", "globex"))
    assert [t["name"] for t in assert_ok(node.ctl("tenant", "list", "--json")).json()] == ["acme"]
    assert_fail(node.ctl("tenant", "show", "globex"), "no such tenant")
    assert_fail(node.ctl("tenant", "delete", "globex"), "no tenant")
    # the HTTP API agrees
    assert node.get_json("/admin/tenants/acme")["name"] == "acme"
    assert node.http("GET", "/admin/tenants/globex").status == 404
    # a deleted tenant's name can be created again
    assert_ok(node.ctl("tenant", "create", "globex"))


def test_domain_crud(node):
    assert_ok(node.ctl("tenant", "create", "acme"))
    assert_ok(node.ctl("tenant", "create", "other"))
    assert_ok(node.ctl("domain", "add", "acme.example", "--tenant", "acme"))
    # the CLI normalises case
    out = assert_ok(node.ctl("domain", "add", "Mail.ACME.example", "--tenant", "acme", "--json")).json()
    assert out["status"] == "accepted", out
    assert_ok(node.ctl("domain", "add", "other.example", "--tenant", "other"))

    lst = assert_ok(node.ctl("domain", "list", "--json")).json()
    assert [(d["domain"], d["tenant"]) for d in lst] == [
        ("acme.example", "acme"), ("mail.acme.example", "acme"), ("other.example", "other")], lst
    lst = assert_ok(node.ctl("domain", "list", "--tenant", "acme", "--json")).json()
    assert [d["domain"] for d in lst] == ["acme.example", "mail.acme.example"], lst
    txt = assert_ok(node.ctl("domain", "list", "--tenant", "other")).out
    assert "other.example" in txt and "acme.example" not in txt

    show = assert_ok(node.ctl("tenant", "show", "acme", "--json")).json()
    assert [d["domain"] for d in show["domains"]] == ["acme.example", "mail.acme.example"], show

    assert_ok(node.ctl("domain", "remove", "mail.acme.example", "--tenant", "acme"))
    lst = assert_ok(node.ctl("domain", "list", "--tenant", "acme", "--json")).json()
    assert [d["domain"] for d in lst] == ["acme.example"], lst
    # removing through the wrong tenant is refused
    assert_fail(node.ctl("domain", "remove", "other.example", "--tenant", "acme"), "other.example")
    assert_fail(node.ctl("domain", "remove", "nowhere.example", "--tenant", "acme"), "no domain")


def test_account_crud_and_password_hash(node):
    assert_ok(node.ctl("tenant", "create", "acme"))
    assert_ok(node.ctl("domain", "add", "acme.example", "--tenant", "acme"))
    pw1 = "correct horse battery staple"
    res = assert_ok(node.ctl("account", "add", "Alice@ACME.example", "--name", "Alice Liddell",
                             "--quota", "10G", "--password-stdin", input=pw1 + "\n"))
    assert "alice@acme.example" in res.out
    out = assert_ok(node.ctl("account", "add", "bob@acme.example", "--disabled", "--password-stdin",
                             "--json", input="bobpw\n")).json()
    assert out["status"] == "accepted", out
    assert pw1 not in res.out + res.err

    show = assert_ok(node.ctl("account", "show", "alice@acme.example", "--json")).json()
    assert show["address"] == "alice@acme.example", show
    assert show["tenant"] == "acme" and show["domain"] == "acme.example", show
    assert show["display_name"] == "Alice Liddell", show
    assert show["quota"] == 10 * 1024 ** 3, show
    assert show["state"] == "active", show
    assert "password_hash" not in show, f"account show leaks the hash: {show}"
    assert not any(isinstance(v, str) and v.startswith("$") for v in show.values()), show
    txt = assert_ok(node.ctl("account", "show", "alice@acme.example")).out
    assert "Alice Liddell" in txt and "$y$" not in txt

    bob = assert_ok(node.ctl("account", "show", "bob@acme.example", "--json")).json()
    assert bob["state"] == "disabled" and bob["quota"] == 0, bob

    # the stored state (only with ?credentials=1) holds a yescrypt hash
    cred = node.get_json("/admin/accounts/alice@acme.example?credentials=1")
    h1 = cred["password_hash"]
    assert h1.startswith("$y$"), cred
    assert pw1 not in h1
    assert "password_hash" not in node.get_json("/admin/accounts/alice@acme.example")

    lst = assert_ok(node.ctl("account", "list", "--json")).json()
    assert [a["address"] for a in lst] == ["alice@acme.example", "bob@acme.example"], lst
    for a in lst:
        assert "password_hash" not in a, a
    lst = assert_ok(node.ctl("account", "list", "--domain", "acme.example", "--json")).json()
    assert len(lst) == 2
    lst = assert_ok(node.ctl("account", "list", "--tenant", "acme", "--json")).json()
    assert len(lst) == 2
    assert_ok(node.ctl("tenant", "create", "empty"))
    assert assert_ok(node.ctl("account", "list", "--tenant", "empty", "--json")).json() == []
    txt = assert_ok(node.ctl("account", "list")).out
    assert "alice@acme.example" in txt and "bob@acme.example" in txt and "$y$" not in txt

    # passwd: new hash, everything else unchanged
    pw2 = "another secret 2"
    assert_ok(node.ctl("account", "passwd", "alice@acme.example", "--password-stdin", input=pw2 + "\n"))
    cred2 = node.get_json("/admin/accounts/alice@acme.example?credentials=1")
    assert cred2["password_hash"].startswith("$y$") and cred2["password_hash"] != h1, cred2
    assert cred2["display_name"] == "Alice Liddell" and cred2["quota"] == 10 * 1024 ** 3, cred2

    # set: name, quota, state; the hash is kept
    assert_ok(node.ctl("account", "set", "alice@acme.example", "--name", "Alice L.", "--quota", "500M"))
    a = assert_ok(node.ctl("account", "show", "alice@acme.example", "--json")).json()
    assert a["display_name"] == "Alice L." and a["quota"] == 500 * 1024 ** 2 and a["state"] == "active", a
    out = assert_ok(node.ctl("account", "set", "alice@acme.example", "--state", "disabled", "--json")).json()
    assert out["status"] == "accepted", out
    a = node.get_json("/admin/accounts/alice@acme.example?credentials=1")
    assert a["state"] == "disabled" and a["display_name"] == "Alice L.", a
    assert a["password_hash"] == cred2["password_hash"], "account set changed the password"
    assert_fail(node.ctl("account", "set", "alice@acme.example", "--state", "sleeping"), "state")
    assert_fail(node.ctl("account", "set", "alice@acme.example", "--quota", "lots"), "quota")
    assert_fail(node.ctl("account", "set", "nobody@acme.example", "--name", "x"), "no such account")
    assert_fail(node.ctl("account", "passwd", "nobody@acme.example", "--password-stdin", input="x\n"),
                "no such account")

    # remove
    assert_ok(node.ctl("account", "remove", "bob@acme.example"))
    assert_fail(node.ctl("account", "show", "bob@acme.example"), "no such account")
    assert [x["address"] for x in assert_ok(node.ctl("account", "list", "--json")).json()] == \
        ["alice@acme.example"]
    # removing again purges the mail store again (finishes a removal whose
    # purge was lost) and says there is no such account
    again = assert_ok(node.ctl("account", "remove", "bob@acme.example"))
    assert "no account bob@acme.example; its mail store was purged again" in again.out

    # password problems
    assert_fail(node.ctl("account", "add", "carol@acme.example", "--password-stdin", input=""),
                "password")
    assert_fail(node.ctl("account", "add", "carol@acme.example", "--password-stdin", input="\n"),
                "password")
    # no terminal and no --password-stdin: refused, not hung
    assert_fail(node.ctl("account", "add", "carol@acme.example", input=""), "password")
    assert_fail(node.ctl("account", "show", "carol@acme.example"), "no such account")

    # plain passwords never reach the node's log
    node_log = node.log_path.read_text(errors="replace")
    for pw in (pw1, pw2, "bobpw"):
        assert pw not in node_log, f"password {pw!r} appears in the node log"


def test_alias_crud(node):
    assert_ok(node.ctl("tenant", "create", "acme"))
    assert_ok(node.ctl("domain", "add", "acme.example", "--tenant", "acme"))
    assert_ok(node.ctl("account", "add", "alice@acme.example", "--password-stdin", input="pw\n"))
    assert_ok(node.ctl("alias", "add", "Sales@acme.example", "alice@acme.example"))
    out = assert_ok(node.ctl("alias", "add", "sales@acme.example", "boss@elsewhere.example",
                             "--json")).json()
    assert out["status"] == "accepted", out
    assert_ok(node.ctl("alias", "add", "info@acme.example", "alice@acme.example"))

    lst = assert_ok(node.ctl("alias", "list", "--json")).json()
    assert [a["alias"] for a in lst] == ["info@acme.example", "sales@acme.example"], lst
    sales = lst[1]
    assert sorted(sales["targets"]) == ["alice@acme.example", "boss@elsewhere.example"], sales
    txt = assert_ok(node.ctl("alias", "list")).out
    assert "sales@acme.example" in txt and "boss@elsewhere.example" in txt
    assert len(assert_ok(node.ctl("alias", "list", "--domain", "acme.example", "--json")).json()) == 2
    assert len(assert_ok(node.ctl("alias", "list", "--tenant", "acme", "--json")).json()) == 2
    assert node.get_json("/admin/aliases/sales@acme.example")["alias"] == "sales@acme.example"

    assert_fail(node.ctl("alias", "add", "sales@acme.example", "alice@acme.example"), "already")
    assert_fail(node.ctl("alias", "add", "alice@acme.example", "bob@acme.example"), "is an account")
    assert_fail(node.ctl("alias", "add", "x@unknown.example", "alice@acme.example"), "no domain")
    assert_fail(node.ctl("alias", "add", "self@acme.example", "self@acme.example"), "itself")
    assert_fail(node.ctl("alias", "add", "x@acme.example", "not-an-address"), "not a valid address")

    assert_ok(node.ctl("alias", "remove", "sales@acme.example", "boss@elsewhere.example"))
    lst = assert_ok(node.ctl("alias", "list", "--json")).json()
    sales = [a for a in lst if a["alias"] == "sales@acme.example"][0]
    assert sales["targets"] == ["alice@acme.example"], sales
    assert_fail(node.ctl("alias", "remove", "sales@acme.example", "boss@elsewhere.example"),
                "not a target")
    assert_ok(node.ctl("alias", "remove", "sales@acme.example", "alice@acme.example"))
    lst = assert_ok(node.ctl("alias", "list", "--json")).json()
    assert [a["alias"] for a in lst] == ["info@acme.example"], lst
    assert_fail(node.ctl("alias", "remove", "sales@acme.example", "alice@acme.example"), "no alias")


def test_error_paths_exit_1_with_one_line(node):
    assert_ok(node.ctl("tenant", "create", "acme"))
    assert_ok(node.ctl("tenant", "create", "globex"))
    assert_ok(node.ctl("domain", "add", "acme.example", "--tenant", "acme"))
    assert_ok(node.ctl("account", "add", "alice@acme.example", "--password-stdin", input="pw\n"))
    assert_ok(node.ctl("alias", "add", "postmaster@acme.example", "alice@acme.example"))

    # duplicate tenant
    assert_fail(node.ctl("tenant", "create", "acme"), "tenant acme exists")
    # domain in an unknown tenant
    assert_fail(node.ctl("domain", "add", "new.example", "--tenant", "nosuch"), "no tenant nosuch")
    # domain already owned by another tenant (and by the same one)
    assert_fail(node.ctl("domain", "add", "acme.example", "--tenant", "globex"), "domain acme.example exists")
    assert_fail(node.ctl("domain", "add", "ACME.example", "--tenant", "acme"), "exists")
    # account in an unknown domain
    assert_fail(node.ctl("account", "add", "bob@nowhere.example", "--password-stdin", input="pw\n"),
                "no domain nowhere.example")
    # duplicate address (also in another case)
    assert_fail(node.ctl("account", "add", "alice@acme.example", "--password-stdin", input="pw\n"),
                "account alice@acme.example exists")
    assert_fail(node.ctl("account", "add", "ALICE@acme.example", "--password-stdin", input="pw\n"),
                "exists")
    # address taken by an alias
    assert_fail(node.ctl("account", "add", "postmaster@acme.example", "--password-stdin", input="pw\n"),
                "is an alias")
    # malformed address
    for bad in ("not-an-address", "a@@acme.example", "@acme.example", "a b@acme.example", "alice@"):
        assert_fail(node.ctl("account", "add", bad, "--password-stdin", input="pw\n"),
                    "not a valid address")
    assert_fail(node.ctl("account", "show", "not-an-address"), "not a valid address")
    # malformed domain
    for bad in ("bad..domain", "-bad.example", "bad_domain!.example", "x" * 64 + ".example"):
        assert_fail(node.ctl("domain", "add", bad, "--tenant", "acme"), "not a valid domain")
    # bad tenant names
    for bad in ("Bad", "bad_name", "-bad", "x" * 64, "sp ace"):
        assert_fail(node.ctl("tenant", "create", bad), "not a valid tenant name")
    assert_fail(node.ctl("domain", "add", "ok.example", "--tenant", "Bad!"), "not a valid tenant name")
    # tenant delete with domains
    assert_fail(node.ctl("tenant", "delete", "acme"), "still has domains")
    # domain remove with accounts (then with aliases)
    assert_fail(node.ctl("domain", "remove", "acme.example", "--tenant", "acme"), "still has accounts")
    assert_ok(node.ctl("account", "remove", "alice@acme.example"))
    assert_fail(node.ctl("domain", "remove", "acme.example", "--tenant", "acme"), "still has aliases")
    # unknown account show
    assert_fail(node.ctl("account", "show", "ghost@acme.example"), "no such account")
    # nothing of the above changed the directory
    assert [t["name"] for t in node.get_json("/admin/tenants")] == ["acme", "globex"]
    assert [d["domain"] for d in node.get_json("/admin/domains")] == ["acme.example"]
    assert node.get_json("/admin/accounts") == []
    # rejections are counted
    m = node.metrics()
    rej = re.search(r'^evmail_commands_total\{result="rejected"\} (\d+)', m, re.M)
    assert rej and int(rej.group(1)) >= 8, m


@pytest.mark.parametrize("args", [
    [],
    ["frobnicate"],
    ["--bogus", "status"],
    ["tenant"],
    ["tenant", "create"],
    ["tenant", "create", "a", "b"],
    ["tenant", "explode", "acme"],
    ["tenant", "list", "--bogus"],
    ["domain", "add", "x.example"],
    ["domain", "add", "--tenant", "acme"],
    ["account"],
    ["account", "add"],
    ["account", "add", "a@b.example", "--name"],
    ["account", "frob", "a@b.example"],
    ["account", "list", "--bogus"],
    ["alias", "add", "a@b.example"],
    ["alias", "add", "a@b.example", "c@d.example", "e@f.example"],
    ["topics"],
    ["topics", "destroy"],
    ["view"],
    ["view", "hash"],
    ["status", "extra"],
    ["rebuild", "--bogus"],
])
def test_usage_errors_exit_2(node, args):
    res = node.ctl(*args)
    assert res.rc == 2, repr(res)
    assert "usage" in res.err.lower(), repr(res)
    assert res.out == "", repr(res)


def test_help_exits_0(node):
    res = node.ctl("--help")
    assert res.rc == 0 and "usage" in res.out.lower(), repr(res)


def test_admin_token(nodes):
    token = "tok-" + "x" * 20
    n = nodes("secure", env={"EVMAIL_MGMT_ADMIN_TOKEN": token})
    n.start(wait="ready")
    # health endpoints stay open
    assert n.http("GET", "/healthz", token="").status == 200
    assert n.http("GET", "/readyz", token="").status == 200
    assert n.http("GET", "/metrics", token="").status == 200
    # the admin API does not
    r = n.http("GET", "/admin/status", token="")
    assert r.status == 401, r
    assert n.http("GET", "/admin/status", token="wrong-token").status == 401
    assert n.http("GET", "/admin/status", token=token + "x").status == 401
    assert n.http("POST", "/admin/commands", body=[cmd("tenant.create", {"name": "sneaky"})],
                  token="").status == 401
    assert n.http("GET", "/admin/status", token=token).status == 200
    # evmailctl with the same environment works
    assert_ok(n.ctl("status"))
    assert_ok(n.ctl("tenant", "create", "allowed"))
    # without the token (or a wrong one) it fails with one clear line
    assert_fail(n.ctl("tenant", "list", env={"EVMAIL_MGMT_ADMIN_TOKEN": None}), "token")
    assert_fail(n.ctl("tenant", "create", "sneaky", env={"EVMAIL_MGMT_ADMIN_TOKEN": "nope"}), "token")
    assert [t["name"] for t in n.get_json("/admin/tenants")] == ["allowed"]
    # the token is not written to the log
    assert token not in n.log_path.read_text(errors="replace")


def test_admin_api_rejects_bad_requests(node):
    assert node.http("POST", "/admin/commands", body=b"not json").status == 400
    assert node.http("POST", "/admin/commands", body=[]).status == 400
    assert node.http("POST", "/admin/commands", body=[{"type": "mail.append", "data": {}}]).status == 400
    assert node.http("POST", "/admin/commands", body=[{"type": "tenant.create"}]).status == 400
    assert node.http("GET", "/admin/commands").status == 405
    # a batch is validated as a whole: nothing of it is appended
    r = node.http("POST", "/admin/commands", body=[cmd("tenant.create", {"name": "first"}),
                                                     {"type": "bogus", "data": {}}])
    assert r.status == 400, r
    assert node.get_json("/admin/tenants") == []
    # the applier validates data it cannot trust
    out = node.commands([cmd("tenant.create", {"name": "UPPER"}),
                         cmd("tenant.create", {}),
                         cmd("domain.add", {"domain": "Upper.example", "tenant": "x"})])
    assert [o["status"] for o in out] == ["rejected"] * 3, out
    assert all(o.get("code") == "invalid" for o in out), out
    out = node.commands([cmd("tenant.create", {"name": "t1"}),
                         cmd("domain.add", {"domain": "t1.example", "tenant": "t1"}),
                         cmd("account.create", {"address": "a@t1.example", "display_name": "",
                                                "quota": 0, "state": "active",
                                                "password_hash": "plaintext"})])
    assert [o["status"] for o in out] == ["accepted", "accepted", "rejected"], out
    assert "password_hash" in out[2]["reason"], out


def test_concurrent_conflicting_creates(node):
    """Two POSTs creating the same tenant at the same moment: exactly one is
    accepted (the first in the log), the other rejected with "exists"."""
    for round_ in range(5):
        name = f"race{round_}"
        barrier = threading.Barrier(2)
        results = [None, None]

        def post(i):
            barrier.wait(10)
            results[i] = node.http("POST", "/admin/commands",
                                   body=[cmd("tenant.create", {"name": name}, tenant=name)])

        threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert all(r is not None and r.status == 200 for r in results), results
        outs = [r.json()[0] for r in results]
        statuses = sorted(o["status"] for o in outs)
        assert statuses == ["accepted", "rejected"], outs
        rejected = [o for o in outs if o["status"] == "rejected"][0]
        accepted = [o for o in outs if o["status"] == "accepted"][0]
        assert rejected.get("code") == "exists", outs
        # the first in the log wins
        assert accepted["offset"] < rejected["offset"], outs
    assert [t["name"] for t in node.get_json("/admin/tenants")] == [f"race{i}" for i in range(5)]


def test_outcomes_survive_restart_and_commands_keep_working(node):
    """SIGTERM and restart: the directory is still there, the node becomes
    ready again, and new commands are accepted."""
    assert_ok(node.ctl("tenant", "create", "persist"))
    d1 = node.digest()
    assert node.stop() == 0
    node.start(wait="ready")
    assert [t["name"] for t in node.get_json("/admin/tenants")] == ["persist"]
    assert node.digest() == d1
    assert_ok(node.ctl("tenant", "create", "after"))
    wait_until(lambda: node.http("GET", "/readyz").status == 200, 10, what="ready")
