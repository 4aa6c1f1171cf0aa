"""imap_client - the IMAP part of the chaos load: one account per worker,
a kept connection (LOGIN, SELECT INBOX), and a mix of

    APPEND      a new message into INBOX (acknowledged on OK [APPENDUID])
    UID STORE   +FLAGS (\\Flagged) on an acknowledged message
    UID MOVE    an acknowledged message to Archive (RFC 6851)
    UID EXPUNGE an acknowledged message (\\Deleted first; RFC 4315)

An operation is done only when the server shows it did it: the FETCH of
the STORE, the COPYUID of the MOVE, the EXPUNGE response of UID EXPUNGE.
"OK" without that means this node's view has not reached the message yet
(it came through another node): retried later. An answer lost after the
command was sent makes the message's end place uncertain (both places are
allowed, once); it is retried all the same. Only messages appended with a
clean OK are moved, flagged or expunged.
"""

import imaplib
import re
import time

from clients import OP_TIMEOUT, Worker

MAX_LAG_RETRIES = 150       # "OK but not seen here yet" retries of one operation (~0.4 s apart)
ARCHIVE = "Archive"


class ImapWorker(Worker):
    kind = "imap"

    def __init__(self, name, pool, ledger, control, seed, account, password):
        super().__init__(name, pool, ledger, control, seed)
        self.account, self.password = account, password
        self.inbox = []          # Msgs appended cleanly and still only in INBOX

    def connect(self, node):
        m = imaplib.IMAP4("127.0.0.1", node.imap_port, timeout=OP_TIMEOUT)
        try:
            typ, _ = m.login(self.account, self.password)
            if typ == "OK":
                typ, _ = m.select("INBOX")
            if typ != "OK":
                raise imaplib.IMAP4.error(f"LOGIN/SELECT: {typ}")
        except Exception:
            m.shutdown()
            raise
        return m

    def close(self, m):
        m.shutdown()

    def message(self, msg):
        return (f"From: Chaos <chaos@sender.example>\r\nTo: <{self.account}>\r\n"
                f"Subject: chaos imap {msg.seq}\r\nMessage-ID: {msg.msgid}\r\n\r\n"
                f"appended message {msg.seq}\r\n").encode()

    def new_work(self):
        r = self.rng.random()
        if self.inbox and r < 0.5:
            msg = self.inbox.pop(self.rng.randrange(len(self.inbox)))
            op = "store" if r < 0.25 else ("move" if r < 0.375 else "expunge")
            return [op, msg, 0]
        return ["append", self.ledger.new_msg("imap", self.account, self.tag), 0]

    def attempt(self, item, retry):
        op, msg, _ = item
        conn = self.connection()
        if conn is None:
            return False
        node = self.node_name()
        t0 = time.monotonic()
        outcome = "?"
        try:
            conn.untagged_responses.clear()
            outcome = getattr(self, "op_" + op)(conn, item)
            if outcome == "NO":
                self.ledger.count("imap temporary failures")
                self.drop(reconnect=False)
                return False
            if outcome == "lag":
                item[2] += 1
                if item[2] > MAX_LAG_RETRIES:
                    self.ledger.fail(f"imap {op} {msg.msgid}", f"never seen after {item[2]} tries")
                    return True
                return False
            return True
        except (OSError, imaplib.IMAP4.error) as e:
            outcome = f"no answer: {e!r}"[:120]
            self.sent_unknown(op, msg)
            self.drop()
            return False
        finally:
            self.ledger.timed(f"imap {op} {msg.msgid}", node, time.monotonic() - t0, outcome)

    def sent_unknown(self, op, msg):
        """A command whose answer was lost: it may have been applied."""
        self.ledger.count("imap unknown outcomes")
        if op == "append":
            msg.unknown += 1
        elif op == "move":
            msg.places |= {ARCHIVE}
            msg.busy = True
        elif op == "expunge":
            msg.places |= {""}
            msg.busy = True

    # -- operations: "done", "NO" (temporary failure) or "lag" --------------
    def op_append(self, conn, item):
        msg = item[1]
        msg.attempts += 1
        typ, data = conn.append("INBOX", None, None, self.message(msg))
        if typ != "OK":
            msg.tempfail_late += 1
            return "NO"
        msg.acked = True
        self.ledger.count("imap acked")
        _, code = conn.response("APPENDUID")
        if code and code[0] and not msg.dup_allowed:
            msg.uid = int(code[0].split()[1])
            self.inbox.append(msg)
        return "done"

    def op_store(self, conn, item):
        msg = item[1]
        typ, data = conn.uid("STORE", str(msg.uid), "+FLAGS", "(\\Flagged)")
        if typ != "OK":
            return "NO"
        if not any(d and re.search(rb"\bUID %d\b" % msg.uid, d) for d in data if isinstance(d, bytes)):
            return "lag"
        msg.flagged = True
        self.ledger.count("imap stores")
        self.inbox.append(msg)          # a candidate again once flagged
        return "done"

    def op_move(self, conn, item):
        msg = item[1]
        typ, _ = conn.uid("MOVE", str(msg.uid), ARCHIVE)
        if typ != "OK":
            msg.places |= {ARCHIVE}      # a write refused late may still land
            msg.busy = True
            return "NO"
        _, code = conn.response("COPYUID")
        if code and code[0]:
            msg.places = {ARCHIVE}
            self.ledger.count("imap moves")
            return "done"
        return "done" if msg.busy else "lag"

    def op_expunge(self, conn, item):
        msg = item[1]
        typ, data = conn.uid("STORE", str(msg.uid), "+FLAGS.SILENT", "(\\Deleted)")
        if typ != "OK":
            return "NO"
        conn.untagged_responses.clear()
        typ, _ = conn.uid("EXPUNGE", str(msg.uid))
        if typ != "OK":
            msg.places |= {""}
            msg.busy = True
            return "NO"
        _, gone = conn.response("EXPUNGE")
        if gone and gone[0]:
            msg.places = {""}
            self.ledger.count("imap expunges")
            return "done"
        return "done" if msg.busy else "lag"
