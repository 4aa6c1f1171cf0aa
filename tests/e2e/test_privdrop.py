"""Privileges (issue 8): started as root, evmaild binds its listeners, then
runs as node.user for good; it refuses to stay root unless node.allow_root;
a non-root bind below 1024 names CAP_NET_BIND_SERVICE.

Needs root (CI runs as root): a system user evmail-test is created for the
module when missing and removed afterwards. Data dirs live in a 0755 temp
dir, since pytest's own (/tmp/pytest-of-root) is closed to other users."""

import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import EVMAILD, Node, SmtpRaw, assert_ok, clean_env, free_port, tail, wait_until

USER = "evmail-test"
MISSING = "evmail-no-such-user"
DOMAIN = "priv.example"
ADDR = f"pat@{DOMAIN}"
PASSWORD = "privdrop-pw"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="privilege drop needs root")


@pytest.fixture(scope="module")
def system_user():
    """(uid, gid) of USER, created for this module when missing."""
    created = False
    try:
        pw = pwd.getpwnam(USER)
    except KeyError:
        p = subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                            "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", USER],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        created = True
        pw = pwd.getpwnam(USER)
    yield pw.pw_uid, pw.pw_gid
    if created:
        subprocess.run(["userdel", USER], capture_output=True, timeout=30)


@pytest.fixture
def open_dir():
    """A fresh directory every user may traverse (mode 0755)."""
    d = tempfile.mkdtemp(prefix="evmail-privdrop-")
    os.chmod(d, 0o755)
    yield Path(d)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def registry(binaries):
    nodes = []
    yield nodes
    for n in nodes:
        n.kill9()


