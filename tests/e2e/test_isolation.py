"""Tenant and account isolation matrix (issue 11, item 6): two tenants with
two accounts each; alice (tenant one) tries to reach bob's (same tenant)
and carol's (tenant two) data on every protocol, by name, id, blob id and
URL, and every answer must be byte for byte the answer for an object that
does not exist: the same probe with the victim's name or id replaced by a
random one of the same shape (same length, same character classes), with
that name or id itself masked in both answers.

- IMAP: SELECT/EXAMINE/STATUS/GETACL/MYRIGHTS on the victim's mailbox
  names (plain and under the Other Users namespace), LIST of that
  namespace, UID FETCH of the victim's UID, URLFETCH and GENURLAUTH of the
  victim's URL;
- POP3: USER/PASS of the victim's address with alice's password;
- SMTP (MX): RCPT TO another tenant is accepted (it is mail), VRFY and
  EXPN say the same for a real and a missing address;
- submission: MAIL FROM the victim's address is refused as a forged one is;
- JMAP: the victim's accountId in /get, /set, /changes, /query and
  Email/copy (fromAccountId), its mailboxId and emailId inside alice's
  account in /get and /set, its blobId in Blob/get-like download URLs and
  uploads to its account; an EventSource stream of alice carries no state
  of another account.

Not covered: DAV is not served yet (no listener exists). The admin API has
one operator token (mgmt.admin_token) and no tenant-scoped token, so
there is nothing tenant-scoped to test there yet.
"""
import base64
import http.client
import json
import random
import re
import smtplib
import socket
import string
import time

import pytest

from conftest import assert_ok, free_port, wait_until

T1, T2 = "iso-one", "iso-two"
D1, D2 = "one.iso.example", "two.iso.example"
ALICE, BOB = f"alice@{D1}", f"bob@{D1}"
CAROL, DAVE = f"carol@{D2}", f"dave@{D2}"
PASSWORD = "isolation-pw"
TIMEOUT = 30
MAIL_CAP = "urn:ietf:params:jmap:mail"
USING = ["urn:ietf:params:jmap:core", MAIL_CAP]
rng = random.SystemRandom()


def same_shape(s, keep=0):
    """A random string like s: its first keep characters (a type prefix),
    then lower-case hex if the rest is, else each digit, lower- and
    upper-case letter replaced by a random one of its class, everything
    else kept."""
    head, rest = s[:keep], s[keep:]
    hexdigits = "0123456789abcdef"
    is_hex = all(c in hexdigits for c in rest)
    while True:
        out = head + "".join(rng.choice(hexdigits) if is_hex else
                             rng.choice(string.digits) if c.isdigit() else
                             rng.choice(string.ascii_lowercase) if c.islower() else
                             rng.choice(string.ascii_uppercase) if c.isupper() else c for c in rest)
        if out != s:
            return out


def fake_id(key, s):
    """A missing JMAP id of the same shape as the id s of kind key: account
    ids ("a" + hex) and blob ids ("m" + hex) keep their type letter."""
    return same_shape(s, keep=1 if key in ("acct", "blob_id") else 0)


def masked(data, *secrets):
    """data (bytes or text) with every secret replaced by <X>."""
    if isinstance(data, bytes):
        for s in secrets:
            data = data.replace(s.encode() if isinstance(s, str) else s, b"<X>")
        return data
    for s in secrets:
        data = data.replace(s, "<X>")
    return data


def same_answer(probe, real, fake):
    """probe(x) for the victim's real x and a random fake of its shape give
    the same answer once x is masked."""
    a, b = probe(real), probe(fake)
    assert masked(a, real) == masked(b, fake), f"distinguishable:\n{real!r}: {a!r}\n{fake!r}: {b!r}"
    return a


# --------------------------------------------------------------------------
# clients
# --------------------------------------------------------------------------

