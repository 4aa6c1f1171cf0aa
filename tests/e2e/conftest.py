"""End-to-end test harness for evmail: real `evmaild` processes and the real
`evmailctl` on 127.0.0.1, on the embedded log and on a real Apache Kafka
broker (tests/kafka/broker.sh).

Environment:
  EVMAIL_BUILD_DIR            where gateway/evmaild and admin/evmailctl are
                              (default: <repo>/build)
  EVMAIL_TEST_KAFKA_BROKERS   use this Kafka instead of starting one
  CI=true / EVMAIL_REQUIRE_KAFKA=1
                              a Kafka broker that cannot be started FAILS the
                              Kafka tests instead of skipping them

Every wait is bounded; every process started here is killed at teardown; a
failing test gets the tail of every node's log attached to its report.
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD_DIR = Path(os.environ.get("EVMAIL_BUILD_DIR") or (REPO / "build")).resolve()
EVMAILD = BUILD_DIR / "gateway" / "evmaild"
EVMAILCTL = BUILD_DIR / "admin" / "evmailctl"
BROKER_SH = REPO / "tests" / "kafka" / "broker.sh"
KAFKA_LIB = REPO / "tests" / "kafka" / "target" / "lib"

READY_TIMEOUT = 60.0        # seconds for a node to become ready
CTL_TIMEOUT = 120.0         # seconds for one evmailctl run
HTTP_TIMEOUT = 60.0         # seconds for one HTTP request

# Environment variables of the test harness itself, never passed on.
_HARNESS_VARS = {"EVMAIL_BUILD_DIR", "EVMAIL_TEST_KAFKA_BROKERS", "EVMAIL_REQUIRE_KAFKA"}


def kafka_required():
    return (os.environ.get("CI", "").lower() in ("true", "1", "yes")
            or os.environ.get("EVMAIL_REQUIRE_KAFKA", "") not in ("", "0"))


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------

_HANDED_OUT = set()   # ports free_port() gave this process: never twice


def free_port(pair=False):
    """A TCP port free on 127.0.0.1 right now (and port+1 too with pair),
    never one this process was given before: a node takes seven ports
    before it binds any, and the kernel may offer the same free one twice
    (CI saw submissions.listen and pop3s.listen collide)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port in _HANDED_OUT or (pair and port + 1 in _HANDED_OUT):
            continue
        _HANDED_OUT.add(port)
        if not pair:
            return port
        if port >= 65534:
            continue
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s2:
                s2.bind(("127.0.0.1", port + 1))
            _HANDED_OUT.add(port + 1)
            return port
        except OSError:
            continue
    raise RuntimeError("no free port pair found")


def clean_env(**extra):
    """os.environ without any EVMAIL_* setting (a stray EVMAIL_CONFIG or
    EVMAIL_MGMT_LISTEN from the caller's shell must not leak into the nodes),
    plus extra (values None are dropped)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVMAIL_")}
    env["LC_ALL"] = "C"
    for k, v in extra.items():
        if v is not None:
            env[k] = str(v)
    return env


def tail(path, lines=60):
    try:
        data = Path(path).read_text(errors="replace").splitlines()
    except OSError as e:
        return f"<cannot read {path}: {e}>"
    return "\n".join(data[-lines:])


def wait_until(pred, timeout, interval=0.1, what="condition", diag=None):
    """Polls pred() until it returns a truthy value; fails after timeout."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = pred()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - reported below
            last_exc = e
        if time.monotonic() >= deadline:
            msg = f"timed out after {timeout:.0f}s waiting for {what}"
            if last_exc is not None:
                msg += f" (last error: {last_exc!r})"
            if diag is not None:
                msg += "\n" + diag()
            pytest.fail(msg)
        time.sleep(interval)


def random_prefix():
    return "test" + secrets.token_hex(4) + "."


def run(cmd, *, env=None, input=None, timeout=CTL_TIMEOUT, cwd=None):
    """Runs a command, capturing text output, bounded by timeout."""
    try:
        return subprocess.run([str(c) for c in cmd], env=env, input=input, capture_output=True,
                              text=True, timeout=timeout, cwd=cwd, start_new_session=True)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"command timed out after {timeout}s: {' '.join(map(str, cmd))}\n"
                    f"stdout: {e.stdout!r}\nstderr: {e.stderr!r}")


