"""SEARCH text keys served through the node-local text index (issue 9
section 3): many messages with plain, UTF-8, encoded-word, quoted-printable
and base64 text; UID SEARCH SUBJECT/FROM/TO/BODY/TEXT results equal a
reference computed here (RFC 9051 6.4.4 substring under i;unicode-casemap,
RFC 5051; BODY is the decoded text of the text parts), before the index
exists, once it has caught up, after EXPUNGE, STORE and new deliveries,
and for needles of 1 and 2 characters (not narrowed by the index)."""

import base64
import imaplib
import quopri
import time
import unicodedata

from test_imap_core import imap_node, login

WORDS = ["alpha", "Bravo", "charlie", "Délta", "écho", "FOXTROT", "golf", "hôtel",
         "ındia", "Ünïcode", "Ωmega", "кошка", "naïve", "zeta", "quartz", "Résumé"]
NAMES = ["Ann Example", "Björn Ångström", "Carl", "Zoë Quartz", "Ελένη"]
ENCODINGS = ["plain", "qp", "base64", "8bit", "multipart"]


def casemap(s):
    """i;unicode-casemap for the letters used here (simple titlecase =
    upper case for them), then NFKD (RFC 5051 2)."""
    return unicodedata.normalize("NFKD", "".join(c.upper() if len(c.upper()) == 1 else c for c in s))


def found(needle, pieces):
    n = casemap(needle)
    return any(n in casemap(p) for p in pieces)


def encoded_word(text, i):
    if i % 2:
        return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="
    q = "".join(c if c.isascii() and c.isalnum() else "".join(f"={b:02X}" for b in c.encode())
                for c in text)
    return "=?utf-8?q?" + q + "?="


class Msg:
    """A generated message and what SEARCH must see of it."""

    def __init__(self, i, gen):
        w = lambda k: WORDS[(i * 7 + k * 3 + gen) % len(WORDS)]
        self.subject = f"{w(0)} {w(1)} report {i}"
        self.name = NAMES[(i + gen) % len(NAMES)]
        self.addr = f"sender{i % 7}@host{i % 3}.example"
        self.body = f"Dear {w(2)},\nthe {w(3)} numbers for item{i} are in: {w(4)}.\n"
        enc = ENCODINGS[(i + gen) % len(ENCODINGS)]
        subj_hdr = self.subject if enc in ("plain", "8bit") and self.subject.isascii() else encoded_word(self.subject, i)
        name_hdr = self.name if self.name.isascii() else encoded_word(self.name, i + 1)
        headers = [("From", f" {name_hdr} <{self.addr}>"), ("To", " Amy <amy@imap.example>"),
                   ("Subject", " " + subj_hdr), ("Date", " Mon, 7 Feb 1994 21:52:25 -0800"),
                   ("Message-ID", f" <m{gen}.{i}@fts.example>"), ("MIME-Version", " 1.0")]
        body = self.body.replace("\n", "\r\n")
        if enc == "qp":
            headers += [("Content-Type", " text/plain; charset=iso-8859-1"),
                        ("Content-Transfer-Encoding", " quoted-printable")]
            data = quopri.encodestring(body.encode("iso-8859-1", "replace")).decode()
            self.body = body.encode("iso-8859-1", "replace").decode("iso-8859-1")
        elif enc == "base64":
            headers += [("Content-Type", " text/plain; charset=utf-8"),
                        ("Content-Transfer-Encoding", " base64")]
            data = base64.encodebytes(body.encode()).decode().replace("\n", "\r\n")
            self.body = body
        elif enc == "8bit":
            headers += [("Content-Type", " text/plain; charset=utf-8"), ("Content-Transfer-Encoding", " 8bit")]
            data = body
            self.body = body
        elif enc == "multipart":
            headers += [("Content-Type", ' multipart/mixed; boundary="b1"')]
            att = base64.b64encode(b"ATTACHEDSECRET " + self.subject.encode()).decode()
            data = ("--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                    + base64.b64encode(body.encode()).decode() + "\r\n--b1\r\nContent-Type: application/octet-stream\r\n"
                    "Content-Transfer-Encoding: base64\r\n\r\n" + att + "\r\n--b1--\r\n")
            self.body = body + "\n"
        else:
            data = "".join(c if c.isascii() else "?" for c in body)
            self.body = data
        self.headers = headers
        self.raw = ("".join(f"{k}:{v}\r\n" for k, v in headers) + "\r\n" + data).encode()
        # evmail decodes header values: (name, decoded value) pieces for TEXT
        self.header_pieces = [f"{k}: {self.subject}" if k == "Subject" else
                              f"{k}: {self.name} <{self.addr}>" if k == "From" else f"{k}:{v}"
                              for k, v in headers]

    def pieces(self, key):
        if key == "SUBJECT":
            return [self.subject]
        if key == "FROM":
            return [self.name, self.addr]
        if key == "TO":
            return ["Amy", "amy@imap.example"]
        if key == "BODY":
            return [self.body]
        return self.header_pieces + [self.body]