class Imap:
    """A raw IMAP client: whole answers through the tagged line."""

    def __init__(self, node, user):
        self.sock = socket.create_connection(("127.0.0.1", node.imap_port), timeout=TIMEOUT)
        self.buf, self.n = b"\r\n", 0
        self.read_through(b"* ")
        assert b" OK " in self.cmd(f'LOGIN "{user}" "{PASSWORD}"'.encode())

    def read_through(self, needle):
        deadline = time.monotonic() + TIMEOUT
        while True:
            start = self.buf.find(b"\r\n" + needle)
            end = self.buf.find(b"\r\n", start + 2) if start >= 0 else -1
            if end >= 0:
                out, self.buf = self.buf[:end + 2], self.buf[end:]
                return out
            assert time.monotonic() < deadline, f"no answer for {needle!r}: {self.buf!r}"
            chunk = self.sock.recv(65536)
            assert chunk, f"closed: {self.buf!r}"
            self.buf += chunk

    def cmd(self, line):
        """The answer to line, with this command's tag replaced by "T"."""
        self.n += 1
        tag = b"t%d" % self.n
        self.sock.sendall(tag + b" " + line + b"\r\n")
        return self.read_through(tag + b" ").replace(b"\r\n" + tag + b" ", b"\r\nT ")

    def close(self):
        self.sock.close()


def http_hostport(node):
    host, port = node.env["EVMAIL_HTTP_LISTEN"].rsplit(":", 1)
    return host, int(port)


def http_req(node, method, path, body=None, user=ALICE, headers=None):
    c = http.client.HTTPConnection(*http_hostport(node), timeout=TIMEOUT)
    h = {"Authorization": "Basic " + base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()}
    h.update(headers or {})
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    # Date changes from one second to the next; everything else must match.
    out = (r.status, sorted((k, v) for k, v in r.getheaders() if k.lower() != "date"), r.read())
    c.close()
    return out


def api(node, calls, user=ALICE):
    status, _, body = http_req(node, "POST", "/jmap/api/", json.dumps({"using": USING, "methodCalls": calls}),
                           user=user, headers={"Content-Type": "application/json"})
    assert status == 200, body
    return json.loads(body)["methodResponses"]


def api_text(node, calls, user=ALICE):
    """The method responses as canonical JSON text (for comparison)."""
    return json.dumps(api(node, calls, user), sort_keys=True)


# --------------------------------------------------------------------------
# the node and every account's data
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def world(tmp_path_factory, binaries):
    from conftest import Node
    n = Node("iso", tmp_path_factory.mktemp("iso"),
             env={"EVMAIL_HTTP_LISTEN": f"127.0.0.1:{free_port()}",
                  "EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "1",
                  "EVMAIL_POP3_ALLOW_PLAINTEXT_AUTH": "1",
                  "EVMAIL_SUBMISSION_ALLOW_PLAINTEXT_AUTH": "1",
                  "EVMAIL_SMTP_HOSTNAME": "mx.iso.test"})
    n.start(wait="ready")
    for tenant, domain, users in ((T1, D1, (ALICE, BOB)), (T2, D2, (CAROL, DAVE))):
        assert_ok(n.ctl("tenant", "create", tenant))
        assert_ok(n.ctl("domain", "add", domain, "--tenant", tenant))
        for u in users:
            assert_ok(n.ctl("account", "add", u, "--password-stdin", input=PASSWORD + "\n"))
    data = {}
    for u in (ALICE, BOB, CAROL, DAVE):
        local = u.split("@")[0]
        c = Imap(n, u)
        box = f"Secret-{local}"
        assert b"T OK" in c.cmd(f'CREATE "{box}"'.encode())
        msg = (f"From: {u}\r\nTo: {u}\r\nSubject: private to {local}\r\n"
               f"Message-ID: <{local}.{time.monotonic_ns()}@iso.example>\r\n\r\nsecret of {local}\r\n").encode()
        out = c.cmd(f'APPEND "{box}" {{{len(msg)}+}}\r\n'.encode() + msg)
        uv, uid = re.search(rb"\[APPENDUID (\d+) (\d+)\]", out).groups()
        c.close()
        acct = json.loads(http_req(n, "GET", "/.well-known/jmap", user=u)[2])["primaryAccounts"][MAIL_CAP]

        boxes = api(n, [["Mailbox/get", {"accountId": acct, "properties": ["name"]}, "g"]], user=u)[0][1]["list"]
        box_id = next(b["id"] for b in boxes if b["name"] == box)
        ids = wait_until(lambda: (api(n, [["Email/query", {"accountId": acct, "filter": {"inMailbox": box_id}}, "e"]],
                                      user=u)[0][1].get("ids") or None), TIMEOUT, what=f"{u}'s message in JMAP")
        email = api(n, [["Email/get", {"accountId": acct, "ids": ids, "properties": ["blobId"]}, "g"]],
                    user=u)[0][1]["list"][0]
        data[u] = {"acct": acct, "box": box, "box_id": box_id, "email_id": email["id"],
                   "blob_id": email["blobId"], "uidvalidity": uv.decode(), "uid": uid.decode()}
    n.data = data
    yield n
    n.kill9()