class CtlResult:
    def __init__(self, args, proc):
        self.args = args
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def json(self):
        try:
            return json.loads(self.out)
        except ValueError:
            pytest.fail(f"evmailctl {' '.join(self.args)}: output is not JSON:\n{self.out}\n"
                        f"stderr: {self.err}")

    def __repr__(self):
        return (f"evmailctl {' '.join(self.args)} -> exit {self.rc}\n"
                f"--- stdout ---\n{self.out}--- stderr ---\n{self.err}")


def evmailctl(args, env, input=None, timeout=CTL_TIMEOUT, cwd=None):
    proc = run([EVMAILCTL, *args], env=env, input=input, timeout=timeout, cwd=cwd)
    return CtlResult([str(a) for a in args], proc)


def assert_ok(res):
    assert res.rc == 0, repr(res)
    return res


def assert_fail(res, needle=None, rc=1):
    """evmailctl failed with exit rc and ONE clear line on stderr, starting
    "evmailctl: " (for rc 1), containing needle (case-insensitive)."""
    assert res.rc == rc, repr(res)
    if rc == 1:
        lines = [ln for ln in res.err.splitlines() if ln.strip()]
        assert len(lines) == 1, f"expected exactly one line on stderr\n{res!r}"
        assert lines[0].startswith("evmailctl: "), repr(res)
        if needle is not None:
            assert needle.lower() in lines[0].lower(), f"expected {needle!r} in the error\n{res!r}"
    elif needle is not None:
        assert needle.lower() in res.err.lower(), repr(res)
    return res


# --------------------------------------------------------------------------
# Node: one evmaild process
# --------------------------------------------------------------------------

class HttpResult:
    def __init__(self, status, body, headers):
        self.status = status
        self.body = body
        self.headers = headers

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"HTTP {self.status}: {self.text[:2000]}"


