"""What the raw-HTTP JMAP tests share: a module-scoped node with an HTTP
listener and password accounts, and the two requests every test makes
(the Session resource and one API request), with Basic authentication."""

import base64
import http.client
import json

from conftest import assert_ok, free_port

CORE_MAIL = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"]
TIMEOUT = 20


def jmap_node(name, tmp_path_factory, tenant, domain, users, password, env=None):
    """A started node (projector and gateway roles, HTTP on loopback) with
    tenant, domain and the accounts users, each with password."""
    from conftest import Node
    n = Node(name, tmp_path_factory.mktemp(name),
             env={"EVMAIL_HTTP_LISTEN": f"127.0.0.1:{free_port()}",
                  "EVMAIL_NODE_ROLES": "projector,gateway",
                  "EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "1", **(env or {})})
    n.start(wait="ready")
    assert_ok(n.ctl("tenant", "create", tenant))
    assert_ok(n.ctl("domain", "add", domain, "--tenant", tenant))
    for u in users:
        assert_ok(n.ctl("account", "add", u, "--password-stdin", input=password + "\n"))
    return n


def _request(node, method, path, user, password, body=None, headers=None):
    host, port = node.env["EVMAIL_HTTP_LISTEN"].rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=TIMEOUT)
    auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    try:
        c.request(method, path, body, {"Authorization": auth, **(headers or {})})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def jmap_api(node, calls, user, password, using=CORE_MAIL):
    """The methodResponses of one API request (HTTP 200 asserted)."""
    status, data = _request(node, "POST", "/jmap/api/", user, password,
                            json.dumps({"using": using, "methodCalls": calls}),
                            {"Content-Type": "application/json"})
    assert status == 200, data
    return json.loads(data)["methodResponses"]


def jmap_session(node, user, password):
    """The Session resource (RFC 8620 2) as user."""
    status, data = _request(node, "GET", "/.well-known/jmap", user, password)
    assert status == 200, data
    return json.loads(data)