VICTIMS = [BOB, CAROL]


# --------------------------------------------------------------------------
# IMAP
# --------------------------------------------------------------------------

@pytest.mark.parametrize("victim", VICTIMS)
def test_imap(world, victim):
    v = world.data[victim]
    c = Imap(world, ALICE)
    try:
        # The victim's own mailbox name, and the victim's mailboxes under
        # the Other Users namespace (by address: a real one vs a missing one).
        for verb in (b'SELECT "%s"', b'EXAMINE "%s"', b'STATUS "%s" (MESSAGES UIDNEXT)', b'GETACL "%s"',
                     b'MYRIGHTS "%s"', b'DELETE "%s"', b'SUBSCRIBE "%s"'):
            same_answer(lambda name: c.cmd(verb % name.encode()), v["box"], same_shape(v["box"]))
            for box in ("INBOX", v["box"]):
                same_answer(lambda user: c.cmd(verb % f"Other Users/{user}/{box}".encode()),
                            victim, same_shape(victim.split("@")[0]) + "@" + victim.split("@")[1])
        same_answer(lambda user: c.cmd(f'LIST "" "Other Users/{user}/*"'.encode()),
                    victim, same_shape(victim.split("@")[0]) + "@" + victim.split("@")[1])
        listing = c.cmd(b'LIST "" "*"')
        assert victim.encode() not in listing and v["box"].encode() not in listing, listing
        # The victim's UID in alice's own mailbox: nothing.
        assert b"T OK" in c.cmd(b"SELECT INBOX")
        same_answer(lambda uid: c.cmd(f"UID FETCH {uid} (FLAGS BODY.PEEK[])".encode()), v["uid"],
                    str(int(v["uid"]) + 1000))
        # The victim's message by URL: GENURLAUTH and URLFETCH.
        user = victim.replace("@", "%40")
        url = (f"imap://{user}@h/{v['box']};UIDVALIDITY={v['uidvalidity']}/;UID={v['uid']}"
               ";URLAUTH=authuser")
        fake = url.replace(v["box"], same_shape(v["box"]))
        same_answer(lambda u: c.cmd(f'GENURLAUTH "{u}" INTERNAL'.encode()), url, fake)
        same_answer(lambda u: c.cmd(f'URLFETCH "{u}:INTERNAL:{"0" * 64}"'.encode()), url, fake)
    finally:
        c.close()


# --------------------------------------------------------------------------
# POP3, SMTP, submission
# --------------------------------------------------------------------------

def pop3_login(node, user, password):
    with socket.create_connection(("127.0.0.1", node.pop3_port), timeout=TIMEOUT) as s:
        f = s.makefile("rwb")
        out = [f.readline()]
        for line in (f"USER {user}", f"PASS {password}", "STAT"):
            f.write(line.encode() + b"\r\n")
            f.flush()
            out.append(f.readline())
            if out[-1].startswith(b"-ERR") and line.startswith("PASS"):
                break
        return b"".join(out[1:])


@pytest.mark.parametrize("victim", VICTIMS)
def test_pop3(world, victim):
    local, domain = victim.split("@")
    same_answer(lambda u: pop3_login(world, u, PASSWORD + "-wrong"), victim, same_shape(local) + "@" + domain)
    # alice's password is not the victim's
    same_answer(lambda u: pop3_login(world, u, PASSWORD[::-1]), victim, same_shape(local) + "@" + domain)


