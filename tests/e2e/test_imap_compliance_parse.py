"""IMAP compliance of argument parsing and address handling on one evmaild
(embedded log), issue 9 section 1 items 4-9, driven over a raw socket where
imaplib would quote arguments itself: mailbox names holding every
ASTRING-CHAR (with "]" and "[") for SELECT and LIST; ID with 30 maximal
field/value pairs (RFC 2971); NIL as an astring in SEARCH; LSUB "%" with a
subscribed child (RFC 3501 6.3.9); ENVELOPE display names, SEARCH on
addresses, SORT (CC) and (DISPLAYTO) (RFC 5256 3, RFC 5957); CATENATE
relative URLs (RFC 4469, RFC 5092) alone and in MULTIAPPEND. After every
error the session must still answer."""

import re
import time

import pytest

from test_imap_core import PASSWORD, USER, Raw, imap_node

OTHER = "zed@imap.example"


@pytest.fixture
def node(nodes):
    return imap_node(nodes)


class Session(Raw):
    """A logged-in raw session: cmd() sends one tagged command and returns
    everything up to and including its tagged reply."""

    def __init__(self, port, login=True):
        super().__init__(port)
        self.n = 0
        self.until("* OK")
        if login:
            self.ok(f"LOGIN {USER} {PASSWORD}")

    def cmd(self, line):
        self.n += 1
        tag = f"t{self.n}"
        data = line if isinstance(line, bytes) else line.encode()
        self.send(tag.encode() + b" " + data + b"\r\n")
        pat = re.compile(rb"(^|\r\n)" + tag.encode() + rb" (OK|NO|BAD)[^\r\n]*\r\n")
        deadline = time.monotonic() + 30
        while (m := pat.search(self.buf)) is None:
            self.sock.settimeout(max(0.1, deadline - time.monotonic()))
            chunk = self.sock.recv(65536)
            assert chunk, f"closed while waiting for {tag}; got {self.buf!r}"
            self.buf += chunk
        out, self.buf = self.buf[:m.end()], self.buf[m.end():]
        return out.decode("utf-8", "replace")

    def status(self, reply):
        return reply.rsplit(f"t{self.n} ", 1)[1].split(" ", 1)[0]

    def ok(self, line):
        r = self.cmd(line)
        assert self.status(r) == "OK", (line, r)
        return r

    def alive(self):
        self.ok("NOOP")


def append(s, mailbox, raw):
    raw = raw if isinstance(raw, bytes) else raw.encode()
    return s.ok(f'APPEND "{mailbox}" {{{len(raw)}+}}\r\n'.encode() + raw)


NAME = "!#$&'+,-.0123456789:;<=>?@^_`|[}"


# -- 4. mailbox names are astrings ----------------------------------------

def test_select_astring_with_brackets_is_no(node):
    s = Session(node.imap_port)
    r = s.cmd(f"SELECT {NAME}")
    assert s.status(r) == "NO", r
    r = s.cmd("SELECT a]b")
    assert s.status(r) == "NO", r
    # '&' starts modified UTF-7 (RFC 3501 5.1.3): "&'+,-" names nothing.
    name = NAME.replace("&", "")
    s.ok(f"CREATE {name}")
    r = s.ok(f"SELECT {name}")
    assert "[READ-WRITE]" in r
    s.ok("CREATE x[y")
    r = s.ok("RENAME x[y x[z]")
    r = s.ok('LIST "" x*')
    assert '"x[z]"' in r or "x[z]" in r, r
    s.alive()


def test_list_astring_with_wildcards_and_brackets(node):
    s = Session(node.imap_port)
    r = s.cmd(f'LIST "" {NAME}%*')
    assert s.status(r) == "OK", r
    name = NAME.replace("&", "")
    s.ok(f"CREATE {name}sub")
    r = s.ok(f'LIST "" {name}%*')
    assert "sub" in r, r
    s.alive()


# -- 5. ID with 30 maximal pairs ------------------------------------------

def id_args(pairs, field_len=30, value_len=1024):
    parts = []
    for i in range(pairs):
        field = (f"f{i:02d}" + "x" * field_len)[:field_len]
        parts.append(f'"{field}" "{"v" * value_len}"')
    return "ID (" + " ".join(parts) + ")"


