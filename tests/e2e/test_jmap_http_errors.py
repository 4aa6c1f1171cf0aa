"""The error paths of JMAP's HTTP (RFC 8620 3.6) and of the HTTP/1.1 and
WebSocket layers under it, over raw sockets and http.client on a real
evmaild: maxSizeRequest (the Session's value + 1), maxCallsInRequest,
maxObjectsInGet, malformed JSON and a JSON value that is no Request, an
unknown capability, a bad result reference, accountIds and blobIds of
another user and of another tenant (answered exactly like ids that do
not exist), keep-alive and pipelining across API POSTs, a chunked request
body, Expect: 100-continue, header sections over their limits, and
WebSocket framing errors (an unmasked frame: 1002; a message over the
limit: 1009). Each one is followed by the server answering the next
connection, and the refused writes write nothing (Email state unchanged).

The node runs with limits.http_body = 1 MiB, so that maxSizeRequest comes
from that limit (one octet under it) and the oversized bodies stay small."""

import base64
import http.client
import json
import os
import socket
import struct
import time

import pytest

from conftest import assert_ok, free_port

DOMAIN = "httperr.example"
USER = f"hal@{DOMAIN}"
NEIGHBOUR = f"nina@{DOMAIN}"
STRANGER = "sam@elsewhere.example"   # another tenant
PASSWORD = "httperr-test-pw"
USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"]
PROBLEM = "urn:ietf:params:jmap:error:"
HTTP_BODY = 1024 * 1024
TIMEOUT = 20


@pytest.fixture(scope="module")
def node(tmp_path_factory, binaries):
    from conftest import Node
    n = Node("httperr", tmp_path_factory.mktemp("httperr"),
             env={"EVMAIL_HTTP_LISTEN": f"127.0.0.1:{free_port()}",
                  "EVMAIL_LIMITS_HTTP_BODY": str(HTTP_BODY),
                  "EVMAIL_SMTP_HOSTNAME": "mx1.evmail.test"})
    n.start(wait="ready")
    assert_ok(n.ctl("tenant", "create", "httperrt"))
    assert_ok(n.ctl("domain", "add", DOMAIN, "--tenant", "httperrt"))
    assert_ok(n.ctl("tenant", "create", "elsewheret"))
    assert_ok(n.ctl("domain", "add", "elsewhere.example", "--tenant", "elsewheret"))
    for u in (USER, NEIGHBOUR, STRANGER):
        assert_ok(n.ctl("account", "add", u, "--password-stdin", input=PASSWORD + "\n"))
    yield n
    n.kill9()


def hostport(node):
    host, port = node.env["EVMAIL_HTTP_LISTEN"].rsplit(":", 1)
    return host, int(port)


def auth(user=USER):
    return "Basic " + base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()


def session(node, user=USER):
    c = http.client.HTTPConnection(*hostport(node), timeout=TIMEOUT)
    c.request("GET", "/.well-known/jmap", headers={"Authorization": auth(user)})
    r = c.getresponse()
    data = r.read()
    c.close()
    assert r.status == 200, data
    return json.loads(data)


def core_limits(node):
    return session(node)["capabilities"]["urn:ietf:params:jmap:core"]


def account(node, user=USER):
    return session(node, user)["primaryAccounts"]["urn:ietf:params:jmap:mail"]


