#!/usr/bin/env python3
"""storage_bench_drive.py - the client side of run-storage-bench.sh.

  deliver-smtp PORT DOMAIN USERS N SIZE     the N messages over SMTP (one
                                            connection per user, in threads)
  prefill-maildir ROOT DOMAIN USERS N SIZE UID GID
                                            the same N messages into
                                            ROOT/userK@DOMAIN/Maildir/new
  append-imap PORT PREFIX DOMAIN USERS N SIZE PASSWORD
                                            the same N messages by IMAP APPEND
                                            to PREFIXuserK@DOMAIN (Dovecot mdbox)
  expunge PORT PREFIX DOMAIN USERS PASSWORD KEEP_EVERY LIVE_JSON
                                            per user: UID STORE +FLAGS.SILENT
                                            (\\Deleted) on every message but one
                                            in KEEP_EVERY, EXPUNGE; writes the
                                            live UIDs to LIVE_JSON; prints JSON
  fetch PORT PREFIX DOMAIN PASSWORD LIVE_JSON COUNT SEED
                                            COUNT random live messages, one
                                            client: UID FETCH u BODY.PEEK[];
                                            prints JSON (p50, p90 ms)
  disk-evmail DATA_DIR                      JSON: view, log, log_blob, log_mail
  disk-dovecot ROOT PREFIX                  JSON: mail, index of the users
                                            whose directory starts with PREFIX
  metric MGMT NAME                          a /metrics value (0 when absent)
  wait-metric MGMT NAME TARGET TIMEOUT      until NAME >= TARGET; prints the
                                            value and the seconds waited
  wait-stable PATH SECONDS TIMEOUT          until du(PATH) has not changed for
                                            SECONDS; prints bytes and seconds
  checkpoint MGMT OUT                       GET /admin/checkpoint to OUT (a
                                            view checkpoint flushes the memtable)
  table RESULTS                             the table of run-storage-bench.sh

Message i (1..N) goes to user ((i - 1) mod USERS) + 1, and is the same
bytes for every server. Sizes are allocated bytes (st_blocks x 512: what
du(1) counts), plus the apparent size. The small tools of bench_common.py
(wait-http, wait-smtp, free-port) are here too.

Python 3, standard library only."""

import argparse
import imaplib
import json
import os
import random
import re
import smtplib
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_common  # noqa: E402


# ---------------------------------------------------------------- messages
def message(addr, i, size):
    """Message i of addr: text/plain, SIZE bytes (CRLF lines)."""
    head = (f"From: Sender {i % 50} <sender{i % 50}@example.org>\r\nTo: <{addr}>\r\n"
            f"Subject: storage bench message {i} for {addr}\r\n"
            f"Date: Sun, 29 Nov 2026 10:{i % 60:02d}:00 +0000\r\n"
            f"Message-ID: <storage-{i}-{addr}>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n\r\n")
    body, n, k = [], len(head), 0
    while n < size:
        line = (f"line {k} of message {i} " + "x" * 60)[: max(0, min(70, size - n - 2))] + "\r\n"
        body.append(line)
        n += len(line)
        k += 1
    return (head + "".join(body)).encode()


def user_addr(prefix, k, domain):
    return f"{prefix}user{k}@{domain}"


def user_messages(k, users, n):
    """The message numbers of user k."""
    return range(k, n + 1, users)


