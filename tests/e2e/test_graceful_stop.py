"""SIGTERM is a graceful stop: the node drains (new sessions refused, idle
ones closed), a transaction in flight is answered before the process
leaves, and the exit status is 0. Found by the chaos harness: a stop used
to cut a DATA whose message was already logged (the client retried: a
duplicate) and could crash when a delivery outlived the log."""

import imaplib
import socket
import time

from conftest import SmtpRaw, mail_directory, mail_inbox


def test_sigterm_answers_the_message_in_flight(nodes):
    node = nodes("stopper")
    node.start(wait="ready")
    (rcpt,) = mail_directory(node, "gs", "stop.test", ["amy"])
    idle = imaplib.IMAP4("127.0.0.1", node.imap_port, timeout=30)   # idle: closed by the drain

    c = SmtpRaw(node.smtp_port)
    assert c.reply()[0] == 220
    assert c.cmd("EHLO client.test")[0] == 250
    assert c.cmd("MAIL FROM:<x@elsewhere.test>")[0] == 250
    assert c.cmd(f"RCPT TO:<{rcpt}>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: in flight\r\n\r\nbody\r\n")

    node.proc.send_signal(15)
    time.sleep(0.5)
    assert node.alive(), "the node left before answering the transaction in flight"
    # A new connection is refused while the node drains.
    with socket.create_connection(("127.0.0.1", node.smtp_port), timeout=10) as s2:
        greeting = s2.recv(512)
    assert greeting.startswith(b"421") or greeting == b"", greeting
    # The idle IMAP session was told goodbye.
    try:
        idle.noop()
        raise AssertionError("idle IMAP session still open during the stop")
    except (imaplib.IMAP4.abort, OSError):
        pass

    c.send(b".\r\n")
    assert c.reply()[0] == 250, "the message in flight was not answered"
    assert node.proc.wait(30) == 0
    # It was stored, once.
    node.start(wait="ready")
    _, msgs = mail_inbox(node, rcpt)
    assert len(msgs) == 1, msgs