def smtp_answers(port, lines, login=None):
    with smtplib.SMTP("127.0.0.1", port, local_hostname="client.example", timeout=TIMEOUT) as s:
        s.ehlo()
        if login:
            s.login(*login)
        return [s.docmd(line) for line in lines]


@pytest.mark.parametrize("victim", VICTIMS)
def test_smtp(world, victim):
    local, domain = victim.split("@")
    fake = same_shape(local) + "@" + domain
    same_answer(lambda a: repr(smtp_answers(world.smtp_port, [f"VRFY {a}", f"EXPN {a}", f"VRFY {a.split('@')[0]}"])),
                victim, fake)
    got = smtp_answers(world.smtp_port, ["MAIL FROM:<someone@sender.example>", f"RCPT TO:<{victim}>", "RSET"])
    assert got[1][0] == 250, got   # mail to another tenant is mail


@pytest.mark.parametrize("victim", VICTIMS)
def test_submission_forged_from(world, victim):
    local, domain = victim.split("@")
    fake = same_shape(local) + "@" + domain
    got = same_answer(lambda a: repr(smtp_answers(world.submission_port, [f"MAIL FROM:<{a}>", "RSET"],
                                                  login=(ALICE, PASSWORD))), victim, fake)
    assert "(5" in got, got   # refused
    own = smtp_answers(world.submission_port, [f"MAIL FROM:<{ALICE}>", "RSET"], login=(ALICE, PASSWORD))
    assert own[0][0] == 250, own


# --------------------------------------------------------------------------
# JMAP
# --------------------------------------------------------------------------

@pytest.mark.parametrize("victim", VICTIMS)
def test_jmap_account_ids(world, victim):
    v = world.data[victim]
    session = json.loads(http_req(world, "GET", "/.well-known/jmap")[2])
    assert v["acct"] not in json.dumps(session)
    probes = [
        lambda a: [["Mailbox/get", {"accountId": a}, "0"]],
        lambda a: [["Email/get", {"accountId": a, "ids": [v["email_id"]]}, "0"]],
        lambda a: [["Email/query", {"accountId": a}, "0"]],
        lambda a: [["Email/changes", {"accountId": a, "sinceState": "0"}, "0"]],
        lambda a: [["Mailbox/set", {"accountId": a, "destroy": [v["box_id"]]}, "0"]],
        lambda a: [["Email/set", {"accountId": a, "update": {v["email_id"]: {"keywords/$seen": True}}}, "0"]],
        lambda a: [["Email/copy", {"fromAccountId": a, "accountId": world.data[ALICE]["acct"],
                                   "create": {"k": {"id": v["email_id"], "mailboxIds": {
                                       world.data[ALICE]["box_id"]: True}}}}, "0"]],
        lambda a: [["Thread/get", {"accountId": a, "ids": ["T1"]}, "0"]],
        lambda a: [["Identity/get", {"accountId": a}, "0"]],
    ]
    for p in probes:
        same_answer(lambda a: api_text(world, p(a)), v["acct"], fake_id("acct", v["acct"]))


