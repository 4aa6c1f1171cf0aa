#!/usr/bin/env python3
"""send_bench_drive.py - the timed part of bench/run-send-bench.sh.

  send_bench_drive.py run --name NAME --port PORT --n N --out FILE.jsonl
        --sink-log FILE [--sessions 10] [--size 4096] [--auth USER:PASS]
        [--from sender@bench.test] [--rcpt-domain sink.test] [--rcpts 100]
        [--warmup 20] [--timeout 600] [--submit-only]
        [--mgmt HOST:PORT | --queue DIR] [--hold]
  send_bench_drive.py drain --name NAME --n N --out FILE.jsonl --sink-log FILE
        --baseline B --t0 EPOCH [--timeout 600] [--mgmt HOST:PORT | --queue DIR]
  send_bench_drive.py sink-count FILE
  send_bench_drive.py table FILE.jsonl [--title TEXT]...
  send_bench_drive.py wait-http HOST:PORT PATH [--status 200] [--timeout S]
  send_bench_drive.py wait-smtp PORT [--timeout S]
  send_bench_drive.py free-port

The sink is Postfix's smtp-sink started with -c and its standard output in
--sink-log: it writes "sess=A quit=B mesg=C\\r" whenever a "." is received or
a session ends; C (messages whose DATA ended) is the count read here.

`run` opens --sessions SMTP connections at once (one thread each, plain
sockets, one command at a time, no PIPELINING), each does EHLO and, with
--auth, AUTH PLAIN once, then sends its share of --warmup untimed messages.
When every session is ready and the sink counted the warm-up, the clock
starts and every session sends its share of the N messages over the same
connection (MAIL, RCPT, DATA, one recipient each: user(i mod rcpts)@
rcpt-domain, SIZE bytes with headers, a unique Message-ID):

  accept_s   the last 250 to the final "." (every message queued)
  sink_s     the sink counted N more messages (end to end)
  empty_s    and the sender's queue is empty (evmail: /metrics
             evmail_queue_items 0; Postfix: no file in its queue)

--submit-only stops after accept_s (a backlog: no delivery running); with
--hold (Postfix) it waits until the N messages are files in the hold queue,
with --mgmt until /readyz is 200 and evmail_queue_items grew by N.

`drain` is the other half of a backlog: the caller noted --t0 (date
+%s.%N) just before it started the delivering side (evmaild with the
delivery role; postsuper -H ALL + postqueue -f) and --baseline (the sink's
count before); drain waits until the sink counted N more (drain_s) and the
queue is empty (empty_s); with --mgmt it also notes when /readyz first
answered 200 and what the sink had counted by then.

Each appends one JSON object to --out. Every wait is bounded by --timeout.
Exit 1 when something failed or never finished (the line says so), else 0.
"""

import argparse
import base64
import os
import re
import socket
import sys
import threading
import time

from bench_common import (QUEUE_SUBDIRS, add_tool_parsers, count_files, http_get,
                          finish_run, install_signal_handlers, loadavg, rate,
                          ratio_printer, run_tool, start_table, wait_until)

PROG = "send_bench_drive"
SINK_RE = re.compile(rb"mesg=(\d+)")
SESS_RE = re.compile(rb"sess=(\d+)")


# ---------------------------------------------------------------- helpers
def sink_count(path, regex=SINK_RE):
    """The last mesg=C that smtp-sink -c wrote (0 before the first)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(size - 256, 0))
            tail = f.read()
    except OSError:
        return 0
    m = regex.findall(tail)
    return int(m[-1]) if m else 0


def sink_sessions(path):
    """SMTP sessions the sink has seen end (sess=A)."""
    return sink_count(path, SESS_RE)


def evmail_queue_items(mgmt):
    """evmail_queue_items from /metrics (None when unreadable)."""
    try:
        st, body = http_get(mgmt, "/metrics")
    except OSError:
        return None
    if st != 200:
        return None
    m = re.search(rb"^evmail_queue_items (\d+)$", body, re.M)
    return int(m.group(1)) if m else None


def readyz(mgmt):
    try:
        return http_get(mgmt, "/readyz", timeout=2.0)[0]
    except OSError:
        return None


def queue_size(a):
    """Messages in the sender's queue, or None when unknown."""
    if a.queue:
        return count_files(a.queue, QUEUE_SUBDIRS)
    if a.mgmt:
        return evmail_queue_items(a.mgmt)
    return None


