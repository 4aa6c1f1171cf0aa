"""`evmailctl node drain NAME` on one node (embedded log): new SMTP,
submission and IMAP connections are refused (421 4.3.2, * BYE
[UNAVAILABLE]); idle sessions are closed the same way (IMAP between
commands and in IDLE, SMTP between transactions); a transaction in progress
finishes first; /readyz says "draining" (503); status shows it; undrain
takes it all back. The roles/version/lag table of `evmailctl status` too."""

import imaplib
import json
import socket

import pytest

from conftest import SmtpRaw, assert_fail, assert_ok, wait_until

DOMAIN = "drain.example"
ADDR = f"dee@{DOMAIN}"
PASSWORD = "drain-pw"


@pytest.fixture
def node(nodes):
    n = nodes("drainer", env={"EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "on"})
    n.start(wait="ready")
    assert_ok(n.ctl("tenant", "create", "draint"))
    assert_ok(n.ctl("domain", "add", DOMAIN, "--tenant", "draint"))
    assert_ok(n.ctl("account", "add", ADDR, "--password-stdin", input=PASSWORD + "\n"))
    return n


class ImapRaw:
    """Line-level IMAP client: what the server says, unprompted."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def cmd(self, tag, text):
        self.sock.sendall(f"{tag} {text}\r\n".encode())
        lines = []
        while True:
            line = self.line()
            assert line is not None, lines
            lines.append(line)
            if line.startswith(tag + " ") or line.startswith("+ "):
                return lines

    def closed(self):
        return self.line() is None

    def close(self):
        self.sock.close()


def logged_in(node):
    c = ImapRaw(node.imap_port)
    assert c.line().startswith("* OK")
    assert c.cmd("a1", f'LOGIN {ADDR} "{PASSWORD}"')[-1].startswith("a1 OK")
    assert c.cmd("a2", "SELECT INBOX")[-1].startswith("a2 OK")
    return c


def smtp_greeted(node):
    s = SmtpRaw(node.smtp_port)
    assert s.reply()[0] == 220
    assert s.cmd("EHLO client.example")[0] == 250
    return s


def test_drain_and_undrain(node):
    between = logged_in(node)                # between commands
    idling = logged_in(node)
    assert idling.cmd("i1", "IDLE")[-1].startswith("+ ")
    smtp_idle = smtp_greeted(node)           # between transactions
    smtp_busy = smtp_greeted(node)           # in a transaction
    assert smtp_busy.cmd("MAIL FROM:<bob@sender.example>")[0] == 250
    assert smtp_busy.cmd(f"RCPT TO:<{ADDR}>")[0] == 250

    res = assert_ok(node.ctl("node", "drain", node.node_id))
    assert "draining" in res.out

    # Idle sessions are told and closed.
    for c in (between, idling):
        line = c.line()
        assert line is not None and line.startswith("* BYE [UNAVAILABLE]"), line
        assert c.closed()
    code, lines = smtp_idle.reply()
    assert code == 421 and lines[-1].startswith("421 4.3.2"), lines
    assert smtp_idle.closed()

    # The transaction in progress completes, then the session is closed.
    assert smtp_busy.cmd("DATA")[0] == 354
    smtp_busy.send("Subject: during the drain\r\n\r\naccepted\r\n.\r\n")
    code, lines = smtp_busy.reply()
    assert code == 250, smtp_busy.log()
    code, lines = smtp_busy.reply()
    assert code == 421 and lines[-1].startswith("421 4.3.2"), smtp_busy.log()
    assert smtp_busy.closed()

    # New connections are refused at the greeting, on every listener.
    s = SmtpRaw(node.smtp_port)
    code, lines = s.reply()
    assert code == 421 and lines[-1].startswith("421 4.3.2"), lines
    assert s.closed()
    s = SmtpRaw(node.submission_port)
    assert s.reply()[0] == 421
    assert s.closed()
    c = ImapRaw(node.imap_port)
    assert c.line().startswith("* BYE [UNAVAILABLE]")
    assert c.closed()

    # Load balancers and operators see it.
    r = node.http("GET", "/readyz")
    assert r.status == 503 and r.text.strip() == "draining", r
    assert node.http("GET", "/healthz").status == 200
    st = node.status()
    assert st["node"]["draining"] is True and st["node"]["sessions"] == 0, st["node"]
    wait_until(lambda: node.status()["nodes"].get(node.node_id, {}).get("draining") is True,
               30, what="heartbeat with draining")
    out = assert_ok(node.ctl("status")).out
    assert "DRAINING" in out and "draining" in out, out
    # --wait returns at once: nothing is left open.
    res = assert_ok(node.ctl("node", "drain", node.node_id, "--wait"))
    assert "no sessions left" in res.out

    # Undrain: everything is back.
    assert_ok(node.ctl("node", "undrain", node.node_id))
    assert node.http("GET", "/readyz").status == 200
    s = smtp_greeted(node)
    s.close()
    m = imaplib.IMAP4("127.0.0.1", node.imap_port, timeout=30)
    assert m.login(ADDR, PASSWORD)[0] == "OK"
    typ, data = m.select("INBOX")
    assert typ == "OK" and int(data[0]) == 1    # the message sent during the drain
    m.logout()


def test_drain_errors(node):
    assert_fail(node.ctl("node", "drain", "no-such-node"), "no node no-such-node")
    assert_fail(node.ctl("node", "pause", node.node_id), rc=2)
    # The API drains only the node that answers.
    r = node.http("POST", "/admin/drain", body={"node": "someone-else", "drain": True})
    assert r.status == 409, r
    r = node.http("POST", "/admin/drain", body={"node": node.node_id, "drain": "yes"})
    assert r.status == 400, r
    assert node.http("GET", "/readyz").status == 200


def test_status_table_and_json(node):
    wait_until(lambda: node.node_id in node.status()["nodes"], 30, what="own heartbeat")
    out = assert_ok(node.ctl("status")).out
    header = next(l for l in out.splitlines() if l.startswith("NODE "))
    for col in ("ROLES", "VERSION", "LAG", "READY", "STATE"):
        assert col in header, header
    row = next(l for l in out.splitlines() if l.startswith(node.node_id + " "))
    assert "projector,gateway" in row and "0.1.0" in row and "serving" in row, row
    st = json.loads(assert_ok(node.ctl("status", "--json")).out)
    me = st["nodes"][node.node_id]
    assert me["version"] == "0.1.0" and me["roles"] == "projector,gateway"
    assert isinstance(me["lag"], int) and me["lag"] >= 0, me
    assert me["draining"] is False and "age_ms" in me


@pytest.mark.kafka
def test_drain_another_node_through_the_cluster(nodes, kafka_env):
    """Two nodes on Kafka: `evmailctl --node A node drain B` reaches B at
    the management address of B's heartbeat; A keeps serving; A's status
    shows B draining, with every node's lag; undrain through A again."""
    a = nodes("drain-a", env=kafka_env)
    b = nodes("drain-b", env=kafka_env)
    assert_ok(a.ctl("topics", "create"))
    a.start(wait="ready", timeout=90)
    b.start(wait="ready", timeout=90)
    wait_until(lambda: {"drain-a", "drain-b"} <= set(a.status()["nodes"]), 30,
               what="both heartbeats on A", diag=lambda: str(a.status()))

    res = assert_ok(a.ctl("node", "drain", "drain-b"))     # a.ctl talks to A
    assert "drain-b draining" in res.out, res
    r = b.http("GET", "/readyz")
    assert r.status == 503 and r.text.strip() == "draining", r
    assert a.http("GET", "/readyz").status == 200
    s = SmtpRaw(b.smtp_port)
    assert s.reply()[0] == 421 and s.closed()
    s = SmtpRaw(a.smtp_port)
    assert s.reply()[0] == 220
    s.close()

    def b_draining_on_a():
        st = a.status()
        return st["nodes"].get("drain-b", {}).get("draining") is True and st
    st = wait_until(b_draining_on_a, 30, what="B's heartbeat with draining on A")
    for n in ("drain-a", "drain-b"):
        assert isinstance(st["nodes"][n]["lag"], int) and st["nodes"][n]["lag"] >= 0, st["nodes"][n]
    row = next(l for l in assert_ok(a.ctl("status")).out.splitlines() if l.startswith("drain-b "))
    assert "draining" in row, row

    assert_ok(a.ctl("node", "undrain", "drain-b"))
    assert b.http("GET", "/readyz").status == 200
    s = SmtpRaw(b.smtp_port)
    assert s.reply()[0] == 220
    s.close()
