"""JMAP over WebSocket (RFC 8887) on a real evmaild with http.listen set,
driven by an independent client (the `websockets` library) and by raw
sockets for what a library would not send: the Session's websocket
capability, the handshake's refusals (401, 400 without the "jmap"
subprotocol, 426 without an upgrade), Core/echo and Mailbox/get with
requestId, several requests in flight, RequestErrors (not JSON, no
"@type", an unknown capability) on a socket that stays usable, push
after an SMTP delivery (StateChange with pushState; the changes since a
pushState on a new socket; nothing after WebSocketPushDisable), and a
binary message closing with 1003."""

import asyncio
import base64
import http.client
import json
import smtplib
import time

import pytest

from conftest import assert_ok, free_port, wait_until

websockets = pytest.importorskip("websockets")

DOMAIN = "jmapws.example"
USER = f"wes@{DOMAIN}"
PASSWORD = "jmap-ws-pw"
USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"]
WS_CAP = "urn:ietf:params:jmap:websocket"
TIMEOUT = 20


@pytest.fixture(scope="module")
def node(request, tmp_path_factory, binaries):
    from conftest import Node
    n = Node("jmapws", tmp_path_factory.mktemp("jmapws"),
             env={"EVMAIL_HTTP_LISTEN": f"127.0.0.1:{free_port()}",
                  "EVMAIL_SMTP_HOSTNAME": "mx1.evmail.test"})
    n.start(wait="ready")
    assert_ok(n.ctl("tenant", "create", "jmapwst"))
    assert_ok(n.ctl("domain", "add", DOMAIN, "--tenant", "jmapwst"))
    assert_ok(n.ctl("account", "add", USER, "--password-stdin", input=PASSWORD + "\n"))
    yield n
    n.kill9()


def hostport(node):
    host, port = node.env["EVMAIL_HTTP_LISTEN"].rsplit(":", 1)
    return host, int(port)


def auth(user=USER, password=PASSWORD):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def session(node):
    c = http.client.HTTPConnection(*hostport(node), timeout=TIMEOUT)
    c.request("GET", "/.well-known/jmap", headers={"Authorization": auth()})
    r = c.getresponse()
    data = r.read()
    c.close()
    assert r.status == 200, data
    return json.loads(data)


def deliver(node, subject):
    msg = (f"From: Bob <bob@sender.example>\r\nTo: {USER}\r\nSubject: {subject}\r\n"
           f"Message-ID: <{time.monotonic_ns()}@sender.example>\r\n\r\nHello.\r\n")
    with smtplib.SMTP("127.0.0.1", node.smtp_port, local_hostname="client.example",
                      timeout=60) as s:
        s.sendmail("bob@sender.example", [USER], msg.encode())


def connect(node, headers=None):
    """A websockets client to /jmap/ws/ with the "jmap" subprotocol, for
    the library's new (>= 13) and legacy asyncio APIs alike."""
    host, port = hostport(node)
    url = f"ws://{host}:{port}/jmap/ws/"
    h = {"Authorization": auth()} if headers is None else headers
    try:
        from websockets.asyncio.client import connect as new_connect
        return new_connect(url, subprotocols=["jmap"], additional_headers=h,
                           open_timeout=TIMEOUT, close_timeout=TIMEOUT)
    except ImportError:
        from websockets.client import connect as legacy_connect
        return legacy_connect(url, subprotocols=["jmap"], extra_headers=h,
                              open_timeout=TIMEOUT, close_timeout=TIMEOUT)


async def recv_json(ws):
    return json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 4 * TIMEOUT))


def request(rid, calls, using=USING):
    return json.dumps({"@type": "Request", "id": rid, "using": using, "methodCalls": calls})


def raw_handshake(node, extra):
    """Status of a GET /jmap/ws/ sent by hand."""
    c = http.client.HTTPConnection(*hostport(node), timeout=TIMEOUT)
    c.putrequest("GET", "/jmap/ws/")
    for k, v in extra.items():
        c.putheader(k, v)
    c.endheaders()
    r = c.getresponse()
    status = r.status
    c.close()
    return status


def test_session_capability(node):
    s = session(node)
    host, port = hostport(node)
    cap = s["capabilities"][WS_CAP]
    assert cap == {"url": f"ws://{host}:{port}/jmap/ws/", "supportsPush": True}
    # The other capabilities stay as they were (the engine's copy is shared).
    assert s["apiUrl"] == f"http://{host}:{port}/jmap/api/"
    assert session(node)["state"] == s["state"]


