"""The APPEND stall of issue 9 (section 3) on one evmaild (embedded log): a
client that sends a literal and its closing CRLF in two writes, with Nagle's
algorithm on (the default, and what Python's imaplib does), has the CRLF held
until the server ACKs the literal. evmail now acknowledges a literal (and an
SMTP DATA body) at once (TCP_QUICKACK after the "+"/354 and after reading
part of a command), counted in evmail_tcp_quickacks_total.

No timing is asserted (machines are noisy): the tests check that every
APPEND / message is answered correctly and stored, and the mechanism (the
counter: at least one immediate ACK per literal); they print the rate.
bench/run-append-bench.sh compares the rate with Dovecot's."""

import re
import socket
import time

from conftest import mail_inbox, mail_raw, wait_until
from test_imap_core import PASSWORD, USER, imap_node, login, message

APPENDS = 100


def quickacks(node):
    mo = re.search(r"^evmail_tcp_quickacks_total (\d+)$", node.metrics(), re.M)
    assert mo, "evmail_tcp_quickacks_total missing from /metrics"
    return int(mo.group(1))


class Raw:
    """A line-oriented client on a plain socket (Nagle left on)."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        assert self.s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        self.buf = b""

    def until(self, pred):
        while True:
            i = self.buf.find(b"\r\n")
            while i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                if pred(line):
                    return line
                i = self.buf.find(b"\r\n")
            data = self.s.recv(65536)
            assert data, "connection closed"
            self.buf += data

    def close(self):
        self.s.close()


def test_append_two_writes(nodes):
    node = imap_node(nodes, name="appendlat")
    c = Raw(node.imap_port)
    c.until(lambda l: l.startswith(b"* OK"))
    c.s.sendall(f"l LOGIN {USER} {PASSWORD}\r\n".encode())
    assert c.until(lambda l: l.startswith(b"l ")).startswith(b"l OK")
    before = quickacks(node)
    bodies = [message(f"two-write append {i}") for i in range(APPENDS)]
    uids = []
    t0 = time.monotonic()
    for i, body in enumerate(bodies):
        c.s.sendall(f"a{i} APPEND INBOX {{{len(body)}}}\r\n".encode())
        assert c.until(lambda l: l.startswith((b"+", f"a{i} ".encode()))).startswith(b"+")
        c.s.sendall(body)        # the literal ...
        c.s.sendall(b"\r\n")     # ... and its CRLF: a second write, as imaplib does
        line = c.until(lambda l: l.startswith(f"a{i} ".encode()))
        mo = re.match(rb"a\d+ OK \[APPENDUID (\d+) (\d+)\]", line)
        assert mo, line
        uids.append(int(mo.group(2)))
    dt = time.monotonic() - t0
    print(f"\n{APPENDS} APPENDs, literal and CRLF in two writes: {APPENDS / dt:.1f}/s")
    acks = quickacks(node) - before
    c.s.sendall(b"z LOGOUT\r\n")
    c.until(lambda l: l.startswith(b"z "))
    c.close()

    # the mechanism: each literal acknowledged at once (after the "+",
    # and again when only part of the command had arrived)
    assert acks >= APPENDS, f"{acks} immediate ACKs for {APPENDS} literals"
    # correctness: every message stored, in order, byte for byte
    assert uids == sorted(uids) and len(set(uids)) == APPENDS
    mid, msgs = mail_inbox(node, USER)
    assert [m["uid"] for m in msgs] == uids
    for k in (0, APPENDS // 2, APPENDS - 1):
        assert mail_raw(node, USER, mid, uids[k]) == bodies[k]


def test_append_imaplib(nodes):
    """Python's imaplib as it is (it writes the literal, then the CRLF)."""
    node = imap_node(nodes, name="appendlib")
    m = login(node)
    before = quickacks(node)
    t0 = time.monotonic()
    for i in range(APPENDS):
        typ, data = m.append("INBOX", None, None, message(f"imaplib append {i}"))
        assert typ == "OK", data
    dt = time.monotonic() - t0
    print(f"\n{APPENDS} APPENDs through imaplib: {APPENDS / dt:.1f}/s")
    assert quickacks(node) - before >= APPENDS
    typ, data = m.select("INBOX")
    assert typ == "OK" and int(data[0]) == APPENDS
    m.logout()


