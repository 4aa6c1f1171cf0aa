#!/usr/bin/env python3
"""jmap_bench_drive.py - the client side of run-jmap-bench.sh.

  fill HOST PORT RCPT N [--parallel P] [--size S] [--first F]
      Messages F..N-1 to RCPT over LMTP, P connections at once (one message at a
      time on each: MAIL, RCPT, DATA); the same bytes for every server.
      Prints "FILL {json}" (seconds, messages per second).
  spool DIR RCPT N [--size S] [--first F]
      The same messages F..N-1 written as Cyrus message files DIR/(i+1).
      (for reconstruct); prints "SPOOL {json}".
  measure LABEL SESSION_URL USER PASSWORD [--expect N] [--seq N]
          [--clients K] [--duration S] [--warmup W] [--pid PID]
      Discovers the API URL and the mail account from the Session resource,
      the INBOX with Mailbox/query (role inbox), checks its totalEmails
      (--expect), then times one request of two calls:
        Email/query {inMailbox INBOX, sort receivedAt desc, limit 50}
        Email/get   {#ids of that query, the default (standard) properties}
      W untimed, then N one after the other on one keep-alive connection
      (latency), then K client processes, one keep-alive connection each,
      as fast as they can for S seconds (throughput). --pid: the server's
      CPU time (the process and its children, /proc) over the concurrent
      phase. Prints "MEASURE {json}".
  idle LABEL SESSION_URL USER PASSWORD COUNT --pid PID [--parallel P]
          [--hold S] [--setup-timeout S]
      Opens COUNT EventSource streams (RFC 8620 7.3; raw sockets, the
      session's eventSourceUrl with types=*, closeafter=no, ping=0), at
      most P being set up at once; a stream counts once its 200 header
      arrived. The memory of PID and its descendants (VmRSS and Pss sums)
      before, with the streams held S seconds, and 3 s after they closed.
      Prints "IDLE {json}".
  wait-index SESSION_URL USER PASSWORD MGMT --docs N [--timeout S]
      evmail only: one Email/query {"text": "fox"} (it activates the
      account's text indexer, gateway/fts), then polls http://MGMT/metrics
      until evmail_fts_accounts_pending is 0 (nothing queued or being
      indexed) and evmail_fts_documents_indexed_total >= N, so the timed
      text queries read a complete index. Prints "INDEX {json}" (seconds
      from the first query until then).

Every request has Basic authentication. Python 3, standard library only.
"""

import argparse
import base64
import json
import multiprocessing
import os
import selectors
import smtplib
import socket
import statistics
import sys

from bench_common import http_get, proc_tree
import threading
import time
import urllib.parse

USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"]
MAIL = "urn:ietf:params:jmap:mail"
TCP_QUICKACK = getattr(socket, "TCP_QUICKACK", 12)   # Linux


# ---------------------------------------------------------------- fill
def message(rcpt, i, size):
    """Message i: plain text, SIZE bytes or a little more, a distinct
    Subject, Date and Message-ID; the same for every server."""
    head = (f"From: Sender {i % 50} <sender{i % 50}@example.org>\r\n"
            f"To: <{rcpt}>\r\nSubject: benchmark message {i} about topic {i % 97}\r\n"
            f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime(1780000000 + i * 60))}\r\n"
            f"Message-ID: <jmapbench-{i}@example.org>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n\r\n")
    lines, n, k = [], len(head), 0
    while n < size:
        line = f"line {k} of message {i}: the quick brown fox jumps over the lazy dog\r\n"
        lines.append(line)
        n += len(line)
        k += 1
    return (head + "".join(lines)).encode()


