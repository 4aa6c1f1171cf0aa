"""IMAP session-state compliance on one evmaild (embedded log and Kafka,
fixture backend), over raw sockets so every untagged response and its
order can be checked (issue 9, section 1):
- FLAGS announcements (RFC 9051 7.3.5, RFC 3501 7.2.6): no FETCH carries
  a keyword before a "* FLAGS" naming it, also for changes made by
  another session, after COPY and after STORE;
- nothing with a sequence number after LOGOUT's BYE, and never a number
  above the last EXISTS the client was told (RFC 9051 7.4.1);
- CONDSTORE (RFC 7162 3.1.2.1): the first CONDSTORE enabling command
  after a plain SELECT answers "* OK [HIGHESTMODSEQ n]";
- CONTEXT=SEARCH (RFC 5267 4.3): SEARCH RETURN (UPDATE) hears of STORE
  and EXPUNGE by this and another session (ADDTO / REMOVEFROM, REMOVEFROM
  before the EXPUNGE), until CANCELUPDATE;
- BINARY (RFC 3516): an empty part is a literal {0}, for BINARY[] and
  BINARY.PEEK[] alike."""

import re
import socket
import time

import pytest

from test_imap_core import PASSWORD, USER, imap_node

SYSTEM = {"\\answered", "\\flagged", "\\deleted", "\\seen", "\\draft", "\\recent"}


class Client:
    """A raw IMAP client. A response is (text, literals): text with each
    literal's octets replaced by "<LIT>". Every response received is kept
    in self.log, in order."""

    def __init__(self, node):
        self.sock = socket.create_connection(("127.0.0.1", node.imap_port), timeout=30)
        self.buf = b""
        self.n = 0
        self.log = []
        text, _ = self.response()
        assert text.startswith(b"* OK"), text

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def response(self):
        text, lits = b"", []
        while True:
            line = self._line()
            text += line
            m = re.search(rb"~?\{(\d+)\}$", line)
            if not m:
                self.log.append(text)
                return text, lits
            n = int(m.group(1))
            while len(self.buf) < n:
                self._fill()
            lits.append(self.buf[:n])
            self.buf = self.buf[n:]
            text += b"<LIT>"

    def cmd(self, text):
        """Sends a command; the responses up to its tagged one."""
        self.n += 1
        tag = f"t{self.n}"
        self.sock.sendall(f"{tag} {text}\r\n".encode())
        out = []
        while True:
            r = self.response()
            out.append(r)
            if r[0].startswith(tag.encode() + b" "):
                return out

    def ok(self, text):
        out = self.cmd(text)
        assert out[-1][0].split(b" ")[1] == b"OK", (text, out)
        return [t for t, _ in out]

    def append(self, mailbox, flags, data):
        self.n += 1
        tag = f"t{self.n}"
        self.sock.sendall(f"{tag} APPEND {mailbox} ({flags}) {{{len(data)}+}}\r\n".encode() + data + b"\r\n")
        while True:
            text, _ = self.response()
            if text.startswith(tag.encode() + b" "):
                assert b" OK " in text, text
                return

    def close(self):
        self.sock.close()


def login(node):
    c = Client(node)
    c.ok(f"LOGIN {USER} {PASSWORD}")
    return c


def noop_until(c, pred, timeout=10):
    """NOOPs until pred(responses so far) holds (another session's change
    reaches this one through the projector's notification, which may
    come a moment after that session's tagged OK)."""
    got, deadline = [], time.monotonic() + timeout
    while True:
        got += c.ok("NOOP")
        if pred(got) or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def msg(subject, body=b"Hello.\r\n"):
    return (f"From: Bob <bob@sender.example>\r\nTo: {USER}\r\nSubject: {subject}\r\n"
            f"Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n\r\n").encode() + body


def flags_of(text):
    m = re.search(rb"FLAGS \(([^)]*)\)", text)
    return [f.decode() for f in m.group(1).split()] if m else []


