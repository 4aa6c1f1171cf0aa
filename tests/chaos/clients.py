"""clients - the load of the chaos tests: client threads that know the list
of nodes (ledger.NodePool), keep one connection, and on a failure move to
the next node and retry what was not acknowledged.

- Worker: the loop shared by every client (new work while the load runs,
  retries until the drain deadline, pacing, reconnecting).
- SmtpInbound: mail to local accounts through the nodes' MX ports.
- Submitter: AUTH PLAIN on the submission ports, mail to sink.example (the
  delivery role relays it to tests/e2e/smtp_sink.py).

A message counts as acknowledged only on 250 after its final dot. An
attempt that loses the connection after the dot has an unknown outcome
(the message may be stored: a retry may store it twice, and the ledger
says so); a 4xx after the dot is retried too and counted apart.
"""

import collections
import random
import smtplib
import threading
import time
from email.utils import formatdate

from ledger import SLOW_OP  # noqa: F401  (documented threshold, used by Ledger.timed)

OP_TIMEOUT = 30.0        # seconds: socket timeout of every client operation
ROTATE_EVERY = 40        # operations on one connection before moving to the next node


class Control:
    """Shared by the workers: stop_new ends new work; retries go on until
    deadline (time.monotonic()); pause is the time between operations."""

    def __init__(self, pause=0.1):
        self.stop_new = threading.Event()
        self.deadline = float("inf")
        self.pause = pause


class Worker(threading.Thread):
    kind = "worker"

    def __init__(self, name, pool, ledger, control, seed):
        super().__init__(name=name, daemon=True)
        self.pool, self.ledger, self.control = pool, ledger, control
        self.rng = random.Random(seed)
        self.cursor = self.rng.randrange(1000)
        self.conn = None
        self.conn_node = None
        self.pending = collections.deque()      # work to retry, oldest first
        self.tag = name
        self.ops_on_conn = 0

    # -- connection handling ---------------------------------------------
    def connection(self):
        """The open connection, or a new one to the next node that answers
        (None when no node answered: the caller retries later)."""
        if self.conn is not None:
            return self.conn
        for _ in range(2 * len(self.pool.nodes())):
            node = self.pool.at(self.cursor)
            try:
                self.conn = self.connect(node)
                self.conn_node = node
                return self.conn
            except Exception as e:  # noqa: BLE001 - any failure: try the next node
                self.ledger.count(f"{self.kind} connect failures")
                self.note_connect_error(node, e)
                self.cursor += 1
        return None

    def note_connect_error(self, node, exc):
        pass

    def drop(self, reconnect=True):
        """Closes the connection; the next operation goes to the next node."""
        if self.conn is not None:
            try:
                self.close(self.conn)
            except Exception:  # noqa: BLE001 - the connection is broken anyway
                pass
        self.conn = None
        self.conn_node = None
        self.ops_on_conn = 0
        self.cursor += 1
        if reconnect:
            self.ledger.count(f"{self.kind} reconnects")

    # -- main loop ---------------------------------------------------------
    def run(self):
        try:
            while time.monotonic() < self.control.deadline:
                if self.pending:
                    item = self.pending.popleft()
                    retry = True
                elif not self.control.stop_new.is_set():
                    item = self.new_work()
                    retry = False
                else:
                    break
                if item is None:
                    time.sleep(self.control.pause)
                    continue
                if self.conn is not None and self.ops_on_conn >= ROTATE_EVERY:
                    self.drop(reconnect=False)      # spread the load: every node serves everyone
                    self.ledger.count(f"{self.kind} rotations")
                self.ops_on_conn += 1
                done = self.attempt(item, retry)
                if not done:
                    self.pending.append(item)
                    time.sleep(0.3)
                elif self.control.pause:
                    time.sleep(self.control.pause)
        except BaseException as e:  # noqa: BLE001 - a crashed client is a test failure
            self.ledger.fail(f"{self.name} crashed", repr(e))
        finally:
            if self.conn is not None:
                self.drop(reconnect=False)

    def node_name(self):
        return self.conn_node.name if self.conn_node is not None else "?"