def run_threads(fn, users):
    """fn(k) for k in 1..users in threads; raises the first failure."""
    errors = []

    def wrap(k):
        try:
            fn(k)
        except Exception as e:  # reported below, the run fails
            errors.append(f"user{k}: {e!r}")
    ts = [threading.Thread(target=wrap, args=(k,)) for k in range(1, users + 1)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise SystemExit("storage_bench_drive: " + "; ".join(errors[:5]))


# ---------------------------------------------------------------- prefill
def deliver_smtp(a):
    def one(k):
        addr = user_addr("", k, a.domain)
        s = smtplib.SMTP("127.0.0.1", a.port, timeout=120)
        for i in user_messages(k, a.users, a.n):
            s.sendmail(f"sender{i % 50}@example.org", [addr], message(addr, i, a.size))
        s.quit()
    run_threads(one, a.users)


def prefill_maildir(a):
    for k in range(1, a.users + 1):
        addr = user_addr("", k, a.domain)
        md = os.path.join(a.root, addr, "Maildir")
        for d in ("new", "cur", "tmp"):
            os.makedirs(os.path.join(md, d), exist_ok=True)
        for i in user_messages(k, a.users, a.n):
            data = message(addr, i, a.size)
            name = f"{1700000000 + i}.M{i}P{os.getpid()}.bench,S={len(data)}"
            with open(os.path.join(md, "tmp", name), "wb") as f:
                f.write(data)
            os.rename(os.path.join(md, "tmp", name), os.path.join(md, "new", name))
        for dp, dn, fn in os.walk(os.path.join(a.root, addr)):
            for x in dn + fn:
                os.chown(os.path.join(dp, x), a.uid, a.gid)
        os.chown(os.path.join(a.root, addr), a.uid, a.gid)


def imap_login(port, user, password):
    m = imaplib.IMAP4("127.0.0.1", port, timeout=300)
    m.login(user, password)
    return m


def append_imap(a):
    def one(k):
        m = imap_login(a.port, user_addr(a.prefix, k, a.domain), a.password)
        addr = user_addr("", k, a.domain)    # the same bytes as the maildir user's
        for i in user_messages(k, a.users, a.n):
            typ, data = m.append("INBOX", None, None, message(addr, i, a.size))
            if typ != "OK":
                raise RuntimeError(f"APPEND: {data!r}")
        m.logout()
    run_threads(one, a.users)


# ---------------------------------------------------------------- expunge
def uid_ranges(uids):
    """Sorted UIDs as IMAP sequence-set pieces ("3:9", "11")."""
    out, start, prev = [], None, None
    for u in uids:
        if start is None:
            start = prev = u
        elif u == prev + 1:
            prev = u
        else:
            out.append(f"{start}:{prev}" if prev > start else str(start))
            start = prev = u
    if start is not None:
        out.append(f"{start}:{prev}" if prev > start else str(start))
    return out


def expunge(a):
    live, totals, lock = {}, {"expunged": 0, "kept": 0, "retries": 0}, threading.Lock()

    def one(k):
        user = user_addr(a.prefix, k, a.domain)
        m = imap_login(a.port, user, a.password)
        typ, data = m.select("INBOX")
        if typ != "OK":
            raise RuntimeError(f"SELECT: {data!r}")
        typ, data = m.uid("SEARCH", "ALL")
        uids = sorted(int(x) for x in data[0].split())
        keep = [u for n, u in enumerate(uids) if n % a.keep_every == 0]
        gone = [u for n, u in enumerate(uids) if n % a.keep_every != 0]
        pieces = uid_ranges(gone)
        for s in range(0, len(pieces), 200):          # lines of ~2 KB
            typ, data = m.uid("STORE", ",".join(pieces[s:s + 200]), "+FLAGS.SILENT", "(\\Deleted)")
            if typ != "OK":
                raise RuntimeError(f"UID STORE: {data!r}")
        # A server that answers [UNAVAILABLE] (RFC 5530: "try again
        # later") gets what a client does: the EXPUNGE again; the retries
        # are reported, they are part of the result.
        for attempt in range(6):
            typ, data = m.expunge()
            if typ == "OK" or b"[UNAVAILABLE]" not in b" ".join(x for x in data if isinstance(x, bytes)):
                break
            with lock:
                totals["retries"] += 1
            time.sleep(2)
        if typ != "OK":
            raise RuntimeError(f"EXPUNGE: {data!r}")
        typ, data = m.uid("SEARCH", "ALL")
        left = sorted(int(x) for x in data[0].split())
        if left != keep:
            raise RuntimeError(f"after EXPUNGE {len(left)} messages, expected {len(keep)}")
        m.logout()
        with lock:
            live[user] = keep
            totals["expunged"] += len(gone)
            totals["kept"] += len(keep)
    t0 = time.monotonic()
    run_threads(one, a.users)
    with open(a.live_json, "w") as f:
        json.dump(live, f)
    totals["seconds"] = round(time.monotonic() - t0, 2)
    print(json.dumps(totals))


# ---------------------------------------------------------------- fetch
def fetch(a):
    with open(a.live_json) as f:
        live = json.load(f)
    rnd = random.Random(a.seed)
    picks = [(u, uids) for u, uids in sorted(live.items()) if uids]
    conns = {}
    for u, _ in picks:
        m = imap_login(a.port, u, a.password)
        typ, data = m.select("INBOX", readonly=True)
        if typ != "OK":
            raise SystemExit(f"storage_bench_drive: SELECT {u}: {data!r}")
        conns[u] = m
    if a.distinct:
        # each message at most once (blob.store = log: a miss each after the
        # cache was removed, then with the same seed a hit each)
        every = [(u, uid) for u, uids in picks for uid in uids]
        order = rnd.sample(every, min(a.count, len(every)))
    else:
        order = []
        for _ in range(a.count):
            u, uids = rnd.choice(picks)
            order.append((u, rnd.choice(uids)))
    times, octets = [], 0
    for u, uid in order:
        t0 = time.perf_counter()
        typ, data = conns[u].uid("FETCH", str(uid), "(BODY.PEEK[])")
        times.append((time.perf_counter() - t0) * 1000)
        if typ != "OK" or not data or not isinstance(data[0], tuple):
            raise SystemExit(f"storage_bench_drive: UID FETCH {uid} of {u}: {data!r}")
        octets += len(data[0][1])
    for m in conns.values():
        m.logout()
    times.sort()
    print(json.dumps({"fetches": len(times), "p50_ms": round(statistics.median(times), 3),
                      "p90_ms": round(times[int(len(times) * 0.9) - 1], 3),
                      "p99_ms": round(times[max(0, int(len(times) * 0.99) - 1)], 3),
                      "mean_octets": octets // max(1, len(times))}))


def blob_store_metrics(a):
    """The evmail_blob_store_* metrics of a blob.store = log node."""
    st, body = bench_common.http_get(a.mgmt, "/metrics")
    if st != 200:
        raise SystemExit(f"storage_bench_drive: /metrics: HTTP {st}")
    out = {}
    for line in body.decode(errors="replace").splitlines():
        f = line.split()
        if len(f) == 2 and f[0].startswith("evmail_blob_store_"):
            out[f[0][len("evmail_blob_store_"):]] = int(float(f[1]))
    print(json.dumps(out))


# ---------------------------------------------------------------- disk
def du(path, pred=None):
    """(allocated, apparent) bytes of the files under path (pred(relpath))."""
    alloc = app = 0
    if not os.path.exists(path):
        return 0, 0
    for dp, _dn, fn in os.walk(path):
        for x in fn:
            p = os.path.join(dp, x)
            if pred is not None and not pred(os.path.relpath(p, path)):
                continue
            try:
                st = os.lstat(p)
            except OSError:
                continue
            alloc += st.st_blocks * 512
            app += st.st_size
    return alloc, app


def disk_evmail(a):
    log = os.path.join(a.data_dir, "log")
    out = {}
    for key, path in (("view", os.path.join(a.data_dir, "view")), ("log", log),
                      ("cache", os.path.join(a.data_dir, "blobcache"))):
        out[key], out[key + "_apparent"] = du(path)
    # RocksDB's files: tables, blob files (bodies), the write-ahead log
    # (preallocated: ~1.1 x projector.view_write_buffer_mb allocated at
    # once), the rest (MANIFEST, OPTIONS, its info LOG)
    view = os.path.join(a.data_dir, "view")
    for key, suffix in (("view_sst", ".sst"), ("view_blobf", ".blob"), ("view_wal", ".log")):
        out[key] = du(view, lambda rel, x=suffix: rel.endswith(x) and "/" not in rel)[0]
    out["view_other"] = out["view"] - out["view_sst"] - out["view_blobf"] - out["view_wal"]
    out["log_blob"] = out["log_mail"] = 0
    if os.path.isdir(log):
        for t in os.listdir(log):
            for suffix in ("blob", "mail"):
                if t.endswith("." + suffix):
                    out["log_" + suffix] += du(os.path.join(log, t))[0]
    print(json.dumps(out))


# Maildir: messages are the files in cur/, new/, tmp/; mdbox: storage/m.*;
# everything else (dovecot.index*, dovecot-uidlist, the map index) is index.
MAIL_FILE = re.compile(r"(^|/)(cur|new|tmp)/[^/]+$|(^|/)storage/m\.\d+$")


def disk_dovecot(a):
    mail = index = mail_app = 0
    for d in sorted(os.listdir(a.root)) if os.path.isdir(a.root) else []:
        if not d.startswith(a.prefix) or (a.prefix == "" and d.startswith("mdb-")):
            continue
        m = du(os.path.join(a.root, d), lambda rel: MAIL_FILE.search(rel) is not None)
        i = du(os.path.join(a.root, d), lambda rel: MAIL_FILE.search(rel) is None)
        mail += m[0]
        mail_app += m[1]
        index += i[0]
    print(json.dumps({"mail": mail, "index": index, "total": mail + index, "mail_apparent": mail_app}))


# ---------------------------------------------------------------- metrics
def metric_value(mgmt, name):
    st, body = bench_common.http_get(mgmt, "/metrics")
    if st != 200:
        raise SystemExit(f"storage_bench_drive: /metrics: HTTP {st}")
    for line in body.decode(errors="replace").splitlines():
        f = line.split()
        if len(f) == 2 and f[0] == name:
            return float(f[1])
    return 0.0


def cmd_metric(a):
    v = metric_value(a.mgmt, a.name)
    print(int(v) if v == int(v) else v)


def wait_metric(a):
    t0 = time.monotonic()
    v = bench_common.wait_until(lambda: (lambda x: x if x >= a.target else None)(metric_value(a.mgmt, a.name)),
                                t0 + a.timeout, step=0.5)
    if v is None:
        v = metric_value(a.mgmt, a.name)
    print(json.dumps({"value": int(v), "target": a.target, "reached": v >= a.target,
                      "seconds": round(time.monotonic() - t0, 1)}))


def wait_stable(a):
    t0 = time.monotonic()
    last, since = du(a.path)[0], time.monotonic()
    while time.monotonic() - t0 < a.timeout:
        time.sleep(0.5)
        now = du(a.path)[0]
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= a.seconds:
            break
    print(json.dumps({"bytes": last, "stable": time.monotonic() - since >= a.seconds,
                      "seconds": round(time.monotonic() - t0, 1)}))


def checkpoint(a):
    import shutil
    import urllib.request
    req = urllib.request.Request(f"http://{a.mgmt}/admin/checkpoint", headers={"Connection": "close"})
    with urllib.request.urlopen(req, timeout=600) as r, open(a.out, "wb") as f:
        shutil.copyfileobj(r, f, 1 << 20)
    print(os.path.getsize(a.out))


# ---------------------------------------------------------------- table
STEPS = (("delivered", "delivered"), ("delivered_ckpt", "dlv+ckpt"), ("expunged", "expunged"), ("gc", "GC+ckpt"),
         ("compacted", "log cmp"), ("removed", "acct rm"))


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def table(a):
    """The result table of run-storage-bench.sh from its results dir
    (disk-STEP.json, gc-*.json, fetch-*.json, ...); the run's parameters
    come from the environment."""
    env = os.environ
    disk = {}
    for step, _ in STEPS:
        try:
            with open(os.path.join(a.results, f"disk-{step}.json")) as f:
                disk[step] = {r["server"]: r["v"] for r in map(json.loads, f)}
        except OSError:
            disk[step] = None
    n, size = int(env["N"]), int(env["SIZE"])
    mb = 1e6
    print(f"evmail vs Dovecot: per-node disk before and after deletion, one run "
          f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})")
    print(f"  {env.get('HEAD_LINE', '')}")
    print(f"  {n} messages of {size} B over {env['USERS']} users ({n * size / mb:.1f} MB of mail); "
          f"expunge: all but 1 in {env['KEEP_EVERY']} ({env['EXPUNGED']} per server)")
    print("  evmail: embedded log, log.segment_bytes 256 KiB, blob.gc_interval_s 1, blob.gc_grace_s 1, "
          "mail.tombstone_days 0.0001")
    print("  sizes: MB allocated on disk (du); GC+ckpt = evmail: body GC done + a view checkpoint "
          "(memtable flush); mdbox: doveadm purge; dlv+ckpt = delivered, then a view checkpoint")
    if env.get("LOGMODE") == "1":
        print(f"  evmail log-mode: a second node with blob.store = log, blob.cache_size {env.get('CACHE_SIZE')}, "
              "the same messages and steps")
    print()
    cols = [label for _, label in STEPS]
    print(f"  {'MB':<30}" + "".join(f"{c:>11}" for c in cols))

    def row(label, fn):
        cells = []
        for step, _ in STEPS:
            d = disk[step]
            v = fn(d) if d is not None else None
            cells.append("n/a" if v is None else f"{v:.2f}" if isinstance(v, float) and v < 100 else
                         f"{v:.1f}" if isinstance(v, float) else str(v))
        print(f"  {label:<30}" + "".join(f"{c:>11}" for c in cells))

    def get(server, key):
        return lambda d: d[server][key] / mb if server in d else None

    def evm_total(d, server="evmail"):
        return (d[server]["view"] + d[server].get("cache", 0) + d[server]["log"]) / mb
    row("evmail view (RocksDB)", get("evmail", "view"))
    row("  tables (.sst)", get("evmail", "view_sst"))
    row("  blob files (.blob)", get("evmail", "view_blobf"))
    row("  WAL (.log, preallocated)", get("evmail", "view_wal"))
    row("  other (MANIFEST, LOG)", get("evmail", "view_other"))
    row("evmail log (embedded)", get("evmail", "log"))
    row("  of which blob topic", get("evmail", "log_blob"))
    row("  of which mail topic", get("evmail", "log_mail"))
    row("evmail total", evm_total)
    logmode = env.get("LOGMODE") == "1"
    if logmode:
        row("evmail log-mode view", get("evmail-log", "view"))
        row("  WAL (.log, preallocated)", get("evmail-log", "view_wal"))
        row("evmail log-mode cache", get("evmail-log", "cache"))
        row("evmail log-mode log", get("evmail-log", "log"))
        row("evmail log-mode total", lambda d: evm_total(d, "evmail-log") if "evmail-log" in d else None)
        def no_wal(d, server):
            return d[server]["view"] - d[server]["view_wal"]
        row("ratio view w/o WAL: log / view", lambda d: no_wal(d, "evmail-log") / no_wal(d, "evmail")
            if "evmail-log" in d and no_wal(d, "evmail") else None)
    row("Dovecot maildir: mail files", get("maildir", "mail"))
    row("Dovecot maildir: index", get("maildir", "index"))
    row("Dovecot maildir: total", get("maildir", "total"))
    mdbox = env.get("MDBOX") == "1"
    if mdbox:
        row("Dovecot mdbox: storage", get("mdbox", "mail"))
        row("Dovecot mdbox: index", get("mdbox", "index"))
        row("Dovecot mdbox: total", get("mdbox", "total"))

    def ratio(server, evm="evmail"):
        def f(d):
            t = d.get(server, {}).get("total", 0)
            return evm_total(d, evm) / (t / mb) if t and evm in d else "-"
        return f
    row("ratio evmail / maildir", ratio("maildir"))
    if mdbox:
        row("ratio evmail / mdbox", ratio("mdbox"))
    if logmode:
        row("ratio log-mode / maildir", ratio("maildir", "evmail-log"))
        if mdbox:
            row("ratio log-mode / mdbox", ratio("mdbox", "evmail-log"))
        row("ratio log-mode view / maildir", lambda d: d["evmail-log"]["view"] / d["maildir"]["total"]
            if "evmail-log" in d and d.get("maildir", {}).get("total") else None)
    print()
    for step in ("expunged", "removed"):
        g = load_json(os.path.join(a.results, f"gc-{step}.json"))
        if g:
            print(f"  GC after {step}: evmail_blob_gc_blobs_deleted_total {g['value']} "
                  f"(waited for {g['target']}: {'reached' if g['reached'] else 'NOT reached'} "
                  f"after {g['seconds']} s)")
        c = load_json(os.path.join(a.results, f"compact-{step}.json"))
        if c:
            print(f"  log compaction after {step}: size stable ({c['stable']}) after {c['seconds']} s")
    if env.get("LOG_COMPACT") != "1":
        print("  log compaction: n/a (this evmaild has no log.embedded_compact_interval_s)")
    print()
    fetch = {s: load_json(os.path.join(a.results, f"fetch-{s}.json"))
             for s in ("evmail", "evmail-log-miss", "evmail-log-hit", "maildir", "mdbox")}
    print(f"  UID FETCH BODY.PEEK[] of {env['FETCHES']} random live messages (after GC), one client, ms"
          + (" (log-mode: distinct messages, after a restart with the cache removed: miss, then hit)"
             if logmode else "") + ":")
    for s, f in fetch.items():
        if f:
            p99 = f"  p99 {f['p99_ms']:8.3f}" if "p99_ms" in f else ""
            print(f"    {s:<16} p50 {f['p50_ms']:8.3f}  p90 {f['p90_ms']:8.3f}{p99}  "
                  f"({f['mean_octets']} octets average)")
    bs = load_json(os.path.join(a.results, "blobstore-log.json"))
    if bs:
        misses = bs.get("misses_total", 0)
        print(f"    log-mode store: {bs.get('hits_total', 0)} hits, {misses} misses "
              f"({bs.get('miss_microseconds_total', 0) / max(1, misses) / 1000:.3f} ms each on average, "
              f"since its restart), {bs.get('chunks_read_total', 0)} chunks read, "
              f"{bs.get('failures_total', 0)} failures, cache {bs.get('cache_bytes', 0) / mb:.2f} MB "
              f"in {bs.get('cache_files', 0)} files (blob.cache_size {env.get('CACHE_SIZE')})")
    for s in ("evmail-log-miss", "evmail-log-hit"):
        if fetch[s] and fetch["evmail"] and fetch["evmail"]["p50_ms"]:
            print(f"    ratio {s} / evmail (view) p50: {fetch[s]['p50_ms'] / fetch['evmail']['p50_ms']:.2f}")
    for s in ("maildir", "mdbox"):
        if fetch["evmail"] and fetch[s] and fetch[s]["p50_ms"]:
            print(f"    ratio evmail / {s} p50: {fetch['evmail']['p50_ms'] / fetch[s]['p50_ms']:.2f}")


# ---------------------------------------------------------------- command line
def main():
    bench_common.install_signal_handlers()
    ap = argparse.ArgumentParser(description="client side of run-storage-bench.sh")
    sub = ap.add_subparsers(dest="cmd", required=True)
    bench_common.add_tool_parsers(sub)
    p = sub.add_parser("deliver-smtp")
    for x, t in (("port", int), ("domain", str), ("users", int), ("n", int), ("size", int)):
        p.add_argument(x, type=t)
    p = sub.add_parser("prefill-maildir")
    for x, t in (("root", str), ("domain", str), ("users", int), ("n", int), ("size", int),
                 ("uid", int), ("gid", int)):
        p.add_argument(x, type=t)
    p = sub.add_parser("append-imap")
    for x, t in (("port", int), ("prefix", str), ("domain", str), ("users", int), ("n", int),
                 ("size", int), ("password", str)):
        p.add_argument(x, type=t)
    p = sub.add_parser("expunge")
    for x, t in (("port", int), ("prefix", str), ("domain", str), ("users", int), ("password", str),
                 ("keep_every", int), ("live_json", str)):
        p.add_argument(x, type=t)
    p = sub.add_parser("fetch")
    for x, t in (("port", int), ("prefix", str), ("domain", str), ("password", str),
                 ("live_json", str), ("count", int), ("seed", int)):
        p.add_argument(x, type=t)
    p.add_argument("--distinct", action="store_true")
    sub.add_parser("blob-store-metrics").add_argument("mgmt")
    sub.add_parser("disk-evmail").add_argument("data_dir")
    p = sub.add_parser("disk-dovecot")
    p.add_argument("root")
    p.add_argument("prefix")
    p = sub.add_parser("metric")
    p.add_argument("mgmt")
    p.add_argument("name")
    p = sub.add_parser("wait-metric")
    for x, t in (("mgmt", str), ("name", str), ("target", int), ("timeout", float)):
        p.add_argument(x, type=t)
    p = sub.add_parser("wait-stable")
    for x, t in (("path", str), ("seconds", float), ("timeout", float)):
        p.add_argument(x, type=t)
    p = sub.add_parser("checkpoint")
    p.add_argument("mgmt")
    p.add_argument("out")
    sub.add_parser("table").add_argument("results")
    a = ap.parse_args()
    rc = bench_common.run_tool(a, "storage_bench_drive")
    if rc is not None:
        return rc
    {"deliver-smtp": deliver_smtp, "prefill-maildir": prefill_maildir, "append-imap": append_imap,
     "expunge": expunge, "fetch": fetch, "disk-evmail": disk_evmail, "disk-dovecot": disk_dovecot,
     "metric": cmd_metric, "wait-metric": wait_metric, "wait-stable": wait_stable,
     "checkpoint": checkpoint, "table": table, "blob-store-metrics": blob_store_metrics}[a.cmd](a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
