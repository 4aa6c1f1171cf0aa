#!/usr/bin/env python3
"""smtp_bench_drive.py - the timed part of bench/run-smtp-bench.sh.

  smtp_bench_drive.py run --name NAME --port PORT --n N --out FILE.jsonl
        [--sessions 20] [--users 20] [--size 4096] [--domain bench.test]
        [--from sender@ext.test] [--extra "-d"] [--warmup 20] [--timeout 300]
        ( --maildirs DIR --queue DIR          # a Postfix instance
        | --mgmt HOST:PORT )                  # an evmaild node
  smtp_bench_drive.py table FILE.jsonl [--title TEXT]...
  smtp_bench_drive.py wait-http HOST:PORT PATH [--status 200] [--timeout S]
  smtp_bench_drive.py wait-smtp PORT [--timeout S]
  smtp_bench_drive.py free-port [--pair]

`run` starts one smtp-source per session at the same time, session i
sending floor/ceil(N / sessions) messages to user((i mod users)+1)@domain
(`smtp-source -s 1 -l SIZE -m M -f FROM -t userK@DOMAIN 127.0.0.1:PORT`),
so the sessions together send N messages spread evenly over the users
(smtp-source sends one recipient per message). First --warmup messages go
the same way, untimed, and are waited for until stored. Then the clock
starts just before the first smtp-source is started:

  accepted   all smtp-source processes exited 0 (every DATA got its 250)
  stored     Postfix: the queue is empty and N more files are in the
             maildirs; evmail: GET /readyz is 200 and the accounts'
             "messages" (GET /admin/accounts/ADDR, what `evmailctl account
             show --json` prints) add up to N more.

It appends one JSON object per run to --out. Every wait is bounded by
--timeout; smtp-source processes still running then (or on SIGTERM/SIGINT)
are killed (they are in their own sessions). Exit 1 when a smtp-source
failed or the count never reached N (the result line says so), else 0.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

from bench_common import (QUEUE_SUBDIRS, add_tool_parsers, count_files, http_get,
                          finish_run, install_signal_handlers, loadavg, rate,
                          ratio_printer, run_tool, start_table)

PROG = "smtp_bench_drive"


def maildir_count(maildirs):
    """Messages delivered to the maildirs (new/ and cur/ of every user)."""
    n = 0
    try:
        users = os.listdir(maildirs)
    except OSError:
        return 0
    for u in users:
        for sub in ("new", "cur"):
            try:
                n += len(os.listdir(os.path.join(maildirs, u, sub)))
            except OSError:
                pass
    return n


def evmail_state(mgmt, users, domain):
    """(readyz status, sum of the accounts' messages)."""
    st, _ = http_get(mgmt, "/readyz")
    total = 0
    for k in range(1, users + 1):
        code, body = http_get(mgmt, f"/admin/accounts/user{k}%40{domain}")
        if code == 200:
            total += int(json.loads(body).get("messages", 0))
    return st, total


def start_sources(a, n, tag, logdir, extra):
    """Starts one smtp-source per session for n messages in all."""
    sessions = a.sessions
    per = [n // sessions + (1 if i < n % sessions else 0) for i in range(sessions)]
    procs, first = [], None
    for i, m in enumerate(per):
        if m == 0:
            continue
        rcpt = f"user{(i % a.users) + 1}@{a.domain}"
        cmd = ["smtp-source", *extra, "-s", "1", "-l", str(a.size), "-m", str(m),
               "-f", a.sender, "-t", rcpt, f"127.0.0.1:{a.port}"]
        if first is None:
            first = " ".join(cmd)
        log = open(os.path.join(logdir, f"smtp-source-{a.name}-{tag}-{i}.log"), "wb")
        procs.append((subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True), log, i))
    return procs, first


def wait_sources(a, procs, tag, logdir, deadline):
    """Waits for every smtp-source; returns a status string."""
    failed = []
    for p, _log, i in procs:
        try:
            rc = p.wait(max(deadline - time.monotonic(), 0.01))
        except subprocess.TimeoutExpired:
            return "timeout waiting for smtp-source"
        if rc != 0:
            failed.append((i, rc))
    if not failed:
        return "ok"
    for i, _ in failed[:3]:
        path = os.path.join(logdir, f"smtp-source-{a.name}-{tag}-{i}.log")
        try:
            with open(path, "rb") as f:
                sys.stderr.write(f"--- {path} ---\n" + f.read()[-2000:].decode("utf-8", "replace") + "\n")
        except OSError:
            pass
    return "smtp-source failed: " + ", ".join(f"session {i} exit {rc}" for i, rc in failed)


def stop_sources(procs):
    for p, log, _ in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            p.wait()
        log.close()


def stored_state(a):
    """(done-predicate input, count, state dict)."""
    if a.maildirs:
        q = count_files(a.queue, QUEUE_SUBDIRS)
        d = maildir_count(a.maildirs)
        return q == 0, d, {"queue_files": q, "delivered": d}
    st, d = evmail_state(a.mgmt, a.users, a.domain)
    return st == 200, d, {"readyz": st, "messages": d}


def wait_stored(a, target, deadline):
    """Polls until the queue is empty / readyz is 200 and count >= target."""
    while True:
        settled, count, state = stored_state(a)
        if settled and count >= target:
            return "ok", count, state
        if time.monotonic() >= deadline:
            return f"timeout waiting for storage: {state}", count, state
        time.sleep(0.01 if a.maildirs else 0.02)


def cmd_run(a):
    logdir = a.logdir or os.path.dirname(os.path.abspath(a.out))
    extra = a.extra.split() if a.extra else []
    res = {"name": a.name, "n": a.n, "sessions": a.sessions, "users": a.users, "size": a.size,
           "warmup": a.warmup}
    status = "ok"
    procs = []
    try:
        # warm-up, not timed: every session once, stored, so Postfix has its
        # smtpd/cleanup/virtual processes and evmail its first blob/appends done
        if a.warmup > 0:
            deadline = time.monotonic() + a.timeout
            procs, _ = start_sources(a, a.warmup, "warmup", logdir, extra)
            status = wait_sources(a, procs, "warmup", logdir, deadline)
            stop_sources(procs)
            procs = []
            if status == "ok":
                status, _, _ = wait_stored(a, a.warmup, deadline)
            if status != "ok":
                status = "warm-up: " + status
        if status == "ok":
            _, base, _ = stored_state(a)
            res["baseline"] = base
            res["load_start"] = loadavg()
            t0 = time.monotonic()
            deadline = t0 + a.timeout
            procs, first = start_sources(a, a.n, "timed", logdir, extra)
            res["command"] = first
            status = wait_sources(a, procs, "timed", logdir, deadline)
            res["accept_s"] = time.monotonic() - t0
            stop_sources(procs)
            procs = []
            if status == "ok":
                status, count, state = wait_stored(a, base + a.n, deadline)
                res["stored_s"] = time.monotonic() - t0
                res["stored_state"] = state
                res["stored_count"] = count - base
            res["load_end"] = loadavg()
    finally:
        stop_sources(procs)
    return finish_run(a.out, res, status, (
        ("accept_s", "; {n} accepted in {accept_s:.3f} s"),
        ("stored_s", ", stored after {stored_s:.3f} s ({stored_state})")))


def cmd_table(a):
    rows, by = start_table(a.file, a.title)
    print(f"  {'path':<44} {'msg/s':>9} {'seconds':>9} {'messages':>9}  notes")

    def line(label, r, key, note=""):
        if r is None or key not in r:
            print(f"  {label:<44} {'-':>9} {'-':>9} {'-':>9}  {note or 'not run'}")
            return None
        s = r[key]
        ok = r["status"] == "ok"
        cnt = r["n"] if key == "accept_s" else r.get("stored_count", "?")
        v = rate(r["n"], s) if ok else 0.0
        print(f"  {label:<44} {v:>9.0f} {s:>9.3f} {cnt:>9}  {note if ok else r['status']}")
        return v if ok else None

    rates = {}
    for name, label_acc, label_st, note_acc, note_st in (
            ("evmail-embedded", "evmail embedded: 250 (durable + applied)", "evmail embedded: projector applied",
             "250 = fsync'ed in the log, applied", "readyz 200, account messages = N"),
            ("evmail-kafka", "evmail kafka: 250 (acked + applied)", "evmail kafka: projector applied",
             "250 = acks=all, applied", "readyz 200, account messages = N"),
            ("postfix", "postfix: 250 (queued)", "postfix: delivered to maildir",
             "250 = fsync'ed queue file", "queue empty, N files in maildirs")):
        r = by.get(name)
        if r is None and name == "evmail-kafka":
            print(f"  {'evmail kafka':<44} {'-':>9} {'-':>9} {'-':>9}  not run (KAFKA=1 or --kafka)")
            continue
        rates[name + ":accept"] = line(label_acc, r, "accept_s", note_acc)
        rates[name + ":stored"] = line(label_st, r, "stored_s", note_st)
    print()
    print("  ratios (evmail / postfix, higher is better for evmail)")
    ratio = ratio_printer(rates, 60, 7)
    ratio("evmail embedded 250 / postfix 250 (queued)", "evmail-embedded:accept", "postfix:accept")
    ratio("evmail embedded applied / postfix delivered to maildir", "evmail-embedded:stored", "postfix:stored")
    if "evmail-kafka" in by:
        ratio("evmail kafka 250 / postfix 250 (queued)", "evmail-kafka:accept", "postfix:accept")
        ratio("evmail kafka applied / postfix delivered to maildir", "evmail-kafka:stored", "postfix:stored")
    print()
    for r in rows:
        print(f"  {r['name']}: load average {r.get('load_start')} at start, {r.get('load_end')} at end")
    if rows and rows[0].get("command"):
        print(f"  per session: {rows[0]['command']}")
    return 0 if all(r["status"] == "ok" for r in rows) else 1


def main():
    install_signal_handlers()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--name", required=True)
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--n", type=int, required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--logdir")
    r.add_argument("--sessions", type=int, default=20)
    r.add_argument("--users", type=int, default=20)
    r.add_argument("--size", type=int, default=4096)
    r.add_argument("--domain", default="bench.test")
    r.add_argument("--from", dest="sender", default="sender@ext.test")
    r.add_argument("--extra", default="", help="more smtp-source options, e.g. -d")
    r.add_argument("--timeout", type=float, default=300.0)
    r.add_argument("--warmup", type=int, default=20, help="untimed messages first (0: none)")
    r.add_argument("--maildirs")
    r.add_argument("--queue")
    r.add_argument("--mgmt")
    t = sub.add_parser("table")
    t.add_argument("file")
    t.add_argument("--title", action="append")
    add_tool_parsers(sub, pair=True)
    a = ap.parse_args()
    rc = run_tool(a, PROG)
    if rc is not None:
        return rc
    if a.cmd == "run":
        if bool(a.maildirs) == bool(a.mgmt) or (a.maildirs and not a.queue):
            ap.error("run needs --maildirs and --queue (postfix) or --mgmt (evmail)")
        return cmd_run(a)
    return cmd_table(a)


if __name__ == "__main__":
    sys.exit(main())
