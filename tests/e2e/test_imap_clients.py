"""Real IMAP clients from Debian against one evmaild (embedded log):

- mbsync (isync) synchronises a Maildir with evmail both ways over
  STARTTLS: messages and flags pushed from disk, mail delivered over SMTP
  and flags changed on the server pulled, deletions on either side
  propagated, and a second run that changes nothing;
- curl fetches a message over implicit TLS (imaps) and over STARTTLS byte
  for byte, LISTs the mailboxes, SEARCHes, EXAMINEs and uploads (APPEND)
  a message; without TLS it cannot log in.

Needs the `mbsync` (Debian package isync) and `curl` binaries."""

import imaplib
import os
import re
import shutil
import smtplib
import ssl
import time
from pathlib import Path

import pytest

from conftest import (assert_ok, clean_env, free_port, mail_inbox, mail_mailboxes, mail_raw, run,
                      self_signed_cert, wait_until)

DOMAIN = "clients.example"
USER = f"mia@{DOMAIN}"
PASSWORD = "clients-test-pw"
MBSYNC_TIMEOUT = 60


def client_node(nodes, tmp_path, imaps=False):
    cert, key = self_signed_cert(tmp_path / "tls", cn="127.0.0.1")
    env = {"EVMAIL_SMTP_HOSTNAME": "mx.clients.test", "EVMAIL_TLS_CERT": cert, "EVMAIL_TLS_KEY": key}
    node = nodes("clients", env=env)
    if imaps:
        node.imaps_port = free_port()
        node.extra_env["EVMAIL_IMAPS_LISTEN"] = f"127.0.0.1:{node.imaps_port}"
    node.start(wait="ready")
    assert_ok(node.ctl("tenant", "create", "clients"))
    assert_ok(node.ctl("domain", "add", DOMAIN, "--tenant", "clients"))
    assert_ok(node.ctl("account", "add", USER, "--password-stdin", input=PASSWORD + "\n"))
    node.cert = cert
    return node


def message(subject, body="Hello.\r\n"):
    return (f"From: Bob Sender <bob@sender.example>\r\nTo: Mia <{USER}>\r\n"
            f"Subject: {subject}\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\n"
            f"Message-ID: <{subject.replace(' ', '-')}.{os.urandom(6).hex()}@sender.example>\r\n"
            f"\r\n{body}").encode()


def deliver(node, *msgs):
    before = len(mail_inbox(node, USER)[1])
    with smtplib.SMTP("127.0.0.1", node.smtp_port, local_hostname="client.example", timeout=60) as s:
        for m in msgs:
            s.sendmail("bob@sender.example", [USER], m)
    wait_until(lambda: len(mail_inbox(node, USER)[1]) >= before + len(msgs), 30,
               what="delivery to the INBOX")


def imap_login(node):
    m = imaplib.IMAP4("127.0.0.1", node.imap_port, timeout=30)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    m.starttls(ctx)
    m.login(USER, PASSWORD)
    return m


def strip_tuid(raw):
    """mbsync adds an X-TUID header to the messages it propagates."""
    return re.sub(rb"(?m)^X-TUID: [^\r\n]*\r?\n", b"", raw)


def server_state(node):
    """{mailbox name: {Subject: (uid, frozenset(flags), body bytes)}} seen
    through IMAP (one message per subject in these tests)."""
    m = imap_login(node)
    try:
        typ, boxes = m.list()
        assert typ == "OK", boxes
        out = {}
        for line in boxes:
            name = re.search(rb'"([^"]*)"$', line).group(1).decode()
            if b"\\Noselect" in line:
                continue
            typ, data = m.select(f'"{name}"', readonly=True)
            assert typ == "OK", (name, data)
            msgs = {}
            if int(data[0]) > 0:
                typ, data = m.fetch("1:*", "(UID FLAGS BODY.PEEK[])")
                assert typ == "OK", data
                for item in data:
                    if not isinstance(item, tuple):
                        continue
                    head, body = item
                    uid = int(re.search(rb"UID (\d+)", head).group(1))
                    flags = frozenset(re.search(rb"FLAGS \(([^)]*)\)", head).group(1).decode().split())
                    subj = re.search(rb"(?m)^Subject: ([^\r\n]*)", body).group(1).decode()
                    msgs[subj] = (uid, flags, body)
            out[name] = msgs
            m.unselect()
        return out
    finally:
        m.logout()