def check_flags_announced(log):
    """RFC 9051 7.3.5: every keyword a FETCH carries was named by an
    earlier "* FLAGS" (and its PERMANENTFLAGS, when not read-only)."""
    known = set()
    for text in log:
        if text.startswith(b"* FLAGS "):
            known = {f.lower() for f in flags_of(text)}
        elif re.match(rb"\* \d+ FETCH ", text):
            for f in flags_of(text):
                assert f.lower() in SYSTEM or f.lower() in known, (f, text, log)


def check_numbers(log):
    """RFC 9051 7.4.1: no sequence number above the last EXISTS told; an
    EXPUNGE lowers the count; nothing numbered after "* BYE"."""
    exists, bye = None, False
    for text in log:
        m = re.match(rb"\* (\d+) (EXISTS|EXPUNGE|FETCH)", text)
        if m is None:
            bye |= text.startswith(b"* BYE")
            continue
        n, what = int(m.group(1)), m.group(2)
        assert not bye, ("after BYE", text, log)
        if what == b"EXISTS":
            exists = n
            continue
        assert exists is not None and 1 <= n <= exists, (text, exists, log)
        if what == b"EXPUNGE":
            exists -= 1


@pytest.fixture
def node(backend_nodes):
    return imap_node(backend_nodes)


def test_flags_announced_before_keywords(node):
    a, b = login(node), login(node)
    try:
        a.append("INBOX", "$Early", msg("one"))
        a.ok("CREATE Other")
        out = a.ok("SELECT INBOX")
        assert any(t.startswith(b"* FLAGS ") and b"$Early" in t for t in out), out
        assert any(b"[PERMANENTFLAGS (" in t and b"$Early" in t and b"\\*" in t for t in out), out
        b.ok("SELECT INBOX")
        # another session's STORE: the unsolicited FETCH comes after FLAGS
        b.ok("STORE 1 +FLAGS ($FromB)")
        out = noop_until(a, lambda o: any(b"FETCH" in t for t in o))
        assert any(b"$FromB" in t and t.startswith(b"* FLAGS ") for t in out), out
        assert any(b"$FromB" in t and b"PERMANENTFLAGS" in t for t in out), out
        assert any(b"FETCH" in t and b"$FromB" in t for t in out), out
        # this session's STORE
        out = a.ok("STORE 1 +FLAGS (Own)")
        assert [t for t in out if t.startswith(b"* FLAGS ")], out
        # APPEND by another session, then a FETCH of it
        b.append("INBOX", "$Appended", msg("two"))
        noop_until(a, lambda o: b"* 2 EXISTS" in o)
        out = a.ok("FETCH 2 (FLAGS)")
        assert any(b"$Appended" in t and t.startswith(b"* FLAGS ") for t in out), out
        # COPY with keywords into a mailbox another session has selected
        b.ok("STORE 2 +FLAGS ($Copied)")
        a.ok("SELECT Other")
        b.ok("COPY 1:2 Other")
        noop_until(a, lambda o: b"* 2 EXISTS" in o)
        out = a.ok("FETCH 1:* (FLAGS)")
        assert any(b"$Copied" in t and t.startswith(b"* FLAGS ") for t in out), out
        check_flags_announced(a.log)
        # EXAMINE: keywords listed, none permanent
        out = a.ok("EXAMINE Other")
        assert any(t.startswith(b"* FLAGS ") and b"$Copied" in t for t in out), out
        assert any(b"[PERMANENTFLAGS ()]" in t for t in out), out
        check_flags_announced(b.log)
    finally:
        a.close()
        b.close()


