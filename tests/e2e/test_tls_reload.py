"""TLS policy and certificate reload (issue 11, item 5), against a real
evmaild:

- SIGHUP re-reads tls.cert/tls.key: an IMAPS session opened before keeps
  working on its old certificate; new connections on every TLS listener
  (IMAPS, POP3S, submissions, STARTTLS on submission, HTTPS) get the new
  one (compared by SHA-256 fingerprint); the process does not stop;
- a broken certificate file is logged and the old certificate stays;
- TLS 1.0 and 1.1 handshakes are refused by the server (the client really
  offers them: the failure is the server's protocol_version alert); 1.2 and
  1.3 are accepted; tls.min_version = 1.3 refuses 1.2.
"""
import hashlib
import imaplib
import os
import shutil
import signal
import smtplib
import socket
import ssl

import pytest

# TLS 1.0/1.1 are named on purpose here (to be refused).
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

from conftest import assert_ok, free_port, self_signed_cert, wait_until

DOMAIN = "tlsreload.example"
USER = f"tia@{DOMAIN}"
PASSWORD = "tls-reload-pw"
TIMEOUT = 30


def client_ctx(minv=None, maxv=None):
    """A client that accepts any certificate (we compare fingerprints) and
    offers exactly [minv, maxv] when given (security level 0 so that the
    local OpenSSL policy does not veto TLS 1.0/1.1 before the server can)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if minv is not None:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = minv
        ctx.maximum_version = maxv
    return ctx


def fingerprint(der):
    return hashlib.sha256(der).hexdigest()


def file_fingerprint(cert_path):
    return fingerprint(ssl.PEM_cert_to_DER_cert(open(cert_path).read()))


def implicit_fp(port, ctx=None):
    """The fingerprint of the certificate served on an implicit TLS port."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as raw:
        with (ctx or client_ctx()).wrap_socket(raw) as s:
            return fingerprint(s.getpeercert(binary_form=True))


def starttls_fp(port):
    """The fingerprint served after STARTTLS on a submission port."""
    with smtplib.SMTP("127.0.0.1", port, local_hostname="client.example", timeout=TIMEOUT) as s:
        s.starttls(context=client_ctx())
        return fingerprint(s.sock.getpeercert(binary_form=True))


@pytest.fixture
def tls_node(nodes, tmp_path):
    """A node with every TLS listener on, serving certificate A from
    tls/cert.pem; B (another key) is ready in tls-b/."""
    a_cert, a_key = self_signed_cert(tmp_path / "tls-a", cn="a.tlsreload.test")
    b_cert, b_key = self_signed_cert(tmp_path / "tls-b", cn="b.tlsreload.test")
    live = tmp_path / "tls"
    live.mkdir()
    shutil.copy(a_cert, live / "cert.pem")
    shutil.copy(a_key, live / "key.pem")
    n = nodes("tlsr", env={"EVMAIL_TLS_CERT": live / "cert.pem", "EVMAIL_TLS_KEY": live / "key.pem",
                           "EVMAIL_SMTP_HOSTNAME": "mx.tlsreload.test"})
    n.imaps_port, n.https_port = free_port(), free_port()
    n.extra_env["EVMAIL_IMAPS_LISTEN"] = f"127.0.0.1:{n.imaps_port}"
    n.extra_env["EVMAIL_HTTPS_LISTEN"] = f"127.0.0.1:{n.https_port}"
    n.start(wait="ready")
    assert_ok(n.ctl("tenant", "create", "tlsr"))
    assert_ok(n.ctl("domain", "add", DOMAIN, "--tenant", "tlsr"))
    assert_ok(n.ctl("account", "add", USER, "--password-stdin", input=PASSWORD + "\n"))
    n.live = live
    n.a, n.b = (a_cert, a_key), (b_cert, b_key)
    return n


def install(node, pair):
    """Replaces the live certificate and key as a renewal tool does: a new
    file renamed over the old one."""
    for src, name in zip(pair, ("cert.pem", "key.pem")):
        tmp = node.live / f".{name}.new"
        shutil.copy(src, tmp)
        os.replace(tmp, node.live / name)


def log_count(node, needle):
    return node.log_path.read_text(errors="replace").count(needle)


def sighup_and_wait(node, needle):
    """SIGHUP, then waits (bounded) until the log shows one more needle."""
    before = log_count(node, needle)
    node.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: log_count(node, needle) > before, TIMEOUT, what=f"log line {needle!r}",
               diag=node.diag)


def every_listener_fp(node):
    return {
        "imaps": implicit_fp(node.imaps_port),
        "pop3s": implicit_fp(node.pop3s_port),
        "submissions": implicit_fp(node.submissions_port),
        "https": implicit_fp(node.https_port),
        "submission+STARTTLS": starttls_fp(node.submission_port),
    }