MAILDIR_FLAGS = {"D": "\\Draft", "F": "\\Flagged", "R": "\\Answered", "S": "\\Seen", "T": "\\Deleted"}


def maildir_state(folder):
    """{Subject: (file name, frozenset(IMAP flags), body)} of one Maildir folder."""
    out = {}
    for sub in ("new", "cur"):
        d = Path(folder) / sub
        if not d.is_dir():
            continue
        for f in sorted(d.iterdir()):
            body = f.read_bytes()
            subj = re.search(rb"(?m)^Subject: ([^\r\n]*)", body).group(1).decode()
            flags = ""
            if ":2," in f.name:
                flags = f.name.split(":2,", 1)[1]
            assert subj not in out, f"two messages with subject {subj!r} in {folder}"
            out[subj] = (f"{sub}/{f.name}", frozenset(MAILDIR_FLAGS[c] for c in flags if c in MAILDIR_FLAGS),
                         body)
    return out


def write_maildir_msg(folder, name, raw, flags=None):
    folder = Path(folder)
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    if flags is None:
        path = folder / "new" / name
    else:
        path = folder / "cur" / f"{name}:2,{flags}"
    path.write_bytes(raw)
    return path


def mbsyncrc(cfgdir, node, maildir):
    Path(cfgdir).mkdir(parents=True, exist_ok=True)
    rc = Path(cfgdir) / "mbsyncrc"
    rc.write_text(f"""IMAPAccount evmail
Host 127.0.0.1
Port {node.imap_port}
User {USER}
Pass {PASSWORD}
SSLType STARTTLS
CertificateFile {node.cert}
AuthMechs PLAIN LOGIN
Timeout 30

IMAPStore evmail-far
Account evmail

MaildirStore local-near
Path {maildir}/
Inbox {maildir}/INBOX
SubFolders Verbatim

Channel sync
Far :evmail-far:
Near :local-near:
Patterns *
Create Both
Expunge Both
SyncState *
""")
    return rc


def mbsync(rc, *args):
    """Runs mbsync; returns (exit code, stdout+stderr)."""
    p = run(["mbsync", "-c", rc, *args, "-a"], env=clean_env(HOME=str(Path(rc).parent)),
            timeout=MBSYNC_TIMEOUT)
    return p.returncode, p.stdout + p.stderr


def mbsync_ok(rc, node, *args):
    """Runs mbsync, which must succeed without complaining about the server."""
    code, out = mbsync(rc, *args)
    assert code == 0, f"mbsync exited {code}:\n{out}\n{node.diag(40)}"
    complaints = [ln for ln in out.splitlines() if re.search(r"(?i)\b(error|warning)\b", ln)]
    assert not complaints, "mbsync complained:\n" + "\n".join(complaints) + f"\n---\n{out}"
    return out


def maildir_snapshot(maildir):
    """{folder: {Subject: (file name, flags)}} of every folder under maildir."""
    out = {}
    for cur in sorted(Path(maildir).rglob("cur")):
        folder = cur.parent
        out[str(folder.relative_to(maildir))] = {k: (v[0], v[1]) for k, v in maildir_state(folder).items()}
    return out