def test_id_thirty_maximal_pairs(node):
    s = Session(node.imap_port, login=False)
    r = s.cmd(id_args(30))
    assert s.status(r) == "OK", r[-200:]
    assert "* ID (" in r
    assert s.status(s.cmd(id_args(31))) == "BAD"
    assert s.status(s.cmd(id_args(2, field_len=31))) == "BAD"
    assert s.status(s.cmd(id_args(2, value_len=1025))) == "BAD"
    assert s.status(s.cmd("ID (\"name\")")) == "BAD"
    assert s.status(s.cmd("ID NIL")) == "OK"
    s.ok(f"LOGIN {USER} {PASSWORD}")
    assert s.status(s.cmd(id_args(30))) == "OK"
    s.alive()


# -- 6. NIL as an astring ---------------------------------------------------

def test_search_nil_is_a_string(node):
    s = Session(node.imap_port)
    append(s, "INBOX", "Subject: a nil subject\r\n\r\nplain\r\n")
    append(s, "INBOX", "Subject: other\r\n\r\nbody with NIL inside\r\n")
    append(s, "INBOX", "Subject: none\r\n\r\nnothing\r\n")
    s.ok("SELECT INBOX")
    r = s.ok("SEARCH SUBJECT NIL")
    assert "* SEARCH 1\r\n" in r, r
    r = s.ok("SEARCH BODY nil")
    assert "* SEARCH 2\r\n" in r, r
    r = s.ok("SEARCH TEXT Nil")
    assert "* SEARCH 1 2\r\n" in r, r
    r = s.ok('SEARCH HEADER NIL ""')
    assert "* SEARCH\r\n" in r, r
    s.ok("CREATE NIL")
    r = s.ok('LIST "" NIL')
    assert '"NIL"' in r or " NIL\r\n" in r, r
    s.ok("SELECT NIL")
    s.alive()


# -- 7. LSUB with "%" ------------------------------------------------------

def test_lsub_percent_shows_unsubscribed_parent_noselect(node):
    s = Session(node.imap_port)
    s.ok("CREATE a/b/c")
    s.ok("SUBSCRIBE a/b/c")
    s.ok("SUBSCRIBE a")
    r = s.ok('LSUB "" a/%')
    assert re.search(r'\* LSUB \([^)]*\\Noselect[^)]*\) "/" "?a/b"?\r\n', r), r
    assert "a/b/c" not in r, r
    r = s.ok('LSUB "" %')
    assert re.search(r'\* LSUB \(\) "/" "?a"?\r\n', r), r
    r = s.ok('LSUB "" a/*')
    assert re.search(r'\* LSUB \(\) "/" "?a/b/c"?\r\n', r), r
    assert not re.search(r'"?a/b"?\r\n', r), r
    s.ok("SUBSCRIBE a/b")
    r = s.ok('LSUB "" a/%')
    assert re.search(r'\* LSUB \(\) "/" "?a/b"?\r\n', r), r


# -- 8. addresses ------------------------------------------------------------

ADDR_MSGS = [
    ('From: "Real Name" <user@domain.example>\r\n'
     "To: Friends: ann@x.example, \"Bob B\" <bob@x.example>;, zoe@y.example\r\n"
     "Cc: carl@x.example (Carl Comment)\r\nSubject: one\r\n\r\nbody\r\n"),
    ("From: Plain Person <plain@p.example>\r\nTo: \"Adam\" <zz@z.example>\r\n"
     "Cc: aaron@a.example\r\nBcc: Hidden One <hid@h.example>\r\nSubject: two\r\n\r\nbody\r\n"),
    ("From: nobody@n.example\r\nTo: bert@b.example\r\nCc: \"Zelda\" <mid@m.example>\r\n"
     "Subject: three\r\n\r\nbody\r\n"),
]


def test_envelope_display_names(node):
    s = Session(node.imap_port)
    for m in ADDR_MSGS:
        append(s, "INBOX", m)
    s.ok("SELECT INBOX")
    r = s.ok("FETCH 1 ENVELOPE")
    assert '(("Real Name" NIL "user" "domain.example"))' in r, r
    assert ('((NIL NIL "Friends" NIL)(NIL NIL "ann" "x.example")("Bob B" NIL "bob" "x.example")'
            '(NIL NIL NIL NIL)(NIL NIL "zoe" "y.example"))') in r, r
    assert '(("Carl Comment" NIL "carl" "x.example"))' in r, r
    r = s.ok("FETCH 2 ENVELOPE")
    assert '(("Plain Person" NIL "plain" "p.example"))' in r, r
    assert '(("Hidden One" NIL "hid" "h.example"))' in r, r