@pytest.mark.parametrize("victim", VICTIMS)
def test_jmap_object_ids(world, victim):
    v, mine = world.data[victim], world.data[ALICE]["acct"]
    probes = {
        "email_id": [
            lambda i: [["Email/get", {"accountId": mine, "ids": [i]}, "0"]],
            lambda i: [["Email/set", {"accountId": mine, "update": {i: {"keywords/$seen": True}}}, "0"]],
            lambda i: [["Email/set", {"accountId": mine, "destroy": [i]}, "0"]],
            lambda i: [["Email/query", {"accountId": mine, "filter": {"inMailbox": "x"}, "anchor": i}, "0"]],
            lambda i: [["SearchSnippet/get", {"accountId": mine, "emailIds": [i]}, "0"]],
        ],
        "box_id": [
            lambda i: [["Mailbox/get", {"accountId": mine, "ids": [i]}, "0"]],
            lambda i: [["Mailbox/set", {"accountId": mine, "update": {i: {"name": "x"}}}, "0"]],
            lambda i: [["Email/query", {"accountId": mine, "filter": {"inMailbox": i}}, "0"]],
            lambda i: [["Email/set", {"accountId": mine, "create": {"k": {
                "mailboxIds": {i: True}, "subject": "x", "bodyValues": {"1": {"value": "x"}},
                "textBody": [{"partId": "1", "type": "text/plain"}]}}}, "0"]],
        ],
        "blob_id": [
            lambda i: [["Email/import", {"accountId": mine, "emails": {"k": {
                "blobId": i, "mailboxIds": {world.data[ALICE]["box_id"]: True}}}}, "0"]],
            lambda i: [["Email/parse", {"accountId": mine, "blobIds": [i]}, "0"]],
            lambda i: [["Blob/get", {"accountId": mine, "ids": [i]}, "0"]],
        ],
    }
    for key, ps in probes.items():
        for p in ps:
            same_answer(lambda i: api_text(world, p(i)), v[key], fake_id(key, v[key]))


@pytest.mark.parametrize("victim", VICTIMS)
def test_jmap_download_upload(world, victim):
    v, mine = world.data[victim], world.data[ALICE]["acct"]
    # The victim's blob in the victim's account, and in alice's.
    same_answer(lambda b: repr(http_req(world, "GET", f"/jmap/download/{v['acct']}/{b}/m.eml?accept=message/rfc822")),
                v["blob_id"], fake_id("blob_id", v["blob_id"]))
    same_answer(lambda b: repr(http_req(world, "GET", f"/jmap/download/{mine}/{b}/m.eml?accept=message/rfc822")),
                v["blob_id"], fake_id("blob_id", v["blob_id"]))
    same_answer(lambda a: repr(http_req(world, "GET", f"/jmap/download/{a}/{v['blob_id']}/m.eml")),
                v["acct"], fake_id("acct", v["acct"]))
    # An upload into the victim's account.
    same_answer(lambda a: repr(http_req(world, "POST", f"/jmap/upload/{a}/", body=b"hello",
                                    headers={"Content-Type": "text/plain"})),
                v["acct"], fake_id("acct", v["acct"]))
    # alice's own download works (the probes above can fail).
    status, _, body = http_req(world, "GET", f"/jmap/download/{mine}/{world.data[ALICE]['blob_id']}/m.eml")
    assert status == 200 and b"secret of alice" in body


def test_jmap_eventsource_only_own_account(world):
    """alice's stream: a change in bob's and carol's accounts sends nothing
    to it; alice's own change arrives, after theirs were made."""
    c = http.client.HTTPConnection(*http_hostport(world), timeout=TIMEOUT)
    c.request("GET", "/jmap/eventsource/?types=*&closeafter=no&ping=0",
              headers={"Authorization": "Basic " + base64.b64encode(f"{ALICE}:{PASSWORD}".encode()).decode(),
                       "Accept": "text/event-stream"})
    r = c.getresponse()
    assert r.status == 200
    first = b""
    while b"\n\n" not in first:   # the initial state event
        first += r.read1(65536)
    for u in (BOB, CAROL, ALICE):
        box = world.data[u]["box_id"]
        api(world, [["Email/set", {"accountId": world.data[u]["acct"], "create": {"k": {
            "mailboxIds": {box: True}, "subject": "ping", "bodyValues": {"1": {"value": "x"}},
            "textBody": [{"partId": "1", "type": "text/plain"}]}}}, "0"]], user=u)
    seen = first
    deadline = time.monotonic() + TIMEOUT
    while seen.count(b"\n\n") < 2 and time.monotonic() < deadline:
        seen += r.read1(65536)
    c.close()
    assert seen.count(b"\n\n") >= 2, seen
    for u in (BOB, CAROL):
        assert world.data[u]["acct"].encode() not in seen, seen
    assert world.data[ALICE]["acct"].encode() in seen
