"""IMAP authentication and connection extensions on a real evmaild, on the
embedded log and on Kafka (fixture backend):
AUTHENTICATE SCRAM-SHA-256 (RFC 5802 / RFC 7677; a small client written
here with hashlib/hmac, driven through imaplib.authenticate) with the keys
evmailctl derives on `account add` / `account passwd`, AUTHENTICATE LOGIN
(imaplib, and curl with --login-options AUTH=LOGIN), the TLS rules of the
AUTH= capabilities, COMPRESS=DEFLATE (RFC 4978) on a raw socket with
zlib, and modified UTF-7 / UTF8=ACCEPT mailbox names (RFC 3501 5.1.3,
RFC 6855)."""

import base64
import hashlib
import hmac
import imaplib
import os
import shutil
import socket
import ssl
import subprocess
import zlib

import pytest

from conftest import account_data, assert_ok, cmd, self_signed_cert

DOMAIN = "auth.example"
USER = f"amy@{DOMAIN}"
PASSWORD = "scram-test-pw"


def auth_node(nodes, tls_dir=None, plaintext=True):
    extra = {"EVMAIL_SMTP_HOSTNAME": "mx1.evmail.test"}
    if plaintext:
        extra["EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH"] = "1"
    if tls_dir is not None:
        cert, key = self_signed_cert(tls_dir)
        extra.update(EVMAIL_TLS_CERT=cert, EVMAIL_TLS_KEY=key)
    node = nodes("auth", env=extra)
    node.start(wait="ready")
    assert_ok(node.ctl("tenant", "create", "autht"))
    assert_ok(node.ctl("domain", "add", DOMAIN, "--tenant", "autht"))
    assert_ok(node.ctl("account", "add", USER, "--password-stdin", input=PASSWORD + "\n"))
    return node


@pytest.fixture
def node(backend_nodes):
    return auth_node(backend_nodes)


class Scram:
    """The client side of SCRAM-SHA-256 (RFC 5802 3) as an imaplib
    authobject: called with each server challenge, returns the response.
    It checks the server's signature before sending the last (empty)
    response."""

    def __init__(self, user, password):
        self.user, self.password = user, password
        self.cnonce = base64.b64encode(os.urandom(18)).decode()
        self.bare = f"n={user.replace('=', '=3D').replace(',', '=2C')},r={self.cnonce}"
        self.step = 0
        self.server_verified = False

    def __call__(self, challenge):
        self.step += 1
        if self.step == 1:
            return ("n,," + self.bare).encode()
        if self.step == 2:
            sf = challenge.decode()
            attrs = dict(a.split("=", 1) for a in sf.split(","))
            assert attrs["r"].startswith(self.cnonce), sf
            salt = base64.b64decode(attrs["s"])
            salted = hashlib.pbkdf2_hmac("sha256", self.password.encode(), salt, int(attrs["i"]))
            ckey = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
            stored = hashlib.sha256(ckey).digest()
            skey = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
            without_proof = f"c=biws,r={attrs['r']}"
            auth = f"{self.bare},{sf},{without_proof}".encode()
            sig = hmac.new(stored, auth, hashlib.sha256).digest()
            proof = bytes(a ^ b for a, b in zip(ckey, sig))
            self.expect = b"v=" + base64.b64encode(hmac.new(skey, auth, hashlib.sha256).digest())
            return (without_proof + ",p=" + base64.b64encode(proof).decode()).encode()
        assert challenge == self.expect, (challenge, self.expect)
        self.server_verified = True
        return b""


def connect(node):
    return imaplib.IMAP4("127.0.0.1", node.imap_port, timeout=30)


def scram(node, user, password):
    m = connect(node)
    a = Scram(user, password)
    try:
        typ, _ = m.authenticate("SCRAM-SHA-256", a)
    except imaplib.IMAP4.error as e:
        m.logout()
        return str(e), a
    return m, a


def test_scram_with_evmailctl_keys(node):
    m = connect(node)
    for cap in ("AUTH=SCRAM-SHA-256", "AUTH=LOGIN", "AUTH=PLAIN", "COMPRESS=DEFLATE", "UTF8=ACCEPT"):
        assert cap in m.capabilities, m.capabilities
    m.logout()

    m, a = scram(node, USER, PASSWORD)
    assert not isinstance(m, str), m
    assert a.server_verified
    assert m.select("INBOX")[0] == "OK"
    m.logout()

    err, _ = scram(node, USER, "wrong")
    assert "AUTHENTICATIONFAILED" in err, err
    err, _ = scram(node, f"nobody@{DOMAIN}", PASSWORD)
    assert "AUTHENTICATIONFAILED" in err, err

    # never in listings or a plain `account show`
    listing = node.ctl("--json", "account", "list")
    assert_ok(listing)
    assert "scram_sha256" not in listing.out and "password_hash" not in listing.out
    show = node.ctl("--json", "account", "show", USER)
    assert_ok(show)
    assert "scram_sha256" not in show.out
    full = node.get_json(f"/admin/accounts/{USER}?credentials=1")
    assert full["scram_sha256"]["iterations"] == 10000, full
    assert len(base64.b64decode(full["scram_sha256"]["salt"])) == 16

    # `account set` keeps the keys; `account passwd` replaces them
    assert_ok(node.ctl("account", "set", USER, "--name", "Amy"))
    m, _ = scram(node, USER, PASSWORD)
    assert not isinstance(m, str), m
    m.logout()
    assert_ok(node.ctl("account", "passwd", USER, "--password-stdin", input="new-pw\n"))
    err, _ = scram(node, USER, PASSWORD)
    assert "AUTHENTICATIONFAILED" in err, err
    m, _ = scram(node, USER, "new-pw")
    assert not isinstance(m, str), m
    m.logout()


