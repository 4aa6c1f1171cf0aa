"""JMAP PushSubscription (RFC 8620 7.2) on a real evmaild: a tiny HTTP
server on 127.0.0.1 stands for the push service. Creating a subscription
POSTs a PushVerification to it; the client sends the code back; a delivery
over SMTP then POSTs a StateChange with the new Email state. An unverified
subscription gets nothing but its verification, an expired one nothing.
A subscription with keys gets every push encrypted (RFC 8291), which the
test's user agent decrypts with http_ece, an independent implementation.
(jmap.push_allow_http and jmap.push_allow_private are set: the push
service is plain HTTP on loopback here.)"""

import base64
import datetime
import http.server
import json
import os
import threading
import time

import http_ece
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from conftest import assert_ok, free_port, wait_until
from test_jmap import PASSWORD, USER, DOMAIN, account_id, api, deliver

TIMEOUT = 20


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class UserAgent:
    """The receiving side of RFC 8291: a P-256 key pair and an auth secret."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.public = self.key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)

    def keys(self):
        return {"p256dh": b64url(self.public), "auth": b64url(self.auth)}

    def decrypt(self, body):
        return http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm")


class PushService:
    """Records every POST: path -> [(headers, body object)]; an aes128gcm
    body is decrypted by the user agent registered for its path (its raw
    bytes are kept in raw)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.posts = {}
        self.raw = {}
        self.agents = {}
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(n)
                if self.headers.get("Content-Encoding") == "aes128gcm":
                    try:
                        body = json.loads(owner.agents[self.path].decrypt(raw))
                    except Exception as e:   # recorded: the test then fails on it
                        body = {"@error": repr(e)}
                else:
                    body = json.loads(raw)
                with owner.lock:
                    owner.raw.setdefault(self.path, []).append(raw)
                    owner.posts.setdefault(self.path, []).append((dict(self.headers), body))
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def got(self, path):
        with self.lock:
            return list(self.posts.get(path, []))

    def wait(self, path, n, what):
        wait_until(lambda: len(self.got(path)) >= n, TIMEOUT, what=what)
        return self.got(path)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def push():
    p = PushService()
    yield p
    p.close()


@pytest.fixture(scope="module")
def node(tmp_path_factory, binaries):
    from conftest import Node
    n = Node("jmap-push", tmp_path_factory.mktemp("jmap-push"),
             env={"EVMAIL_HTTP_LISTEN": f"127.0.0.1:{free_port()}",
                  "EVMAIL_SMTP_HOSTNAME": "mx1.evmail.test",
                  "EVMAIL_JMAP_PUSH_ALLOW_HTTP": "1",
                  "EVMAIL_JMAP_PUSH_ALLOW_PRIVATE": "1",
                  "EVMAIL_JMAP_PUSH_TIMEOUT_S": "5"})
    n.start(wait="ready")
    assert_ok(n.ctl("tenant", "create", "pusht"))
    assert_ok(n.ctl("domain", "add", DOMAIN, "--tenant", "pusht"))
    assert_ok(n.ctl("account", "add", USER, "--password-stdin", input=PASSWORD + "\n"))
    yield n
    n.kill9()


def pushsub_set(node, args):
    status, _, r = api(node, [["PushSubscription/set", args, "0"]])
    assert status == 200, r
    name, res, _ = r["methodResponses"][0]
    assert name == "PushSubscription/set", r
    return res


def create(node, push, path):
    res = pushsub_set(node, {"create": {"k": {"deviceClientId": "e2e-" + path,
                                              "url": push.url(path)}}})
    assert "k" in (res["created"] or {}), res
    return res["created"]["k"]["id"]


def subscribe(node, push, path):
    """A verified subscription, past its first (full) StateChange."""
    sid = create(node, push, path)
    [(headers, v)] = push.wait(path, 1, "the PushVerification")
    assert v == {"@type": "PushVerification", "pushSubscriptionId": sid,
                 "verificationCode": v["verificationCode"]}
    assert headers["Content-Type"] == "application/json"
    assert int(headers["TTL"]) > 0          # RFC 8620 7.2, RFC 8030 5.2
    res = pushsub_set(node, {"update": {sid: {"verificationCode": "wrong"}}})
    assert res["notUpdated"][sid]["type"] == "invalidProperties", res
    res = pushsub_set(node, {"update": {sid: {"verificationCode": v["verificationCode"]}}})
    assert sid in (res["updated"] or {}), res
    posts = push.wait(path, 2, "the first StateChange")
    assert posts[1][1]["@type"] == "StateChange"
    return sid


def email_pushes(push, path, acct):
    return [b["changed"][acct]["Email"] for _, b in push.got(path)
            if b.get("@type") == "StateChange" and "Email" in b["changed"].get(acct, {})]


