"""bench_common.py - what the bench drivers share.

Imported by smtp_bench_drive.py and send_bench_drive.py (they run from
bench/, so `import bench_common` finds this file next to them):

  count_files, http_get, loadavg, wait_until, rate   helpers of the runs
  finish_run                                         a run's result line
  start_table, ratio_printer                         the result tables
  add_tool_parsers, run_tool                         the small subcommands
                                                     wait-http, wait-smtp and
                                                     free-port of both drivers
  install_signal_handlers                            SIGTERM/SIGINT -> SystemExit

Run as a script it offers the small tools alone (bench/lib.sh's free_port:
`python3 bench/bench_common.py free-port [--pair]`).

Python 3, standard library only.
"""

import json
import os
import signal
import socket
import sys
import time
import urllib.error
import urllib.request

# Postfix's queue directories that hold messages
QUEUE_SUBDIRS = ("maildrop", "incoming", "active", "deferred", "hold", "corrupt")


# ---------------------------------------------------------------- helpers
def count_files(root, subdirs=None):
    """Files under root/D for each D in subdirs (default: every entry of root)."""
    n = 0
    try:
        names = subdirs if subdirs is not None else os.listdir(root)
    except OSError:
        return 0
    for d in names:
        for _base, _dirs, files in os.walk(os.path.join(root, d)):
            n += len(files)
    return n


def http_get(mgmt, path, timeout=5.0):
    """(status, body) of GET http://MGMT/PATH; HTTP errors are answers too."""
    req = urllib.request.Request(f"http://{mgmt}{path}", headers={"Connection": "close"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


# The pid root and every descendant, from /proc (a server's workers count
# toward its CPU and memory).
def proc_tree(root):
    kids = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                st = f.read()
        except OSError:
            continue
        kids.setdefault(st[st.rindex(")") + 2:].split()[1], []).append(p)
    out, pending = [], [str(root)]
    while pending:
        p = pending.pop()
        out.append(p)
        pending.extend(kids.get(p, []))
    return out


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def wait_until(pred, deadline, step=0.005):
    """pred()'s first true value, or None once time.monotonic() >= deadline."""
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            return None
        time.sleep(step)


def rate(n, s):
    return n / s if s else 0.0


class _Fields(dict):
    def __missing__(self, key):
        return None


def finish_run(out, res, status, notes):
    """Appends res (with its status) to the results file out and prints
    "NAME: STATUS" on stderr, then each note (KEY, TEMPLATE) whose KEY is in
    res: TEMPLATE formatted with res's fields; returns the exit code."""
    res["status"] = status
    with open(out, "a") as f:
        f.write(json.dumps(res) + "\n")
    fields = _Fields(res)
    text = "".join(t.format_map(fields) for k, t in notes if k in res)
    print(f"{res['name']}: {status}" + text, file=sys.stderr)
    return 0 if status == "ok" else 1


# ---------------------------------------------------------------- tables
def start_table(path, titles):
    """Reads the results file, prints the titles; (rows, rows by name)."""
    rows = read_rows(path)
    print_titles(titles)
    return rows, {r["name"]: r for r in rows}


def read_rows(path):
    """The JSON objects of a results file, one a line."""
    rows = []
    with open(path) as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    return rows


def print_titles(titles):
    for t in titles or []:
        print(t)
    print()


def ratio_printer(rates, label_width, value_width):
    """A function ratio(label, x, y) printing rates[x] / rates[y] (or -)."""
    def ratio(label, x, y):
        vx, vy = rates.get(x), rates.get(y)
        txt = f"{vx / vy:.2f}" if vx and vy else "-"
        print(f"  {label:<{label_width}} {txt:>{value_width}}")
    return ratio


# ---------------------------------------------------------------- small tools
def cmd_wait_http(a, prog):
    deadline = time.monotonic() + a.timeout
    last = None
    while time.monotonic() < deadline:
        try:
            st, body = http_get(a.hostport, a.path, timeout=2.0)
            last = f"HTTP {st}: {body[:300]!r}"
            if st == a.status:
                return 0
        except OSError as e:
            last = repr(e)
        time.sleep(0.1)
    print(f"{prog}: timed out after {a.timeout:.0f} s waiting for "
          f"http://{a.hostport}{a.path} (last: {last})", file=sys.stderr)
    return 1


def cmd_wait_smtp(a, prog):
    deadline = time.monotonic() + a.timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", a.port), timeout=1.0) as s:
                s.settimeout(5.0)
                if s.recv(512).startswith(b"220"):
                    s.sendall(b"QUIT\r\n")
                    return 0
        except OSError:
            pass
        time.sleep(0.1)
    print(f"{prog}: no SMTP greeting on 127.0.0.1:{a.port} after {a.timeout:.0f} s",
          file=sys.stderr)
    return 1


def cmd_free_port(a):
    """Prints a free 127.0.0.1 port (with --pair: one whose next port is free too)."""
    pair = getattr(a, "pair", False)
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if not pair:
            print(port)
            return 0
        if port < 65534:
            try:
                with socket.socket() as s2:
                    s2.bind(("127.0.0.1", port + 1))
                print(port)
                return 0
            except OSError:
                pass
    return 1


def add_tool_parsers(sub, pair=False):
    """Adds wait-http, wait-smtp and free-port (with --pair if asked) to sub."""
    w = sub.add_parser("wait-http")
    w.add_argument("hostport")
    w.add_argument("path")
    w.add_argument("--status", type=int, default=200)
    w.add_argument("--timeout", type=float, default=60.0)
    wp = sub.add_parser("wait-smtp")
    wp.add_argument("port", type=int)
    wp.add_argument("--timeout", type=float, default=60.0)
    fp = sub.add_parser("free-port")
    if pair:
        fp.add_argument("--pair", action="store_true")


def run_tool(a, prog):
    """Runs a.cmd if it is one of the small tools; None when it is not."""
    if a.cmd == "wait-http":
        return cmd_wait_http(a, prog)
    if a.cmd == "wait-smtp":
        return cmd_wait_smtp(a, prog)
    if a.cmd == "free-port":
        return cmd_free_port(a)
    return None


# ---------------------------------------------------------------- signals
def on_signal(signum, _frame):
    # run the finally blocks: processes started in their own sessions do
    # not get the group's signal
    raise SystemExit(128 + signum)


def install_signal_handlers():
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)


# ---------------------------------------------------------------- command line
def main():
    """bench_common.py wait-http|wait-smtp|free-port ... (what bench/lib.sh calls)."""
    import argparse
    install_signal_handlers()
    ap = argparse.ArgumentParser(description="the small tools of the bench drivers")
    sub = ap.add_subparsers(dest="cmd", required=True)
    add_tool_parsers(sub, pair=True)
    return run_tool(ap.parse_args(), "bench_common")


if __name__ == "__main__":
    sys.exit(main())