@pytest.mark.skipif(shutil.which("mbsync") is None, reason="mbsync (Debian package isync) is not installed")
def test_mbsync_two_way(nodes, tmp_path):
    node = client_node(nodes, tmp_path)
    maildir = tmp_path / "Mail"
    inbox, work = maildir / "INBOX", maildir / "Work"
    local = {
        "local new": (inbox, None),
        "local seen": (inbox, "S"),
        "local flagged answered": (inbox, "FRS"),
        "local work": (work, "S"),
        "local nested": (work / "Projects", "D"),
    }
    for i in range(40):
        # a bulk folder: 40 messages, some large, some 8-bit, pushed pipelined
        local[f"bulk {i}"] = (maildir / "Bulk", "S" if i % 2 else None)
    raws = {}
    for i, (subj, (folder, flags)) in enumerate(local.items()):
        body = f"Body of {subj}.\r\nSecond line {i}.\r\n"
        if subj.startswith("bulk") and i % 7 == 0:
            body += ("L" * 998 + "\r\n") * 300          # ~300 KB
        if subj.startswith("bulk") and i % 5 == 0:
            body += "8bit: caf\u00e9 \u20ac \u00fc\r\n"
        raws[subj] = message(subj, body=body)
        write_maildir_msg(folder, f"1700000000.{i}_0.host", raws[subj], flags)
    rc = mbsyncrc(tmp_path, node, maildir)

    # -- 1. push: the Maildir goes to the server ------------------------
    t0 = time.monotonic()
    out = mbsync_ok(rc, node, "-V")
    print(f"first mbsync (push) {time.monotonic() - t0:.2f}s\n{out}")
    srv = server_state(node)
    assert set(srv) >= {"INBOX", "Work", "Work/Projects", "Bulk"}, srv.keys()
    assert len(srv["Bulk"]) == 40, sorted(srv["Bulk"])
    assert set(srv["INBOX"]) == {"local new", "local seen", "local flagged answered"}, srv["INBOX"].keys()
    assert set(srv["Work"]) == {"local work"}, srv["Work"].keys()
    expect_flags = {"local new": set(), "local seen": {"\\Seen"},
                    "local flagged answered": {"\\Flagged", "\\Answered", "\\Seen"},
                    "local work": {"\\Seen"}, "local nested": {"\\Draft"}}
    expect_flags.update({f"bulk {i}": {"\\Seen"} if i % 2 else set() for i in range(40)})
    for subj, (folder, _) in local.items():
        uid, flags, body = srv[str(folder.relative_to(maildir))][subj]
        assert set(flags) == expect_flags[subj], (subj, flags)
        assert strip_tuid(body) == raws[subj], f"{subj}: the server's copy differs from the Maildir file"
    # the admin API agrees with IMAP
    mid, recs = mail_inbox(node, USER)
    assert len(recs) == 3, recs
    assert {"Work", "Work/Projects"} <= {b["name"] for b in mail_mailboxes(node, USER)}
    # and the server's special-use mailboxes came down as empty Maildir folders
    for name in ("Sent", "Trash", "Drafts"):
        assert (maildir / name / "cur").is_dir(), sorted(p.name for p in maildir.iterdir())

    # -- 1b. a fresh Maildir cloned from the server has every message ---
    clone = tmp_path / "Clone"
    clone.mkdir()
    rc2 = mbsyncrc(tmp_path / "clone-cfg", node, clone)
    mbsync_ok(rc2, node, "--pull")
    for subj, (folder, _) in local.items():
        rel = folder.relative_to(maildir)
        got = maildir_state(clone / rel)
        assert subj in got, (subj, sorted(got))
        body = strip_tuid(got[subj][2])
        assert body.replace(b"\n", b"\r\n") == raws[subj], f"{subj}: cloned copy differs"
        assert got[subj][1] == expect_flags[subj], (subj, got[subj][1])

    # -- 2. pull: SMTP deliveries and flag changes on the server --------
    deliver(node, message("smtp one"), message("smtp two"))
    m = imap_login(node)
    assert m.select("INBOX")[0] == "OK"
    uid_new = srv["INBOX"]["local new"][0]
    uid_seen = srv["INBOX"]["local seen"][0]
    assert m.uid("STORE", str(uid_new), "+FLAGS", "(\\Flagged \\Seen)")[0] == "OK"
    assert m.uid("STORE", str(uid_seen), "-FLAGS", "(\\Seen)")[0] == "OK"
    m.logout()
    out = mbsync_ok(rc, node, "-V")
    print(f"second mbsync (pull)\n{out}")
    loc = maildir_state(inbox)
    assert set(loc) == {"local new", "local seen", "local flagged answered", "smtp one", "smtp two"}, loc.keys()
    assert loc["local new"][1] == {"\\Flagged", "\\Seen"}, loc["local new"]
    assert loc["local seen"][1] == set(), loc["local seen"]
    srv = server_state(node)
    for subj in ("smtp one", "smtp two"):
        # a Maildir holds LF line ends: mbsync converts CRLF on the way down
        pulled = strip_tuid(loc[subj][2])
        assert b"\r" not in pulled and pulled.replace(b"\n", b"\r\n") == srv["INBOX"][subj][2], \
            f"{subj}: pulled copy differs:\n{pulled!r}\n{srv['INBOX'][subj][2]!r}"
        assert loc[subj][1] == set()

    # -- 3. deletions on both sides --------------------------------------
    # on the server: \Deleted + EXPUNGE of "smtp one"; locally: rm "local seen"
    m = imap_login(node)
    assert m.select("INBOX")[0] == "OK"
    assert m.uid("STORE", str(srv["INBOX"]["smtp one"][0]), "+FLAGS", "(\\Deleted)")[0] == "OK"
    assert m.expunge()[0] == "OK"
    m.logout()
    (inbox / loc["local seen"][0]).unlink()
    out = mbsync_ok(rc, node, "-V")
    print(f"third mbsync (deletions)\n{out}")
    loc = maildir_state(inbox)
    srv = server_state(node)
    want = {"local new", "local flagged answered", "smtp two"}
    assert set(loc) == want, f"Maildir after the deletions: {sorted(loc)}"
    assert set(srv["INBOX"]) == want, f"server after the deletions: {sorted(srv['INBOX'])}"
    assert len(mail_inbox(node, USER)[1]) == 3

    # -- 4. a second run changes nothing ---------------------------------
    before_loc = maildir_snapshot(maildir)
    assert len(before_loc["Bulk"]) == 40 and len(before_loc["Work/Projects"]) == 1, before_loc.keys()
    before_srv = {b: {s: (u, f) for s, (u, f, _) in msgs.items()} for b, msgs in srv.items()}
    out = mbsync_ok(rc, node, "-Dn")    # -Dn: the IMAP conversation
    sent = [ln for ln in out.splitlines() if ln.startswith(">>> ")]
    print("idle mbsync sent:\n" + "\n".join(sent))
    assert any(" SELECT " in ln or " EXAMINE " in ln for ln in sent), out
    writes = [ln for ln in sent if re.search(r"\b(APPEND|STORE|EXPUNGE|CREATE|DELETE|COPY|MOVE)\b", ln)]
    assert not writes, f"the second run changed the server: {writes}"
    assert maildir_snapshot(maildir) == before_loc, "the second run changed the Maildir"
    after_srv = {b: {s: (u, f) for s, (u, f, _) in msgs.items()} for b, msgs in server_state(node).items()}
    assert after_srv == before_srv


