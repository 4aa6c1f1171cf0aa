"""The IMAP search family on one evmaild, on the embedded log and on Kafka
(fixture backend), driven by Python's imaplib:
SORT (RFC 5256) with every key and REVERSE, SORT=DISPLAY (RFC 5957),
ESORT, PARTIAL and UPDATE contexts followed across two sessions
(RFC 5267), THREAD=ORDEREDSUBJECT and THREAD=REFERENCES
(RFC 5256), ESEARCH for IMAP4rev1 clients asking with RETURN (RFC 4731),
SEARCHRES "$" in later commands (RFC 5182), WITHIN (RFC 5032) and
i;unicode-casemap text matching (RFC 5051)."""

import base64
import imaplib
import re
import time

import pytest

from test_imap_core import imap_node, login

MSGS = [
    (b"From: Zed <zed@x.org>\r\nTo: bea@imap.example\r\nCc: Ann <mo@x.org>\r\n"
     b"Subject: Hello\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\nMessage-ID: <a@x>\r\n\r\nfirst\r\n"),
    (b"From: Yolanda <alice@x.org>\r\nTo: al@imap.example\r\nSubject: Re: Hello\r\n"
     b"Date: Tue, 7 Feb 1995 10:00:00 +0000\r\nMessage-ID: <b@x>\r\nReferences: <a@x>\r\n\r\n"
     b"second, longer body\r\n"),
    (b"From: carl@x.org\r\nTo: Zoe <cy@imap.example>\r\nSubject: =?utf-8?q?=C3=A9cole?=\r\n"
     b"Date: Wed, 7 Feb 1990 10:00:00 +0000\r\nMessage-ID: <c@x>\r\n\r\nthird\r\n"),
    (b"From: dan@x.org\r\nTo: bea@imap.example\r\nSubject: [list] Re: Hello\r\n"
     b"Date: Thu, 7 Feb 1996 10:00:00 +0000\r\nMessage-ID: <d@x>\r\nIn-Reply-To: <b@x>\r\n\r\nfourth\r\n"),
]


@pytest.fixture
def box(backend_nodes):
    node = imap_node(backend_nodes)
    m = login(node)
    assert m.create("Search")[0] == "OK"
    for i, raw in enumerate(MSGS):
        flags = "(\\Seen)" if i == 1 else "()"
        typ, data = m.append("Search", flags, None, raw)
        assert typ == "OK", data
    typ, data = m.select("Search")
    assert typ == "OK" and data == [b"4"], data
    m.evm_node = node
    yield m
    m.logout()


def run(m, *args):
    typ, data = m._simple_command(*args)
    assert typ == "OK", (args, data)
    return m


def esearch(m, *args):
    run(m, *args)
    return m._untagged_response("OK", [None], "ESEARCH")[1]


def bad(m, *args):
    with pytest.raises(imaplib.IMAP4.error):
        m._simple_command(*args)


def test_capabilities(box):
    typ, caps = box.capability()
    for c in ("ESEARCH", "SEARCHRES", "SORT", "SORT=DISPLAY", "ESORT", "THREAD=ORDEREDSUBJECT",
              "THREAD=REFERENCES", "WITHIN", "CONTEXT=SEARCH", "CONTEXT=SORT"):
        assert f" {c} ".encode() in caps[0] + b" ", caps


def test_sort(box):
    def sort(crit, search="ALL", uid=False):
        typ, data = (box.uid("SORT", crit, "UTF-8", search) if uid else box.sort(crit, "UTF-8", search))
        assert typ == "OK", data
        return data[0].decode()

    assert sort("(SUBJECT)") == "3 1 2 4"
    assert sort("(DATE)") == "3 1 2 4"
    assert sort("(REVERSE DATE)") == "4 2 1 3"
    assert sort("(ARRIVAL)") == "1 2 3 4"
    assert sort("(FROM)") == "2 3 4 1"
    assert sort("(DISPLAYFROM)") == "3 4 2 1"
    assert sort("(TO)") == "2 1 4 3"
    assert sort("(DISPLAYTO)") == "2 1 4 3"
    assert sort("(REVERSE CC DATE)") == "1 3 2 4"
    by_size = sorted(range(4), key=lambda i: (len(MSGS[i]), i))
    assert sort("(SIZE)") == " ".join(str(i + 1) for i in by_size)
    assert sort("(SUBJECT)", "UNSEEN", uid=True) == "3 1 4"
    with pytest.raises(imaplib.IMAP4.error):
        box.sort("(NOSUCHKEY)", "UTF-8", "ALL")
    typ, data = box.sort("(DATE)", "ISO-8859-99", "ALL")
    assert typ == "NO"