def post(node, body, user=USER, conn=None, headers=None):
    """(status, headers, parsed JSON or raw body) of one API POST."""
    c = conn or http.client.HTTPConnection(*hostport(node), timeout=TIMEOUT)
    h = {"Authorization": auth(user), "Content-Type": "application/json"}
    h.update(headers or {})
    c.request("POST", "/jmap/api/", body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    if conn is None:
        c.close()
    try:
        data = json.loads(data)
    except ValueError:
        pass
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data


def api(node, calls, using=USING, user=USER, conn=None):
    return post(node, json.dumps({"using": using, "methodCalls": calls}), user, conn)


def one(node, name, args, user=USER):
    status, _, r = api(node, [[name, args, "0"]], user=user)
    assert status == 200, r
    return tuple(r["methodResponses"][0][:2])


def email_state(node, acct):
    return one(node, "Email/get", {"accountId": acct, "ids": []})[1]["state"]


def answers(node):
    """The server still answers a new connection."""
    status, _, r = api(node, [["Core/echo", {"still": "here"}, "e"]])
    assert status == 200 and r["methodResponses"] == [["Core/echo", {"still": "here"}, "e"]]


def assert_problem(status, headers, body, type_, limit=None):
    assert status == 400, (status, body)
    assert headers["content-type"].startswith("application/problem+json"), headers
    assert body["type"] == PROBLEM + type_, body
    assert body["status"] == 400
    if limit is not None:
        assert body["limit"] == limit, body


# -- request-level errors (RFC 8620 3.6.1) --------------------------------

def test_max_size_request(node):
    acct = account(node)
    limit = core_limits(node)["maxSizeRequest"]
    assert limit == HTTP_BODY - 1
    before = email_state(node, acct)
    # A valid request padded with white space to exactly the limit works;
    # one octet more is the problem "limit" (not the HTTP layer's 413).
    req = json.dumps({"using": USING, "methodCalls": [
        ["Mailbox/set", {"accountId": acct, "create": {"x": {"name": "never"}}}, "s"]]})
    echo = json.dumps({"using": USING, "methodCalls": [["Core/echo", {}, "e"]]})
    status, _, r = post(node, echo.ljust(limit))
    assert status == 200 and r["methodResponses"][0][0] == "Core/echo", r
    status, headers, r = post(node, req.ljust(limit + 1))
    assert_problem(status, headers, r, "limit", "maxSizeRequest")
    assert email_state(node, acct) == before
    assert "never" not in [m["name"] for m in
                           one(node, "Mailbox/get", {"accountId": acct})[1]["list"]]
    # Over the HTTP body limit itself: 413 from the HTTP layer.
    status, _, _ = post(node, b" " * (HTTP_BODY + 1))
    assert status == 413
    answers(node)


def test_max_calls_in_request(node):
    n = core_limits(node)["maxCallsInRequest"]
    status, _, r = api(node, [["Core/echo", {"i": i}, str(i)] for i in range(n)])
    assert status == 200 and len(r["methodResponses"]) == n
    status, headers, r = api(node, [["Core/echo", {"i": i}, str(i)] for i in range(n + 1)])
    assert_problem(status, headers, r, "limit", "maxCallsInRequest")
    answers(node)


def test_max_objects_in_get(node):
    acct = account(node)
    n = core_limits(node)["maxObjectsInGet"]
    ids = [f"Mnothere{i}" for i in range(n + 1)]
    for typ in ("Email", "Mailbox", "Thread"):
        name, args = one(node, f"{typ}/get", {"accountId": acct, "ids": ids[:n],
                                              "properties": ["id"]})
        assert name == f"{typ}/get" and len(args["notFound"]) == n, args
        name, args = one(node, f"{typ}/get", {"accountId": acct, "ids": ids})
        assert (name, args["type"]) == ("error", "requestTooLarge"), (typ, args)
    answers(node)


def test_not_json_and_not_request(node):
    for body in (b"{not json", b"\xff\xfe{}", b"", b'{"using": [], "methodCalls": []} x'):
        status, headers, r = post(node, body)
        assert_problem(status, headers, r, "notJSON")
    for body in ('[]', '{"using": "urn:ietf:params:jmap:core", "methodCalls": []}',
                 '{"using": [], "methodCalls": [["Core/echo", {}]]}',
                 '{"using": [], "methodCalls": [["Core/echo", [], "a"]]}',
                 '{"methodCalls": []}'):
        status, headers, r = post(node, body)
        assert_problem(status, headers, r, "notRequest")
    answers(node)


def test_unknown_capability(node):
    status, headers, r = api(node, [["Core/echo", {}, "a"]],
                             using=USING + ["urn:example:not-a-capability"])
    assert_problem(status, headers, r, "unknownCapability")
    assert "urn:example:not-a-capability" in r["detail"]
    # A method of a capability not in "using" is unknownMethod.
    status, _, r = api(node, [["Mailbox/get", {"accountId": account(node)}, "a"]],
                       using=["urn:ietf:params:jmap:core"])
    assert status == 200 and r["methodResponses"][0][1]["type"] == "unknownMethod"
    answers(node)


def test_bad_result_reference(node):
    acct = account(node)
    status, _, r = api(node, [
        ["Email/query", {"accountId": acct}, "q"],
        ["Email/get", {"accountId": acct, "#ids": {"resultOf": "nope", "name": "Email/query",
                                                   "path": "/ids"}}, "g1"],
        ["Email/get", {"accountId": acct, "#ids": {"resultOf": "q", "name": "Email/get",
                                                   "path": "/ids"}}, "g2"],
        ["Email/get", {"accountId": acct, "#ids": {"resultOf": "q", "name": "Email/query",
                                                   "path": "/no/such/path"}}, "g3"],
        ["Email/get", {"accountId": acct, "ids": [], "#ids": {
            "resultOf": "q", "name": "Email/query", "path": "/ids"}}, "g4"],
        ["Email/get", {"accountId": acct, "#ids": {"resultOf": "q"}}, "g5"],
        ["Email/get", {"accountId": acct, "#ids": {"resultOf": "q", "name": "Email/query",
                                                   "path": "/ids"}}, "g6"]])
    assert status == 200
    got = {cid: (name, args) for name, args, cid in r["methodResponses"]}
    for cid in ("g1", "g2", "g3"):
        assert got[cid][0] == "error" and got[cid][1]["type"] == "invalidResultReference", got[cid]
        assert got[cid][1]["description"].startswith('"#ids": '), got[cid]
    # Both "ids" and "#ids" (RFC 8620 3.7), or a "#ids" that is no
    # ResultReference object: invalidArguments.
    for cid in ("g4", "g5"):
        assert got[cid][0] == "error" and got[cid][1]["type"] == "invalidArguments", got[cid]
    assert got["g5"][1]["description"].startswith('"#ids" is not'), got["g5"]
    assert got["g6"][0] == "Email/get"
    answers(node)


def test_other_accounts_are_missing(node):
    acct = account(node)
    neighbour, stranger = account(node, NEIGHBOUR), account(node, STRANGER)
    missing = "A" + "0" * 24
    errors = []
    for other in (neighbour, stranger, missing):
        status, _, r = api(node, [
            ["Mailbox/get", {"accountId": other}, "m"],
            ["Email/query", {"accountId": other}, "q"],
            ["Email/set", {"accountId": other, "create": {"x": {"mailboxIds": {}}}}, "s"],
            ["Blob/get", {"accountId": other, "ids": []}, "b"]],
            using=USING + ["urn:ietf:params:jmap:blob"])
        assert status == 200
        errors.append([(n, a) for n, a, _ in r["methodResponses"]])
    assert errors[0] == errors[1] == errors[2], errors
    assert all(e == ("error", {"type": "accountNotFound"}) for e in errors[0]), errors[0]
    # Their own account still works for each.
    assert one(node, "Mailbox/get", {"accountId": stranger}, user=STRANGER)[0] == "Mailbox/get"
    assert acct not in (neighbour, stranger)
    answers(node)


def upload(node, user, data, acct=None):
    acct = acct or account(node, user)
    c = http.client.HTTPConnection(*hostport(node), timeout=TIMEOUT)
    c.request("POST", f"/jmap/upload/{acct}/", body=data,
              headers={"Authorization": auth(user), "Content-Type": "message/rfc822"})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def download(node, user, acct, blob):
    c = http.client.HTTPConnection(*hostport(node), timeout=TIMEOUT)
    c.request("GET", f"/jmap/download/{acct}/{blob}/x.eml?accept=message/rfc822",
              headers={"Authorization": auth(user)})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def test_other_blobs_are_missing(node):
    """A blob of another account (same tenant or another one) is answered
    as a blob id that does not exist, in every place a blobId goes."""
    acct = account(node)
    raw = b"From: a@b.example\r\nSubject: secret\r\n\r\nmine\r\n"
    blobs = {}
    for user in (NEIGHBOUR, STRANGER):
        status, body = upload(node, user, raw + user.encode())
        assert status == 201, body
        blobs[user] = json.loads(body)["blobId"]
    blobs["missing"] = "b" + "0" * 64
    inbox = [m["id"] for m in one(node, "Mailbox/get", {"accountId": acct})[1]["list"]
             if m["role"] == "inbox"][0]
    before = email_state(node, acct)
    seen = []
    for who, blob in blobs.items():
        assert download(node, USER, acct, blob)[0] == 404, who
        status, _, r = api(node, [
            ["Blob/get", {"accountId": acct, "ids": [blob]}, "b"],
            ["Email/import", {"accountId": acct, "emails": {
                "i": {"blobId": blob, "mailboxIds": {inbox: True}}}}, "i"],
            ["Email/parse", {"accountId": acct, "blobIds": [blob]}, "p"],
            ["Email/set", {"accountId": acct, "create": {"c": {
                "mailboxIds": {inbox: True}, "subject": "att",
                "bodyStructure": {"type": "application/octet-stream", "blobId": blob}}}}, "c"]],
            using=USING + ["urn:ietf:params:jmap:blob"])
        assert status == 200
        b, i, p, c = (m[1] for m in r["methodResponses"])
        assert b["notFound"] == [blob] and b["list"] == [], b
        assert i["notCreated"]["i"]["type"] == "invalidProperties", i
        assert p["notFound"] == [blob], p
        assert c["notCreated"]["c"]["type"] == "blobNotFound", c
        # Errors naming the id differ only by it.
        seen.append(json.dumps([i["notCreated"], p.get("notParsable"),
                                c["notCreated"]], sort_keys=True).replace(blob, "BLOB"))
    assert seen[0] == seen[1] == seen[2], seen
    assert email_state(node, acct) == before
    # Uploading into another account: 404 like an account that is not there.
    assert upload(node, USER, raw, acct=account(node, STRANGER))[0] == 404
    assert upload(node, USER, raw, acct="A" + "0" * 24)[0] == 404
    answers(node)


# -- HTTP/1.1 framing -----------------------------------------------------

class Raw:
    """A raw HTTP/1.1 client on a socket that reads answers one by one
    (Content-Length or chunked bodies)."""

    def __init__(self, node):
        self.s = socket.create_connection(hostport(node), timeout=TIMEOUT)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data if isinstance(data, bytes) else data.encode())

    def _fill(self):
        b = self.s.recv(65536)
        if not b:
            raise EOFError("connection closed by the server")
        self.buf += b

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def response(self):
        """(status, {lower-case field: value}, body)."""
        status = int(self._line().split()[1])
        headers = {}
        while (line := self._line()) != b"":
            k, v = line.decode().split(":", 1)
            headers[k.strip().lower()] = v.strip()
        if status == 100 or status == 101:
            return status, headers, b""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while (size := int(self._line().split(b";")[0], 16)) != 0:
                body += self._take(size)
                assert self._take(2) == b"\r\n"
            while self._line() != b"":
                pass
            return status, headers, body
        return status, headers, self._take(int(headers.get("content-length", "0")))

    def closed(self):
        """True when the server closed its side (EOF)."""
        try:
            while True:
                self._fill()
        except EOFError:
            return True
        except socket.timeout:
            return False

    def close(self):
        self.s.close()