def test_search_addresses(node):
    s = Session(node.imap_port)
    for m in ADDR_MSGS:
        append(s, "INBOX", m)
    s.ok("SELECT INBOX")
    cases = [("FROM \"real name\"", "1"), ("FROM USER@DOMAIN", "1"), ("FROM plain", "2"),
             ("TO \"bob b\"", "1"), ("TO zoe@y", "1"), ("TO adam", "2"), ("CC \"carl comment\"", "1"),
             ("CC zelda", "3"), ("CC mid@m.example", "3"), ("BCC \"hidden one\"", "2"),
             ("BCC hid@H.EXAMPLE", "2"), ("FROM nobody", "3"), ("TO friends", "1")]
    for crit, want in cases:
        r = s.ok(f"SEARCH {crit}")
        assert f"* SEARCH {want}\r\n" in r, (crit, r)


def test_sort_cc_and_displayto(node):
    s = Session(node.imap_port)
    for m in ADDR_MSGS:
        append(s, "INBOX", m)
    s.ok("SELECT INBOX")
    # RFC 5256 3: CC sorts on the first Cc's addr-mailbox: aaron < carl < mid.
    r = s.ok("SORT (CC) UTF-8 ALL")
    assert "* SORT 2 1 3\r\n" in r, r
    r = s.ok("SORT (REVERSE CC) UTF-8 ALL")
    assert "* SORT 3 1 2\r\n" in r, r
    # RFC 5957: the display name of the first To, else its addr-spec:
    # "Adam" < "bert@b.example" < "" (group "Friends" has no address: the
    # first mailbox, ann@x.example, is used).
    r = s.ok("SORT (DISPLAYTO) UTF-8 ALL")
    assert "* SORT 2 1 3\r\n" in r, r


# -- 9. CATENATE relative URLs ----------------------------------------------

SRC = "Subject: source\r\nFrom: a@b.example\r\n\r\nsource text\r\n"


def fetch_body(s, mailbox, seq):
    s.ok(f'SELECT "{mailbox}"')
    r = s.ok(f"FETCH {seq} BODY.PEEK[]")
    m = re.search(r"BODY\[\] \{(\d+)\}\r\n", r)
    assert m, r
    start = m.end()
    return r[start:start + int(m.group(1))]


def test_catenate_relative_urls(node):
    s = Session(node.imap_port)
    s.ok("CREATE Src")
    s.ok("CREATE Dst")
    append(s, "Src", SRC)
    r = s.ok("SELECT Src")
    uidvalidity = re.search(r"UIDVALIDITY (\d+)", r).group(1)
    s.ok("UNSELECT")
    r = s.ok('APPEND Dst CATENATE (URL "/Src/;uid=1/;section=HEADER" TEXT {7+}\r\nhello\r\n)')
    assert "APPENDUID" in r, r
    r = s.ok(f'APPEND Dst CATENATE (TEXT {{18+}}\r\nSubject: glued\r\n\r\n URL "/Src;uidvalidity={uidvalidity}/;uid=1/;section=TEXT")')
    r = s.ok('APPEND Dst CATENATE (URL "/Src/;uid=1")')
    # MULTIAPPEND (RFC 3502) with CATENATE messages.
    r = s.ok('APPEND Dst CATENATE (URL "/Src/;uid=1/;section=HEADER" TEXT {4+}\r\nmid\n)'
             ' CATENATE (URL "/Src/;uid=1")')
    assert re.search(r"APPENDUID \d+ 4:5", r), r
    # An absolute URL of this session's own account resolves too.
    r = s.ok(f'APPEND Dst CATENATE (URL "imap://{USER.replace("@", "%40")};AUTH=*@127.0.0.1/Src/;UID=1")')
    bodies = [fetch_body(s, "Dst", i) for i in range(1, 7)]
    assert bodies[5] == SRC
    header = "Subject: source\r\nFrom: a@b.example\r\n\r\n"
    assert bodies[0] == header + "hello\r\n", bodies[0]
    assert bodies[1] == "Subject: glued\r\n\r\nsource text\r\n", bodies[1]
    assert bodies[2] == SRC
    assert bodies[3] == header + "mid\n"
    assert bodies[4] == SRC
    s.ok("UNSELECT")
    for url in ("/Nope/;uid=1", f"/Src;uidvalidity={int(uidvalidity) + 1}/;uid=1",
                "/Src/;uid=9", "imap://zed@imap.example/INBOX/;uid=1", "imap://127.0.0.1/Src/;uid=1",
                "imap://zed%40imap.example@127.0.0.1/Src/;uid=1",
                "/Src/;uid=1/;section=BOGUS"):
        r = s.cmd(f'APPEND Dst CATENATE (URL "{url}")')
        assert s.status(r) == "NO" and "[BADURL" in r, (url, r)
    s.alive()
