#!/usr/bin/env python3
"""search_bench_drive - the client side of run-search-bench.sh.

  prefill-smtp PORT ADDR N          N messages to ADDR over SMTP
  prefill-maildir DIR ADDR N UID GID  the same N messages into DIR/ADDR/Maildir/new
  measure LABEL PORT USER PASSWORD  UID SEARCH SUBJECT / FROM / TO / HEADER /
      BODY / TEXT in INBOX:
      "cold" = the first run of each query (evmail: before its text index
      exists), then WAIT seconds, then "warm" = the median of REPEAT runs;
      prints one JSON line per query.

Messages: a subject of two words out of 64, a body of ~2 KB of words; so
a query word is in ~1/32 of the subjects and a rarer one in a few bodies."""

import imaplib
import json
import os
import smtplib
import statistics
import sys
import time

WORDS = [f"w{k:02d}{c}" for k, c in enumerate("abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl")]


def message(addr, i):
    subj = f"{WORDS[i % 64]} {WORDS[(i * 7) % 64]} message {i}"
    lines = []
    for k in range(28):
        lines.append(" ".join(WORDS[(i * 13 + k * 5 + j) % 64] for j in range(8)) + f" line{k} of {i}")
    if i % 997 == 0:
        lines.append("the rare token zanzibar")
    head = (f"From: Sender {i % 50} <sender{i % 50}@example.org>\r\nTo: <{addr}>\r\n"
            f"Subject: {subj}\r\nDate: Sun, 29 Nov 2026 10:{i % 60:02d}:00 +0000\r\n"
            f"Message-ID: <search-{i}@bench>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n\r\n")
    return (head + "\r\n".join(lines) + "\r\n").encode()


def prefill_smtp(port, addr, n):
    s = smtplib.SMTP("127.0.0.1", int(port), timeout=60)
    for i in range(1, int(n) + 1):
        s.sendmail("sender@example.org", [addr], message(addr, i))
    s.quit()


def prefill_maildir(root, addr, n, uid, gid):
    md = os.path.join(root, addr, "Maildir")
    for d in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(md, d), exist_ok=True)
    for i in range(1, int(n) + 1):
        data = message(addr, i)
        name = f"{1700000000 + i}.M{i}P{os.getpid()}.bench,S={len(data)}"
        with open(os.path.join(md, "tmp", name), "wb") as f:
            f.write(data)
        os.rename(os.path.join(md, "tmp", name), os.path.join(md, "new", name))
    for dp, dn, fn in os.walk(os.path.join(root, addr)):
        for x in dn + fn:
            os.chown(os.path.join(dp, x), int(uid), int(gid))
    os.chown(os.path.join(root, addr), int(uid), int(gid))


QUERIES = [("SUBJECT", "w05f"), ("SUBJECT", "message 4999"), ("FROM", "sender7@"),
           ("FROM", "sender 7 "), ("TO", "user1@"), ("HEADER Subject", "w05f"), ("HEADER Date", ":07:"),
           ("BODY", "zanzibar"), ("BODY", "line3 of 12"), ("BODY", "w33h"),
           ("TEXT", "w33h"), ("TEXT", "zanzibar"), ("TEXT", "sender7@")]


def timed(m, key, needle):
    t0 = time.perf_counter()
    typ, data = m.uid("SEARCH", key, f'"{needle}"')
    dt = (time.perf_counter() - t0) * 1000
    assert typ == "OK", data
    return dt, len(data[0].split())


def measure(label, port, user, password):
    wait = float(os.environ.get("WAIT", "20"))
    repeat = int(os.environ.get("REPEAT", "5"))
    m = imaplib.IMAP4("127.0.0.1", int(port), timeout=300)
    m.login(user, password)
    t0 = time.perf_counter()
    typ, data = m.select("INBOX")
    sel = (time.perf_counter() - t0) * 1000
    assert typ == "OK", data
    cold = {q: timed(m, *q) for q in QUERIES}
    time.sleep(wait)
    for q in QUERIES:
        runs = [timed(m, *q) for _ in range(repeat)]
        print(json.dumps({"server": label, "messages": int(data[0]), "select_ms": round(sel, 1),
                          "key": q[0], "needle": q[1], "hits": runs[0][1],
                          "cold_ms": round(cold[q][0], 1),
                          "warm_ms": round(statistics.median(r[0] for r in runs), 1)}))
    m.logout()


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"prefill-smtp": prefill_smtp, "prefill-maildir": prefill_maildir, "measure": measure}[cmd](*args)