# ---------------------------------------------------------------- SMTP client
class SmtpError(Exception):
    pass


class Session:
    def __init__(self, port, timeout):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rf = self.sock.makefile("rb")

    def reply(self):
        lines = []
        while True:
            line = self.rf.readline(4096)
            if not line:
                raise SmtpError("connection closed" + (f" after {lines[-1]!r}" if lines else ""))
            lines.append(line.rstrip(b"\r\n"))
            if len(line) < 4 or line[3:4] != b"-":
                break
        code = int(lines[-1][:3]) if lines[-1][:3].isdigit() else 0
        return code, b"\n".join(lines)

    def expect(self, cmd, want):
        if cmd is not None:
            self.sock.sendall(cmd)
        code, text = self.reply()
        if code // 100 != want // 100:
            shown = cmd.split(b"\r\n")[0][:60] if cmd else b"greeting"
            raise SmtpError(f"{shown.decode('ascii', 'replace')}: {text.decode('utf-8', 'replace')[:300]}")
        return text

    def close(self):
        try:
            self.sock.sendall(b"QUIT\r\n")
            self.reply()
        except (OSError, SmtpError):
            pass
        try:
            self.rf.close()
            self.sock.close()
        except OSError:
            pass


def make_body(size):
    """A text body of about size bytes (76-character lines)."""
    line = b"The quick brown fox jumps over the lazy dog; 0123456789 abcdefghijklmnopqrstu\r\n"
    reps = max(size // len(line), 1)
    return line * reps


class Load:
    """Shared state of one run's sessions."""

    def __init__(self, a):
        self.a = a
        self.body = make_body(max(a.size - 400, 100))
        self.ready = threading.Barrier(a.sessions + 1)
        self.go = threading.Event()
        self.abort = threading.Event()
        self.lock = threading.Lock()
        self.errors = []
        self.done_at = []
        self.sent = 0
        self.stamp = f"{os.getpid()}.{int(time.time())}"

    def message(self, tag, k, rcpt):
        a = self.a
        hdr = (f"From: Bench Sender <{a.sender}>\r\n"
               f"To: <{rcpt}>\r\n"
               f"Subject: send bench {tag} {k}\r\n"
               f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime())}\r\n"
               f"Message-ID: <{self.stamp}.{tag}.{k}@{a.sender.split('@')[1]}>\r\n"
               f"MIME-Version: 1.0\r\n"
               f"Content-Type: text/plain; charset=us-ascii\r\n\r\n").encode()
        return hdr + self.body + b".\r\n"

    def send(self, s, tag, k):
        a = self.a
        rcpt = f"user{k % a.rcpts}@{a.rcpt_domain}"
        s.expect(f"MAIL FROM:<{a.sender}>\r\n".encode(), 250)
        s.expect(f"RCPT TO:<{rcpt}>\r\n".encode(), 250)
        s.expect(b"DATA\r\n", 354)
        s.expect(self.message(tag, k, rcpt), 250)

    def worker(self, i, warm, timed):
        a = self.a
        s = None
        passed_barrier = False
        try:
            s = Session(a.port, a.timeout)
            s.expect(None, 220)
            s.expect(b"EHLO bench-client.test\r\n", 250)
            if a.auth:
                user, pw = a.auth.split(":", 1)
                tok = base64.b64encode(b"\0" + user.encode() + b"\0" + pw.encode())
                s.expect(b"AUTH PLAIN " + tok + b"\r\n", 235)
            for k in warm:
                self.send(s, "w", k)
            passed_barrier = True
            self.ready.wait()
            self.go.wait()
            if self.abort.is_set():
                return
            for k in timed:
                if self.abort.is_set():
                    return
                self.send(s, "t", k)
                with self.lock:
                    self.sent += 1
            with self.lock:
                self.done_at.append(time.monotonic())
        except (OSError, SmtpError, threading.BrokenBarrierError, ValueError) as e:
            with self.lock:
                self.errors.append(f"session {i}: {e}")
            self.abort.set()
            if not passed_barrier:
                self.ready.abort()
        finally:
            if s is not None:
                s.close()