def after_tag(m):
    """The last ESEARCH response without its (TAG "...") correlator."""
    line = m.untagged_responses.pop("ESEARCH", [b""])[-1]
    assert line.startswith(b'(TAG "'), line
    return line.split(b") ", 1)[1] if b") " in line else b""


def test_esearch_esort_partial(box):
    run(box, "SEARCH", "RETURN", "(MIN MAX COUNT)", "ALL")
    assert after_tag(box) == b"MIN 1 MAX 4 COUNT 4"
    run(box, "SEARCH", "RETURN", "()", "UNSEEN")
    assert after_tag(box) == b"ALL 1,3:4"
    run(box, "SEARCH", "RETURN", "(COUNT)", "DELETED")
    assert after_tag(box) == b"COUNT 0"
    run(box, "SEARCH", "RETURN", "(PARTIAL 2:3)", "ALL")
    assert after_tag(box) == b"PARTIAL (2:3 2:3)"
    run(box, "SORT", "RETURN", "(ALL)", "(SUBJECT)", "UTF-8", "ALL")
    assert after_tag(box) == b"ALL 3,1:2,4"
    run(box, "SORT", "RETURN", "(MIN MAX)", "(REVERSE DATE)", "UTF-8", "ALL")
    assert after_tag(box) == b"MIN 4 MAX 3"   # RFC 5267 3.1: first / last sorted
    typ, data = box.uid("SORT", "RETURN", "(PARTIAL 2:3)", "(REVERSE DATE)", "UTF-8", "ALL")
    assert typ == "OK", data
    assert after_tag(box) == b"UID PARTIAL (2:3 2,1)"
    bad(box, "SEARCH", "RETURN", "(NOPE)", "ALL")
    typ, data = box.search(None, "ALL")
    assert data == [b"1 2 3 4"], data


def test_thread(box):
    typ, data = box.thread("REFERENCES", "UTF-8", "ALL")
    assert typ == "OK" and data == [b"(3)(1 2 4)"], data
    typ, data = box.thread("ORDEREDSUBJECT", "UTF-8", "ALL")
    assert typ == "OK" and data == [b"(3)(1 (2)(4))"], data
    typ, data = box.uid("THREAD", "REFERENCES", "UTF-8", "UNSEEN")
    assert typ == "OK" and data == [b"(3)(1 4)"], data


def test_searchres(box):
    typ, data = box._simple_command("SEARCH", "RETURN", "(SAVE)", "UNSEEN")
    assert typ == "OK" and "ESEARCH" not in box.untagged_responses
    typ, data = box.fetch("$", "(UID)")
    assert typ == "OK" and len(data) == 3, data
    typ, data = box.store("$", "+FLAGS", "(\\Flagged)")
    assert typ == "OK", data
    typ, data = box.search(None, "FLAGGED")
    assert data == [b"1 3 4"], data
    typ, data = box.uid("SEARCH", "UID", "$", "SUBJECT", "hello")
    assert data == [b"1 4"], data
    typ, data = box.copy("$", "Trash")
    assert typ == "OK", data
    run(box, "SEARCH", "RETURN", "(SAVE MAX)", "FLAGGED")
    typ, data = box.search(None, "$")
    assert data == [b"4"], data
    bad(box, "SEARCH", "RETURN", "(SAVE)", "BOGUS")   # RFC 5182 2.1: "$" is now empty
    typ, data = box.search(None, "$")
    assert data == [b""], data


def test_within_and_casemap(box):
    typ, data = box.search(None, "YOUNGER", "3600")
    assert data == [b"1 2 3 4"], data
    typ, data = box.search(None, "OLDER", "3600")
    assert data == [b""], data
    assert box.create("Old")[0] == "OK"
    typ, data = box.append("Old", None, imaplib.Time2Internaldate(946684800), b"Subject: old\r\n\r\nx\r\n")
    assert typ == "OK", data
    assert box.select("Old")[0] == "OK"
    typ, data = box.search(None, "OLDER", "3600")
    assert data == [b"1"], data
    typ, data = box.search(None, "YOUNGER", str(int(time.time()) - 946684800 + 86400))
    assert data == [b"1"], data
    typ, data = box.search(None, "YOUNGER", "3600")
    assert data == [b""], data
    assert box.select("Search")[0] == "OK"
    box.literal = "\u00c9COLE".encode()
    typ, data = box.search("UTF-8", "SUBJECT")
    assert typ == "OK" and data == [b"3"], data
    typ, data = box.search(None, "FROM", "yOlAnDa")
    assert data == [b"2"], data