def test_sighup_reloads_and_keeps_sessions(tls_node):
    node = tls_node
    fp_a, fp_b = file_fingerprint(node.a[0]), file_fingerprint(node.b[0])
    assert fp_a != fp_b
    assert set(every_listener_fp(node).values()) == {fp_a}

    old = imaplib.IMAP4_SSL("127.0.0.1", node.imaps_port, ssl_context=client_ctx(), timeout=TIMEOUT)
    old.login(USER, PASSWORD)
    assert fingerprint(old.sock.getpeercert(binary_form=True)) == fp_a

    install(node, node.b)
    sighup_and_wait(node, "TLS reload: ")
    assert node.alive(), "SIGHUP stopped the node"
    assert log_count(node, "TLS reload failed") == 0, node.diag()
    got = every_listener_fp(node)
    assert set(got.values()) == {fp_b}, got

    # The session opened before the reload still works, on certificate A.
    typ, data = old.select("INBOX")
    assert typ == "OK", data
    assert old.noop()[0] == "OK"
    assert fingerprint(old.sock.getpeercert(binary_form=True)) == fp_a
    old.logout()

    # A fresh session on the new certificate logs in too.
    new = imaplib.IMAP4_SSL("127.0.0.1", node.imaps_port, ssl_context=client_ctx(), timeout=TIMEOUT)
    assert new.login(USER, PASSWORD)[0] == "OK"
    new.logout()


def test_broken_certificate_keeps_the_old(tls_node):
    node = tls_node
    fp_a, fp_b = file_fingerprint(node.a[0]), file_fingerprint(node.b[0])
    (node.live / "cert.pem").write_text("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n")
    sighup_and_wait(node, "TLS reload: ")
    assert log_count(node, "TLS reload failed") >= 1, node.diag()
    assert node.alive()
    assert set(every_listener_fp(node).values()) == {fp_a}

    # B's certificate with A's key: refused as well.
    shutil.copy(node.b[0], node.live / "cert.pem")
    sighup_and_wait(node, "TLS reload: ")
    assert implicit_fp(node.imaps_port) == fp_a

    # Repaired: the next SIGHUP takes it.
    install(node, node.b)
    sighup_and_wait(node, "TLS reload: ")
    assert set(every_listener_fp(node).values()) == {fp_b}


def refused_by_server(port, minv, maxv):
    """The handshake offering only [minv, maxv] fails with the server's
    protocol_version alert (not a local refusal to offer)."""
    with pytest.raises(ssl.SSLError) as e:
        implicit_fp(port, client_ctx(minv, maxv))
    assert e.value.reason in ("TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL"), e.value
    return True


def test_old_protocols_refused(tls_node):
    node = tls_node
    for port in (node.imaps_port, node.pop3s_port, node.submissions_port, node.https_port):
        refused_by_server(port, ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1)
        refused_by_server(port, ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_1)
        implicit_fp(port, client_ctx(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2))
        implicit_fp(port, client_ctx(ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_3))
    # STARTTLS goes through the same context. The SMTP session closes
    # before the alert is flushed (the client sees an EOF), so the proof
    # that the client offered 1.1 and the server refused it is the
    # session's log: OpenSSL 3's SSL_R_UNSUPPORTED_PROTOCOL, 0x0A000102.
    needle = f"TLS error {0x0A000102}"
    before = log_count(node, needle)
    with smtplib.SMTP("127.0.0.1", node.submission_port, local_hostname="client.example",
                      timeout=TIMEOUT) as s:
        with pytest.raises((ssl.SSLError, smtplib.SMTPServerDisconnected)):
            s.starttls(context=client_ctx(ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_1))
    wait_until(lambda: log_count(node, needle) > before, TIMEOUT, what="the refusal in the log",
               diag=node.diag)


def test_min_version_13(nodes, tmp_path):
    cert, key = self_signed_cert(tmp_path / "tls", cn="127.0.0.1")
    n = nodes("tls13", env={"EVMAIL_TLS_CERT": cert, "EVMAIL_TLS_KEY": key, "EVMAIL_TLS_MIN_VERSION": "1.3"})
    n.start(wait="ready")
    refused_by_server(n.pop3s_port, ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2)
    implicit_fp(n.pop3s_port, client_ctx(ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_3))


def test_bad_policy_refused_at_start(nodes, tmp_path):
    cert, key = self_signed_cert(tmp_path / "tls", cn="127.0.0.1")
    n = nodes("tlsbad", env={"EVMAIL_TLS_CERT": cert, "EVMAIL_TLS_KEY": key,
                             "EVMAIL_TLS_CIPHERS": "NO-SUCH-CIPHER"})
    n.start(wait=None)
    assert n.proc.wait(timeout=TIMEOUT) != 0
    assert "tls.ciphers \"NO-SUCH-CIPHER\"" in n.log_path.read_text(errors="replace")