def cmd_run(a):
    res = {"name": a.name, "kind": "backlog" if a.submit_only else "throughput", "n": a.n,
           "sessions": a.sessions, "size": a.size, "warmup": a.warmup}
    status = "ok"
    L = Load(a)
    S = a.sessions
    share = lambda lo, n, i: range(lo + i, lo + n, S)  # noqa: E731
    threads = [threading.Thread(target=L.worker, args=(i, share(0, a.warmup, i), share(a.warmup, a.n, i)),
                                daemon=True) for i in range(S)]
    sink0 = sink_count(a.sink_log)
    q0 = queue_size(a) if a.submit_only else None
    deadline = time.monotonic() + a.timeout
    for t in threads:
        t.start()
    try:
        L.ready.wait(timeout=max(deadline - time.monotonic(), 0.01))
    except threading.BrokenBarrierError:
        L.abort.set()
        L.go.set()
        for t in threads:
            t.join(5)
        status = "sessions failed before the timed part: " + "; ".join(L.errors[:3])
    if status == "ok" and a.warmup and not a.submit_only:
        if not wait_until(lambda: sink_count(a.sink_log) >= sink0 + a.warmup, deadline):
            status = f"warm-up: the sink counted {sink_count(a.sink_log) - sink0} of {a.warmup}"
    if status != "ok":
        L.abort.set()
        L.go.set()
    else:
        base = sink_count(a.sink_log)
        sess0 = sink_sessions(a.sink_log)
        res["load_start"] = loadavg()
        t0 = time.monotonic()
        L.go.set()
        deadline = t0 + a.timeout
        for t in threads:
            t.join(max(deadline - time.monotonic(), 0.01))
        if any(t.is_alive() for t in threads):
            L.abort.set()
            status = f"timeout: {L.sent} of {a.n} accepted"
        elif L.errors:
            status = f"{len(L.errors)} session(s) failed, {L.sent} of {a.n} accepted: " + "; ".join(L.errors[:3])
        if L.done_at:
            res["accept_s"] = max(L.done_at) - t0
        res["accepted"] = L.sent
        if status == "ok" and not a.submit_only:
            got = wait_until(lambda: sink_count(a.sink_log) >= base + a.n, deadline)
            res["sink_count"] = sink_count(a.sink_log) - base
            if got:
                res["sink_s"] = time.monotonic() - t0
                if queue_size(a) is not None:
                    if wait_until(lambda: queue_size(a) == 0, deadline, 0.02):
                        res["empty_s"] = time.monotonic() - t0
                    else:
                        status = f"the queue never emptied ({queue_size(a)} left)"
            else:
                status = f"timeout: the sink counted {res['sink_count']} of {a.n}"
        elif status == "ok":
            # a backlog: wait until it is all queued (and nothing delivered)
            if a.hold:
                ok = wait_until(lambda: count_files(a.queue, ("hold",)) >= a.n + a.warmup and
                                count_files(a.queue, ("maildrop", "incoming", "active")) == 0, deadline, 0.05)
                res["queued"] = count_files(a.queue, ("hold",))
            elif a.mgmt:
                want = (q0 or 0) + a.n
                ok = wait_until(lambda: readyz(a.mgmt) == 200 and (evmail_queue_items(a.mgmt) or 0) >= want,
                                deadline, 0.05)
                res["queued"] = evmail_queue_items(a.mgmt)
            else:
                ok = True
            res["queued_s"] = time.monotonic() - t0
            res["sink_count"] = sink_count(a.sink_log) - base
            if not ok:
                status = f"timeout: the backlog is not all queued ({res.get('queued')})"
        res["sink_sessions"] = sink_sessions(a.sink_log) - sess0
        res["load_end"] = loadavg()
    return finish_run(a.out, res, status, (
        ("accept_s", "; {accepted} accepted in {accept_s:.3f} s"),
        ("sink_s", ", sink counted {n} after {sink_s:.3f} s"),
        ("empty_s", ", queue empty after {empty_s:.3f} s"),
        ("queued_s", ", {queued} queued after {queued_s:.3f} s")))