# --------------------------------------------------------------------------
# curl over imaps
# --------------------------------------------------------------------------

def curl(*args):
    p = run(["curl", "-sS", "--max-time", "30", *args], env=clean_env(), timeout=60)
    return p


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_imaps_fetch_and_list(nodes, tmp_path):
    node = client_node(nodes, tmp_path, imaps=True)
    msg = message("curl me", body="Line one.\r\nLine two.\r\n")
    deliver(node, msg)
    mid, recs = mail_inbox(node, USER)
    stored = mail_raw(node, USER, mid, recs[0]["uid"])
    base = f"imaps://127.0.0.1:{node.imaps_port}"
    # byte-exact: curl writes the literal of BODY[] to a file
    out = tmp_path / "fetched.eml"
    p = curl("-k", "-o", out, f"{base}/INBOX;UID={recs[0]['uid']}", "-u", f"{USER}:{PASSWORD}")
    assert p.returncode == 0, (p.stderr, node.diag(30))
    got = out.read_bytes()
    assert got == stored, f"curl's message over imaps differs from the stored one:\n{got!r}\n{stored!r}"

    # LIST
    p = curl("-k", f"{base}/", "-u", f"{USER}:{PASSWORD}")
    assert p.returncode == 0, (p.stderr, node.diag(30))
    lines = p.stdout.splitlines()
    assert any(re.search(r'^\* LIST \([^)]*\) "/" "?INBOX"?$', ln) for ln in lines), p.stdout
    assert any("\\Sent" in ln for ln in lines), p.stdout

    # SEARCH (curl: URL ?query), and a custom EXAMINE
    p = curl("-k", f"{base}/INBOX?SUBJECT%20curl", "-u", f"{USER}:{PASSWORD}")
    assert p.returncode == 0, (p.stderr, node.diag(30))
    assert re.search(rf"^\* SEARCH {recs[0]['uid']}\r?$", p.stdout, re.M), p.stdout
    p = curl("-k", f"{base}/", "-u", f"{USER}:{PASSWORD}", "-X", "EXAMINE INBOX")
    assert p.returncode == 0, (p.stderr, node.diag(30))
    assert re.search(r"^\* 1 EXISTS\r?$", p.stdout, re.M), p.stdout
    assert re.search(r"^\* OK \[UIDVALIDITY \d+\]", p.stdout, re.M), p.stdout

    # APPEND by upload (curl -T) over imaps, then fetched back byte for byte
    up = tmp_path / "upload.eml"
    upraw = message("uploaded by curl", body="Uploaded.\r\n" + "x" * 5000 + "\r\n")
    up.write_bytes(upraw)
    p = curl("-k", "-T", up, f"{base}/Archive", "-u", f"{USER}:{PASSWORD}")
    assert p.returncode == 0, (p.stderr, node.diag(30))
    arch = [b for b in mail_mailboxes(node, USER) if b["name"] == "Archive"][0]
    msgs = node.get_json(f"/admin/mail/{USER}/mailboxes/{arch['id']}/messages")
    assert len(msgs) == 1, msgs
    assert mail_raw(node, USER, arch["id"], msgs[0]["uid"]) == upraw
    out2 = tmp_path / "fetched2.eml"
    p = curl("-k", "-o", out2, f"{base}/Archive;UID={msgs[0]['uid']}", "-u", f"{USER}:{PASSWORD}")
    assert p.returncode == 0, (p.stderr, node.diag(30))
    assert out2.read_bytes() == upraw

    # STARTTLS on the plain port (imap:// with --ssl-reqd)
    p = curl("-k", "--ssl-reqd", "-o", tmp_path / "fetched3.eml",
             f"imap://127.0.0.1:{node.imap_port}/INBOX;UID={recs[0]['uid']}", "-u", f"{USER}:{PASSWORD}")
    assert p.returncode == 0, (p.stderr, node.diag(30))
    assert (tmp_path / "fetched3.eml").read_bytes() == stored

    # no TLS on the plain port: the password is never accepted in clear
    p = curl(f"imap://127.0.0.1:{node.imap_port}/INBOX;UID={recs[0]['uid']}", "-u", f"{USER}:{PASSWORD}")
    assert p.returncode != 0 and p.stdout == "", (p.returncode, p.stdout, p.stderr)
    print(f"curl without TLS: exit {p.returncode}: {p.stderr.strip()}")

    # the wrong password: curl fails (67 = login denied)
    p = curl("-k", f"{base}/INBOX;UID=1", "-u", f"{USER}:wrong")
    assert p.returncode == 67, (p.returncode, p.stderr)