def test_smtp_data_two_writes(nodes):
    """SMTP DATA: the body, then ".<CRLF>" in a second write."""
    node = imap_node(nodes, name="datalat")
    n = 20
    c = Raw(node.smtp_port)
    c.until(lambda l: l.startswith(b"220 "))
    c.s.sendall(b"EHLO client.example\r\n")
    c.until(lambda l: l.startswith(b"250 "))
    before = quickacks(node)
    t0 = time.monotonic()
    for i in range(n):
        c.s.sendall(f"MAIL FROM:<bob@sender.example>\r\nRCPT TO:<{USER}>\r\n".encode())
        c.until(lambda l: l.startswith(b"250 "))
        c.until(lambda l: l.startswith(b"250 "))
        c.s.sendall(b"DATA\r\n")
        assert c.until(lambda l: l[:1] in (b"3", b"4", b"5")).startswith(b"354")
        c.s.sendall(message(f"two-write data {i}"))
        c.s.sendall(b".\r\n")
        assert c.until(lambda l: l[:1] in (b"2", b"4", b"5")).startswith(b"250")
    dt = time.monotonic() - t0
    print(f"\n{n} messages over SMTP, body and final dot in two writes: {n / dt:.1f}/s")
    acks = quickacks(node) - before
    c.s.sendall(b"QUIT\r\n")
    c.until(lambda l: l.startswith(b"221"))
    c.close()
    assert acks >= n, f"{acks} immediate ACKs for {n} bodies"
    wait_until(lambda: len(mail_inbox(node, USER)[1]) == n, 30, what=f"{n} messages delivered")


def test_append_then_fetch_body(nodes):
    """The answer to APPEND waits until both the message.append and the
    blob's last chunk are applied on this node (they are logged one after
    the other but applied independently): a UID FETCH BODY[] sent right
    after the OK finds the body, for small and multi-chunk (> 512 KiB)
    bodies."""
    node = imap_node(nodes, name="appendfetch")
    c = Raw(node.imap_port)
    c.until(lambda l: l.startswith(b"* OK"))
    c.s.sendall(f"l LOGIN {USER} {PASSWORD}\r\nx SELECT INBOX\r\n".encode())
    assert c.until(lambda l: l.startswith(b"x ")).startswith(b"x OK")
    for i in range(40):
        size = 700 * 1024 if i % 10 == 9 else 2000 + 97 * i
        body = message(f"append then fetch {i}", body="y" * 75 + "\r\n")
        body += (b"z" * 78 + b"\r\n") * (size // 80)
        c.s.sendall(f"a{i} APPEND INBOX {{{len(body)}+}}\r\n".encode() + body + b"\r\n")
        line = c.until(lambda l: l.startswith(f"a{i} ".encode()))
        mo = re.match(rb"a\d+ OK \[APPENDUID \d+ (\d+)\]", line)
        assert mo, line
        uid = int(mo.group(1))
        c.s.sendall(f"f{i} UID FETCH {uid} BODY.PEEK[]\r\n".encode())
        head = c.until(lambda l: (l.startswith(b"* ") and b" FETCH " in l) or
                       l.startswith(f"f{i} ".encode()))
        assert head.startswith(b"* ") and head.endswith(f"{{{len(body)}}}".encode()), head
        while len(c.buf) < len(body):
            data = c.s.recv(1 << 20)
            assert data, "connection closed"
            c.buf += data
        got, c.buf = c.buf[:len(body)], c.buf[len(body):]
        assert got == body, f"message {i}: body differs"
        assert c.until(lambda l: l.startswith(f"f{i} ".encode())).startswith(f"f{i} OK".encode())
    c.s.sendall(b"z LOGOUT\r\n")
    c.until(lambda l: l.startswith(b"z "))
    c.close()
