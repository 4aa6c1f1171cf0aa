"""Malformed SASL is a failed login (issue #11 polish; gateway/auth_gate.h
auth_gate_malformed): undecodable base64 and a PLAIN response without its
NULs, on IMAP AUTHENTICATE, POP3 AUTH and submission AUTH, are counted
against the client (evmail_auth_failures_total) and answered after the
failure delay like a wrong password, so after auth.max_failures_ip of them
the client is refused even with the right password, while another address
logs in."""

import base64

from test_throttle import PASSWORD, USER, Lines, counter, imap_login, start

GOOD_PLAIN = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
NO_NULS = base64.b64encode(f"{USER}{PASSWORD}".encode()).decode()


def imap_authenticate(node, source, response):
    c = Lines(node.imap_port, source)
    c.line()
    c.send(f"m AUTHENTICATE PLAIN {response}")
    line = c.until("m ")
    c.close()
    return line


def pop3_auth(node, source, response):
    c = Lines(node.pop3_port, source)
    c.line()
    c.send(f"AUTH PLAIN {response}")
    line = c.line()
    c.close()
    return line


def submission_auth(node, source, response):
    c = Lines(node.submission_port, source)
    c.until("220 ")
    c.send("EHLO client.test")
    c.until("250 ")
    c.send(f"AUTH PLAIN {response}")
    line = c.line()
    c.close()
    return line


def test_malformed_sasl_counts_as_failure(nodes):
    node = start(nodes, "malformed", EVMAIL_AUTH_FAILURE_DELAY_MS="200", EVMAIL_AUTH_MAX_FAILURES_IP="3")
    # IMAP: the answers keep their meaning, and each one is counted
    assert imap_authenticate(node, "127.0.0.41", "!!!not-base64").startswith("m BAD Invalid base64")
    assert "Malformed PLAIN" in imap_authenticate(node, "127.0.0.41", NO_NULS)
    assert counter(node, "evmail_auth_failures_total") == 2
    assert counter(node, "evmail_auth_failures_delayed_total") >= 2
    assert imap_authenticate(node, "127.0.0.41", "%%%").startswith("m BAD")
    assert counter(node, "evmail_auth_failures_total") == 3
    # locked out: the right password fails too; another address logs in
    line, _ = imap_login(node.imap_port, "127.0.0.41", PASSWORD)
    assert " NO " in line, line
    assert counter(node, "evmail_auth_refused_ip_total") >= 1
    assert imap_authenticate(node, "127.0.0.42", GOOD_PLAIN).startswith("m OK"), "other address"

    # POP3
    assert pop3_auth(node, "127.0.0.43", "!!!").startswith("-ERR [AUTH] Invalid base64")
    assert pop3_auth(node, "127.0.0.43", NO_NULS).startswith("-ERR [AUTH] Malformed PLAIN")
    assert counter(node, "evmail_auth_failures_total") == 5
    # submission
    assert submission_auth(node, "127.0.0.44", "!!!").startswith("501 5.5.2")
    assert submission_auth(node, "127.0.0.44", NO_NULS).startswith("535 5.7.8")
    assert submission_auth(node, "127.0.0.44", "%%%").startswith("501 5.5.2")
    assert counter(node, "evmail_auth_failures_total") == 8
    assert submission_auth(node, "127.0.0.44", GOOD_PLAIN).startswith("535 5.7.8")
    assert submission_auth(node, "127.0.0.45", GOOD_PLAIN).startswith("235 ")