NEEDLES = ["report", "ALPHA", "délta", "DELTA", "écho", "ECHO", "ünïcode", "ΩMEGA", "КОШКА", "naïve",
           "résumé", "item1", "item17", "ström", "björn", "ελένη", "host2.example", "sender3",
           "numbers for", "ATTACHEDSECRET", "zzzz", "a", "é", "ö", "Ω", "ha", "al", "7"]
KEYS = ["SUBJECT", "FROM", "TO", "BODY", "TEXT"]


def uid_search(m, key, needle):
    lit = needle.encode()
    m.literal = lit
    typ, data = m.uid("SEARCH", "CHARSET", "UTF-8", key)
    assert typ == "OK", (key, needle, data)
    return sorted(int(x) for x in data[0].split())


def check_all(m, msgs):
    """Every key and needle against the reference; msgs: uid -> Msg."""
    partial = 0
    for key in KEYS:
        for needle in NEEDLES:
            want = sorted(uid for uid, msg in msgs.items() if found(needle, msg.pieces(key)))
            assert uid_search(m, key, needle) == want, (key, needle)
            partial += 0 < len(want) < len(msgs)
    assert partial > 40   # most queries tell messages apart


def append_all(m, box, gen, count):
    out = {}
    for i in range(count):
        msg = Msg(i, gen)
        typ, data = m.append(box, None, None, msg.raw)
        assert typ == "OK", data
        uid = int(data[0].split(b"APPENDUID")[1].split()[1].rstrip(b"]"))
        out[uid] = msg
    return out


def test_text_search_matches_reference(nodes):
    node = imap_node(nodes)
    m = login(node)
    assert m.create("Fts")[0] == "OK"
    msgs = append_all(m, "Fts", 0, 80)
    assert m.select("Fts")[0] == "OK"
    check_all(m, msgs)           # the first search: nothing indexed yet
    time.sleep(2)                # the indexer catches up (either way the answers are exact)
    check_all(m, msgs)

    # EXPUNGE a third of them; STORE on others
    gone = [uid for uid in msgs if uid % 3 == 0]
    typ, _ = m.uid("STORE", ",".join(map(str, gone)), "+FLAGS", "(\\Deleted)")
    assert typ == "OK"
    assert m.expunge()[0] == "OK"
    for uid in gone:
        del msgs[uid]
    typ, _ = m.uid("STORE", ",".join(str(u) for u in msgs if u % 3 == 1), "+FLAGS", "(\\Seen $Work)")
    assert typ == "OK"
    check_all(m, msgs)
    typ, data = m.uid("SEARCH", "SEEN", "SUBJECT", "report")
    assert typ == "OK"
    assert sorted(int(x) for x in data[0].split()) == sorted(u for u in msgs if u % 3 == 1)

    # new deliveries (a different generation of texts), searched at once and later
    msgs.update(append_all(m, "Fts", 1, 30))
    assert m.noop()[0] == "OK"
    check_all(m, msgs)
    time.sleep(2)
    check_all(m, msgs)

    # copies share an email id with their original: found in the other mailbox too
    assert m.create("Fts2")[0] == "OK"
    some = sorted(msgs)[:10]
    assert m.uid("COPY", ",".join(map(str, some)), "Fts2")[0] == "OK"
    assert m.select("Fts2")[0] == "OK"
    copies = {i + 1: msgs[u] for i, u in enumerate(some)}
    check_all(m, copies)
    m.logout()
