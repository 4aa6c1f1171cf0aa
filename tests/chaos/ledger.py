"""ledger - what the chaos clients did, shared by every client thread:

- NodePool: the list of nodes the clients know (a node is added when it
  has joined and is ready); a client walks it round-robin and moves to the
  next node when an operation fails.
- Msg: one message a client tried to store, with its outcome: acked (250 or
  OK), the attempts whose outcome is unknown (connection lost after the
  message was sent: it may be stored, so a retry may make a duplicate), the
  attempts refused with a temporary error after the message was sent, and
  where it must be at the end (a set of allowed places when an operation
  on it had an unknown outcome).
- Ledger: all messages, counters (reconnects, unknown outcomes, temporary
  failures...), slow operations (longer than SLOW_OP seconds: the hangs to
  report) and the chaos events, with a summary for the test output.
"""

import collections
import itertools
import threading
import time

SLOW_OP = 15.0          # seconds: an operation slower than this is reported (never a failure)


class NodePool:
    def __init__(self, nodes):
        self._nodes = list(nodes)
        self._lock = threading.Lock()

    def add(self, node):
        with self._lock:
            self._nodes.append(node)

    def nodes(self):
        with self._lock:
            return list(self._nodes)

    def at(self, i):
        with self._lock:
            return self._nodes[i % len(self._nodes)]


class Msg:
    def __init__(self, msgid, kind, account, seq):
        self.msgid = msgid
        self.kind = kind              # "smtp", "imap", "submission"
        self.account = account        # the mailbox owner (smtp, imap) or the sink recipient
        self.seq = seq
        self.attempts = 0
        self.unknown = 0              # attempts without an answer after the message was sent
        self.tempfail_late = 0        # 4xx / NO after the message was sent
        self.acked = False
        self.uid = None               # IMAP: UID in INBOX from APPENDUID
        self.places = {"INBOX"}       # where it may be at the end ("" = expunged)
        self.flagged = False          # a STORE +FLAGS (\Flagged) was acknowledged
        self.busy = False             # an IMAP operation on it had an unknown outcome

    @property
    def dup_allowed(self):
        return self.unknown > 0 or self.tempfail_late > 0


class Ledger:
    def __init__(self):
        self.lock = threading.Lock()
        self.msgs = {}
        self.counts = collections.Counter()
        self.slow = []                 # (t, op, node, seconds, outcome)
        self.events = []               # (t, text)
        self.failures = []             # (op, detail): permanent errors, never expected
        self.t0 = time.monotonic()
        self._seq = itertools.count(1)

    def new_msg(self, kind, account, tag):
        seq = next(self._seq)
        m = Msg(f"<chaos.{tag}.{kind}.{seq}@chaos.test>", kind, account, seq)
        with self.lock:
            self.msgs[m.msgid] = m
        return m

    def count(self, key, n=1):
        with self.lock:
            self.counts[key] += n

    def event(self, text):
        with self.lock:
            self.events.append((time.monotonic() - self.t0, text))

    def fail(self, op, detail):
        with self.lock:
            self.failures.append((op, detail))

    def timed(self, op, node, seconds, outcome):
        if seconds >= SLOW_OP:
            with self.lock:
                self.slow.append((time.monotonic() - self.t0 - seconds, op, node, seconds, outcome))

    def by_kind(self, kind):
        with self.lock:
            return [m for m in self.msgs.values() if m.kind == kind]

    def summary(self):
        with self.lock:
            msgs = list(self.msgs.values())
            c = dict(self.counts)
        acked = sum(m.acked for m in msgs)
        lines = [f"messages tried {len(msgs)}, acknowledged {acked}, never acknowledged "
                 f"{len(msgs) - acked}"]
        for kind in ("smtp", "imap", "submission"):
            ms = [m for m in msgs if m.kind == kind]
            lines.append(f"  {kind}: tried {len(ms)}, acked {sum(m.acked for m in ms)}, "
                         f"unknown outcomes {sum(m.unknown for m in ms)}, "
                         f"4xx/NO after sending {sum(m.tempfail_late for m in ms)}")
        lines.append("counters: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items())))
        if self.slow:
            lines.append(f"operations slower than {SLOW_OP:.0f}s (t = seconds since start):")
            lines += [f"  t={t:.1f}s {op} on {node}: {s:.1f}s -> {o}" for t, op, node, s, o in self.slow]
        if self.failures:
            lines.append("permanent failures:")
            lines += [f"  {op}: {d}" for op, d in self.failures[:40]]
        return "\n".join(lines)

    def event_log(self):
        with self.lock:
            return "\n".join(f"  t={t:6.1f}s {text}" for t, text in self.events)