def smtp_payload(text):
    """CRLF lines, dot-stuffed (RFC 5321 4.5.2), with the final dot."""
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out = "".join(("." + ln if ln.startswith(".") else ln) + "\r\n" for ln in lines)
    return (out + ".\r\n").encode()


class SmtpWorker(Worker):
    """One SMTP transaction per message on a kept connection."""
    port_attr = "smtp_port"
    sender = "chaos@sender.example"

    def connect(self, node):
        s = smtplib.SMTP("127.0.0.1", getattr(node, self.port_attr), timeout=OP_TIMEOUT)
        code, _ = s.ehlo("client.chaos.test")
        if code != 250:
            s.close()
            raise smtplib.SMTPHeloError(code, "EHLO refused")
        return s

    def close(self, s):
        s.close()

    def recipient(self, m):
        return m.account

    def message(self, m):
        return (f"From: Chaos <{self.sender}>\r\nTo: <{self.recipient(m)}>\r\n"
                f"Subject: chaos {m.kind} {m.seq}\r\nMessage-ID: {m.msgid}\r\n"
                f"Date: {formatdate()}\r\n\r\nmessage {m.seq} of the chaos test\r\n")

    def attempt(self, m, retry):
        s = self.connection()
        if s is None:
            return False
        m.attempts += 1
        sent = False
        node = self.node_name()
        t0 = time.monotonic()
        outcome = "?"
        try:
            code, resp = s.mail(self.sender)
            if code == 250:
                code, resp = s.rcpt(self.recipient(m))
            if code in (250, 251):
                code, resp = s.docmd("DATA")
            if code == 354:
                sent = True
                s.send(smtp_payload(self.message(m)))
                code, resp = s.getreply()
                if code == 250:
                    m.acked = True
                    outcome = "250"
                    self.ledger.count(f"{self.kind} acked")
                    return True
                m.tempfail_late += 1 if 400 <= code < 500 else 0
            outcome = f"{code} {resp.decode(errors='replace')[:80]}"
            if 400 <= code < 500:
                self.ledger.count(f"{self.kind} temporary failures")
                self.drop(reconnect=False)
                return False
            self.ledger.fail(f"{self.kind} {m.msgid}", f"permanent reply {outcome} from {self.node_name()}")
            s.rset()
            return True      # never retried: reported as a failure
        except (OSError, smtplib.SMTPException) as e:
            outcome = f"{'unknown outcome' if sent else 'failed'}: {e!r}"[:120]
            if sent:
                m.unknown += 1
                self.ledger.count(f"{self.kind} unknown outcomes")
            self.drop()
            return False
        finally:
            self.ledger.timed(f"{self.kind} {m.msgid}", node, time.monotonic() - t0, outcome)


class SmtpInbound(SmtpWorker):
    """Mail from the Internet to the accounts, on the nodes' MX ports."""
    kind = "smtp"
    port_attr = "smtp_port"

    def __init__(self, name, pool, ledger, control, seed, accounts):
        super().__init__(name, pool, ledger, control, seed)
        self.accounts = accounts

    def new_work(self):
        return self.ledger.new_msg("smtp", self.rng.choice(self.accounts), self.tag)


class Submitter(SmtpWorker):
    """Authenticated submission of mail to sink.example (relayed by the
    delivery role to the sink)."""
    kind = "submission"
    port_attr = "submission_port"

    def __init__(self, name, pool, ledger, control, seed, user, password, sink_domain):
        super().__init__(name, pool, ledger, control, seed)
        self.sender, self.password, self.sink_domain = user, password, sink_domain

    def connect(self, node):
        s = super().connect(node)
        s.user, s.password = self.sender, self.password
        try:
            code, resp = s.auth("PLAIN", s.auth_plain)
        except smtplib.SMTPException:
            s.close()
            raise
        if code != 235:
            s.close()
            raise smtplib.SMTPAuthenticationError(code, resp)
        return s

    def recipient(self, m):
        return m.account

    def new_work(self):
        return self.ledger.new_msg("submission", f"r{self.rng.randrange(5)}@{self.sink_domain}", self.tag)
