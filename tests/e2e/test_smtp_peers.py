"""The SMTP test peers (smtp_sink.py, postfix_peer.py) are known good:
Python's smtplib (and a raw socket for BDAT) against each of them, before
evmail's own client is tested against them."""

import os
import smtplib
import socket
import ssl

import pytest

from conftest import SmtpRaw, self_signed_cert
from postfix_peer import postfix_peer  # noqa: F401  (fixture)
from smtp_sink import smtp_sink  # noqa: F401  (fixture)

MSG = b"From: a@src.test\r\nTo: bob@peer.test\r\nSubject: peers\r\n\r\nhello\r\n.dot line\r\n"


def client_tls():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def test_sink_records_transaction_with_dsn_and_starttls(smtp_sink, tmp_path):
    cert, key = self_signed_cert(tmp_path / "tls", cn="sink.test")
    sink = smtp_sink(cert=cert, key=key)
    with smtplib.SMTP("127.0.0.1", sink.port, timeout=30) as s:
        s.ehlo("client.test")
        assert s.has_extn("starttls") and s.has_extn("pipelining") and s.has_extn("chunking")
        s.starttls(context=client_tls())
        s.ehlo("client.test")
        assert not s.has_extn("starttls")
        s.sendmail("a@src.test", ["bob@peer.test", "al@peer.test"], MSG,
                   mail_options=["RET=HDRS", "ENVID=e+2B1"],
                   rcpt_options=["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;bob@peer.test"])
    (t,) = sink.wait_for_messages(1)
    assert t.tls and t.helo == "client.test" and t.method == "DATA"
    assert t.mail_from == "a@src.test"
    assert t.mail_params["RET"] == "HDRS" and t.mail_params["ENVID"] == "e+2B1"
    assert [r.addr for r in t.rcpts] == ["bob@peer.test", "al@peer.test"]
    assert t.rcpts[0].params == {"NOTIFY": "SUCCESS,FAILURE", "ORCPT": "rfc822;bob@peer.test"}
    assert t.data == MSG
    assert sink.connections == 1 and sink.accepted == 1


def test_sink_scripted_rcpt_replies(smtp_sink):
    sink = smtp_sink()
    sink.script_rcpt("bob@peer.test", ["451 4.3.0 try later", "452 4.2.2 full"])
    sink.reject_rcpt("eve@peer.test")
    for want in ("451 4.3.0 try later", "452 4.2.2 full", "250 2.1.5 ok"):
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=30) as s:
            s.ehlo()
            s.mail("a@src.test")
            code, text = s.rcpt("bob@peer.test")
            assert f"{code} {text.decode()}" == want
            code, _ = s.rcpt("eve@peer.test")
            assert code == 550
    assert [r.reply for t in sink.transactions for r in t.rcpts if r.addr == "eve@peer.test"] == \
        ["550 5.1.1 no such user"] * 3
    assert sink.connections == 3 and sink.accepted == 0


def test_sink_bdat_pipelined_and_options(smtp_sink):
    sink = smtp_sink(smtputf8=False, dsn=False)
    c = SmtpRaw(sink.port)
    assert c.reply()[0] == 220
    code, lines = c.cmd("EHLO raw.test")
    kw = [line[4:] for line in lines[1:]]
    assert code == 250 and "CHUNKING" in kw and "SMTPUTF8" not in kw and "DSN" not in kw
    body = b"Subject: bdat\r\n\r\n.not stuffed\r\n"
    c.send(b"MAIL FROM:<a@src.test> BODY=8BITMIME\r\nRCPT TO:<x@peer.test>\r\n"
           + f"BDAT {len(body)} LAST\r\n".encode() + body)
    assert [r[0] for r in c.replies(3)] == [250, 250, 250]
    (t,) = sink.wait_for_messages(1)
    assert t.method == "BDAT" and t.data == body and t.mail_params == {"BODY": "8BITMIME"}


def test_sink_failure_modes(smtp_sink):
    sink = smtp_sink(timeout=30)
    sink.drop_mid_data = True
    with pytest.raises(smtplib.SMTPServerDisconnected):
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=30) as s:
            s.sendmail("a@src.test", ["x@peer.test"], MSG * 2000)
    sink.drop_mid_data = False
    sink.stall_after_data = True
    with pytest.raises((socket.timeout, smtplib.SMTPServerDisconnected)):
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=2) as s:   # a bound, not a measurement
            s.sendmail("a@src.test", ["x@peer.test"], MSG)
    sink.stall_after_data = False
    sink.greeting = "421 4.3.2 not now"
    with pytest.raises(smtplib.SMTPConnectError):
        smtplib.SMTP("127.0.0.1", sink.port, timeout=30)
    sink.greeting = None
    sink.mail_reply = "550 5.7.1 sender refused"
    with pytest.raises(smtplib.SMTPSenderRefused):
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=30) as s:
            s.sendmail("a@src.test", ["x@peer.test"], MSG)
    assert sink.accepted == 0 and sink.connections == 4


def test_sink_slow_and_counters(smtp_sink):
    sink = smtp_sink()
    sink.message_delay = 0.2
    sink.data_replies = ["451 4.3.0 later"]
    with smtplib.SMTP("127.0.0.1", sink.port, timeout=30) as s:
        with pytest.raises(smtplib.SMTPDataError):
            s.sendmail("a@src.test", ["x@peer.test"], MSG)
        s.rset()
        s.sendmail("a@src.test", ["x@peer.test"], MSG)
        s.sendmail("a@src.test", ["y@peer.test"], MSG)
    assert sink.accepted == 2 and sink.connections == 1 and sink.max_open_connections == 1
    assert [t.reply[:3] for t in sink.transactions] == ["451", "250", "250"]
    sink.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", sink.port), timeout=5)


def test_postfix_peer_receives_over_starttls(postfix_peer, tmp_path):
    cert, key = self_signed_cert(tmp_path / "tls", cn="peer.test")
    peer = postfix_peer(domains=["peer.test", "other.test"], cert=cert, key=key)
    with smtplib.SMTP("127.0.0.1", peer.port, timeout=30) as s:
        s.ehlo("client.test")
        assert s.has_extn("starttls") and s.has_extn("smtputf8") and s.has_extn("dsn")
        s.starttls(context=client_tls())
        s.ehlo("client.test")
        s.sendmail("a@src.test", ["bob@peer.test", "carol@other.test"], MSG)
        # outside its domains: refused, never relayed
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            s.sendmail("a@src.test", ["x@elsewhere.test"], MSG)
    (bob,) = peer.wait_for_messages(1, addr="bob@peer.test")
    (carol,) = peer.wait_for_messages(1, addr="carol@other.test")
    assert b"Subject: peers" in bob and b"\n.dot line\n" in bob
    assert b"with ESMTPS" in bob and b"with ESMTPS" in carol
    assert len(peer.messages()) == 2
    pid = peer.master_pid()
    assert pid is not None
    peer.stop()
    assert peer.master_pid() is None or not _alive(pid)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", peer.port), timeout=5)


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