def api_request(body, extra=""):
    if isinstance(body, str):
        body = body.encode()
    return (f"POST /jmap/api/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth()}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
            ).encode() + body


def echo_body(i):
    return json.dumps({"using": USING, "methodCalls": [["Core/echo", {"n": i}, "e"]]})


def test_keep_alive_and_pipelining(node):
    r = Raw(node)
    try:
        # One after the other on one connection, an error answer among them.
        for i in range(3):
            r.send(api_request(echo_body(i)))
            status, headers, body = r.response()
            assert status == 200 and json.loads(body)["methodResponses"][0][1] == {"n": i}
            assert headers.get("connection", "").lower() != "close"
        r.send(api_request("{bad json"))
        status, headers, body = r.response()
        assert status == 400 and json.loads(body)["type"] == PROBLEM + "notJSON"
        # Pipelined: three requests in one write, answered in order.
        r.send(b"".join(api_request(echo_body(i)) for i in (10, 11, 12)))
        got = [json.loads(r.response()[2])["methodResponses"][0][1]["n"] for _ in range(3)]
        assert got == [10, 11, 12]
        # The session resource and the API on the same connection.
        r.send(f"GET /.well-known/jmap HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth()}"
               "\r\n\r\n")
        status, _, body = r.response()
        assert status == 200 and json.loads(body)["username"] == USER
        # "Connection: close" is honoured after the answer.
        r.send(api_request(echo_body(99), "Connection: close\r\n"))
        status, headers, _ = r.response()
        assert status == 200 and headers["connection"].lower() == "close"
        assert r.closed()
    finally:
        r.close()
    answers(node)