def cmd_drain(a):
    res = {"name": a.name, "kind": "drain", "n": a.n}
    status = "ok"
    t0 = a.t0
    deadline = time.monotonic() + a.timeout - (time.time() - t0)
    target = a.baseline + a.n
    ready_seen = a.mgmt is None
    last_report = last_ready = time.monotonic()
    sess0 = sink_sessions(a.sink_log)
    res["timeline"] = []       # [seconds since t0, sink count] once a second
    next_sample = time.monotonic()
    while True:
        c = sink_count(a.sink_log)
        if time.monotonic() >= next_sample:
            next_sample += 1.0
            res["timeline"].append([round(time.time() - t0, 3), c - a.baseline])
        if not ready_seen and time.monotonic() - last_ready >= 0.05:
            last_ready = time.monotonic()
            if readyz(a.mgmt) == 200:
                ready_seen = True
                res["ready_s"] = time.time() - t0
                res["sink_at_ready"] = sink_count(a.sink_log) - a.baseline
        if c >= target:
            res["drain_s"] = time.time() - t0
            break
        if time.monotonic() >= deadline:
            status = f"timeout: the sink counted {c - a.baseline} of {a.n}"
            break
        if time.monotonic() - last_report >= 10:
            last_report = time.monotonic()
            print(f"{a.name}: {time.time() - t0:.0f} s: sink counted {c - a.baseline} of {a.n}, "
                  f"queue {queue_size(a)}", file=sys.stderr)
        time.sleep(0.005)
    res["sink_count"] = sink_count(a.sink_log) - a.baseline
    res["sink_sessions"] = sink_sessions(a.sink_log) - sess0
    if status == "ok" and queue_size(a) is not None:
        if wait_until(lambda: queue_size(a) == 0, deadline, 0.02):
            res["empty_s"] = time.time() - t0
        else:
            status = f"the queue never emptied ({queue_size(a)} left)"
    res["load_end"] = loadavg()
    return finish_run(a.out, res, status, (
        ("drain_s", "; sink counted {n} after {drain_s:.3f} s"),
        ("ready_s", " (/readyz 200 after {ready_s:.3f} s, sink had {sink_at_ready} then)"),
        ("empty_s", ", queue empty after {empty_s:.3f} s")))


# ---------------------------------------------------------------- table
def cmd_table(a):
    rows, by = start_table(a.file, a.title)
    print(f"  {'path':<50} {'msg/s':>8} {'seconds':>9} {'messages':>8}  notes")
    rates = {}

    def line(key, label, name, field, note, count_field=None):
        r = by.get(name)
        if r is None or field not in r:
            why = "not run" if r is None else r.get("status", "?")
            print(f"  {label:<50} {'-':>8} {'-':>9} {'-':>8}  {why}")
            return
        s = r[field]
        ok = r["status"] == "ok"
        cnt = r.get(count_field, r["n"]) if count_field else r["n"]
        v = rate(r["n"], s)
        print(f"  {label:<50} {v:>8.0f} {s:>9.3f} {cnt!s:>8}  {note if ok else r['status']}")
        if ok:
            rates[key] = v

    line("e:acc", "evmail: submission 250", "evmail", "accept_s",
         "250 = in the log (queue.enqueue), applied", "accepted")
    line("e:sink", "evmail: accepted by the sink (end to end)", "evmail", "sink_s",
         "smtp-sink counted N", "sink_count")
    line("e:empty", "evmail: ... and queue empty", "evmail", "empty_s", "evmail_queue_items 0")
    if "evmail-dkim" in by:
        line("d:acc", "evmail DKIM rsa2048: submission 250", "evmail-dkim", "accept_s",
             "signed with one RSA-2048 key", "accepted")
        line("d:sink", "evmail DKIM rsa2048: accepted by the sink", "evmail-dkim", "sink_s",
             "smtp-sink counted N", "sink_count")
    line("p:acc", "postfix: 250 (queued)", "postfix", "accept_s", "250 = fsync'ed queue file", "accepted")
    line("p:sink", "postfix: accepted by the sink (end to end)", "postfix", "sink_s",
         "smtp-sink counted N", "sink_count")
    line("p:empty", "postfix: ... and queue empty", "postfix", "empty_s", "no queue file left")
    print()
    line("eb:acc", "evmail backlog: submission 250 (no delivery role)", "evmail-backlog", "accept_s",
         "roles projector,gateway", "accepted")
    line("pb:acc", "postfix backlog: 250 into the hold queue", "postfix-backlog", "accept_s",
         "check_client_access static:HOLD", "accepted")
    line("ed:drain", "evmail drain: sink counted all, from exec", "evmail-drain", "drain_s",
         "restart with the delivery role, clock from exec", "sink_count")
    line("ed:empty", "evmail drain: ... and queue empty", "evmail-drain", "empty_s", "evmail_queue_items 0")
    r = by.get("evmail-drain")
    if r and "ready_s" in r and "drain_s" in r:
        # the node's own start (opening the data dir, catching up) left out
        s_ = r["drain_s"] - r["ready_s"]
        left = r["n"] - r.get("sink_at_ready", 0)
        v = rate(left, s_)
        print(f"  {'evmail drain: ... from /readyz 200':<50} {v:>8.0f} {s_:>9.3f} {left:>8}  "
              f"readyz 200 {r['ready_s']:.3f} s after exec, the sink had {r.get('sink_at_ready')} then")
        if r["status"] == "ok":
            rates["ed:ready"] = v
    line("pd:drain", "postfix drain: sink counted all, from release", "postfix-drain", "drain_s",
         "postsuper -H ALL; postqueue -f", "sink_count")
    line("pd:empty", "postfix drain: ... and queue empty", "postfix-drain", "empty_s", "no queue file left")
    print()
    print("  ratios (evmail / postfix, messages per second; higher is better for evmail)")
    ratio = ratio_printer(rates, 66, 6)
    ratio("submission 250", "e:acc", "p:acc")
    ratio("outbound throughput, submission -> accepted by the sink", "e:sink", "p:sink")
    if "evmail-dkim" in by:
        ratio("  with DKIM rsa2048 signing (evmail) vs postfix (no signing)", "d:sink", "p:sink")
    ratio("backlog submission 250", "eb:acc", "pb:acc")
    ratio("drain of the backlog (sink counted all; evmail from exec)", "ed:drain", "pd:drain")
    ratio("drain of the backlog (evmail from /readyz 200)", "ed:ready", "pd:drain")
    print()
    for r in rows:
        extra = ""
        if r.get("load_start"):
            extra = f"{r.get('load_start')} at start, "
        print(f"  {r['name']}: load average {extra}{r.get('load_end')} at end; {r['status']}")
    return 0 if all(r["status"] == "ok" for r in rows) else 1