def cmd_fill(a):
    errors, lock = [], threading.Lock()

    def worker(first):
        try:
            c = smtplib.LMTP(a.host, a.port, local_hostname="bench.local", timeout=120)
            for i in range(a.first + first, a.n, a.parallel):
                refused = c.sendmail("sender@example.org", [a.rcpt], message(a.rcpt, i, a.size))
                if refused:
                    raise RuntimeError(f"message {i} refused: {refused}")
            c.quit()
        except Exception as e:  # reported below, the run fails
            with lock:
                errors.append(repr(e))

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(a.parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dt = time.monotonic() - t0
    print("FILL " + json.dumps({"messages": a.n - a.first, "seconds": round(dt, 2),
                               "per_s": round((a.n - a.first) / dt, 1), "parallel": a.parallel,
                               "size": a.size, "errors": errors[:5]}))
    return 1 if errors else 0


def cmd_spool(a):
    """Messages FIRST..N-1 as Cyrus message files DIR/UID. (UID = i + 1) for
    reconstruct(8) to index: the same bytes fill delivers."""
    t0 = time.monotonic()
    for i in range(a.first, a.n):
        with open(os.path.join(a.dir, f"{i + 1}."), "wb") as f:
            f.write(message(a.rcpt, i, a.size))
    dt = time.monotonic() - t0
    print("SPOOL " + json.dumps({"messages": a.n - a.first, "seconds": round(dt, 2)}))
    return 0


# ---------------------------------------------------------------- JMAP
class Client:
    """One keep-alive HTTP/1.1 connection with Basic authentication, on a raw
    socket: the request head and body leave in one write, and the client
    acknowledges every segment at once (TCP_QUICKACK before each read), so
    no answer waits for the client's delayed ACK behind the server's Nagle
    (Cyrus's keep-alive answers took 40 ms more without it; see README)."""

    def __init__(self, session_url, user, password, timeout=120):
        u = urllib.parse.urlsplit(session_url)
        self.base = f"{u.scheme}://{u.netloc}"
        self.host, self.port = u.hostname, u.port or 80
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.timeout = timeout
        self.sock = None
        self.buf = b""
        self.session_path = u.path

    def _recv(self):
        self.sock.setsockopt(socket.IPPROTO_TCP, TCP_QUICKACK, 1)
        d = self.sock.recv(1 << 18)
        if not d:
            raise RuntimeError("connection closed by the server")
        self.buf += d

    def _read_until(self, sep):
        while True:
            i = self.buf.find(sep)
            if i >= 0:
                out, self.buf = self.buf[:i], self.buf[i + len(sep):]
                return out
            if len(self.buf) > 1 << 20:
                raise RuntimeError("HTTP head too long")
            self._recv()

    def _read_n(self, n):
        while len(self.buf) < n:
            self._recv()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _response(self):
        """(status, headers (lower-case names), body) of the next answer."""
        head = self._read_until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        status = int(head[0].split()[1])
        h = {}
        for line in head[1:]:
            k, _, v = line.partition(":")
            h[k.strip().lower()] = v.strip()
        if h.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                n = int(self._read_until(b"\r\n").split(b";")[0], 16)
                if n == 0:
                    while self._read_until(b"\r\n"):
                        pass
                    break
                parts.append(self._read_n(n))
                self._read_n(2)
            body = b"".join(parts)
        else:
            body = self._read_n(int(h.get("content-length", "0")))
        return status, h, body

    def request(self, method, path, body=None):
        """(status, body) following redirects (Cyrus: /.well-known/jmap -> /jmap)."""
        for _ in range(3):
            if self.sock is None:
                self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.buf = b""
            data = body.encode() if isinstance(body, str) else (body or b"")
            head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                    f"Authorization: {self.auth}\r\nAccept: application/json\r\n")
            if body is not None:
                head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
            self.sock.sendall(head.encode() + b"\r\n" + data)
            status, h, answer = self._response()
            if "close" in h.get("connection", "").lower():
                self.sock.close()
                self.sock = None
            if status in (301, 302, 307, 308):
                path = urllib.parse.urlsplit(urllib.parse.urljoin(self.base + path, h["location"])).path
                continue
            return status, answer
        raise RuntimeError(f"too many redirects for {path}")

    def session(self):
        st, data = self.request("GET", self.session_path)
        if st != 200:
            raise RuntimeError(f"session: HTTP {st}: {data[:300]!r}")
        s = json.loads(data)
        self.api = urllib.parse.urlsplit(urllib.parse.urljoin(self.base + "/", s["apiUrl"])).path
        self.account = s["primaryAccounts"][MAIL]
        self.event_source = s.get("eventSourceUrl")
        return s

    def call(self, calls):
        st, data = self.request("POST", self.api, json.dumps({"using": USING, "methodCalls": calls}))
        if st != 200:
            raise RuntimeError(f"API: HTTP {st}: {data[:300]!r}")
        return json.loads(data)["methodResponses"]


