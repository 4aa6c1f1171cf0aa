"""The password cache (auth.cache_ttl_s, gateway/auth_cache.h) on a real
evmaild: a second login with the same credentials is answered without a
yescrypt check, whatever the protocol (IMAP LOGIN, POP3 USER/PASS, SMTP
AUTH on submission); a wrong password is still refused and always checked
in full; a password change or a disabled account takes effect at once; off
by default. Counted through /metrics: evmail_auth_cache_hits_total,
evmail_auth_cache_misses_total, evmail_auth_password_checks_total."""

import imaplib
import poplib
import re
import smtplib

import pytest

from conftest import assert_ok

DOMAIN = "cache.example"
USER = f"cara@{DOMAIN}"
PASSWORD = "cache-test-pw"
TIMEOUT = 30
PLAINTEXT = {"EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "1", "EVMAIL_POP3_ALLOW_PLAINTEXT_AUTH": "1",
             "EVMAIL_SUBMISSION_ALLOW_PLAINTEXT_AUTH": "1"}


def start(nodes, name, **env):
    node = nodes(name, env={**PLAINTEXT, **env})
    node.start(wait="ready")
    assert_ok(node.ctl("tenant", "create", "cachet"))
    assert_ok(node.ctl("domain", "add", DOMAIN, "--tenant", "cachet"))
    assert_ok(node.ctl("account", "add", USER, "--password-stdin", input=PASSWORD + "\n"))
    return node


def counters(node):
    """(hits, misses, full checks) from /metrics."""
    m = node.metrics()

    def one(name):
        found = re.search(rf"^{name} (\d+)$", m, re.M)
        assert found, f"{name} missing from /metrics:\n{m}"
        return int(found.group(1))
    return (one("evmail_auth_cache_hits_total"), one("evmail_auth_cache_misses_total"),
            one("evmail_auth_password_checks_total"))


def imap_login(node, password, user=USER):
    """True when LOGIN succeeds, False on NO."""
    m = imaplib.IMAP4("127.0.0.1", node.imap_port, timeout=TIMEOUT)
    try:
        m.login(user, password)
    except imaplib.IMAP4.error as e:
        assert "AUTHENTICATIONFAILED" in str(e), e
        m.shutdown()
        return False
    m.logout()
    return True


def test_second_login_skips_the_check(nodes):
    node = start(nodes, "cache", EVMAIL_AUTH_CACHE_TTL_S="3600")
    assert counters(node) == (0, 0, 0)
    assert imap_login(node, PASSWORD)
    assert counters(node) == (0, 1, 1)           # first login: checked in full
    assert imap_login(node, PASSWORD)
    assert counters(node) == (1, 1, 1)           # second: from the cache

    # a wrong password beside the cached right one: refused, checked in
    # full every time (never cached), and the right one still cached
    assert not imap_login(node, "wrong-pw")
    assert not imap_login(node, "wrong-pw")
    assert counters(node) == (1, 3, 3)
    assert not imap_login(node, PASSWORD, user=f"nobody@{DOMAIN}")
    assert counters(node) == (1, 3, 4)           # unknown account: dummy check, no lookup
    assert imap_login(node, PASSWORD)
    assert counters(node) == (2, 3, 4)

    # the same cache answers POP3 and SMTP AUTH
    p = poplib.POP3("127.0.0.1", node.pop3_port, timeout=TIMEOUT)
    p.user(USER)
    assert p.pass_(PASSWORD).startswith(b"+OK")
    p.quit()
    assert counters(node) == (3, 3, 4)
    with smtplib.SMTP("127.0.0.1", node.submission_port, local_hostname="client.example",
                      timeout=TIMEOUT) as s:
        code, _ = s.login(USER, PASSWORD)
        assert code == 235
    assert counters(node) == (4, 3, 4)
    with smtplib.SMTP("127.0.0.1", node.submission_port, local_hostname="client.example",
                      timeout=TIMEOUT) as s:
        s.ehlo()
        s.user, s.password = USER, "wrong-pw"
        with pytest.raises(smtplib.SMTPAuthenticationError):
            s.auth("PLAIN", s.auth_plain)    # one mechanism: one check
    assert counters(node) == (4, 4, 5)

    # a changed password: the old one never matches the old entry
    assert_ok(node.ctl("account", "passwd", USER, "--password-stdin", input="new-pw\n"))
    assert not imap_login(node, PASSWORD)
    assert counters(node) == (4, 5, 6)
    assert imap_login(node, "new-pw")
    assert imap_login(node, "new-pw")
    assert counters(node) == (5, 6, 7)

    # a disabled account is refused at once, its cached password or not
    assert_ok(node.ctl("account", "set", USER, "--state", "disabled"))
    assert not imap_login(node, "new-pw")
    assert counters(node) == (5, 6, 8)


def test_off_by_default(nodes):
    node = start(nodes, "nocache")
    assert imap_login(node, PASSWORD)
    assert imap_login(node, PASSWORD)
    assert counters(node) == (0, 0, 2)