def test_handshake_refusals(node):
    upgrade = {"Upgrade": "websocket", "Connection": "Upgrade",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Protocol": "jmap"}
    assert raw_handshake(node, upgrade) == 401
    assert raw_handshake(node, dict(upgrade, Authorization=auth(password="wrong"))) == 401
    no_proto = {k: v for k, v in upgrade.items() if k != "Sec-WebSocket-Protocol"}
    assert raw_handshake(node, dict(no_proto, Authorization=auth())) == 400
    assert raw_handshake(node, {"Authorization": auth()}) == 426


def test_echo_and_mailbox_get(node):
    state = session(node)["state"]

    async def main():
        async with connect(node) as ws:
            assert ws.subprotocol == "jmap"
            await ws.send(request("R1", [["Core/echo", {"hello": True, "high": 5}, "b3ff"]]))
            r = await recv_json(ws)
            assert r["@type"] == "Response" and r["requestId"] == "R1"
            assert r["methodResponses"] == [["Core/echo", {"hello": True, "high": 5}, "b3ff"]]
            assert r["sessionState"] == state
            acct = session(node)["primaryAccounts"]["urn:ietf:params:jmap:mail"]
            await ws.send(request("R2", [["Mailbox/get", {"accountId": acct}, "m"]]))
            r = await recv_json(ws)
            assert r["requestId"] == "R2"
            roles = {m["role"] for m in r["methodResponses"][0][1]["list"]}
            assert "inbox" in roles
            # Several requests in flight; each answer names its request.
            for i in range(3):
                await ws.send(request(f"P{i}", [["Core/echo", {"n": i}, "c"]]))
            got = {}
            for _ in range(3):
                r = await recv_json(ws)
                got[r["requestId"]] = r["methodResponses"][0][1]["n"]
            assert got == {"P0": 0, "P1": 1, "P2": 2}
            # A Request without "id" is answered without "requestId".
            await ws.send(json.dumps({"@type": "Request", "using": USING,
                                      "methodCalls": [["Core/echo", {}, "x"]]}))
            r = await recv_json(ws)
            assert r["@type"] == "Response" and "requestId" not in r
    run(main())


def test_request_errors(node):
    async def main():
        async with connect(node) as ws:
            await ws.send("The quick brown fox jumps over the lazy dog.")
            r = await recv_json(ws)
            assert r["@type"] == "RequestError"
            assert r["type"] == "urn:ietf:params:jmap:error:notJSON" and r["status"] == 400
            assert "requestId" not in r
            # No "@type": not a JMAP WebSocket message.
            await ws.send(json.dumps({"id": "N1", "using": USING, "methodCalls": []}))
            r = await recv_json(ws)
            assert r["@type"] == "RequestError" and r["requestId"] == "N1"
            assert r["type"] == "urn:ietf:params:jmap:error:notRequest"
            await ws.send(json.dumps({"@type": "Nonsense", "id": "N2"}))
            r = await recv_json(ws)
            assert r["type"] == "urn:ietf:params:jmap:error:notRequest" and r["requestId"] == "N2"
            await ws.send(request("N3", [], using=["urn:example:nothing"]))
            r = await recv_json(ws)
            assert r["@type"] == "RequestError" and r["requestId"] == "N3"
            assert r["type"] == "urn:ietf:params:jmap:error:unknownCapability"
            # The socket is still usable.
            await ws.send(request("OK", [["Core/echo", {"still": "here"}, "e"]]))
            r = await recv_json(ws)
            assert r["requestId"] == "OK" and r["methodResponses"][0][1] == {"still": "here"}
    run(main())


def email_state(node, acct):
    """The account's current Email state (the end of Email/changes)."""
    c = http.client.HTTPConnection(*hostport(node), timeout=TIMEOUT)
    body = json.dumps({"using": USING, "methodCalls": [
        ["Email/changes", {"accountId": acct, "sinceState": "0", "maxChanges": 500}, "g"]]})
    c.request("POST", "/jmap/api/", body=body,
              headers={"Authorization": auth(), "Content-Type": "application/json"})
    r = json.loads(c.getresponse().read())
    c.close()
    assert r["methodResponses"][0][1]["hasMoreChanges"] is False
    return r["methodResponses"][0][1]["newState"]


def test_push(node):
    acct = session(node)["primaryAccounts"]["urn:ietf:params:jmap:mail"]

    async def main():
        async with connect(node) as ws:
            await ws.send(json.dumps({"@type": "WebSocketPushEnable",
                                      "dataTypes": ["Email", "Mailbox"]}))
            before = email_state(node, acct)
            await asyncio.get_running_loop().run_in_executor(None, deliver, node, "ws push")
            change = await recv_json(ws)
            while change.get("@type") == "StateChange" and \
                    change["changed"][acct].get("Email", before) == before:
                change = await recv_json(ws)
            assert change["@type"] == "StateChange"
            assert set(change["changed"][acct]) <= {"Email", "Mailbox"}
            assert change["changed"][acct]["Email"] != before
            assert isinstance(change["pushState"], str) and change["pushState"]
            return change["pushState"], change["changed"][acct]["Email"]
    push_state, seen = run(main())

    # Another delivery while no socket listens; a new socket given the old
    # pushState gets the change at once.
    deliver(node, "while away")
    wait_until(lambda: email_state(node, acct) != seen, TIMEOUT, what="the second email")

    async def resume():
        async with connect(node) as ws:
            await ws.send(json.dumps({"@type": "WebSocketPushEnable", "dataTypes": None,
                                      "pushState": push_state}))
            change = await recv_json(ws)
            assert change["@type"] == "StateChange"
            assert change["changed"][acct]["Email"] != seen
            assert change["pushState"] != push_state
            # Disabled: a delivery pushes nothing; the next message is the
            # answer to a request sent after the delivery was applied.
            await ws.send(json.dumps({"@type": "WebSocketPushDisable"}))
            now = email_state(node, acct)
            await asyncio.get_running_loop().run_in_executor(None, deliver, node, "not pushed")
            await asyncio.get_running_loop().run_in_executor(
                None, lambda: wait_until(lambda: email_state(node, acct) != now, TIMEOUT,
                                         what="the third email"))
            await ws.send(request("after", [["Core/echo", {}, "e"]]))
            r = await recv_json(ws)
            assert r["@type"] == "Response" and r["requestId"] == "after"
    run(resume())


def test_binary_closes(node):
    async def main():
        async with connect(node) as ws:
            await ws.send(b"\x00\x01binary")
            with pytest.raises(websockets.exceptions.ConnectionClosed) as e:
                await asyncio.wait_for(ws.recv(), TIMEOUT)
            rcvd = getattr(e.value, "rcvd", None)
            code = rcvd.code if rcvd is not None else e.value.code
            assert code == 1003
    run(main())