def test_chunked_request_body(node):
    body = echo_body(7).encode()
    r = Raw(node)
    try:
        head = (f"POST /jmap/api/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth()}\r\n"
                "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 7]), body[i:i + 7])
                          for i in range(0, len(body), 7))
        wire = head.encode() + chunks + b"0\r\n\r\n"
        # Written 5 octets at a time, then a second request on the same
        # connection with a chunk extension and a trailer field.
        for i in range(0, len(wire), 5):
            r.send(wire[i:i + 5])
        status, _, got = r.response()
        assert status == 200 and json.loads(got)["methodResponses"][0][1] == {"n": 7}
        r.send(head.encode() + b"%x;ext=1\r\n%s\r\n0\r\nX-Trailer: t\r\n\r\n" % (len(body), body))
        status, _, got = r.response()
        assert status == 200 and json.loads(got)["methodResponses"][0][1] == {"n": 7}
        # A bad chunk size is a 400 and the connection ends.
        r.send(head.encode() + b"zz\r\n")
        status, _, _ = r.response()
        assert status == 400
        assert r.closed()
    finally:
        r.close()
    # Chunked and over maxSizeRequest: the problem "limit".
    limit = core_limits(node)["maxSizeRequest"]
    padded = echo_body(1).ljust(limit + 1).encode()
    r = Raw(node)
    try:
        r.send(head.encode() + b"".join(b"%x\r\n%s\r\n" % (len(padded[i:i + 65536]),
                                                            padded[i:i + 65536])
                                         for i in range(0, len(padded), 65536)) + b"0\r\n\r\n")
        status, _, got = r.response()
        assert status == 400 and json.loads(got)["limit"] == "maxSizeRequest"
    finally:
        r.close()
    answers(node)