def updates(m, want, timeout=10):
    """NOOPs until want ESEARCH updates arrived (the change reaches the
    session through the projector's notification)."""
    got, deadline = [], time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        m.noop()
        got += m.untagged_responses.pop("ESEARCH", [])
        time.sleep(0.05)
    return got


def test_context_update(box):
    """RFC 5267 4.3: a UID SEARCH / UID SORT with UPDATE hears of changes
    made by another session, until CANCELUPDATE."""
    imaplib.Commands.setdefault("CANCELUPDATE", ("SELECTED",))
    other = login(box.evm_node)
    assert other.select("Search")[0] == "OK"
    typ, data = box.uid("SEARCH", "RETURN", "(UPDATE COUNT)", "UNSEEN")
    assert typ == "OK", data
    line = box.untagged_responses.pop("ESEARCH")[-1]
    tag = line.split(b'"')[1].decode()
    assert line.endswith(b"UID COUNT 3"), line
    typ, data = box.uid("SORT", "RETURN", "(UPDATE)", "(DATE)", "UTF-8", "UNSEEN")
    assert typ == "OK", data
    stag = box.untagged_responses.pop("ESEARCH")[-1].split(b'"')[1].decode()
    assert other.store("1", "+FLAGS", "(\\Seen)")[0] == "OK"
    got = updates(box, 2)
    assert f'(TAG "{tag}") UID REMOVEFROM (0 1)'.encode() in got, got
    assert f'(TAG "{stag}") UID REMOVEFROM (2 1)'.encode() in got, got
    typ, data = box._simple_command("CANCELUPDATE", f'"{tag}"')
    assert typ == "OK", data
    assert other.store("1", "-FLAGS", "(\\Seen)")[0] == "OK"
    got = updates(box, 1)
    assert got == [f'(TAG "{stag}") UID ADDTO (2 1)'.encode()], got
    other.logout()


B64_WORD = base64.b64encode("Ωmega wombat".encode()).decode()
TEXTS = [
    # 1: the word only in a header field
    b"From: ann@x.org\r\nSubject: plain\r\nX-Note: quokka colony\r\n\r\nnothing to see\r\n",
    # 2: the word only in the body
    b"From: ann@x.org\r\nSubject: plain\r\n\r\nthe quokka jumps\r\n",
    # 3: quoted-printable, ISO-8859-1
    b"From: ann@x.org\r\nSubject: qp\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n\r\nK=E4se aus K=F6ln, sehr gro=\r\nssartig\r\n",
    # 4: base64, UTF-8
    b"From: ann@x.org\r\nSubject: b64\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n" + B64_WORD.encode() + b"\r\n",
    # 5: 8bit windows-1252 (not UTF-8)
    b"From: ann@x.org\r\nSubject: cp\r\nContent-Type: text/plain; charset=windows-1252\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n\r\nprice 5\x80, caf\xe9 cr\xe8me\r\n",
    # 6: every trigram of "abcd", not the string
    b"From: ann@x.org\r\nSubject: trap\r\n\r\nabc bcd\r\n",
]
# (key, needle, UIDs in the Texts mailbox): RFC 9051 6.4.4, TEXT = header + body
TEXT_QUERIES = [
    ("TEXT", "quokka", [1, 2]), ("BODY", "quokka", [2]), ("TEXT", "X-NOTE: QUOKKA", [1]),
    ("TEXT", "quokka colony", [1]), ("BODY", "colony", []), ("BODY", "köln", [3]),
    ("TEXT", "KÄSE AUS", [3]), ("BODY", "grossartig", [3]),
    ("BODY", "K=E4se", []), ("TEXT", "ωMEGA WOM", [4]), ("BODY", B64_WORD[:8], []),
    ("BODY", "5€", [5]), ("TEXT", "CRÈME", [5]), ("TEXT", "abcd", []), ("BODY", "abc bcd", [6]),
    ("TEXT", "subject: trap", [6]), ("BODY", "subject: trap", []), ("TEXT", "ann@x.org", [1, 2, 3, 4, 5, 6]),
]