def main():
    install_signal_handlers()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    def target(p):
        p.add_argument("--mgmt", help="evmaild's management listener (queue size from /metrics)")
        p.add_argument("--queue", help="Postfix's queue_directory (queue size = its files)")

    r = sub.add_parser("run")
    r.add_argument("--name", required=True)
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--n", type=int, required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--sink-log", required=True)
    r.add_argument("--sessions", type=int, default=10)
    r.add_argument("--size", type=int, default=4096)
    r.add_argument("--auth", help="USER:PASSWORD for AUTH PLAIN (once per session)")
    r.add_argument("--from", dest="sender", default="sender@bench.test")
    r.add_argument("--rcpt-domain", default="sink.test")
    r.add_argument("--rcpts", type=int, default=100, help="distinct recipients (user0..)")
    r.add_argument("--warmup", type=int, default=20)
    r.add_argument("--timeout", type=float, default=600.0)
    r.add_argument("--submit-only", action="store_true")
    r.add_argument("--hold", action="store_true", help="Postfix backlog: wait for the hold queue")
    target(r)
    d = sub.add_parser("drain")
    d.add_argument("--name", required=True)
    d.add_argument("--n", type=int, required=True)
    d.add_argument("--out", required=True)
    d.add_argument("--sink-log", required=True)
    d.add_argument("--baseline", type=int, required=True)
    d.add_argument("--t0", type=float, required=True)
    d.add_argument("--timeout", type=float, default=600.0)
    target(d)
    sc = sub.add_parser("sink-count")
    sc.add_argument("file")
    t = sub.add_parser("table")
    t.add_argument("file")
    t.add_argument("--title", action="append")
    add_tool_parsers(sub)
    a = ap.parse_args()
    rc = run_tool(a, PROG)
    if rc is not None:
        return rc
    if a.cmd == "run":
        if a.sessions < 1 or a.n < 1:
            ap.error("--sessions and --n must be at least 1")
        if a.hold and not a.queue:
            ap.error("--hold needs --queue")
        if a.submit_only:
            a.warmup = 0   # a backlog is counted in the queue: nothing untimed
        return cmd_run(a)
    if a.cmd == "drain":
        return cmd_drain(a)
    if a.cmd == "sink-count":
        print(sink_count(a.file))
        return 0
    return cmd_table(a)


if __name__ == "__main__":
    sys.exit(main())