def test_verification_then_delivery(node, push):
    acct = account_id(node)
    subscribe(node, push, "/dev1")
    before = email_pushes(push, "/dev1", acct)
    _, _, r = api(node, [["PushSubscription/get", {}, "g"]])
    [sub] = [s for s in r["methodResponses"][0][1]["list"] if s["deviceClientId"] == "e2e-/dev1"]
    assert "url" not in sub and "keys" not in sub
    deliver(node, "pushed")
    wait_until(lambda: len(email_pushes(push, "/dev1", acct)) > len(before), TIMEOUT,
               what="a StateChange for the delivery")
    assert email_pushes(push, "/dev1", acct)[-1] not in before


def test_unverified_and_expired_get_nothing(node, push):
    acct = account_id(node)
    create(node, push, "/unverified")
    push.wait("/unverified", 1, "the PushVerification")
    expiring = subscribe(node, push, "/expiring")
    soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=2)
    res = pushsub_set(node, {"update": {expiring: {"expires": soon.strftime("%Y-%m-%dT%H:%M:%SZ")}}})
    assert expiring in (res["updated"] or {}), res
    subscribe(node, push, "/probe")
    wait_until(lambda: datetime.datetime.now(datetime.timezone.utc) > soon + datetime.timedelta(seconds=1),
               10, what="the expiry")
    expiring_before = len(push.got("/expiring"))
    probe_before = len(email_pushes(push, "/probe", acct))
    deliver(node, "after expiry")
    # The probe's push and any to the others come from the same change,
    # queued together: once the probe has it, the others would have theirs.
    wait_until(lambda: len(email_pushes(push, "/probe", acct)) > probe_before, TIMEOUT,
               what="the probe's StateChange")
    assert len(push.got("/unverified")) == 1
    assert len(push.got("/expiring")) == expiring_before
    _, _, r = api(node, [["PushSubscription/get", {"ids": [expiring]}, "g"]])
    assert r["methodResponses"][0][1]["notFound"] == [expiring]


def test_encrypted_push(node, push):
    """RFC 8620 7.2: with keys, the verification and every StateChange are
    RFC 8291 messages (Content-Encoding: aes128gcm, a TTL) that only the
    subscriber can read; bad keys are refused."""
    acct = account_id(node)
    path = "/enc"
    ua = UserAgent()
    push.agents[path] = ua
    bad = {"p256dh": b64url(ua.public[:33]), "auth": ua.keys()["auth"]}
    short = {"p256dh": ua.keys()["p256dh"], "auth": b64url(ua.auth[:15])}
    res = pushsub_set(node, {"create": {
        "b": {"deviceClientId": "e2e-bad", "url": push.url("/bad"), "keys": bad},
        "s": {"deviceClientId": "e2e-bad", "url": push.url("/bad"), "keys": short}}})
    for k in ("b", "s"):
        assert res["notCreated"][k]["type"] == "invalidProperties", res
        assert res["notCreated"][k]["properties"] == ["keys"], res
    res = pushsub_set(node, {"create": {"k": {"deviceClientId": "e2e-enc", "url": push.url(path),
                                              "keys": ua.keys()}}})
    sid = res["created"]["k"]["id"]
    [(headers, v)] = push.wait(path, 1, "the encrypted PushVerification")
    assert "@error" not in v, v
    assert v == {"@type": "PushVerification", "pushSubscriptionId": sid,
                 "verificationCode": v["verificationCode"]}
    assert headers["Content-Encoding"] == "aes128gcm"
    assert int(headers["TTL"]) > 0
    raw = push.raw[path][0]
    # RFC 8188 2.1 header: salt 16, rs 4096, idlen 65, keyid = an
    # uncompressed P-256 point; the JSON is nowhere in clear.
    assert int.from_bytes(raw[16:20], "big") == 4096 and raw[20] == 65 and raw[21] == 4
    assert v["verificationCode"].encode() not in raw
    res = pushsub_set(node, {"update": {sid: {"verificationCode": v["verificationCode"]}}})
    assert sid in (res["updated"] or {}), res
    posts = push.wait(path, 2, "the first encrypted StateChange")
    assert posts[1][1]["@type"] == "StateChange", posts[1]
    before = email_pushes(push, path, acct)
    deliver(node, "encrypted push")
    wait_until(lambda: len(email_pushes(push, path, acct)) > len(before), TIMEOUT,
               what="an encrypted StateChange for the delivery")
    posts = push.got(path)
    assert all(h["Content-Encoding"] == "aes128gcm" and "@error" not in b for h, b in posts), posts
    # A new ephemeral key and salt for every message (RFC 8291 3.1).
    raws = push.raw[path]
    assert len({r[:16] for r in raws}) == len(raws)
    assert len({r[21:86] for r in raws}) == len(raws)
