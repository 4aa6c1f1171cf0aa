"""A client that sends its requests and half-closes (shutdown(SHUT_WR), as
`printf ... | nc` does) still gets every answer, the ones waiting for a
password check or for the log included, and then the server's FIN (RFC
9293 3.6: a half-closed connection can still carry data the other way).
Before, IMAP and POP3 closed at the client's EOF and the answers in flight
(LOGIN's password check, what came after it) were lost; SMTP kept its
answers only because it stops reading while a delivery is in flight."""

import socket

import pytest

from conftest import assert_ok, mail_bodies

DOMAIN = "half.example"
USER = f"hal@{DOMAIN}"
PASSWORD = "half-close-pw"


@pytest.fixture
def node(nodes):
    n = nodes("half", env={"EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "1", "EVMAIL_POP3_ALLOW_PLAINTEXT_AUTH": "1",
                           "EVMAIL_SMTP_HOSTNAME": "mx.half.test"})
    n.start(wait="ready")
    assert_ok(n.ctl("tenant", "create", "halft"))
    assert_ok(n.ctl("domain", "add", DOMAIN, "--tenant", "halft"))
    assert_ok(n.ctl("account", "add", USER, "--password-stdin", input=PASSWORD + "\n"))
    return n


def half_closed_exchange(port, data, timeout=30):
    """Sends data, half-closes, reads to the server's EOF."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return got.decode("utf-8", "replace")
            got += chunk
    finally:
        s.close()


def test_smtp_pipelined_transaction_then_half_close(node):
    msg = f"From: a@sender.example\r\nTo: {USER}\r\nSubject: half\r\n\r\nbody\r\n.\r\n"
    got = half_closed_exchange(node.smtp_port, (
        "EHLO client.example\r\nMAIL FROM:<a@sender.example>\r\n"
        f"RCPT TO:<{USER}>\r\nDATA\r\n").encode() + msg.encode() + b"QUIT\r\n")
    lines = got.split("\r\n")
    assert any(ln.startswith("250 2.0.0") and "delivered" in ln for ln in lines), got
    assert any(ln.startswith("221") for ln in lines), got
    assert [b for _, b in mail_bodies(node, USER) if b"Subject: half" in b], "not stored"


def test_imap_login_select_logout_then_half_close(node):
    got = half_closed_exchange(node.imap_port, (
        f'a LOGIN {USER} "{PASSWORD}"\r\nb SELECT INBOX\r\nc LOGOUT\r\n').encode())
    assert "\r\na OK" in got, got
    assert "\r\nb OK [READ-WRITE]" in got, got
    assert "* BYE" in got and "\r\nc OK" in got, got


def test_imap_half_close_without_logout_ends_the_session(node):
    """No LOGOUT: every buffered command is answered, then the server
    closes by itself (no hang until a timeout)."""
    got = half_closed_exchange(node.imap_port, f'a LOGIN {USER} "{PASSWORD}"\r\nb NOOP\r\nc NOO'.encode(),
                               timeout=20)
    assert "\r\na OK" in got and "\r\nb OK" in got, got
    assert "\r\nc " not in got, got


def test_pop3_user_pass_stat_then_half_close(node):
    got = half_closed_exchange(node.pop3_port, f"USER {USER}\r\nPASS {PASSWORD}\r\nSTAT\r\nQUIT\r\n".encode())
    lines = got.split("\r\n")
    assert lines[0].startswith("+OK"), got
    assert sum(1 for ln in lines if ln.startswith("+OK")) == 5, got