def test_nothing_numbered_after_bye(node):
    a, b = login(node), login(node)
    try:
        a.append("INBOX", "", msg("one"))
        a.ok("SELECT INBOX")
        b.ok("SELECT INBOX")
        b.ok("STORE 1 +FLAGS (\\Flagged)")
        b.append("INBOX", "", msg("two"))
        # a command that reads the view and fails (BAD) leaves both
        # changes untold; LOGOUT must not tell them after its BYE
        out = a.cmd("UID EXPUNGE x")
        assert b" BAD " in out[-1][0], out
        out = a.ok("LOGOUT")
        assert out[0].startswith(b"* BYE"), out
        assert len(out) == 2, out
        check_numbers(a.log)
    finally:
        a.close()
        b.close()


def test_no_number_above_exists(node):
    a, b = login(node), login(node)
    try:
        a.append("INBOX", "", msg("one"))
        a.ok("SELECT INBOX")
        b.append("INBOX", "", msg("two"))
        # a command that reads the view and fails leaves the new message
        # unannounced; what follows must not number it before EXISTS
        out = a.cmd("UID EXPUNGE x")
        assert b" BAD " in out[-1][0], out
        a.ok("FETCH 1:* (FLAGS)")
        a.ok("UID FETCH 1:* (FLAGS)")
        a.ok("SEARCH ALL")
        a.ok("FETCH 2 (UID)")
        check_numbers(a.log)
        assert b"* 2 EXISTS" in a.log, a.log
    finally:
        a.close()
        b.close()


def test_condstore_highestmodseq_on_first_enabling_command(node):
    c = login(node)
    try:
        c.append("INBOX", "", msg("one"))
        for command in ("FETCH 1 (MODSEQ)", "STORE 1 (UNCHANGEDSINCE 9999999) +FLAGS (x)",
                        "SEARCH MODSEQ 1", "FETCH 1 (FLAGS) (CHANGEDSINCE 1)"):
            c.close()
            c = login(node)
            c.ok("SELECT INBOX")
            out = c.ok(command)
            got = [t for t in out if re.match(rb"\* OK \[HIGHESTMODSEQ \d+\]", t)]
            assert len(got) == 1, (command, out)
            # only the first one
            out = c.ok(command)
            assert not [t for t in out if b"HIGHESTMODSEQ" in t and t.startswith(b"* OK")], out
        # SELECT (CONDSTORE) already said it: no second one
        c.close()
        c = login(node)
        out = c.ok("SELECT INBOX (CONDSTORE)")
        assert len([t for t in out if b"[HIGHESTMODSEQ" in t]) == 1, out
        out = c.ok("FETCH 1 (MODSEQ)")
        assert not [t for t in out if b"[HIGHESTMODSEQ" in t], out
    finally:
        c.close()


def esearch_updates(log, tag):
    return [t for t in log if t.startswith(f'* ESEARCH (TAG "{tag}") '.encode()) and
            (b"ADDTO" in t or b"REMOVEFROM" in t)]