def text_uids(m, key, needle):
    m.literal = needle.encode()
    typ, data = m.uid("SEARCH", "CHARSET", "UTF-8", key)
    assert typ == "OK", (key, needle, data)
    return sorted(int(x) for x in data[0].split())


def fts_caught_up(node, docs, timeout=60):
    """Waits until the node's text indexer has nothing pending and has
    written at least docs documents (/metrics)."""
    import re
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        t = node.metrics()
        pend = re.search(r"^evmail_fts_accounts_pending (\d+)$", t, re.M)
        done = re.search(r"^evmail_fts_documents_indexed_total (\d+)$", t, re.M)
        if pend and done and int(pend.group(1)) == 0 and int(done.group(1)) >= docs:
            return
        time.sleep(0.1)
    raise AssertionError("the text index did not catch up")


def same_before_and_after_index(box, mailbox, raws, queries, uids):
    """Appends raws to a new mailbox, selects it and checks every (key,
    needle, wanted UIDs) of queries with uids(box, key, needle): before
    the index exists, then once it has caught up with every message."""
    assert box.create(mailbox)[0] == "OK"
    for raw in raws:
        assert box.append(mailbox, None, None, raw)[0] == "OK"
    assert box.select(mailbox)[0] == "OK"
    for key, needle, want in queries:   # nothing indexed yet
        assert uids(box, key, needle) == want, (key, needle)
    fts_caught_up(box.evm_node, len(MSGS) + len(set(raws)))   # one document per content
    for key, needle, want in queries:   # from the index
        assert uids(box, key, needle) == want, (key, needle)


def test_text_body_from_index(box):
    """TEXT and BODY give the same exact answers before the index exists
    (every message scanned), once it has caught up (candidates confirmed
    on the text it stored), and for a message delivered after it: header
    only, body only, quoted-printable, base64, a non-UTF-8 charset, and
    a string whose trigrams are all in a message that does not hold it."""
    same_before_and_after_index(box, "Texts", TEXTS, TEXT_QUERIES, text_uids)
    # delivered now: found at once, indexed or not
    assert box.append("Texts", None, None, b"From: bo@y.org\r\nX-Note: late quokka\r\n\r\nabcd\r\n")[0] == "OK"
    assert box.noop()[0] == "OK"
    assert text_uids(box, "TEXT", "quokka") == [1, 2, 7]
    assert text_uids(box, "TEXT", "abcd") == [7]
    assert text_uids(box, "BODY", "quokka") == [2]
    fts_caught_up(box.evm_node, len(MSGS) + len(TEXTS) + 1)
    assert text_uids(box, "TEXT", "quokka") == [1, 2, 7]
    assert text_uids(box, "TEXT", "abcd") == [7]
    box.literal = b"wombat"
    typ, data = box.uid("SEARCH", "CHARSET", "UTF-8", "NOT", "TEXT")
    assert typ == "OK" and sorted(int(x) for x in data[0].split()) == [1, 2, 3, 5, 6, 7], data


FIELDS = [
    (b"From: \"Alice Smith\" <alice@example.com>\r\nTo: bob@x.org, \"Carol\" <carol@y.org>\r\n"
     b"Cc: Friends: dave@z.org, Erin <erin@z.org>;\r\nBcc: undisclosed-recipients:;\r\n"
     b"Subject: =?UTF-8?B?R3LDvMOfZSBhdXM=?= =?ISO-8859-1?Q?K=F6ln?=\r\n"
     b"X-Tag: Zebra\r\nX-Tag: second\r\n\r\nbody\r\n"),
    (b"From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <jm@m.de>\r\nTo: alice@example.com\r\n"
     b"Subject: plain\r\n folded\r\nX-Tag: other\r\n\r\nsmith\r\n"),
]
# (key, needle, UIDs in the Fields mailbox): RFC 9051 6.4.4, one piece at a time
FIELD_QUERIES = [
    (("FROM",), "alice smith", [1]), (("FROM",), "smithalice", []), (("FROM",), "ALICE@EXAMPLE", [1]),
    (("TO",), "alice@", [2]), (("TO",), "x.orgcarol", []), (("TO",), "carol", [1]), (("CC",), "friends", [1]),
    (("CC",), "FRIENDS DAVE", []), (("CC",), "erin@z", [1]), (("BCC",), "undisclosed-recipients", [1]),
    (("FROM",), "jürgen müller", [2]), (("SUBJECT",), "grüße aus", [1]), (("SUBJECT",), "=?utf-8", []),
    (("SUBJECT",), "FOLDED", [2]), (("SUBJECT",), "köln", [1]),
    (("HEADER", "X-Tag"), "zebra", [1]), (("HEADER", "x-tag"), "zebrasecond", []),
    (("HEADER", "X-TAG"), "second", [1]), (("HEADER", "x-tag"), "x-tag", []), (("HEADER", "X-Tag"), "", [1, 2]),
    (("HEADER", "Subject"), "subject", []), (("HEADER", "subject"), "FOLDED", [2]),
    (("HEADER", "Cc"), "friends: dave", [1]), (("HEADER", "X-Nope"), "", []),
]


