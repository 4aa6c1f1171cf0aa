#!/usr/bin/env python3
# big_mailbox.py - times SELECT and FETCH 1:* (FLAGS UID) on a large
# mailbox of one server (issue #9 section 3), for run-imap-bench.sh.
#
#   big_mailbox.py fill  HOST PORT USER PASSWORD MAILBOX N SIZE
#   big_mailbox.py time  HOST PORT USER PASSWORD MAILBOX REPEAT LABEL
#
# fill: CREATE MAILBOX, then APPENDs N messages of SIZE bytes (literal and
# CRLF in one write, 64 in flight) until it holds N. time: REPEAT x (SELECT
# MAILBOX, FETCH 1:* (FLAGS UID), UNSELECT) on one connection; prints
# "BIG {json}" with the median and best milliseconds of each command.
import collections
import json, socket, statistics, sys, time


class Conn:
    def __init__(self, host, port):
        self.s = socket.create_connection((host, int(port)), timeout=120)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.pos = 0
        self.n = 0
        self.line()   # greeting

    def line(self):
        """The next line; the buffer is consumed by offset (a big response
        arrives in a few large reads: no copying per line)."""
        while True:
            e = self.buf.find(b"\r\n", self.pos)
            if e >= 0:
                l = self.buf[self.pos:e]
                self.pos = e + 2
                return l
            d = self.s.recv(1 << 20)
            if not d:
                raise SystemExit("big_mailbox: connection closed")
            self.buf = self.buf[self.pos:] + d
            self.pos = 0

    def send(self, data):
        self.s.sendall(data)

    def tag(self):
        self.n += 1
        return b"b%d" % self.n

    def wait(self, tag):
        """Reads until the tagged reply; returns the untagged line count."""
        n = 0
        while True:
            l = self.line()
            if l.startswith(tag + b" "):
                if not l.startswith(tag + b" OK"):
                    raise SystemExit("big_mailbox: %r" % l)
                return n
            n += 1

    def cmd(self, text):
        t = self.tag()
        self.send(t + b" " + text + b"\r\n")
        return self.wait(t)


def message(i, size):
    head = ("From: bench <bench@bench.test>\r\nTo: user <user@bench.test>\r\n"
            "Subject: big mailbox %d\r\nDate: Sun, 29 Nov 2026 12:00:00 +0000\r\n"
            "Message-ID: <big-%d@bench.test>\r\n\r\n" % (i, i)).encode()
    body = b""
    while len(head) + len(body) < size:
        body += b"abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123\r\n"
    return head + body[:max(0, size - len(head))]


def fill(host, port, user, pw, mbox, n, size):
    c = Conn(host, port)
    c.cmd(b'LOGIN "%s" "%s"' % (user.encode(), pw.encode()))
    t = c.tag()
    c.send(t + b' CREATE "%s"\r\n' % mbox.encode())
    c.line()
    c.cmd(b'SELECT "%s"' % mbox.encode())
    have = 0
    st = c.tag()
    c.send(st + b' STATUS "%s" (MESSAGES)\r\n' % mbox.encode())
    while True:
        l = c.line()
        if l.startswith(b"* STATUS"):
            have = int(l.rsplit(b"MESSAGES ", 1)[1].rstrip(b")"))
        if l.startswith(st + b" "):
            break
    n = int(n)
    size = int(size)
    # up to 64 APPENDs in flight (LITERAL+), answered in order
    nxt, inflight = have, collections.deque()
    while nxt < n or inflight:
        while nxt < n and len(inflight) < 64:
            m = message(nxt, size)
            nxt += 1
            t = c.tag()
            c.send(t + b' APPEND "%s" (\\Seen) {%d+}\r\n' % (mbox.encode(), len(m)) + m + b"\r\n")
            inflight.append(t)
        c.wait(inflight.popleft())
    c.cmd(b"LOGOUT")


def timed(host, port, user, pw, mbox, repeat, label):
    c = Conn(host, port)
    c.cmd(b'LOGIN "%s" "%s"' % (user.encode(), pw.encode()))
    sel, fet, count = [], [], 0
    for _ in range(int(repeat)):
        t0 = time.perf_counter()
        c.cmd(b'SELECT "%s"' % mbox.encode())
        t1 = time.perf_counter()
        count = c.cmd(b"FETCH 1:* (FLAGS UID)")
        t2 = time.perf_counter()
        c.cmd(b"UNSELECT")
        sel.append((t1 - t0) * 1000)
        fet.append((t2 - t1) * 1000)
    c.cmd(b"LOGOUT")
    print("BIG " + json.dumps({"label": label, "messages": count, "repeat": int(repeat),
                               "select_ms": statistics.median(sel), "select_best_ms": min(sel),
                               "fetch_ms": statistics.median(fet), "fetch_best_ms": min(fet)}))


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in ("fill", "time"):
        raise SystemExit(__doc__ if __doc__ else "usage: big_mailbox.py fill|time ...")
    if sys.argv[1] == "fill":
        fill(*sys.argv[2:9])
    else:
        timed(*sys.argv[2:9])
