"""LMTP (RFC 2033) on EVMAIL_LMTP_LISTEN: LHLO only, and one reply per
accepted recipient after the message (DATA and BDAT), in RCPT order --
the way a front MTA learns that one recipient is over quota while the
others got the message."""

import pytest

from conftest import SmtpRaw, assert_ok, free_port, mail_bodies, mail_directory, mail_inbox

DOMAIN = "lmtp.example"


@pytest.fixture
def lmtp(nodes):
    port = free_port()
    node = nodes("lmtp", env={"EVMAIL_LMTP_LISTEN": f"127.0.0.1:{port}",
                              "EVMAIL_SMTP_HOSTNAME": "mda.lmtp.test",
                              "EVMAIL_LIMITS_MESSAGE_SIZE": "200000"})
    node.start(wait="ready")
    node.lmtp_port = port
    users = mail_directory(node, "t1", DOMAIN, ["full", "ok1", "ok2", "ann", "ben"],
                           quota={f"full@{DOMAIN}": 10240})
    return node, users


def connect(node):
    c = SmtpRaw(node.lmtp_port)
    code, lines = c.reply()
    assert code == 220 and "LMTP" in lines[0], lines
    return c


def big_message(tag):
    return (f"Subject: {tag}\r\nMessage-ID: <{tag}@lmtp.example>\r\n\r\n".encode()
            + (b"L" * 76 + b"\r\n") * 200)   # ~15.6 KB: over the 10K quota


def test_lhlo_only(lmtp):
    node, _ = lmtp
    c = connect(node)
    try:
        code, lines = c.cmd("EHLO mta.example")
        assert code == 500 and "LHLO" in lines[0], c.log()
        code, lines = c.cmd("HELO mta.example")
        assert code == 500, c.log()
        assert c.cmd("MAIL FROM:<a@b.example>")[0] == 503, c.log()
        code, lines = c.cmd("LHLO mta.example")
        assert code == 250, c.log()
        ext = [ln[4:] for ln in lines]
        assert ext[0] == "mda.lmtp.test", ext
        for e in ("PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME", "CHUNKING", "SIZE 200000"):
            assert e in ext, (e, ext)
    finally:
        c.close()
    # and the SMTP listener does not speak LMTP
    s = SmtpRaw(node.smtp_port)
    try:
        s.reply()
        assert s.cmd("LHLO mta.example")[0] == 500, s.log()
    finally:
        s.close()


def test_per_recipient_replies_quota(lmtp):
    node, (full, ok1, ok2, ann, ben) = lmtp
    msg = big_message("over-quota")
    c = connect(node)
    try:
        c.cmd("LHLO mta.example")
        c.send(f"MAIL FROM:<sender@remote.example>\r\nRCPT TO:<{ok1}>\r\nRCPT TO:<nobody@{DOMAIN}>\r\n"
               f"RCPT TO:<{full}>\r\nRCPT TO:<{ok2}>\r\nDATA\r\n")
        codes = [r[0] for r in c.replies(6)]
        assert codes == [250, 250, 550, 250, 250, 354], c.log()
        c.send(msg + b".\r\n")
        # one reply per ACCEPTED recipient (3), in RCPT order
        r = c.replies(3)
        assert [x[0] for x in r] == [250, 552, 250], c.log()
        assert r[1][1][0].startswith("552 5.2.2"), c.log()
        # the session goes on: NOOP answers right after (no stray 4th reply)
        assert c.cmd("NOOP")[0] == 250, c.log()
        # a small message to the full account still fits
        c.send(f"MAIL FROM:<sender@remote.example>\r\nRCPT TO:<{full}>\r\nDATA\r\n")
        assert [x[0] for x in c.replies(3)] == [250, 250, 354], c.log()
        c.send(b"Subject: small\r\n\r\nfits\r\n.\r\n")
        assert c.reply()[0] == 250, c.log()
        assert c.cmd("QUIT")[0] == 221
    finally:
        c.close()
    assert len(mail_inbox(node, full)[1]) == 1
    for u in (ok1, ok2):
        got = mail_bodies(node, u)
        assert len(got) == 1, (u, got)
        raw = got[0][1]
        assert raw.startswith(f"Delivered-To: {u}\r\nReturn-Path: <sender@remote.example>\r\n".encode()), raw[:300]
        assert b" with LMTP id " in raw[:600], raw[:600]
        assert raw.endswith(msg), raw[-200:]


def test_per_recipient_replies_bdat_alias_and_rejects(lmtp):
    """BDAT LAST also gets one reply per recipient; an alias RCPT gets one
    reply (the worst of its accounts); a message refused as a whole (bare
    LF) gets the refusal once per recipient."""
    node, (full, ok1, ok2, ann, ben) = lmtp
    for t in (ann, full):
        assert_ok(node.ctl("alias", "add", f"grp@{DOMAIN}", t))
    msg = big_message("bdat-alias")
    c = connect(node)
    try:
        c.cmd("LHLO mta.example")
        half = len(msg) // 2
        c.send(f"MAIL FROM:<s@remote.example>\r\nRCPT TO:<{ben}>\r\nRCPT TO:<grp@{DOMAIN}>\r\n".encode()
               + f"BDAT {half}\r\n".encode() + msg[:half]
               + f"BDAT {len(msg) - half} LAST\r\n".encode() + msg[half:])
        # MAIL, RCPT, RCPT, BDAT (first chunk), then one reply per recipient:
        # ben ok; grp the worst of its accounts (ann ok, full over quota)
        r = c.replies(6)
        assert [x[0] for x in r] == [250, 250, 250, 250, 250, 552], c.log()
        assert r[5][1][0].startswith("552 5.2.2"), c.log()

        # bare LF: refused, once per recipient
        c.send(f"MAIL FROM:<s@remote.example>\r\nRCPT TO:<{ok1}>\r\nRCPT TO:<{ok2}>\r\nDATA\r\n")
        assert [x[0] for x in c.replies(4)] == [250, 250, 250, 354], c.log()
        c.send(b"Subject: bare\r\n\r\nbare\nLF\r\n.\r\n")
        r = c.replies(2)
        assert [x[0] for x in r] == [550, 550] and all(x[1][0].startswith("550 5.6.11") for x in r), c.log()
        assert c.cmd("NOOP")[0] == 250, c.log()
    finally:
        c.close()
    assert len(mail_inbox(node, ben)[1]) == 1
    assert len(mail_inbox(node, ann)[1]) == 1     # the alias delivered to the account with room
    assert len(mail_inbox(node, full)[1]) == 0
    assert len(mail_inbox(node, ok1)[1]) == 0 and len(mail_inbox(node, ok2)[1]) == 0


def test_same_account_twice_one_copy_two_replies(lmtp):
    """RCPT bob and RCPT bob+tag: two accepted recipients, so two replies,
    but one account, so one stored copy."""
    node, (full, ok1, ok2, ann, ben) = lmtp
    c = connect(node)
    try:
        c.cmd("LHLO mta.example")
        plus = ok1.replace("@", "+tag@")
        c.send(f"MAIL FROM:<s@remote.example>\r\nRCPT TO:<{ok1}>\r\nRCPT TO:<{plus}>\r\nDATA\r\n")
        assert [x[0] for x in c.replies(4)] == [250, 250, 250, 354], c.log()
        c.send(b"Subject: twice\r\n\r\nonce\r\n.\r\n")
        assert [x[0] for x in c.replies(2)] == [250, 250], c.log()
        assert c.cmd("NOOP")[0] == 250, c.log()
    finally:
        c.close()
    got = mail_bodies(node, ok1)
    assert len(got) == 1, got