def inbox(c):
    """(id, totalEmails) of the account's INBOX."""
    r = c.call([["Mailbox/query", {"accountId": c.account, "filter": {"role": "inbox"}}, "q"],
                ["Mailbox/get", {"accountId": c.account, "properties": ["totalEmails"],
                                 "#ids": {"resultOf": "q", "name": "Mailbox/query", "path": "/ids"}}, "g"]])
    if r[1][0] != "Mailbox/get" or not r[1][1]["list"]:
        raise RuntimeError(f"no INBOX: {json.dumps(r)[:300]}")
    box = r[1][1]["list"][0]
    return box["id"], box["totalEmails"]


def page_body(c, mailbox, text=None):
    """The timed request: Email/query + Email/get of its ids (default
    properties); with text, the filter is {"text": text} (a search of the
    whole account) instead of the INBOX."""
    return json.dumps({"using": USING, "methodCalls": [
        ["Email/query", {"accountId": c.account,
                         "filter": {"text": text} if text else {"inMailbox": mailbox},
                         "sort": [{"property": "receivedAt", "isAscending": False}],
                         "limit": 50}, "q"],
        ["Email/get", {"accountId": c.account,
                       "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"}}, "g"]]})


def one_page(c, body, want=50):
    """Sends the request, checks `want` emails came back; the seconds it took."""
    t0 = time.perf_counter()
    st, data = c.request("POST", c.api, body)
    dt = time.perf_counter() - t0
    if st != 200:
        raise RuntimeError(f"HTTP {st}: {data[:300]!r}")
    r = json.loads(data)["methodResponses"]
    if r[0][0] != "Email/query" or r[1][0] != "Email/get" or len(r[1][1]["list"]) != want:
        raise RuntimeError(f"unexpected answer: {data[:400]!r}")
    return dt


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] * 1000 if xs else 0.0


def tree_cpu(root):
    """utime + stime (+ reaped children's) of root and its descendants, seconds."""
    t, hz = 0, os.sysconf("SC_CLK_TCK")
    for p in proc_tree(root):
        try:
            with open(f"/proc/{p}/stat") as f:
                st = f.read()
        except OSError:
            continue
        t += sum(int(v) for v in st[st.rindex(")") + 2:].split()[11:15])
    return t / hz