class Node:
    """An evmaild process configured by environment variables.

    data_dir None leaves EVMAIL_NODE_DATA_DIR unset (the default ./data under
    cwd). The management port is chosen free; it is kept across restarts."""

    def __init__(self, name, workdir, env=None, data_dir="default", cwd=None, node_id=None,
                 registry=None):
        self.name = name
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.cwd = Path(cwd) if cwd else self.workdir
        self.cwd.mkdir(parents=True, exist_ok=True)
        if data_dir == "default":
            data_dir = self.workdir / "data"
        self.data_dir = Path(data_dir) if data_dir else None
        self.node_id = node_id or name
        self.port = free_port()
        self.smtp_port = free_port()   # every node's MX listener, on loopback
        self.imap_port = free_port()
        self.pop3_port = free_port()
        self.pop3s_port = free_port()         # implicit TLS (only with a cert)
        self.submission_port = free_port()    # RFC 6409, STARTTLS
        self.submissions_port = free_port()   # RFC 8314, implicit TLS (only with a cert)
        self.extra_env = dict(env or {})
        self.proc = None
        self.log_path = self.workdir / f"{name}.log"
        self.starts = 0
        if registry is not None:
            registry.append(self)

    # -- configuration --------------------------------------------------
    @property
    def listen(self):
        return f"127.0.0.1:{self.port}"

    @property
    def smtp_listen(self):
        return f"127.0.0.1:{self.smtp_port}"

    @property
    def imap_listen(self):
        return f"127.0.0.1:{self.imap_port}"

    @property
    def pop3_listen(self):
        return f"127.0.0.1:{self.pop3_port}"

    @property
    def pop3s_listen(self):
        return f"127.0.0.1:{self.pop3s_port}"

    @property
    def submission_listen(self):
        return f"127.0.0.1:{self.submission_port}"

    @property
    def submissions_listen(self):
        return f"127.0.0.1:{self.submissions_port}"

    @property
    def env(self):
        e = clean_env(EVMAIL_NODE_ID=self.node_id, EVMAIL_MGMT_LISTEN=self.listen,
                      EVMAIL_SMTP_LISTEN=self.smtp_listen,
                      EVMAIL_IMAP_LISTEN=self.imap_listen, EVMAIL_IMAPS_LISTEN="",
                      EVMAIL_POP3_LISTEN=self.pop3_listen, EVMAIL_POP3S_LISTEN=self.pop3s_listen,
                      EVMAIL_SUBMISSION_LISTEN=self.submission_listen,
                      EVMAIL_SUBMISSIONS_LISTEN=self.submissions_listen,
                      EVMAIL_PROJECTOR_VIEW_WRITE_BUFFER_MB="4",
                      EVMAIL_PROJECTOR_HEARTBEAT_MS=self.extra_env.get(
                          "EVMAIL_PROJECTOR_HEARTBEAT_MS", "300"),
                      # CI runs as root, in private 0700 temp dirs: stay root
                      # (even where an "evmail" user exists, as after
                      # scripts/run-demo.sh). test_privdrop.py overrides both.
                      EVMAIL_NODE_USER="", EVMAIL_NODE_ALLOW_ROOT="true",
                      # inbound SPF/DKIM/DMARC would ask the machine's DNS
                      # for every test message: only test_inbound_auth.py
                      # (with its own nsd) turns it on.
                      EVMAIL_INBOUND_AUTH="off",
                      # login throttling (issue #11): the suite logs in and
                      # fails on purpose a lot from 127.0.0.1; a short delay
                      # and limits no test reaches. test_throttle.py sets its own.
                      EVMAIL_AUTH_FAILURE_DELAY_MS="20",
                      EVMAIL_AUTH_MAX_FAILURES_IP="1000000",
                      EVMAIL_AUTH_MAX_FAILURES_ACCOUNT="1000000")
        if self.data_dir is not None:
            e["EVMAIL_NODE_DATA_DIR"] = str(self.data_dir)
        for k, v in self.extra_env.items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = str(v)
        return e

    # -- process control ------------------------------------------------
    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, wait="healthy", timeout=READY_TIMEOUT):
        assert not self.alive(), f"{self.name} is already running"
        for attempt in range(3):
            self.starts += 1
            logf = open(self.log_path, "ab")
            logf.write(f"\n===== test harness: start #{self.starts} of {self.name} on {self.listen} "
                       f"({time.strftime('%H:%M:%S')}) =====\n".encode())
            logf.flush()
            self.proc = subprocess.Popen([str(EVMAILD)], env=self.env, cwd=str(self.cwd),
                                         stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                                         start_new_session=True)
            logf.close()
            if wait is None:
                return self
            ok = self._wait_healthy(min(timeout, 30.0))
            if ok:
                break
            # A port grabbed by someone else between free_port() and bind:
            # retry on a new port, anything else is a failure.
            if not self.alive() and "in use" in tail(self.log_path, 10).lower() and attempt < 2:
                self.port = free_port()
                continue
            self.kill9()
            pytest.fail(f"{self.name}: evmaild did not come up (exit {self.proc.returncode})\n"
                        + self.diag())
        if wait == "ready":
            self.wait_ready(timeout)
        return self

    def _wait_healthy(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                return False
            try:
                r = self.http("GET", "/healthz", timeout=2)
                if r.status == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def wait_ready(self, timeout=READY_TIMEOUT):
        last = [None]

        def ready():
            if not self.alive():
                pytest.fail(f"{self.name}: evmaild exited (status {self.proc.returncode}) while "
                            f"waiting for /readyz\n" + self.diag())
            r = self.http("GET", "/readyz", timeout=5)
            last[0] = r
            return r.status == 200

        wait_until(ready, timeout, what=f"{self.name} /readyz",
                   diag=lambda: f"last /readyz: {last[0]!r}\n" + self.diag())

    def stop(self, timeout=20):
        """SIGTERM, then SIGKILL after timeout. Returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                pytest.fail(f"{self.name}: evmaild ignored SIGTERM for {timeout}s\n" + self.diag())
        return self.proc.returncode

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass

    # -- HTTP ------------------------------------------------------------
    def http(self, method, path, body=None, token=None, timeout=HTTP_TIMEOUT):
        data = None
        headers = {"Connection": "close"}
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token is None:
            token = self.extra_env.get("EVMAIL_MGMT_ADMIN_TOKEN")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(f"http://{self.listen}{path}", data=data, method=method,
                                     headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return HttpResult(resp.status, resp.read(), dict(resp.headers))
        except urllib.error.HTTPError as e:
            return HttpResult(e.code, e.read(), dict(e.headers or {}))

    def get_json(self, path, expect=200, **kw):
        r = self.http("GET", path, **kw)
        assert r.status == expect, f"{self.name} GET {path}: {r!r}"
        return r.json()

    def commands(self, cmds, timeout=HTTP_TIMEOUT):
        """POST /admin/commands; returns the list of outcomes (asserts 200)."""
        r = self.http("POST", "/admin/commands", body=cmds, timeout=timeout)
        assert r.status == 200, f"{self.name} POST /admin/commands: {r!r}\n" + self.diag(20)
        out = r.json()
        assert isinstance(out, list) and len(out) == len(cmds), r
        return out

    def status(self):
        return self.get_json("/admin/status")

    def digest(self):
        res = assert_ok(self.ctl("view", "digest"))
        line = res.out.strip()
        assert len(line) == 64 and all(c in "0123456789abcdef" for c in line), repr(res)
        return line

    def metrics(self):
        r = self.http("GET", "/metrics")
        assert r.status == 200, r
        return r.text

    # -- evmailctl -------------------------------------------------------
    def ctl(self, *args, input=None, env=None, timeout=CTL_TIMEOUT):
        e = self.env
        if env:
            for k, v in env.items():
                if v is None:
                    e.pop(k, None)
                else:
                    e[k] = str(v)
        return evmailctl(list(args), e, input=input, timeout=timeout, cwd=self.cwd)

    # -- diagnostics -----------------------------------------------------
    def diag(self, lines=60):
        state = "not started" if self.proc is None else (
            "running" if self.alive() else f"exited {self.proc.returncode}")
        return (f"---- {self.name} ({state}, {self.listen}) last {lines} lines of "
                f"{self.log_path} ----\n{tail(self.log_path, lines)}")


# --------------------------------------------------------------------------
# pytest plumbing
# --------------------------------------------------------------------------

def pytest_configure(config):
    config.addinivalue_line("markers", "kafka: needs a real Apache Kafka broker")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when in ("setup", "call") and rep.failed:
        for node in getattr(item, "_evmail_nodes", []):
            rep.sections.append((f"evmaild log: {node.name}", node.diag(80)))


@pytest.fixture(scope="session")
def binaries():
    missing = [str(p) for p in (EVMAILD, EVMAILCTL) if not os.access(p, os.X_OK)]
    if missing:
        pytest.fail(f"not built: {', '.join(missing)} (set EVMAIL_BUILD_DIR, or build with "
                    f"cmake -S {REPO} -B {REPO}/build -G Ninja && ninja -C {REPO}/build)")
    return EVMAILD, EVMAILCTL


@pytest.fixture
def nodes(request, tmp_path, binaries):
    """Factory: nodes("a", env={...}, ...) -> Node (not started). Every node
    is killed at teardown."""
    registry = []
    request.node._evmail_nodes = registry

    def make(name, **kw):
        return Node(name, tmp_path / name, registry=registry, **kw)

    yield make
    for n in registry:
        n.kill9()


@pytest.fixture(scope="session")
def kafka_brokers(tmp_path_factory):
    """Bootstrap servers of a real Kafka broker for the whole session."""
    given = os.environ.get("EVMAIL_TEST_KAFKA_BROKERS")
    if given:
        yield given
        return

    def unavailable(msg):
        if kafka_required():
            pytest.fail(f"Kafka broker required (CI / EVMAIL_REQUIRE_KAFKA) but: {msg}",
                        pytrace=False)
        pytest.skip(f"no Kafka broker: {msg}")

    if not BROKER_SH.exists():
        unavailable(f"{BROKER_SH} does not exist")
    if shutil.which("java") is None:
        unavailable("java is not on PATH")
    for _ in range(3):
        # a port free when chosen may be taken by an outgoing connection
        # before the JVM binds it: try again on another
        bdir = tmp_path_factory.mktemp("kafka")
        port = free_port(pair=True)
        proc = run(["bash", BROKER_SH, "start", bdir, port], env=clean_env(), timeout=240)
        if proc.returncode == 0 or "Address already in use" not in tail(bdir / "broker.log", 200):
            break
    if proc.returncode != 0:
        log = tail(bdir / "broker.log", 40)
        unavailable(f"broker.sh start failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}\n{log}")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        res = run(["bash", BROKER_SH, "stop", bdir], env=clean_env(), timeout=60)
        if res.returncode != 0:
            sys.stderr.write(f"broker.sh stop failed: {res.stderr}\n")


@pytest.fixture
def kafka_env(kafka_brokers):
    """Environment of one Kafka test: its own topic prefix."""
    return {
        "EVMAIL_LOG_BROKERS": kafka_brokers,
        "EVMAIL_LOG_TOPIC_PREFIX": random_prefix(),
        "EVMAIL_LOG_PARTITIONS": "4",
    }


@pytest.fixture(params=["embedded", pytest.param("kafka", marks=pytest.mark.kafka)])
def backend(request):
    """The log backend of a single-node test, one run each: "embedded", or
    "kafka" (a real broker; under CI a missing broker fails, see
    kafka_brokers)."""
    return request.param


@pytest.fixture
def backend_env(request, backend):
    """The environment that puts a node on the test's backend: {} for the
    embedded log; for Kafka the test's own topic prefix (kafka_env), with
    the topics created by evmailctl."""
    if backend == "embedded":
        return {}
    kenv = request.getfixturevalue("kafka_env")
    assert_ok(evmailctl(["topics", "create"], clean_env(**kenv), timeout=120))
    return kenv


@pytest.fixture
def backend_nodes(nodes, backend, backend_env):
    """Like nodes, on the test's backend: backend_nodes("a", env={...})
    (env wins over the backend settings). At teardown every node still
    running must report that backend in /admin/status."""
    made = []

    def make(name, env=None, **kw):
        node = nodes(name, env={**backend_env, **(env or {})}, **kw)
        made.append(node)
        return node

    yield make
    for node in made:
        if node.alive():
            got = node.status()["node"]["log_backend"]
            assert got == backend, f"{node.name} ran on the {got} log, not on {backend}"


# --------------------------------------------------------------------------
# directory workload helpers
# --------------------------------------------------------------------------

def cmd(type_, data, tenant="", account=""):
    return {"type": type_, "tenant": tenant, "account": account, "data": data}


def account_data(address, password_hash, name="", quota=0, state="active"):
    return {"address": address, "display_name": name, "quota": quota, "state": state,
            "password_hash": password_hash}


def make_batches(tag, password_hash, nbatches=20, batch_size=500, tenants_per_batch=5):
    """nbatches independent batches of batch_size directory commands each:
    every batch creates its own tenants and domains, then accounts in them.
    Returns [(commands, [addresses created by it])]."""
    batches = []
    for b in range(nbatches):
        cmds, addrs = [], []
        doms = []
        for t in range(tenants_per_batch):
            tenant = f"{tag}-b{b}-t{t}"
            dom = f"b{b}t{t}.{tag}.example"
            cmds.append(cmd("tenant.create", {"name": tenant}, tenant=tenant))
            cmds.append(cmd("domain.add", {"domain": dom, "tenant": tenant}, tenant=tenant))
            doms.append(dom)
        i = 0
        while len(cmds) < batch_size:
            addr = f"u{i}@{doms[i % len(doms)]}"
            cmds.append(cmd("account.create", account_data(addr, password_hash, name=f"User {b}/{i}"),
                            account=addr))
            addrs.append(addr)
            i += 1
        batches.append((cmds, addrs))
    return batches


def reference_hash(node, tenant="hashref", domain="hashref.example"):
    """A real yescrypt hash, made by `evmailctl account add` and read back
    with ?credentials=1."""
    assert_ok(node.ctl("tenant", "create", tenant))
    assert_ok(node.ctl("domain", "add", domain, "--tenant", tenant))
    addr = f"ref@{domain}"
    assert_ok(node.ctl("account", "add", addr, "--password-stdin", input="reference-pw\n"))
    acc = node.get_json(f"/admin/accounts/{addr}?credentials=1")
    h = acc["password_hash"]
    assert h.startswith("$y$"), acc
    return h


# --------------------------------------------------------------------------
# mail store and SMTP helpers (test_smtp_*.py)
# --------------------------------------------------------------------------

# A well-formed yescrypt string (no password verifies against it): for
# accounts that only receive mail.
DUMMY_PASSWORD_HASH = "$y$j9T$evmailtestsaltsaltsalt$" + "A" * 43


def mail_directory(node, tenant, domain, accounts=(), quota=None):
    """tenant + domain + accounts (local parts or full addresses) through
    one POST /admin/commands; asserts every command was accepted."""
    cmds = [cmd("tenant.create", {"name": tenant}, tenant=tenant),
            cmd("domain.add", {"domain": domain, "tenant": tenant}, tenant=tenant)]
    addrs = []
    for a in accounts:
        addr = a if "@" in a else f"{a}@{domain}"
        q = (quota or {}).get(addr, 0) if isinstance(quota, dict) else (quota or 0)
        cmds.append(cmd("account.create", account_data(addr, DUMMY_PASSWORD_HASH, quota=q), tenant=tenant, account=addr))
        addrs.append(addr)
    outs = node.commands(cmds)
    bad = [(c["type"], o) for c, o in zip(cmds, outs) if o.get("status") != "accepted"]
    assert not bad, bad
    return addrs


def mail_mailboxes(node, addr):
    return node.get_json(f"/admin/mail/{urllib.request.quote(addr, safe='@')}/mailboxes")


def mail_inbox(node, addr):
    """(mailbox id, [message records in UID order]) of addr's INBOX."""
    boxes = [m for m in mail_mailboxes(node, addr) if m["name"].upper() == "INBOX"]
    if not boxes:
        return None, []
    mid = boxes[0]["id"]
    msgs = node.get_json(f"/admin/mail/{urllib.request.quote(addr, safe='@')}/mailboxes/{mid}/messages")
    return mid, sorted(msgs, key=lambda m: m["uid"])


def mail_raw(node, addr, mailbox_id, uid, timeout=30.0):
    """The stored bytes of one message (waits while the blob is incomplete)."""
    path = f"/admin/mail/{urllib.request.quote(addr, safe='@')}/mailboxes/{mailbox_id}/messages/{uid}/raw"
    got = {}

    def fetch():
        r = node.http("GET", path)
        got["r"] = r
        return r.status == 200 and r

    return wait_until(fetch, timeout, interval=0.1, what=f"raw body of {addr} uid {uid}",
                      diag=lambda: f"last answer: {got.get('r')!r}").body


def mail_bodies(node, addr, timeout=30.0):
    """[(message record, raw bytes)] of addr's INBOX in UID order."""
    mid, msgs = mail_inbox(node, addr)
    return [(m, mail_raw(node, addr, mid, m["uid"], timeout)) for m in msgs]


def self_signed_cert(directory, cn="mx.evmail.test"):
    """(cert path, key path): a throwaway self-signed pair made by openssl."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    p = run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", f"/CN={cn}", "-keyout", key, "-out", cert], env=clean_env(), timeout=60)
    assert p.returncode == 0, p.stderr
    return cert, key


class SmtpRaw:
    """A raw SMTP/LMTP client on a socket: sends bytes exactly as given and
    parses replies (for pipelining, BDAT, smuggling and per-recipient LMTP
    replies, which smtplib cannot do)."""

    def __init__(self, port, host="127.0.0.1", timeout=30.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        self.transcript = []

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.transcript.append(b"C: " + data[:300])
        self.sock.sendall(data)

    def reply(self):
        """One (possibly multi-line) reply: (code, [text lines]); (None, [])
        when the server closed the connection."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    self.transcript.append(b"S: <closed>")
                    return (None, lines) if not lines else (int(lines[-1][:3]), lines)
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            self.transcript.append(b"S: " + line)
            text = line.decode("utf-8", "replace")
            lines.append(text)
            if len(text) < 4 or text[3] != "-":
                return int(text[:3]), lines

    def replies(self, n):
        return [self.reply() for _ in range(n)]

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def closed(self, timeout=5.0):
        """True when the server closes the connection within timeout."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except ConnectionError:
            return True
        except OSError:
            return False

    def log(self):
        return b"\n".join(self.transcript).decode("utf-8", "replace")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