def test_expect_100_continue(node):
    body = echo_body(100).encode()
    r = Raw(node)
    try:
        head = api_request(body, "Expect: 100-continue\r\n")[:-len(body)]
        r.send(head)
        status, _, _ = r.response()
        assert status == 100
        r.send(body)
        status, _, got = r.response()
        assert status == 200 and json.loads(got)["methodResponses"][0][1] == {"n": 100}
        # Refused at its head (a body over the HTTP limit): the final
        # status at once, no 100, and the connection closes.
        r.send(f"POST /jmap/api/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth()}\r\n"
               f"Content-Length: {HTTP_BODY + 1}\r\nExpect: 100-continue\r\n\r\n")
        status, _, _ = r.response()
        assert status == 413
        assert r.closed()
    finally:
        r.close()
    # A route that does not exist: 404 without 100.
    r = Raw(node)
    try:
        r.send("POST /jmap/nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n"
               "Expect: 100-continue\r\n\r\n")
        status, _, _ = r.response()
        assert status == 404
    finally:
        r.close()
    # An expectation the server does not know: 417 (RFC 9110 10.1.1).
    r = Raw(node)
    try:
        r.send(api_request(body, "Expect: something-else\r\n"))
        status, _, _ = r.response()
        assert status == 417
    finally:
        r.close()
    answers(node)