def tree_mem(root):
    """(VmRSS kB, Pss kB, processes) summed over root and its descendants."""
    rss = pss = n = 0
    for p in proc_tree(root):
        try:
            with open(f"/proc/{p}/status") as f:
                rss += sum(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
            with open(f"/proc/{p}/smaps_rollup") as f:
                pss += sum(int(l.split()[1]) for l in f if l.startswith("Pss:"))
            n += 1
        except OSError:
            pass
    return rss, pss, n


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def client_proc(a, mailbox, start, q):
    """One concurrent client: its own connection, requests until the deadline."""
    try:
        c = Client(a.session_url, a.user, a.password)
        c.session()
        body = page_body(c, mailbox, a.text)
        one_page(c, body, a.want)   # connected and authenticated before the clock
        q.put(("ready", None))
        start.wait()
        lat, end = [], time.monotonic() + a.duration
        while time.monotonic() < end:
            lat.append(one_page(c, body, a.want))
        q.put(("done", lat))
    except Exception as e:
        q.put(("error", repr(e)))


def cmd_measure(a):
    # a text query over every message can take a minute (Cyrus, 100,000)
    c = Client(a.session_url, a.user, a.password, timeout=600 if a.text else 120)
    c.session()
    mailbox, total = inbox(c)
    if a.expect and total != a.expect:
        raise SystemExit(f"{a.label}: INBOX holds {total} messages, expected {a.expect}")
    body = page_body(c, mailbox, a.text)
    for _ in range(a.warmup):
        one_page(c, body, a.want)
    st, answer = c.request("POST", c.api, body)   # its size, for the table
    seq = [one_page(c, body, a.want) for _ in range(a.seq)]
    # concurrent phase: K processes (no GIL between them), started together
    ctx = multiprocessing.get_context("fork")
    start, q = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=client_proc, args=(a, mailbox, start, q)) for _ in range(a.clients)]
    for p in procs:
        p.start()
    errors, lat = [], []
    for _ in procs:
        kind, v = q.get(timeout=120)
        if kind == "error":
            errors.append(v)
    cpu0, t0 = (tree_cpu(a.pid) if a.pid else 0.0), time.monotonic()
    start.set()
    done = 0
    while done < len(procs) - len(errors):
        kind, v = q.get(timeout=a.duration + 120)
        if kind == "error":
            errors.append(v)
        else:
            lat.extend(v)
            done += 1
    wall = time.monotonic() - t0
    cpu1 = tree_cpu(a.pid) if a.pid else 0.0
    for p in procs:
        p.join(10)
    n = len(lat)
    res = {"label": a.label, "messages": total, "loadavg": loadavg(), "answer_bytes": len(answer),
           "seq_n": len(seq), "seq_p50_ms": round(pct(seq, 0.5), 2),
           "seq_p90_ms": round(pct(seq, 0.9), 2), "seq_p99_ms": round(pct(seq, 0.99), 2),
           "seq_mean_ms": round(statistics.mean(seq) * 1000, 2) if seq else 0,
           "clients": a.clients, "duration_s": round(wall, 2), "conc_n": n,
           "conc_per_s": round(n / wall, 1) if wall else 0,
           "conc_p50_ms": round(pct(lat, 0.5), 2), "conc_p90_ms": round(pct(lat, 0.9), 2),
           "server_cpu_s": round(cpu1 - cpu0, 2),
           "server_cpu_ms_per_req": round((cpu1 - cpu0) * 1000 / n, 2) if n else 0,
           "errors": errors[:5]}
    print("MEASURE " + json.dumps(res))
    return 1 if errors else 0


# ---------------------------------------------------------------- idle
def cmd_idle(a):
    c = Client(a.session_url, a.user, a.password)
    c.session()
    if not c.event_source:
        print("IDLE " + json.dumps({"label": a.label, "error": "no eventSourceUrl in the session"}))
        return 1
    tmpl = urllib.parse.urljoin(c.base + "/", c.event_source)
    url = urllib.parse.urlsplit(tmpl.replace("{types}", "*").replace("{closeafter}", "no")
                                .replace("{ping}", "0"))
    req = (f"GET {url.path}?{url.query} HTTP/1.1\r\nHost: {url.netloc}\r\n"
           f"Authorization: {c.auth}\r\nAccept: text/event-stream\r\n\r\n").encode()
    time.sleep(1)
    before = tree_mem(a.pid)
    sel = selectors.DefaultSelector()
    socks, pending, ready, failed = [], {}, 0, []
    deadline, opened = time.monotonic() + a.setup_timeout, 0
    t0 = time.monotonic()
    while (opened < a.count or pending) and time.monotonic() < deadline:
        while opened < a.count and len(pending) < a.parallel:
            s = socket.create_connection((url.hostname, url.port or 80), timeout=30)
            s.sendall(req)
            s.setblocking(False)
            socks.append(s)
            pending[s] = b""
            sel.register(s, selectors.EVENT_READ)
            opened += 1
        for key, _ in sel.select(timeout=1.0):
            s = key.fileobj
            try:
                d = s.recv(4096)
            except BlockingIOError:
                continue
            buf = pending[s] + d
            if not d or b"\r\n\r\n" in buf:
                sel.unregister(s)
                del pending[s]
                if buf.startswith(b"HTTP/1.1 200") or buf.startswith(b"HTTP/1.0 200"):
                    ready += 1
                else:
                    failed.append(buf[:200].decode(errors="replace"))
            else:
                pending[s] = buf
    setup = time.monotonic() - t0
    time.sleep(a.hold)
    with_ = tree_mem(a.pid)
    alive = 0
    for s in socks:   # a stream the server ended reads as EOF now
        try:
            alive += s.recv(65536, socket.MSG_PEEK) != b""
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    for s in socks:
        s.close()
    time.sleep(3)
    after = tree_mem(a.pid)
    per = lambda i: round((with_[i] - before[i]) / ready, 1) if ready else 0
    res = {"label": a.label, "requested": a.count, "ready": ready, "alive_at_end": alive,
           "setup_s": round(setup, 1), "failed": len(failed), "first_failures": failed[:3],
           "before": before, "with": with_, "after": after,
           "rss_kb_per_conn": per(0), "pss_kb_per_conn": per(1), "loadavg": loadavg()}
    print("IDLE " + json.dumps(res))
    return 0 if ready == a.count else 1