def make_node(registry, workdir, name, **env):
    """A node that keeps the harness's defaults except the privilege keys:
    EVMAIL_NODE_USER / EVMAIL_NODE_ALLOW_ROOT None means "not set"."""
    base = {"EVMAIL_NODE_USER": None, "EVMAIL_NODE_ALLOW_ROOT": None,
            "EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "true"}   # "true", not "1" (issue 8)
    base.update(env)
    return Node(name, workdir / name, env=base, registry=registry)


def proc_ids(status_path):
    """{"Uid": [4 ids], "Gid": [4 ids], "Groups": [ids]} of a status file."""
    out = {}
    for line in Path(status_path).read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("Uid", "Gid", "Groups"):
            out[key] = [int(x) for x in rest.split()]
    return out


def exits_with(node, timeout=30):
    """Starts node without waiting and returns (exit status, log tail) once
    it has exited (it must, within timeout)."""
    node.start(wait=None)
    try:
        rc = node.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        node.kill9()
        pytest.fail(f"{node.name}: evmaild kept running\n" + node.diag())
    return rc, tail(node.log_path, 30)


def test_root_switches_to_node_user(registry, open_dir, system_user):
    uid, gid = system_user
    data = open_dir / "p" / "data"
    data.mkdir(parents=True)               # made by root, as an installer would
    (data / "left-by-root").write_text("x")
    node = make_node(registry, open_dir, "p", EVMAIL_NODE_USER=USER)
    node.start(wait="ready")
    assert f"running as {USER} (uid {uid}, gid {gid})" in tail(node.log_path, 200)

    # Every thread (projector, RocksDB, log) carries the user's ids, all four
    # of them (real, effective, saved, fs), and no other group.
    tasks = list(Path(f"/proc/{node.proc.pid}/task").iterdir())
    assert len(tasks) > 1, "expected the projector's and RocksDB's threads"
    for t in tasks:
        ids = proc_ids(t / "status")
        assert ids["Uid"] == [uid] * 4, (t, ids)
        assert ids["Gid"] == [gid] * 4, (t, ids)
        assert ids["Groups"] == [gid], (t, ids)

    # It still serves: directory writes (mgmt + log), SMTP delivery, IMAP.
    assert_ok(node.ctl("tenant", "create", "privt"))
    assert_ok(node.ctl("domain", "add", DOMAIN, "--tenant", "privt"))
    assert_ok(node.ctl("account", "add", ADDR, "--password-stdin", input=PASSWORD + "\n"))
    s = SmtpRaw(node.smtp_port)
    try:
        assert s.reply()[0] == 220
        assert s.cmd("EHLO client.example")[0] == 250
        assert s.cmd("MAIL FROM:<bob@sender.example>")[0] == 250
        assert s.cmd(f"RCPT TO:<{ADDR}>")[0] == 250
        assert s.cmd("DATA")[0] == 354
        s.send("Subject: after the drop\r\n\r\nstill here\r\n.\r\n")
        code, lines = s.reply()
        assert code == 250, s.log()
    finally:
        s.close()
    m = imaplib.IMAP4("127.0.0.1", node.imap_port, timeout=30)
    try:
        assert m.login(ADDR, PASSWORD)[0] == "OK"
        typ, data_ = m.select("INBOX")
        assert typ == "OK" and int(data_[0]) == 1, data_
    finally:
        m.logout()

    # The data dir and everything in it belongs to the user: root's entry
    # was handed over, the view and the log were created by the user.
    for root, dirs, files in os.walk(data):
        for name in [root] + [os.path.join(root, x) for x in dirs + files]:
            assert os.lstat(name).st_uid == uid, name
    assert (data / "view").is_dir()
    assert node.stop() == 0


def test_missing_user_refused_unless_allow_root(registry, open_dir):
    node = make_node(registry, open_dir, "m", EVMAIL_NODE_USER=MISSING)
    rc, log = exits_with(node)
    assert rc != 0
    assert f"node.user {MISSING} does not exist; create it" in log, log
    assert "node.allow_root = true" in log, log
    # Nothing was bound or opened: no data written.
    assert not (open_dir / "m" / "data" / "view").exists()

    # Told to, it stays root.
    node = make_node(registry, open_dir, "m2", EVMAIL_NODE_USER=MISSING,
                     EVMAIL_NODE_ALLOW_ROOT="yes")
    node.start(wait="ready")
    assert proc_ids(f"/proc/{node.proc.pid}/status")["Uid"] == [0] * 4
    assert "running as root (node.allow_root)" in tail(node.log_path, 100)
    assert node.stop() == 0

    # An empty node.user as root is refused the same way.
    node = make_node(registry, open_dir, "m3", EVMAIL_NODE_USER="")
    rc, log = exits_with(node)
    assert rc != 0 and "node.allow_root" in log, log


def test_default_user_evmail(registry, open_dir):
    """No node.user at all: the default is "evmail"; on a machine without
    it, root is refused with the message that says what to do."""
    try:
        pwd.getpwnam("evmail")
        pytest.skip("an evmail user exists here (scripts/run-demo.sh makes one)")
    except KeyError:
        pass
    rc, log = exits_with(make_node(registry, open_dir, "d"))
    assert rc != 0
    assert "node.user evmail does not exist; create it" in log, log


def test_low_port_without_root_names_the_capability(open_dir, system_user, binaries):
    """As a plain user (no CAP_NET_BIND_SERVICE) a port below 1024 fails
    with a message that says what is missing."""
    if int(Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text()) <= 1:
        pytest.skip("this kernel lets anyone bind low ports")
    uid, gid = system_user
    work = open_dir / "low"
    work.mkdir()
    os.chown(work, uid, gid)
    env = clean_env(EVMAIL_NODE_ID="low", EVMAIL_NODE_DATA_DIR=str(work / "data"),
                    EVMAIL_MGMT_LISTEN=f"127.0.0.1:{free_port()}", EVMAIL_SMTP_LISTEN="127.0.0.1:1",
                    EVMAIL_IMAP_LISTEN="", EVMAIL_IMAPS_LISTEN="", EVMAIL_SUBMISSION_LISTEN="",
                    EVMAIL_POP3_LISTEN="", EVMAIL_POP3S_LISTEN="",
                    EVMAIL_SUBMISSIONS_LISTEN="")
    # The build tree may sit where the user cannot reach it (a clone under
    # /root or a mode-0700 temp dir): run a copy from the open directory.
    exe = open_dir / "evmaild"
    shutil.copy2(EVMAILD, exe)
    exe.chmod(0o755)
    p = subprocess.run([str(exe)], env=env, cwd=str(work), user=uid, group=gid, extra_groups=[],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    assert "127.0.0.1:1" in p.stderr and "CAP_NET_BIND_SERVICE" in p.stderr, p.stderr
