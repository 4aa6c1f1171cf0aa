"""IMAP URLAUTH (RFC 4467) on one evmaild (embedded log), over a raw
socket: GENURLAUTH with the INTERNAL mechanism and each access identifier
(user+, authuser, anonymous, submit+), URLFETCH of a message, a section and
a partial range, NIL for a modified, expired or foreign-access URL,
another account's URL refused like a missing mailbox, RESETKEY of one
mailbox and of all, and URLs still valid after a restart and a rebuild
(equal digests)."""

import re

from conftest import assert_ok
from test_imap_metadata import Raw, lit, tagged

DOMAIN = "meta.example"
USER = f"mia@{DOMAIN}"
OTHER = f"ola@{DOMAIN}"
PASSWORD = "meta-test-pw"
MESSAGE = (b"From: a@b.example\r\nTo: mia@meta.example\r\nSubject: forward me\r\n"
           b"Message-ID: <urlauth.1@b.example>\r\n\r\nThe body text.\r\n")


def gen(c, url):
    out = c.cmd(b'GENURLAUTH "' + url + b'" INTERNAL')
    assert tagged(out).split()[1] == b"OK", out
    m = re.search(rb'\* GENURLAUTH "([^"]+)"', out)
    assert m, out
    assert m.group(1).startswith(url + b":INTERNAL:"), out
    return m.group(1)


def fetch(c, url):
    """The URLFETCH data of url, or None for NIL."""
    out = c.cmd(b'URLFETCH "' + url + b'"')
    assert tagged(out).split()[1] == b"OK", out
    head = b'* URLFETCH "' + url + b'" '
    i = out.find(head)
    assert i >= 0, out
    rest = out[i + len(head):]
    if rest.startswith(b"NIL"):
        return None
    m = re.match(rb"\{(\d+)\}\r\n", rest)
    assert m, out
    n = int(m.group(1))
    return rest[m.end():m.end() + n]


def test_urlauth(nodes):
    node = nodes("urlauth", env={"EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "1"})
    node.start(wait="ready")
    assert_ok(node.ctl("tenant", "create", "metat"))
    assert_ok(node.ctl("domain", "add", DOMAIN, "--tenant", "metat"))
    for u in (USER, OTHER):
        assert_ok(node.ctl("account", "add", u, "--password-stdin", input=PASSWORD + "\n"))
    c, o = Raw(node), Raw(node, OTHER)
    assert b" URLAUTH" in c.cmd(b"CAPABILITY")
    out = c.cmd(b"APPEND INBOX " + lit(MESSAGE))
    uv, uid = re.search(rb"\[APPENDUID (\d+) (\d+)\]", out).groups()
    base = b"imap://mia%40meta.example@imap.meta.example/INBOX;UIDVALIDITY=" + uv + b"/;UID=" + uid

    # user+: only that user
    url = gen(c, base + b";URLAUTH=user+ola%40meta.example")
    assert fetch(o, url) == MESSAGE
    assert fetch(c, url) is None
    # authuser and anonymous: any logged-in user
    url_auth = gen(c, base + b";URLAUTH=authuser")
    assert fetch(o, url_auth) == MESSAGE and fetch(c, url_auth) == MESSAGE
    url_anon = gen(c, base + b"/;SECTION=TEXT/;PARTIAL=4.4;URLAUTH=anonymous")
    assert fetch(o, url_anon) == b"body"
    # submit+ is for a submission server, not an IMAP session
    assert fetch(c, gen(c, base + b";URLAUTH=submit+mia%40meta.example")) is None
    # a modified verifier, URL or mechanism gives NIL
    flipped = url_auth[:-1] + (b"0" if url_auth[-1:] != b"0" else b"1")
    assert fetch(o, flipped) is None
    other_uid = url_auth.replace(b"/;UID=" + uid, b"/;UID=" + str(int(uid) + 1).encode())
    assert fetch(o, other_uid) is None
    assert fetch(o, url_auth.replace(b":INTERNAL:", b":OTHER:")) is None
    assert fetch(o, b"not a url") is None
    # expiry
    expired = gen(c, base + b";EXPIRE=2001-01-01T00:00:00Z;URLAUTH=authuser")
    assert fetch(o, expired) is None
    later = gen(c, base + b";EXPIRE=2999-01-01T00:00:00+02:00;URLAUTH=authuser")
    assert fetch(o, later) == MESSAGE
    # another account's URL is refused like a missing mailbox
    foreign = b"imap://ola%40meta.example@h/INBOX/;UID=1;URLAUTH=authuser"
    missing = b"imap://mia%40meta.example@h/Nope/;UID=1;URLAUTH=authuser"
    t1 = tagged(c.cmd(b'GENURLAUTH "' + foreign + b'" INTERNAL')).split(b"] ", 1)
    t2 = tagged(c.cmd(b'GENURLAUTH "' + missing + b'" INTERNAL')).split(b"] ", 1)
    assert t1[1] == t2[1] and b"NO [BADURL" in t1[0], (t1, t2)
    # bad forms
    assert b"NO [BADURL" in c.cmd(b'GENURLAUTH "' + base + b'" INTERNAL')   # no ;URLAUTH=
    assert b"NO [BADURL" in c.cmd(b'GENURLAUTH "' + base + b';URLAUTH=authuser" OTHER')
    assert tagged(c.cmd(b'GENURLAUTH "' + base + b'"')).split()[1] == b"BAD"
    assert tagged(c.cmd(b"URLFETCH")).split()[1] == b"BAD"

    # RESETKEY of the mailbox, then of all: old URLs die, new ones work
    assert b"OK [URLMECH INTERNAL]" in c.cmd(b"RESETKEY INBOX INTERNAL")
    assert fetch(o, url_auth) is None
    url2 = gen(c, base + b";URLAUTH=authuser")
    assert url2 != url_auth and fetch(o, url2) == MESSAGE
    assert b"NO [NONEXISTENT]" in c.cmd(b"RESETKEY Nope")
    assert b" OK" in c.cmd(b"RESETKEY")
    assert fetch(o, url2) is None
    url3 = gen(c, base + b";URLAUTH=authuser")
    assert fetch(o, url3) == MESSAGE
    c.close()
    o.close()

    # the keys are in the log: a restart and a rebuild keep the URL valid
    digest = node.digest()
    assert node.stop() == 0
    node.start(wait="ready")
    assert node.digest() == digest
    res = assert_ok(node.ctl("rebuild", timeout=300))
    assert "rebuilt" in res.out, repr(res)
    node.wait_ready(120)
    assert node.digest() == digest, "rebuild changed the view"
    o = Raw(node, OTHER)
    assert fetch(o, url3) == MESSAGE
    o.close()