def test_context_search_update(node):
    a, b = login(node), login(node)
    try:
        for i in range(4):
            a.append("INBOX", "$Junk" if i in (0, 2) else "", msg(f"m{i}"))
        a.ok("SELECT INBOX")
        b.ok("SELECT INBOX")
        out = a.ok("SEARCH RETURN (UPDATE) KEYWORD $Junk")
        tag = f"t{a.n}"
        assert f'* ESEARCH (TAG "{tag}") ALL 1,3'.encode() in out, out
        # STORE by another session adds message 2
        b.ok("STORE 2 +FLAGS ($Junk)")
        out = noop_until(a, lambda o: esearch_updates(o, tag))
        assert esearch_updates(out, tag) == [f'* ESEARCH (TAG "{tag}") ADDTO (0 2)'.encode()], out
        # this session's STORE removes message 3
        out = a.ok("STORE 3 -FLAGS ($Junk)")
        assert esearch_updates(out, tag) == [f'* ESEARCH (TAG "{tag}") REMOVEFROM (0 3)'.encode()], out
        # EXPUNGE by another session: REMOVEFROM before the EXPUNGE
        b.ok("STORE 1 +FLAGS (\\Deleted)")
        b.ok("EXPUNGE")
        out = noop_until(a, lambda o: b"* 1 EXPUNGE" in o)
        ups = esearch_updates(out, tag)
        assert ups == [f'* ESEARCH (TAG "{tag}") REMOVEFROM (0 1)'.encode()], out
        assert out.index(ups[0]) < out.index(b"* 1 EXPUNGE"), out
        # this session's EXPUNGE (message 1 now, the former 2)
        a.ok("STORE 1 +FLAGS (\\Deleted)")
        out = a.ok("EXPUNGE")
        ups = esearch_updates(out, tag)
        assert ups == [f'* ESEARCH (TAG "{tag}") REMOVEFROM (0 1)'.encode()], out
        assert out.index(ups[0]) < out.index(b"* 1 EXPUNGE"), out
        # a new arrival: ADDTO after its EXISTS
        b.append("INBOX", "$Junk", msg("new"))
        out = noop_until(a, lambda o: b"* 3 EXISTS" in o)
        ups = esearch_updates(out, tag)
        assert ups == [f'* ESEARCH (TAG "{tag}") ADDTO (0 3)'.encode()], out
        assert out.index(b"* 3 EXISTS") < out.index(ups[0]), out
        # CANCELUPDATE stops it
        a.ok(f'CANCELUPDATE "{tag}"')
        b.ok("STORE 1 +FLAGS ($Junk)")
        out = noop_until(a, lambda o: b"* 1 FETCH" in b" ".join(o))
        assert any(t.startswith(b"* 1 FETCH") for t in out), out
        assert not esearch_updates(out, tag), out
        check_numbers(a.log)
    finally:
        a.close()
        b.close()


def test_binary_empty_part(node):
    c = login(node)
    try:
        multi = (f"From: Bob <bob@sender.example>\r\nTo: {USER}\r\nSubject: empty parts\r\n"
                 "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"BB\"\r\n\r\n"
                 "--BB\r\nContent-Type: text/plain\r\n\r\n"
                 "\r\n--BB\r\nContent-Type: application/octet-stream\r\n"
                 "Content-Transfer-Encoding: base64\r\n\r\n"
                 "\r\n--BB\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                 "\r\n--BB\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                 "--BB\r\nContent-Type: text/plain\r\n"
                 "--BB--\r\n").encode()
        c.append("INBOX", "", multi)
        c.append("INBOX", "", (f"From: bob@sender.example\r\nTo: {USER}\r\nSubject: empty\r\n\r\n").encode())
        c.append("INBOX", "", (f"From: bob@sender.example\r\nTo: {USER}\r\nSubject: no body\r\n").encode())
        c.ok("SELECT INBOX")
        for seq, part in (("1", "1"), ("1", "2"), ("1", "3"), ("1", "4"), ("1", "5"), ("2", "1"), ("2", ""), ("3", "1")):
            for item in ("BINARY.PEEK", "BINARY"):
                out = c.cmd(f"FETCH {seq} ({item}[{part}])")
                assert out[-1][0].split(b" ")[1] == b"OK", out
                fetch = [(t, lits) for t, lits in out if re.match(rb"\* \d+ FETCH ", t)]
                assert len(fetch) == 1, out
                text, lits = fetch[0]
                if part == "" and seq == "2":
                    assert re.search(rb"BINARY\[\] \{\d+\}<LIT>", text), out
                    continue
                assert f"BINARY[{part}] {{0}}<LIT>".encode() in text, (item, seq, part, out)
                assert lits == [b""], out
            out = c.cmd(f"FETCH {seq} (BINARY.PEEK[{part}]<7.3> BINARY[{part}]<9000.3>)")
            assert out[-1][0].split(b" ")[1] == b"OK", out
            out = c.ok(f"FETCH {seq} (BINARY.SIZE[{part}])")
            if part:
                assert any(f"BINARY.SIZE[{part}] 0".encode() in t for t in out), out
    finally:
        c.close()
