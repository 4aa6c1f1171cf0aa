"""smtp_sink - a scriptable SMTP server for end-to-end tests (standard
library only: threads and sockets), listening on 127.0.0.1.

It records every transaction (MAIL with its parameters, every RCPT with
its parameters and the reply it got, the message data), offers STARTTLS
with a given certificate, PIPELINING, CHUNKING (BDAT), DSN, SMTPUTF8,
8BITMIME, SIZE and REQUIRETLS as configured, and misbehaves on demand:

    sink = SmtpSink(cert=cert, key=key).start()
    sink.script_rcpt("a@x.test", ["451 4.3.0 try later", "451 4.3.0 again"])
                                   # one reply per RCPT of that address, then 250
    sink.reject_rcpt("b@x.test")   # 550 5.1.1 on every attempt
    sink.stall_after_data = True   # never answer the final dot
    sink.drop_mid_data = True      # close the connection after the first data bytes
    sink.message_delay = 0.5       # a slow sink: wait before accepting each message
    sink.wait_for_messages(1, timeout=30)
    sink.stop()

Every wait is bounded; stop() closes the listener and every connection and
joins the threads. The sink is also a context manager, and the `smtp_sink`
pytest fixture gives a started sink that is stopped at teardown (call it
with keyword arguments: smtp_sink(chunking=False)).
"""

import socket
import ssl
import threading
import time
from dataclasses import dataclass, field

import pytest

MAX_LINE = 4096
MAX_MESSAGE = 64 * 1024 * 1024


@dataclass
class Rcpt:
    addr: str
    params: dict
    reply: str


@dataclass
class Transaction:
    """One MAIL transaction as the sink saw it."""
    connection: int                # 1-based connection number
    helo: str
    tls: bool
    mail_from: str
    mail_params: dict              # upper-cased keyword -> value (None for a bare keyword)
    rcpts: list = field(default_factory=list)      # [Rcpt]
    data: bytes = None             # the message (dot-unstuffed), None if none was sent
    method: str = ""               # "DATA" or "BDAT"
    reply: str = ""                # the reply to the message

    @property
    def accepted_rcpts(self):
        return [r.addr for r in self.rcpts if r.reply.startswith("2")]

    @property
    def accepted(self):
        return self.reply.startswith("2")


def _parse_params(rest):
    params = {}
    for tok in rest.split():
        k, eq, v = tok.partition("=")
        params[k.upper()] = v if eq else None
    return params


def _parse_path(arg):
    """'FROM:<a@b> SIZE=1' -> ('a@b', {'SIZE': '1'})."""
    _, _, rest = arg.partition(":")
    rest = rest.strip()
    if rest.startswith("<"):
        end = rest.find(">")
        if end < 0:
            return None, {}
        return rest[1:end], _parse_params(rest[end + 1:])
    addr, _, tail = rest.partition(" ")
    return addr, _parse_params(tail)


class _Closed(Exception):
    pass