# ---------------------------------------------------------------- index
def fts_metrics(mgmt):
    """(accounts pending, documents indexed) from evmaild's /metrics."""
    st, body = http_get(mgmt, "/metrics")
    if st != 200:
        raise RuntimeError(f"/metrics: HTTP {st}")
    vals = {}
    for line in body.decode().splitlines():
        k, _, v = line.partition(" ")
        if k in ("evmail_fts_accounts_pending", "evmail_fts_documents_indexed_total"):
            vals[k] = int(float(v))
    if len(vals) != 2:
        raise RuntimeError("/metrics has no evmail_fts_* samples (an evmaild without them?)")
    return vals["evmail_fts_accounts_pending"], vals["evmail_fts_documents_indexed_total"]


def cmd_wait_index(a):
    c = Client(a.session_url, a.user, a.password)
    c.session()
    body = page_body(c, None, "fox")
    t0 = time.monotonic()
    first = one_page(c, body, 50)          # activates the indexer
    pending = docs = -1
    while time.monotonic() - t0 < a.timeout:
        pending, docs = fts_metrics(a.mgmt)
        if pending == 0 and docs >= a.docs:
            break
        time.sleep(0.5)
    dt = time.monotonic() - t0
    ok = pending == 0 and docs >= a.docs
    print("INDEX " + json.dumps({"seconds": round(dt, 1), "documents": docs, "pending": pending,
                                "first_query_ms": round(first * 1000, 1), "complete": ok,
                                "loadavg": loadavg()}))
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description="run-jmap-bench.sh's client")
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fill")
    f.add_argument("host")
    f.add_argument("port", type=int)
    f.add_argument("rcpt")
    f.add_argument("n", type=int)
    f.add_argument("--parallel", type=int, default=8)
    f.add_argument("--size", type=int, default=1500)
    f.add_argument("--first", type=int, default=0)
    sp = sub.add_parser("spool")
    sp.add_argument("dir")
    sp.add_argument("rcpt")
    sp.add_argument("n", type=int)
    sp.add_argument("--size", type=int, default=1500)
    sp.add_argument("--first", type=int, default=1)
    m = sub.add_parser("measure")
    for x in ("label", "session_url", "user", "password"):
        m.add_argument(x)
    m.add_argument("--expect", type=int, default=0)
    m.add_argument("--seq", type=int, default=200)
    m.add_argument("--warmup", type=int, default=10)
    m.add_argument("--clients", type=int, default=8)
    m.add_argument("--duration", type=float, default=20)
    m.add_argument("--pid", type=int, default=0)
    m.add_argument("--text", default=None, help='Email/query {"text": TEXT} instead of the INBOX page')
    m.add_argument("--want", type=int, default=50, help="emails each answer must hold")
    i = sub.add_parser("idle")
    for x in ("label", "session_url", "user", "password"):
        i.add_argument(x)
    i.add_argument("count", type=int)
    i.add_argument("--pid", type=int, required=True)
    i.add_argument("--parallel", type=int, default=100)
    i.add_argument("--hold", type=float, default=5)
    i.add_argument("--setup-timeout", type=float, default=300)
    w = sub.add_parser("wait-index")
    for x in ("session_url", "user", "password", "mgmt"):
        w.add_argument(x)
    w.add_argument("--docs", type=int, required=True)
    w.add_argument("--timeout", type=float, default=1800)
    a = ap.parse_args()
    return {"fill": cmd_fill, "spool": cmd_spool, "measure": cmd_measure, "idle": cmd_idle,
            "wait-index": cmd_wait_index}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
