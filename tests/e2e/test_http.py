"""The HTTP/1.1 server (gateway/http) on a real evmaild with http.listen and
https.listen set: /healthz on one kept-alive connection through Python's
http.client (GET, HEAD without body, 404, 405 with Allow), HTTPS, and raw
sockets for what a client library hides: three pipelined requests in one
write answered in order, a chunked request body, Expect: 100-continue,
each limit (header section, body) and each framing error answering its
status and closing, the idle timeout."""

import http.client
import socket
import ssl

import pytest

from conftest import free_port, self_signed_cert

TIMEOUT = 10


@pytest.fixture
def node(nodes, tmp_path):
    cert, key = self_signed_cert(tmp_path / "tls", cn="127.0.0.1")
    n = nodes("web", env={"EVMAIL_HTTP_LISTEN": f"127.0.0.1:{free_port()}",
                          "EVMAIL_HTTPS_LISTEN": f"127.0.0.1:{free_port()}",
                          "EVMAIL_TLS_CERT": cert, "EVMAIL_TLS_KEY": key,
                          "EVMAIL_LIMITS_HTTP_HEADER_BYTES": "4096",
                          "EVMAIL_LIMITS_HTTP_BODY": "2048",
                          "EVMAIL_LIMITS_HTTP_IDLE_TIMEOUT_S": "2"})
    n.start()
    return n


def hostport(node, key):
    host, port = node.env[key].rsplit(":", 1)
    return host, int(port)


def raw(node):
    s = socket.create_connection(hostport(node, "EVMAIL_HTTP_LISTEN"), timeout=TIMEOUT)
    return s


def read_all(s):
    """Everything until the server closes."""
    chunks = []
    while True:
        b = s.recv(65536)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def read_response(s, buf=b""):
    """One response with a Content-Length body: (status, headers, body, rest)."""
    while b"\r\n\r\n" not in buf:
        b = s.recv(65536)
        assert b, f"connection closed inside a head: {buf!r}"
        buf += b
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v for k, v in (l.split(": ", 1) for l in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(buf) < length:
        b = s.recv(65536)
        assert b, "connection closed inside a body"
        buf += b
    return status, headers, buf[:length], buf[length:]


def test_keep_alive_with_http_client(node):
    c = http.client.HTTPConnection(*hostport(node, "EVMAIL_HTTP_LISTEN"), timeout=TIMEOUT)
    c.request("GET", "/healthz")
    r = c.getresponse()
    assert (r.status, r.read()) == (200, b"ok\n")
    assert r.getheader("Content-Type") == "text/plain; charset=utf-8"
    assert r.getheader("Date")
    sock = c.sock
    c.request("HEAD", "/healthz")
    r = c.getresponse()
    assert (r.status, r.getheader("Content-Length"), r.read()) == (200, "3", b"")
    c.request("GET", "/no/such/path")
    r = c.getresponse()
    assert r.status == 404
    r.read()
    c.request("POST", "/healthz", body=b"x")
    r = c.getresponse()
    assert (r.status, r.getheader("Allow")) == (405, "GET, HEAD")
    r.read()
    c.request("BREW", "/healthz")
    r = c.getresponse()
    assert r.status == 501
    r.read()
    assert c.sock is sock, "the connection was kept alive"
    c.close()


def test_https(node):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    c = http.client.HTTPSConnection(*hostport(node, "EVMAIL_HTTPS_LISTEN"), timeout=TIMEOUT, context=ctx)
    c.request("GET", "/healthz")
    r = c.getresponse()
    assert (r.status, r.read()) == (200, b"ok\n")
    assert c.sock.version() in ("TLSv1.2", "TLSv1.3")
    c.close()


def test_pipelining_in_order(node):
    s = raw(node)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
              b"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n"
              b"HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = read_all(s)
    s.close()
    parts = data.split(b"HTTP/1.1 ")[1:]
    assert [p[:3] for p in parts] == [b"200", b"404", b"200"], data
    assert parts[0].endswith(b"\r\n\r\nok\n")
    assert b"Connection: close\r\n" in parts[2] and parts[2].endswith(b"\r\n\r\n")


def test_chunked_body_and_continue(node):
    s = raw(node)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
              b"4;ext=1\r\nabcd\r\n0\r\nX-Trailer: y\r\n\r\n")
    status, _, body, rest = read_response(s)
    assert (status, body, rest) == (200, b"ok\n", b"")
    # Expect: 100-continue: the interim answer first, then the body is read
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
    status, _, _, rest = read_response(s)
    assert (status, rest) == (100, b"")
    s.sendall(b"hello")
    status, _, body, _ = read_response(s)
    assert (status, body) == (200, b"ok\n")
    # refused at its head: no 100, the answer, and the connection closes
    s.sendall(b"PUT /healthz HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
    status, headers, _, rest = read_response(s)
    assert (status, headers.get("connection")) == (405, "close")
    assert rest + read_all(s) == b""
    s.close()


@pytest.mark.parametrize("request_bytes,status", [
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 5000 + b"\r\n\r\n", 431),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: %s\r\n" % (i, b"b" * 100) for i in range(60))
     + b"\r\n", 431),
    (b"GET /" + b"c" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 2049\r\n\r\n", 413),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + b"400\r\n" + b"d" * 1024
     + b"\r\n" + b"401\r\n", 413),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX: a\r\n folded\r\n\r\n", 400),
    (b"GET /healthz HTTP/1.1\r\n\r\n", 400),
    (b"GET /healthz HTTP/3.0\r\nHost: x\r\n\r\n", 505),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
])
def test_refused_and_closed(node, request_bytes, status):
    s = raw(node)
    s.sendall(request_bytes)
    got, headers, _, rest = read_response(s)
    assert (got, headers.get("connection")) == (status, "close")
    assert rest + read_all(s) == b""
    s.close()
    # the server goes on
    c = http.client.HTTPConnection(*hostport(node, "EVMAIL_HTTP_LISTEN"), timeout=TIMEOUT)
    c.request("GET", "/healthz")
    assert c.getresponse().status == 200
    c.close()


def test_idle_timeout(node):
    s = raw(node)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    status, _, _, _ = read_response(s)
    assert status == 200
    assert read_all(s) == b""          # limits.http_idle_timeout_s = 2 (recv times out after 10 s)
    s.close()
