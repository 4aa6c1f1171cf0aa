"""append_bench_drive.py - one IMAP client appending to one mailbox, the way
Python's imaplib does it, for bench/run-append-bench.sh.

  python3 bench/append_bench_drive.py PORT USER PASSWORD COUNT MODE

MODE "two": imaplib unchanged: after the "+" continuation it sends the
literal and its closing CRLF in two writes (two send() calls, Nagle on, the
default), so the CRLF waits for the server's ACK of the literal.
MODE "one": the literal and the CRLF in one write.

Prints one line: RESULT {"mode", "appends", "seconds", "appends_per_s"}.
Python 3, standard library only.
"""

import imaplib
import json
import sys
import time

MESSAGE = (b"From: Bench <bench@example.org>\r\nTo: <user@bench.test>\r\n"
           b"Subject: append bench\r\nDate: Sun, 6 Dec 2026 10:00:00 +0000\r\n"
           b"Message-ID: <append-bench@example.org>\r\n\r\n" + b"a line of the body\r\n" * 80)


def one_write(m):
    """Makes imaplib send each literal together with its closing CRLF."""
    send = m.send
    held = []

    def coalescing_send(data):
        if len(data) == len(MESSAGE) and data == MESSAGE:
            held.append(data)
            return
        if held:
            data = held.pop() + data
        send(data)
    m.send = coalescing_send


def main():
    port, user, password, count, mode = sys.argv[1:6]
    count = int(count)
    m = imaplib.IMAP4("127.0.0.1", int(port), timeout=60)
    m.login(user, password)
    if mode == "one":
        one_write(m)
    elif mode != "two":
        sys.exit("append_bench_drive.py: MODE is two or one")
    typ, _ = m.append("INBOX", None, None, MESSAGE)   # warm-up
    assert typ == "OK"
    t0 = time.monotonic()
    for _ in range(count):
        typ, data = m.append("INBOX", None, None, MESSAGE)
        if typ != "OK":
            sys.exit(f"APPEND failed: {typ} {data}")
    dt = time.monotonic() - t0
    m.logout()
    print("RESULT " + json.dumps({"mode": mode, "appends": count, "seconds": round(dt, 3),
                                  "appends_per_s": round(count / dt, 1)}))


if __name__ == "__main__":
    main()
