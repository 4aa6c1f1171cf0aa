"""Tombstone pruning after mail.tombstone_days (issue 13 item 2) on one
evmaild with a tiny horizon (0.00003 days = 2.592 s): a QRESYNC client
that last synchronised before pruned expunges gets the full answer
(RFC 7162 3.2.5.1: VANISHED (EARLIER) of every UID that is not a message,
and every message), one that synchronised after them the exact incremental
answer; JMAP Email/changes from a state before the pruned destroys answers
cannotCalculateChanges (RFC 8620 5.2), from a later one the changes.
(That the view's gone/ and mexp/ entries really go is checked by the
projector's unit test, projector/test_mail_prune.c.)"""

import base64
import http.client
import json
import re
import socket
import time

from conftest import assert_ok, free_port

DOMAIN = "prune.example"
USER = f"pat@{DOMAIN}"
PASSWORD = "prune-test-pw"
HORIZON_S = 0.00003 * 86400   # 2.592 s


class Raw:
    """A line-level IMAP client: cmd() returns the lines up to and
    including the tagged response."""

    def __init__(self, node):
        self.sock = socket.create_connection(("127.0.0.1", node.imap_port), timeout=20)
        self.buf = b""
        self.n = 0
        assert self.line().startswith("* OK")

    def line(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            assert data, "connection closed"
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode()

    def cmd(self, text, payload=b""):
        self.n += 1
        tag = f"t{self.n}"
        self.sock.sendall(f"{tag} {text}\r\n".encode() + payload)
        out = []
        while True:
            out.append(self.line())
            if out[-1].startswith(tag + " "):
                return out

    def ok(self, text, payload=b""):
        out = self.cmd(text, payload)
        assert out[-1].split(" ")[1] == "OK", out
        return out


def login(node):
    c = Raw(node)
    c.ok(f"LOGIN {USER} {PASSWORD}")
    assert c.ok("ENABLE QRESYNC")[0] == "* ENABLED QRESYNC"
    return c


def num(lines, pattern):
    for line in lines:
        m = re.search(pattern, line)
        if m:
            return int(m.group(1))
    raise AssertionError(f"{pattern!r} not in {lines}")


def vanished(lines):
    return [line for line in lines if line.startswith("* VANISHED")]


def fetched_uids(lines):
    return sorted(int(m.group(1)) for line in lines
                  if (m := re.match(r"\* \d+ FETCH \(.*UID (\d+)", line)))


def http_request(node, method, path, body=None):
    host, port = node.env["EVMAIL_HTTP_LISTEN"].rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=20)
    auth = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    try:
        c.request(method, path, body, {"Authorization": auth, "Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        assert r.status == 200, data
        return json.loads(data)
    finally:
        c.close()


def jmap(node, calls):
    return http_request(node, "POST", "/jmap/api/", json.dumps({
        "using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
        "methodCalls": calls}))["methodResponses"]


def session_account(node):
    return http_request(node, "GET", "/.well-known/jmap")["primaryAccounts"]["urn:ietf:params:jmap:mail"]


def email_state(node, acct):
    r = jmap(node, [["Email/get", {"accountId": acct, "ids": []}, "g"]])
    return r[0][1]["state"]


def expunge(c, uids):
    c.ok(f"UID STORE {uids} +FLAGS.SILENT (\\Deleted)")
    c.ok(f"UID EXPUNGE {uids}")


def start_with_six(node, tag):
    """Starts node with the test account and six APPENDed messages
    (Subject <tag>0..<tag>5); the logged-in session that appended them."""
    node.start(wait="ready")
    assert_ok(node.ctl("tenant", "create", "prunet"))
    assert_ok(node.ctl("domain", "add", DOMAIN, "--tenant", "prunet"))
    assert_ok(node.ctl("account", "add", USER, "--password-stdin", input=PASSWORD + "\n"))
    w = login(node)
    for i in range(6):
        m = f"From: b@x.example\r\nSubject: {tag}{i}\r\nMessage-ID: <{tag}{i}@x>\r\n\r\nbody {i}\r\n".encode()
        out = w.cmd(f"APPEND INBOX () {{{len(m)}+}}", m + b"\r\n")
        assert "OK [APPENDUID" in out[-1], out
    return w


def test_prune_horizon(nodes):
    node = nodes("prune", env={"EVMAIL_HTTP_LISTEN": f"127.0.0.1:{free_port()}",
                               "EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "1",
                               "EVMAIL_MAIL_TOMBSTONE_DAYS": "0.00003"})
    w = start_with_six(node, "p")
    sel = w.ok("SELECT INBOX")
    uv = num(sel, r"\[UIDVALIDITY (\d+)\]")

    # A: synchronised now, before any expunge (IMAP and JMAP).
    acct = session_account(node)
    m_a = num(sel, r"\[HIGHESTMODSEQ (\d+)\]")
    state_a = email_state(node, acct)

    expunge(w, "2:3")
    # Past the horizon of that expunge (event times are the log's)...
    time.sleep(HORIZON_S + 0.4)
    # B: synchronised after it.
    m_b = num(w.ok("STATUS INBOX (HIGHESTMODSEQ)"), r"HIGHESTMODSEQ (\d+)")
    state_b = email_state(node, acct)
    # ... an event of the mailbox prunes its tombstones (and the destroyed
    # emails' entries); this expunge is within the horizon and stays.
    expunge(w, "5")

    a = login(node)
    out = a.ok(f"SELECT INBOX (QRESYNC ({uv} {m_a}))")
    # RFC 7162 3.2.5.1: every UID below UIDNEXT that is not a message.
    assert vanished(out) == ["* VANISHED (EARLIER) 2:3,5"], out
    assert fetched_uids(out) == [1, 4, 6], out
    out = a.ok(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {m_a} VANISHED)")
    assert vanished(out) == ["* VANISHED (EARLIER) 2:3,5"], out
    assert fetched_uids(out) == [1, 4, 6], out

    b = login(node)
    out = b.ok(f"SELECT INBOX (QRESYNC ({uv} {m_b}))")
    assert vanished(out) == ["* VANISHED (EARLIER) 5"], out
    assert fetched_uids(out) == [], out
    out = b.ok(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {m_b} VANISHED)")
    assert vanished(out) == ["* VANISHED (EARLIER) 5"], out

    r = jmap(node, [["Email/changes", {"accountId": acct, "sinceState": state_a}, "a"],
                    ["Email/changes", {"accountId": acct, "sinceState": state_b}, "b"]])
    assert r[0][0] == "error" and r[0][1]["type"] == "cannotCalculateChanges", r
    assert r[1][0] == "Email/changes", r
    assert r[1][1]["created"] == [] and r[1][1]["updated"] == [] and len(r[1][1]["destroyed"]) == 1, r


def test_selected_session_behind_the_horizon(nodes):
    """A session that has the mailbox selected but has not synchronised
    since expunges whose tombstones were then pruned still learns of every
    one of them: its next command reads every live message instead of the
    modseq index's expunge entries (gateway/imap/imap_mailbox.c), so it
    never keeps showing messages that are gone."""
    node = nodes("prunesel", env={"EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "1",
                                  "EVMAIL_MAIL_TOMBSTONE_DAYS": "0.00003"})
    w = start_with_six(node, "s")
    w.ok("SELECT INBOX")
    s = Raw(node)
    s.ok(f"LOGIN {USER} {PASSWORD}")
    assert "* 6 EXISTS" in s.ok("SELECT INBOX")
    expunge(w, "2:3")
    time.sleep(HORIZON_S + 0.4)
    expunge(w, "5")        # prunes the tombstones of 2 and 3
    out = s.ok("NOOP")
    gone = [line for line in out if line.endswith(" EXPUNGE")]
    assert len(gone) == 3, out
    out = s.ok("UID SEARCH ALL")
    assert "* SEARCH 1 4 6" in out, out