def test_header_limits(node):
    def refused(head, want):
        r = Raw(node)
        try:
            r.send(head)
            status, _, _ = r.response()
            assert status == want, head[:80]
            assert r.closed()
        finally:
            r.close()
    base = f"GET /.well-known/jmap HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth()}\r\n"
    # The section over limits.http_header_bytes (64 KiB), in lines that are
    # each within the line limit.
    refused(base + "".join(f"X-Pad-{i}: {'a' * 7000}\r\n" for i in range(10)) + "\r\n", 431)
    # One field line over 8 KiB.
    refused(base + f"X-Long: {'b' * 9000}\r\n\r\n", 431)
    # More than 100 fields.
    refused(base + "".join(f"X-F{i}: v\r\n" for i in range(101)) + "\r\n", 431)
    # A request line over its limit.
    refused(f"GET /jmap/{'c' * 9000} HTTP/1.1\r\nHost: x\r\n\r\n", 414)
    # Just under: answered.
    r = Raw(node)
    try:
        r.send(base + "".join(f"X-Pad-{i}: {'a' * 7000}\r\n" for i in range(8)) + "\r\n")
        assert r.response()[0] == 200
    finally:
        r.close()
    answers(node)


# -- WebSocket framing (RFC 6455 over /jmap/ws/, RFC 8887) ------------------

def ws_open(node):
    r = Raw(node)
    key = base64.b64encode(os.urandom(16)).decode()
    r.send(f"GET /jmap/ws/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth()}\r\n"
           f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
           "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: jmap\r\n\r\n")
    status, headers, _ = r.response()
    assert status == 101, headers
    assert headers["sec-websocket-protocol"] == "jmap"
    return r


def ws_frame(opcode, payload, mask=True, fin=True, length=None):
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | opcode])
    mbit = 0x80 if mask else 0
    if n < 126:
        head += bytes([mbit | n])
    elif n < 65536:
        head += bytes([mbit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mbit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def ws_read(r):
    """(opcode, payload) of the server's next frame (never masked)."""
    b0, b1 = r._take(2)
    assert b1 & 0x80 == 0, "a server frame is masked"
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", r._take(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", r._take(8))[0]
    return b0 & 0x0F, r._take(n)


def ws_close_code(r):
    """The status code of the server's Close frame (skipping others)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        op, payload = ws_read(r)
        if op == 0x8:
            return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
    pytest.fail("no Close frame")


def ws_echo(r, n):
    req = json.dumps({"@type": "Request", "using": USING,
                      "methodCalls": [["Core/echo", {"n": n}, "e"]]}).encode()
    r.send(ws_frame(0x1, req))
    op, payload = ws_read(r)
    assert op == 0x1
    got = json.loads(payload)
    assert got["@type"] == "Response" and got["methodResponses"][0][1] == {"n": n}


def test_ws_unmasked_frame(node):
    r = ws_open(node)
    try:
        ws_echo(r, 1)
        # RFC 6455 5.1: a client frame without a mask is a protocol error.
        r.send(ws_frame(0x1, b'{"@type":"Request"}', mask=False))
        assert ws_close_code(r) == 1002
        assert r.closed()
    finally:
        r.close()
    r = ws_open(node)
    try:
        ws_echo(r, 2)
    finally:
        r.close()
    answers(node)


def test_ws_oversized_message(node):
    limit = core_limits(node)["maxSizeRequest"]
    r = ws_open(node)
    try:
        ws_echo(r, 3)
        # One octet over the limit, in two fragments (each under it).
        half = (limit + 1) // 2
        payload = b" " * (limit + 1)
        r.send(ws_frame(0x1, payload[:half], fin=False))
        try:
            r.send(ws_frame(0x0, payload[half:]))
        except (BrokenPipeError, ConnectionResetError):
            pass   # the server may close before it has read it all
        assert ws_close_code(r) == 1009
    finally:
        r.close()
    # A frame header announcing more than the limit.
    r = ws_open(node)
    try:
        r.send(ws_frame(0x1, b"", length=limit + 1)[:10])
        r.send(os.urandom(4) + b"x" * 1000)
        assert ws_close_code(r) == 1009
    finally:
        r.close()
    r = ws_open(node)
    try:
        ws_echo(r, 4)
    finally:
        r.close()
    answers(node)