class SmtpSink:
    def __init__(self, host="127.0.0.1", port=0, *, hostname="sink.test", cert=None, key=None,
                 starttls=True, pipelining=True, chunking=True, dsn=True, smtputf8=True,
                 eightbitmime=True, requiretls=False, size=0, timeout=60.0):
        self.host, self.port, self.hostname = host, port, hostname
        self.cert, self.key = cert, key
        self.offer_starttls = starttls and cert is not None
        self.pipelining, self.chunking, self.dsn = pipelining, chunking, dsn
        self.smtputf8, self.eightbitmime, self.requiretls = smtputf8, eightbitmime, requiretls
        self.size = size
        self.timeout = timeout            # per-connection idle bound
        # staged behaviours (may be changed while running)
        self.greeting = None              # e.g. "421 4.3.2 go away"
        self.mail_reply = None            # e.g. "550 5.7.1 no"
        self.data_replies = []            # consumed one per message, then 250
        self.stall_after_data = False
        self.drop_mid_data = False
        self.message_delay = 0.0
        # records
        self.transactions = []
        self.connections = 0
        self.open_connections = 0
        self.max_open_connections = 0
        self.commands = []                # (connection, line) in arrival order
        self._rcpt_scripts = {}
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._listener = None
        self._threads = []
        self._socks = set()
        self._ssl_ctx = None

    # ------------------------------------------------------------- control
    def start(self):
        if self.cert is not None:
            self._ssl_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._ssl_ctx.load_cert_chain(str(self.cert), str(self.key))
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((self.host, self.port))
        self._listener.listen(64)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        t = threading.Thread(target=self._accept_loop, name=f"smtp-sink-{self.port}", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self, timeout=10.0):
        self._stop.set()
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            socks = list(self._socks)
            self._lock.notify_all()
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self):
        return self.start() if self._listener is None else self

    def __exit__(self, *exc):
        self.stop()

    def script_rcpt(self, addr, replies):
        """Replies for RCPT TO:<addr>, one per attempt; afterwards 250."""
        with self._lock:
            self._rcpt_scripts[addr.lower()] = list(replies)

    def reject_rcpt(self, addr, reply="550 5.1.1 no such user"):
        """reply for RCPT TO:<addr> on every attempt."""
        with self._lock:
            self._rcpt_scripts[addr.lower()] = reply

    # ------------------------------------------------------------- records
    @property
    def messages(self):
        """Accepted transactions (data received and answered 2xx)."""
        with self._lock:
            return [t for t in self.transactions if t.data is not None and t.accepted]

    @property
    def accepted(self):
        return len(self.messages)

    def wait_for_messages(self, n, timeout=30.0):
        """The accepted transactions once there are at least n; AssertionError after timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                got = [t for t in self.transactions if t.data is not None and t.accepted]
                if len(got) >= n:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"smtp sink: {len(got)} of {n} messages after {timeout}s")
                self._lock.wait(min(left, 0.5))

    def wait_for(self, pred, timeout=30.0, what="condition"):
        deadline = time.monotonic() + timeout
        with self._lock:
            while not pred():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"smtp sink: no {what} after {timeout}s")
                self._lock.wait(min(left, 0.5))

    # ------------------------------------------------------------- serving
    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self.open_connections += 1
                self.max_open_connections = max(self.max_open_connections, self.open_connections)
                self._socks.add(sock)
                n = self.connections
            t = threading.Thread(target=self._serve, args=(sock, n), daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self, sock, n):
        sess = _Session(self, sock, n)
        try:
            sess.run()
        except (_Closed, OSError, ssl.SSLError, ValueError):
            pass
        finally:
            with self._lock:
                self.open_connections -= 1
                self._socks.discard(sock)
                self._socks.discard(sess.sock)
                self._lock.notify_all()
            try:
                sess.sock.close()
            except OSError:
                pass

    def _rcpt_reply(self, addr):
        with self._lock:
            script = self._rcpt_scripts.get(addr.lower())
            if isinstance(script, str):
                return script
            if script:
                return script.pop(0)
        return "250 2.1.5 ok"

    def _record(self, fn):
        with self._lock:
            fn()
            self._lock.notify_all()


class _Session:
    def __init__(self, sink, sock, n):
        self.sink, self.sock, self.n = sink, sock, n
        self.buf = b""
        self.tls = False
        self.helo = ""
        self.txn = None
        sock.settimeout(sink.timeout)

    def send(self, line):
        self.sock.sendall(line.encode() + b"\r\n")

    def recv_more(self):
        if self.sink._stop.is_set():
            raise _Closed()
        chunk = self.sock.recv(65536)
        if not chunk:
            raise _Closed()
        self.buf += chunk

    def readline(self):
        while b"\n" not in self.buf:
            if len(self.buf) > MAX_LINE:
                raise _Closed()
            self.recv_more()
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def read_exact(self, n):
        while len(self.buf) < n:
            self.recv_more()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def ehlo_lines(self):
        s = self.sink
        kw = []
        if s.pipelining:
            kw.append("PIPELINING")
        kw.append(f"SIZE {s.size}" if s.size else "SIZE")
        if s.eightbitmime:
            kw.append("8BITMIME")
        if s.offer_starttls and not self.tls:
            kw.append("STARTTLS")
        if s.dsn:
            kw.append("DSN")
        if s.smtputf8:
            kw.append("SMTPUTF8")
        if s.chunking:
            kw.append("CHUNKING")
        if s.requiretls and self.tls:
            kw.append("REQUIRETLS")
        kw.append("ENHANCEDSTATUSCODES")
        return [f"250-{s.hostname} hello"] + [f"250-{k}" for k in kw[:-1]] + [f"250 {kw[-1]}"]

    def run(self):
        s = self.sink
        greeting = s.greeting or f"220 {s.hostname} ESMTP smtp_sink"
        self.send(greeting)
        if greeting.startswith("421"):
            return
        while True:
            line = self.readline()
            s._record(lambda: s.commands.append((self.n, line)))
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            handler = getattr(self, "cmd_" + verb, None)
            if handler is None:
                self.send("500 5.5.2 unknown command")
            elif handler(arg) == "quit":
                return

    # ------------------------------------------------------------- verbs
    def cmd_EHLO(self, arg):
        self.helo = arg
        self.txn = None
        self.sock.sendall(("\r\n".join(self.ehlo_lines()) + "\r\n").encode())

    def cmd_HELO(self, arg):
        self.helo = arg
        self.txn = None
        self.send(f"250 {self.sink.hostname}")

    def cmd_STARTTLS(self, arg):
        if not self.sink.offer_starttls or self.tls:
            self.send("454 4.7.0 TLS not available")
            return
        self.send("220 2.0.0 ready to start TLS")
        self.buf = b""          # RFC 3207 4.2: nothing sent before TLS counts
        self.sock = self.sink._ssl_ctx.wrap_socket(self.sock, server_side=True)
        with self.sink._lock:
            self.sink._socks.add(self.sock)
        self.tls = True
        self.helo = ""
        self.txn = None

    def cmd_NOOP(self, arg):
        self.send("250 2.0.0 ok")

    def cmd_RSET(self, arg):
        self.txn = None
        self.send("250 2.0.0 ok")

    def cmd_QUIT(self, arg):
        self.send("221 2.0.0 bye")
        return "quit"

    def cmd_MAIL(self, arg):
        s = self.sink
        if self.txn is not None:
            self.send("503 5.5.1 nested MAIL")
            return
        addr, params = _parse_path(arg)
        if addr is None:
            self.send("501 5.5.4 syntax")
            return
        if s.mail_reply is not None:
            self.send(s.mail_reply)
            if s.mail_reply.startswith("2"):
                self.open_txn(addr, params)
            return
        self.open_txn(addr, params)
        self.send("250 2.1.0 ok")

    def open_txn(self, addr, params):
        s = self.sink
        self.txn = Transaction(self.n, self.helo, self.tls, addr, params)
        s._record(lambda: s.transactions.append(self.txn))

    def cmd_RCPT(self, arg):
        s = self.sink
        if self.txn is None:
            self.send("503 5.5.1 need MAIL")
            return
        addr, params = _parse_path(arg)
        reply = s._rcpt_reply(addr or "")
        txn = self.txn
        s._record(lambda: txn.rcpts.append(Rcpt(addr, params, reply)))
        self.send(reply)

    def finish_message(self, data, method):
        s = self.sink
        if s.stall_after_data:
            s._stop.wait(s.timeout)
            raise _Closed()
        if s.message_delay:
            s._stop.wait(s.message_delay)
        with s._lock:
            reply = s.data_replies.pop(0) if s.data_replies else f"250 2.0.0 Ok: queued as S{len(s.transactions)}"
        txn = self.txn

        def rec():
            txn.data, txn.method, txn.reply = data, method, reply
        s._record(rec)
        self.txn = None
        self.send(reply)

    def cmd_DATA(self, arg):
        txn = self.txn
        if txn is None or not txn.accepted_rcpts:
            self.send("554 5.5.1 no valid recipients" if txn is not None else "503 5.5.1 need MAIL")
            return
        self.send("354 go ahead")
        out = []
        size = 0
        while True:
            if self.sink.drop_mid_data and (self.buf or out):
                raise _Closed()
            line = self.read_raw_line()
            if line in (b".\r\n", b".\n"):
                break
            if line.startswith(b"."):
                line = line[1:]
            size += len(line)
            if size > MAX_MESSAGE:
                raise _Closed()
            out.append(line)
        self.finish_message(b"".join(out), "DATA")

    def read_raw_line(self):
        while b"\n" not in self.buf:
            if self.sink.drop_mid_data and self.buf:
                raise _Closed()
            self.recv_more()
        line, self.buf = self.buf.split(b"\n", 1)
        return line + b"\n"

    def cmd_BDAT(self, arg):
        parts = arg.split()
        if not parts or not parts[0].isdigit() or not self.sink.chunking:
            self.send("501 5.5.4 syntax")
            return
        n, last = int(parts[0]), len(parts) > 1 and parts[1].upper() == "LAST"
        if n > MAX_MESSAGE:
            raise _Closed()
        if self.sink.drop_mid_data and n > 0:
            self.read_exact(1)
            raise _Closed()
        chunk = self.read_exact(n)
        txn = self.txn
        if txn is None or not txn.accepted_rcpts:
            self.send("554 5.5.1 no valid recipients")
            return
        self.chunks = getattr(self, "chunks", []) + [chunk]
        if not last:
            self.send(f"250 2.0.0 {n} octets received")
            return
        data, self.chunks = b"".join(self.chunks), []
        self.finish_message(data, "BDAT")


@pytest.fixture
def smtp_sink():
    """Factory: smtp_sink(**SmtpSink kwargs) -> a started sink; all stopped at teardown."""
    sinks = []

    def make(**kw):
        s = SmtpSink(**kw).start()
        sinks.append(s)
        return s
    yield make
    for s in sinks:
        s.stop()
