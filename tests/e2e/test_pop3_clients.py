"""POP3 against real clients: curl (STLS and POP3S, LIST, UIDL, RETR, TOP,
DELE) and fetchmail (STLS, UIDL-tracked fetches, delete after fetch and
--keep), on the same node fixture as test_pop3.py. What the clients fetch
must be the stored messages byte for byte; what fetchmail deletes must be
gone for IMAP too."""

import os
import re
import shutil
import subprocess

import pytest

from conftest import wait_until
from test_pop3 import (MESSAGES, PASSWORD, TIMEOUT, USER, deliver, imap_count, message,  # noqa: F401
                       node)

CURL = shutil.which("curl")
FETCHMAIL = shutil.which("fetchmail")


def curl(node, path, *extra, tls="stls"):
    """curl's output for pop3://.../path (stls) or pop3s:// (implicit TLS)."""
    if tls == "stls":
        url = f"pop3://127.0.0.1:{node.pop3_port}/{path}"
        args = ["--ssl-reqd"]
    else:
        url = f"pop3s://127.0.0.1:{node.pop3s_port}/{path}"
        args = []
    cmd = [CURL, "-sS", "-k", "--max-time", str(TIMEOUT), "-u", f"{USER}:{PASSWORD}", *args, *extra, url]
    r = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT + 5)
    assert r.returncode == 0, (cmd, r.returncode, r.stderr)
    return r.stdout


@pytest.mark.skipif(CURL is None, reason="curl is installed by scripts/install-deps.sh")
def test_curl(node):
    bodies = [raw for _, raw in deliver(node)]
    assert len(bodies) == len(MESSAGES)
    listing = curl(node, "").decode().split("\r\n")
    sizes = [int(l.split()[1]) for l in listing if l]
    assert sizes == [len(b) for b in bodies], (listing, [len(b) for b in bodies])
    for i, b in enumerate(bodies, 1):
        assert curl(node, str(i)) == b                         # RETR, dots unstuffed by curl
        assert curl(node, str(i), tls="pop3s") == b            # the same over implicit TLS
    uidl = curl(node, "", "-X", "UIDL").decode().split("\r\n")
    uids = [l.split()[1] for l in uidl if l]
    assert len(uids) == len(MESSAGES) and len(set(uids)) == len(uids), uidl
    top = curl(node, "", "-X", "TOP 2 1")                      # headers, blank line, 1 line
    head, _, rest = bodies[1].partition(b"\r\n\r\n")
    assert top.startswith(head + b"\r\n\r\n") and top.count(b"\r\n") <= head.count(b"\r\n") + 4, top
    # DELE then QUIT (curl ends every session with QUIT): the message goes
    curl(node, "1", "-X", "DELE", "-I")
    wait_until(lambda: imap_count(node) == len(MESSAGES) - 1, TIMEOUT, what="the DELE to be applied")
    assert curl(node, "1") == bodies[1]                        # renumbered in a new session


def fetchmail(tmp_path, node, *extra):
    """Runs fetchmail once (STLS, certificate not checked) delivering each
    message to a file of its own through an MDA; returns the messages."""
    out = tmp_path / "fetched"
    out.mkdir(exist_ok=True)
    rc = tmp_path / "fetchmailrc"
    rc.write_text(f'poll 127.0.0.1 protocol pop3 port {node.pop3_port} uidl\n'
                  f'  user "{USER}" password "{PASSWORD}"\n'
                  f'  sslproto "TLS1.2+" no sslcertck\n'
                  f'  mda "sh -c \'cat > {out}/$$.$(date +%s%N)\'"\n')
    rc.chmod(0o600)
    env = dict(os.environ, HOME=str(tmp_path), FETCHMAILHOME=str(tmp_path))
    cmd = [FETCHMAIL, "-f", str(rc), "--nosyslog", "--nodetach", "-v", *extra]
    r = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT * 2, env=env)
    # 0: mail fetched, 1: no mail (fetchmail(1) EXIT CODES)
    assert r.returncode in (0, 1), (r.returncode, r.stdout[-3000:], r.stderr[-3000:])
    got = sorted(p.read_bytes() for p in out.iterdir())
    for p in out.iterdir():
        p.unlink()
    return got, r


def strip_fetchmail_headers(b):
    """Without the Received: field fetchmail adds (after Delivered-To and
    Return-Path), in LF line ends: the rest must be ours byte for byte."""
    b = b.replace(b"\r\n", b"\n")
    return re.sub(rb"Received: [^\n]*\n(?:[ \t][^\n]*\n)*",
                  lambda m: b"" if b"fetchmail" in m.group(0) else m.group(0), b)


@pytest.mark.skipif(FETCHMAIL is None, reason="fetchmail is installed by scripts/install-deps.sh")
def test_fetchmail(node, tmp_path):
    bodies = [raw for _, raw in deliver(node)]
    got, r = fetchmail(tmp_path, node, "--keep")
    assert b"STLS" in r.stderr + r.stdout or b"TLS" in r.stderr + r.stdout
    want = sorted(b.replace(b"\r\n", b"\n") for b in bodies)
    assert sorted(strip_fetchmail_headers(g) for g in got) == want
    # --keep with UIDL: a second run fetches nothing
    got, r = fetchmail(tmp_path, node, "--keep")
    assert got == [] and r.returncode == 1, r.stdout[-2000:]
    # a new message: only it is fetched
    extra = message("four", "Fourth.\r\n")
    deliver(node, [extra])
    got, _ = fetchmail(tmp_path, node, "--keep")
    assert len(got) == 1 and strip_fetchmail_headers(got[0]).endswith(extra.replace(b"\r\n", b"\n")), got
    assert imap_count(node) == len(MESSAGES) + 1
    # without --keep (and --all): everything is fetched and deleted
    got, _ = fetchmail(tmp_path, node, "--all", "--nokeep")
    assert len(got) == len(MESSAGES) + 1
    wait_until(lambda: imap_count(node) == 0, TIMEOUT, what="fetchmail's deletions to be applied")