def test_scram_account_without_keys(node):
    """An account made before SCRAM (no scram_sha256 in its record) fails
    SCRAM like a wrong password; PLAIN still works."""
    h = node.get_json(f"/admin/accounts/{USER}?credentials=1")["password_hash"]
    old = f"old@{DOMAIN}"
    res = node.commands([cmd("account.create", account_data(old, h), account=old)])
    assert res[0].get("status") == "accepted", res
    err, _ = scram(node, old, PASSWORD)
    assert "AUTHENTICATIONFAILED" in err, err
    m = connect(node)
    assert m.login(old, PASSWORD)[0] == "OK"
    m.logout()


def test_auth_login_mechanism(node):
    m = connect(node)
    answers = iter([USER.encode(), PASSWORD.encode()])
    seen = []

    def obj(challenge):
        seen.append(challenge)
        return next(answers)

    assert m.authenticate("LOGIN", obj)[0] == "OK"
    assert seen == [b"Username:", b"Password:"], seen
    m.logout()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_curl_auth_login(node):
    r = subprocess.run(["curl", "-sS", "--max-time", "30", "--login-options", "AUTH=LOGIN",
                        "-u", f"{USER}:{PASSWORD}", f"imap://127.0.0.1:{node.imap_port}/"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert '"INBOX"' in r.stdout or "INBOX" in r.stdout, r.stdout


def test_auth_needs_tls(backend_nodes, tmp_path):
    node = auth_node(backend_nodes, tls_dir=tmp_path / "tls", plaintext=False)
    m = connect(node)
    assert "LOGINDISABLED" in m.capabilities and "AUTH=SCRAM-SHA-256" not in m.capabilities
    typ, data = m._simple_command("AUTHENTICATE", "SCRAM-SHA-256")
    assert typ == "NO" and b"PRIVACYREQUIRED" in data[0], data
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    m.starttls(ctx)
    assert "AUTH=SCRAM-SHA-256" in m.capabilities and "AUTH=LOGIN" in m.capabilities
    a = Scram(USER, PASSWORD)
    assert m.authenticate("SCRAM-SHA-256", a)[0] == "OK" and a.server_verified
    m.logout()


class ZConn:
    """A raw IMAP connection that can switch to DEFLATE (RFC 4978)."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""
        self.z = None

    def send(self, data):
        if self.z is not None:
            data = self.z[0].compress(data) + self.z[0].flush(zlib.Z_SYNC_FLUSH)
        self.s.sendall(data)

    def until(self, needle):
        while needle.encode() not in self.buf:
            chunk = self.s.recv(65536)
            assert chunk, f"connection closed; got {self.buf!r}"
            self.buf += self.z[1].decompress(chunk) if self.z is not None else chunk
        i = self.buf.index(needle.encode())
        end = self.buf.index(b"\r\n", i) + 2
        out, self.buf = self.buf[:end], self.buf[end:]
        return out

    def deflate(self):
        self.z = (zlib.compressobj(6, zlib.DEFLATED, -15), zlib.decompressobj(-15))


def test_compress_deflate(node):
    c = ZConn(node.imap_port)
    c.until("* OK")
    c.send(f"a LOGIN {USER} {PASSWORD}\r\n".encode())
    assert b"a OK" in c.until("a ")
    c.send(b"b COMPRESS DEFLATE\r\n")
    assert b"b OK" in c.until("b ")
    assert c.buf == b"", c.buf
    c.deflate()
    body = b"Subject: deflated\r\n\r\n" + b"all work and no play " * 400 + b"\r\n"
    c.send(b"c APPEND INBOX {%d+}\r\n" % len(body) + body + b"\r\n")
    assert b"c OK [APPENDUID" in c.until("c ")
    c.send(b"d COMPRESS DEFLATE\r\n")
    assert b"d NO [COMPRESSIONACTIVE]" in c.until("d ")
    c.send(b"e SELECT INBOX\r\nf FETCH 1 BODY.PEEK[]\r\n")
    assert b"e OK" in c.until("e ")
    out = c.until("f OK")
    assert body in out, out[:200]
    c.send(b"g LOGOUT\r\n")
    assert b"g OK" in c.until("g OK")


def test_utf7_and_utf8_names(node):
    m = connect(node)
    m.login(USER, PASSWORD)
    assert m.create("Entw&APw-rfe")[0] == "OK"
    typ, boxes = m.list('""', "Entw*")
    assert typ == "OK" and boxes[0].endswith(b'"Entw&APw-rfe"'), boxes
    m.logout()

    # after ENABLE UTF8=ACCEPT the same mailbox is named in UTF-8
    m = connect(node)
    m.login(USER, PASSWORD)
    typ, data = m._simple_command("ENABLE", "UTF8=ACCEPT")
    assert typ == "OK" and b"UTF8=ACCEPT" in m.untagged_responses.get("ENABLED", [b""])[0], data
    m._mode_utf8()
    typ, boxes = m.list('""', "Entw*")
    assert typ == "OK" and boxes[0].endswith('"Entwürfe"'.encode()), boxes
    assert m.select('"Entwürfe"')[0] == "OK"
    m.logout()