def field_uids(m, key, needle):
    m.literal = needle.encode()
    typ, data = m.uid("SEARCH", "CHARSET", "UTF-8", *key)
    assert typ == "OK", (key, needle, data)
    return sorted(int(x) for x in data[0].split())


def test_fields_from_index(box):
    """SUBJECT, FROM, TO, CC, BCC and HEADER give the same exact answers
    before the index exists (summaries and messages read) and once it has
    caught up (confirmed on the text it stored): display names, group
    names, RFC 2047 encoded words, addresses, and a string across two
    pieces of a field, which matches neither."""
    same_before_and_after_index(box, "Fields", FIELDS, FIELD_QUERIES, field_uids)


DENSE_TO = [
    b"To: Team <team@dense.test>",                             # 1
    b"To: team@dense.test, other@x.org",                       # 2
    b"To: \"Team Dense\" <t@dense.test>",                      # 3: "team dense" is a display name
    b"To: Crew: team@dense.test;",                             # 4: a group
    b"To: =?UTF-8?Q?T=C3=A9am?= <team@dense.test>",           # 5
    b"To: nobody@elsewhere.org",                               # 6
    b"To: TEAM@DENSE.TEST",                                    # 7: a field name not ASCII (below)
    b"To: Team <team@dense.test>",                             # 8: the same message as 1 (one email id)
    b"To: team@dense.test",                                    # 9
    b"To: Team <team@dense.test>\r\nCc: team@dense.test",       # 10
]
DENSE = [to + b"\r\nSubject: common " + (b"one" if i in (0, 7) else b"%d" % i) +
         (b"\r\nX-\xef\xbc\x9aA: zebra" if i == 6 else b"") + b"\r\n\r\nbody\r\n"
         for i, to in enumerate(DENSE_TO)]
ALL_DENSE = list(range(1, len(DENSE) + 1))
# (key, needle, UIDs in the Dense mailbox): the candidates are most of the
# account's messages, so the stored fields are read in one pass
DENSE_QUERIES = [
    (("TO",), "team@dense", [1, 2, 4, 5, 7, 8, 9, 10]), (("TO",), "dense.test", [1, 2, 3, 4, 5, 7, 8, 9, 10]),
    (("TO",), "team dense", [3]), (("TO",), "crew", [4]), (("TO",), "téam", [5]), (("CC",), "team@dense", [10]),
    (("SUBJECT",), "common", ALL_DENSE), (("SUBJECT",), "common one", [1, 8]),
    (("HEADER", "To"), "team@dense", [1, 2, 4, 5, 7, 8, 9, 10]), (("HEADER", "Subject"), "common", ALL_DENSE),
    (("NOT", "TO"), "team@dense", [3, 6]), (("UID", "2:4", "TO"), "dense.test", [2, 3, 4]),
    (("OR", "SUBJECT", "nowhere", "TO"), "team@dense", [1, 2, 4, 5, 7, 8, 9, 10]),
    (("SUBJECT", "1", "TO"), "team@dense", [2]), (("SUBJECT", "2", "TO"), "team@dense", []),
]


def test_fields_dense_from_index(box):
    """A field most messages hold (the stored fields of every candidate
    read in one pass): the same exact answers before the index exists and
    once it has caught up, with one message appended twice, a field name
    that is not ASCII (its HEADER scanned), and a message delivered after
    the index."""
    same_before_and_after_index(box, "Dense", DENSE, DENSE_QUERIES, field_uids)
    assert box.append("Dense", None, None, b"To: team@dense.test\r\nSubject: late common\r\n\r\nx\r\n")[0] == "OK"
    assert box.noop()[0] == "OK"
    assert field_uids(box, ("TO",), "team@dense") == [1, 2, 4, 5, 7, 8, 9, 10, 11]
    assert field_uids(box, ("SUBJECT",), "common") == ALL_DENSE + [11]
