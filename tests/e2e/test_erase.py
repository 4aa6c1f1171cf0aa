"""Crypto-shredding (issue #13 item 3; projector/keyring.h,
gateway/admin_erase.h): `evmailctl account erase` makes what the log still
holds of an account unreadable, and no byte of its messages is readable
from the view, from a rebuild or from the log's records.

One evmaild on the embedded log with crypto.master_key_file (a 0600 file of
32 random octets in hex), the blob collector every second and small log
segments (so the directory topic rolls and its compaction reaches the key
records). Every message, subject, APPENDed message and keyword carries a
unique marker; the log's and the view's files are scanned raw for each
marker, and for its base64 forms at the three alignments (bodies travel
base64 in blob.chunk events), and in lower case (the text index).

test_erase: amy and bob (keys made at account creation) get a message
together and one each, amy APPENDs one, STOREs a keyword and imports one
over JMAP (upload + Email/import), bob COPYs one of hers from her shared
INBOX into his own. The log holds no marker (sealed) while IMAP shows them
all. Erase amy: the report counts
her key; after the collector, the log's compaction and a view compaction,
amy cannot log in, bob still reads the shared message, his copy and his
own, the view's files hold none of amy's markers, the directory log no
longer holds her wrapped key, a rebuild brings nothing of hers back and
bob's all. On Kafka the records are read with kcat and the key records'
latest versions must be tombstones (the brokers compact on their own).
With blob.store = log the body cache's files are scanned like the view's.
A JMAP upload's hold on its body (blob.upload_ttl_s) ends with the
account's purge, so its body is collected with the others.

test_erase_key_rotation: an account made before the master key existed has
no key and its mail is logged plain (the scan finds its marker: the scan
can fail); erase is refused without a master key; with one, `account key
rotate` gives it a first key, a second rotation a new one, mail delivered
under each is sealed and readable; the erasure destroys both keys and the
report says since when the account was sealed."""

import base64
import hashlib
import imaplib
import json
import os
import smtplib
import subprocess
import time
import random
import re
import string

import pytest

from conftest import assert_fail, assert_ok, free_port, mail_directory, mail_inbox, wait_until
from jmaplib import _request, jmap_api, jmap_session

DOMAIN = "erase.example"
AMY = f"amy@{DOMAIN}"
BOB = f"bob@{DOMAIN}"
PASSWORD = "erase-test-pw"


def marker(_tag=None):
    """A unique token of 24 random capital letters. Letters survive every
    encoding but base64 literally, and random ones share no 4 octets with
    anything else, so a compressed RocksDB table (back references of 4
    octets and more) keeps the token's inside whole where it holds it."""
    return "".join(random.SystemRandom().choice(string.ascii_uppercase) for _ in range(24))


def needles(m):
    """The byte strings that betray m in a file: its inner 16 letters (a
    compressed table may fold m's first or last letters into a back
    reference to the same context before, "amy A..." after "amy A..."),
    in lower case too (the text index folds case), and the base64
    characters that only m's octets determine, at each of the three
    alignments."""
    raw = m.encode()
    inner = raw[4:-4]
    out = {inner, inner.lower()}
    for k in range(3):
        enc = base64.b64encode(b"\0" * k + raw)
        first = -(-k // 3) * 3                 # first 3-octet group of m alone
        last = (k + len(raw)) // 3 * 3         # end of the last whole group
        out.add(enc[first // 3 * 4:last // 3 * 4])
    return out


def files_under(root):
    for dirpath, _, names in os.walk(root):
        for name in names:
            yield os.path.join(dirpath, name)


def found(root, markers):
    """{marker: [files holding it]} over every file under root. RocksDB
    replaces files as it compacts in the background: a scan that lost a
    file between listing and reading it is done again."""
    for _ in range(50):
        hits, vanished = {}, False
        for path in files_under(root):
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except FileNotFoundError:
                vanished = True
                break
            for m in markers:
                if any(n in data for n in needles(m)):
                    hits.setdefault(m, []).append(os.path.relpath(path, root))
        if not vanished:
            return hits
        time.sleep(0.1)
    pytest.fail(f"{root}: files kept vanishing while scanned")


# Kafka: the topics that may hold personal content (the cluster topic's
# heartbeats never stop arriving, so kcat -e seldom sees its end).
def found_local(node, markers):
    """found() over the node's own copies: the view's files, and with
    blob.store = log the body cache's (<data_dir>/blobcache)."""
    hits = found(node.data_dir / "view", markers)
    if (node.data_dir / "blobcache").exists():
        for m, files in found(node.data_dir / "blobcache", markers).items():
            hits.setdefault(m, []).extend(files)
    return hits


TOPICS = ("blob", "mail", "directory", "queue")


def kafka_records(node, topic):
    """[(key, value or None)] of a topic, every record (kcat to the end)."""
    env = node.env
    p = subprocess.run(["kcat", "-C", "-b", env["EVMAIL_LOG_BROKERS"], "-t",
                        env["EVMAIL_LOG_TOPIC_PREFIX"] + topic, "-e", "-q", "-Z",
                        "-f", "%k\t%S\t%s\n--evmail-record-end--\n"],
                       capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr
    out = []
    for rec in p.stdout.split(b"\n--evmail-record-end--\n"):
        if rec:
            key, size, value = rec.split(b"\t", 2)
            out.append((key.decode(), None if int(size) < 0 else value))
    return out


def found_in_log(node, backend, markers):
    """found() over the log's records: the embedded log's files read raw,
    or every Kafka record of the node's topics."""
    if backend == "embedded":
        return found(node.data_dir / "log", markers)
    hits = {}
    for t in TOPICS:
        data = b"\n".join(v for _, v in kafka_records(node, t) if v is not None)
        for m in markers:
            if any(n in data for n in needles(m)):
                hits.setdefault(m, []).append(t)
    return hits


def master_key(directory):
    path = directory / "master.key"
    path.write_text(os.urandom(32).hex() + "\n")
    os.chmod(path, 0o600)
    return path


def node_env(key_file=None, backend="embedded"):
    env = {"EVMAIL_SMTP_HOSTNAME": "mx1.evmail.test", "EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH": "1",
           "EVMAIL_BLOB_GC_INTERVAL_S": "1", "EVMAIL_BLOB_GC_GRACE_S": "1",
           "EVMAIL_HTTP_LISTEN": f"127.0.0.1:{free_port()}"}
    if backend == "embedded":
        env.update({"EVMAIL_LOG_PARTITIONS": "2", "EVMAIL_LOG_SEGMENT_BYTES": "8192",
                    "EVMAIL_LOG_EMBEDDED_COMPACT_INTERVAL_S": "0"})
    else:
        # the decider (which the collector needs) holds queue partition 0:
        # the delivery role's group
        env["EVMAIL_NODE_ROLES"] = "projector,gateway,delivery"
    if key_file is not None:
        env["EVMAIL_CRYPTO_MASTER_KEY_FILE"] = str(key_file)
    return env


def message(rcpt, subject, body):
    return (f"From: Sender <s@sender.example>\r\nTo: <{rcpt}>\r\nSubject: {subject}\r\n"
            f"Message-ID: <er-{time.monotonic_ns()}@sender.example>\r\n\r\n{body}\r\n").encode()


def send(node, rcpts, raw):
    with smtplib.SMTP("127.0.0.1", node.smtp_port, local_hostname="client.example", timeout=60) as s:
        s.sendmail("s@sender.example", rcpts, raw)


def jmap_import(node, user, raw):
    """raw uploaded over JMAP (a blob of the user's) and imported into the
    INBOX with Email/import (RFC 8621 4.8)."""
    acct = jmap_session(node, user, PASSWORD)["primaryAccounts"]["urn:ietf:params:jmap:mail"]
    status, data = _request(node, "POST", f"/jmap/upload/{acct}/", user, PASSWORD, raw,
                            {"Content-Type": "message/rfc822"})
    assert status == 201, data
    blob_id = json.loads(data)["blobId"]
    r = jmap_api(node, [["Mailbox/get", {"accountId": acct}, "m"]], user, PASSWORD)
    inbox_id = [m["id"] for m in r[0][1]["list"] if m["role"] == "inbox"][0]
    r = jmap_api(node, [["Email/import", {"accountId": acct, "emails": {
        "e1": {"blobId": blob_id, "mailboxIds": {inbox_id: True}}}}, "i"]], user, PASSWORD)
    assert "e1" in r[0][1].get("created", {}), r


def login(node, user):
    m = imaplib.IMAP4("127.0.0.1", node.imap_port, timeout=30)
    assert m.login(user, PASSWORD)[0] == "OK"
    return m


def login_refused(node, user):
    m = imaplib.IMAP4("127.0.0.1", node.imap_port, timeout=30)
    try:
        m.login(user, PASSWORD)
    except imaplib.IMAP4.error:
        return True
    finally:
        m.shutdown()
    return False


def read_all(node, user):
    """Every INBOX message of user over IMAP, bodies and flags as one text."""
    m = login(node, user)
    assert m.select("INBOX", readonly=True)[0] == "OK"
    typ, data = m.fetch("1:*", "(FLAGS BODY.PEEK[])")
    assert typ == "OK", data
    m.logout()
    return b"".join(d[0] + d[1] if isinstance(d, tuple) else d for d in data
                    if d is not None).decode(errors="replace")


def inbox(node, addr):
    return mail_inbox(node, addr)[1]


def blob(node, blob_id):
    return node.get_json(f"/admin/blobs/{blob_id}")


def collected(node, blob_id):
    """The collector's decision on the body is applied: no chunk in the
    view and no upload left (with blob.store = log the view never holds
    chunks, the uploads tell)."""
    info = blob(node, blob_id)
    return info["chunks"] == 0 and info["uploads"] == {}


def accounts(node, *addrs):
    assert_ok(node.ctl("tenant", "create", "ert"))
    assert_ok(node.ctl("domain", "add", DOMAIN, "--tenant", "ert"))
    for a in addrs:
        assert_ok(node.ctl("account", "add", a, "--password-stdin", input=PASSWORD + "\n"))


def roll_directory(node, tag, n=30):
    """Directory events enough to roll the directory topic's segment past
    the key records (the active segment is never compacted)."""
    mail_directory(node, f"fill{tag}", f"fill{tag}.example",
                   accounts=[f"f{i}" for i in range(n)])


def compact_all(node, backend="embedded"):
    """The embedded log's compaction (Kafka's brokers compact on their
    own), and the view's."""
    if backend == "embedded":
        res = assert_ok(node.ctl("log", "compact"))
        assert "bytes reclaimed" in res.out, res.out
    assert_ok(node.ctl("view", "compact"))


def wrapped_keys(node, backend, kids):
    """{kid: the wrapped data key of its account.key record} from the
    directory log (compact JSON, sorted keys: "kid" then "wrapped")."""
    if backend == "embedded":
        data = b"".join(open(p, "rb").read() for p in files_under(node.data_dir / "log" / "evmail.directory"))
    else:
        data = b"\n".join(v for _, v in kafka_records(node, "directory") if v is not None)
    out = {}
    for kid in kids:
        m = re.search(rb'"kid":"%s","wrapped":"([A-Za-z0-9+/=]+)"' % kid.encode(), data)
        assert m, f"no account.key record of {kid} in the directory log"
        out[kid] = m.group(1).decode()
    return out


def erase(node, addr):
    res = assert_ok(node.ctl("--json", "account", "erase", addr, "--yes"))
    return json.loads(res.out)


@pytest.fixture(params=["view", pytest.param("log", id="store-log")])
def store(request):
    """blob.store: bodies in the view, or read from the log through a
    cache (whose files must drop an erased account's bodies too)."""
    return request.param


@pytest.fixture
def node(backend_nodes, backend, store, tmp_path):
    if backend == "kafka" and store == "log":
        pytest.skip("blob.store = log is covered on the embedded log")
    n = backend_nodes("er", env={**node_env(master_key(tmp_path), backend), "EVMAIL_BLOB_STORE": store})
    n.start(wait="ready")
    accounts(n, AMY, BOB)
    return n


def test_erase(node, backend):
    mk = {k: marker(k) for k in ("sharedsubj", "sharedbody", "amysubj", "amybody", "amyappend",
                                 "amykw", "bobsubj", "bobbody", "copied", "amyjmap")}
    bobs = ("sharedsubj", "sharedbody", "bobsubj", "bobbody", "copied")
    amy_only = [mk[k] for k in ("amysubj", "amybody", "amyappend", "amykw")]
    send(node, [AMY, BOB], message(AMY, f"both {mk['sharedsubj']}", f"shared {mk['sharedbody']}"))
    send(node, [AMY], message(AMY, f"amy {mk['amysubj']}", f"only amy {mk['amybody']}"))
    send(node, [BOB], message(BOB, f"bob {mk['bobsubj']}", f"only bob {mk['bobbody']}"))
    m = login(node, AMY)
    typ, data = m.append("INBOX", None, None, message(AMY, "appended", f"appended {mk['amyappend']}"))
    assert typ == "OK", data
    assert m.select("INBOX")[0] == "OK"
    assert m.store("2", "+FLAGS", f"(K{mk['amykw']})")[0] == "OK"
    # bob copies a message of amy's (her INBOX shared with him) into his
    # own: the copy's body is stored again under his key.
    assert m.setacl("INBOX", BOB, "lr")[0] == "OK"
    m.logout()
    send(node, [AMY], message(AMY, "to copy", f"copied {mk['copied']}"))
    wait_until(lambda: len(inbox(node, AMY)) == 4, 30, what="the message to copy")
    b = login(node, BOB)
    assert b.setacl("INBOX", AMY, "lr")[0] == "OK"   # revoked by the erasure
    assert b.select(f'"Other Users/{AMY}/INBOX"', readonly=True)[0] == "OK"
    assert b.copy("4", "INBOX")[0] == "OK"
    b.logout()
    jmapped = message(AMY, "over jmap", f"uploaded {mk['amyjmap']}")
    jmap_import(node, AMY, jmapped)
    wait_until(lambda: len(inbox(node, AMY)) == 5 and len(inbox(node, BOB)) == 3, 30,
               what="every delivery in the INBOXes")
    amy_blobs = {x["blob_id"] for x in inbox(node, AMY)}
    shared = {x["blob_id"] for x in inbox(node, BOB)} & amy_blobs
    assert len(shared) == 2
    # The JMAP upload holds its body for blob.upload_ttl_s (RFC 8620
    # 6.1), but no longer than the account: the purge ends the hold.
    uploaded = hashlib.sha256(jmapped).hexdigest()
    assert uploaded in amy_blobs

    # Sealed: the log's records hold no marker, the owners read them all.
    assert found_in_log(node, backend, mk.values()) == {}
    text = read_all(node, AMY)
    for k in ("sharedsubj", "sharedbody", "amysubj", "amybody", "amyappend", "amykw", "copied", "amyjmap"):
        assert mk[k] in text, (k, text)
    text = read_all(node, BOB)
    for k in bobs:
        assert mk[k] in text, (k, text)
    # The view holds them in clear (it must, to serve them): the scan works.
    assert_ok(node.ctl("view", "compact"))
    seen = found_local(node, amy_only)
    assert not [k for k, v in mk.items() if v in amy_only and v not in seen], (mk, seen)

    report = erase(node, AMY)
    assert report["keys_destroyed"] == 1 and report["tombstones_written"] == 1, report
    assert report["purge"]["status"] == "accepted" and report["revoked"] == 1, report
    assert len(report["kids"]) == 1, report
    # Still in the log until compaction: the wrapped key, not the kid, is
    # what must go (the kid names it; account.erase lists it too).
    wrapped = wrapped_keys(node, backend, report["kids"])
    assert login_refused(node, AMY)
    b = login(node, BOB)
    typ, data = b.getacl("INBOX")
    assert typ == "OK" and AMY.encode() not in data[0], data
    b.logout()
    # Again: no such account; the earlier erasure's tombstones are written
    # again and the store purged again (how a half-done erasure finishes).
    again = erase(node, AMY)
    assert again["erase"]["code"] == "not-found" and again["keys_destroyed"] == 0, again
    assert again["tombstones"] == report["tombstones"] and again["tombstones_written"] == 1, again
    res = assert_ok(node.ctl("account", "erase", AMY, "--yes"))
    assert "tombstoned again" in res.out, res.out

    # amy's own bodies are collected; the shared one stays for bob.
    gone = amy_blobs - shared
    assert uploaded in gone
    wait_until(lambda: all(collected(node, b) for b in gone), 40,
               what="amy's bodies collected", diag=lambda: repr([blob(node, b) for b in gone]))
    if backend == "embedded":
        roll_directory(node, "a")
    compact_all(node, backend)
    text = read_all(node, BOB)
    for k in bobs:
        assert mk[k] in text, (k, text)
    assert found_local(node, amy_only + [mk["amyjmap"]]) == {}
    assert found_in_log(node, backend, mk.values()) == {}
    if backend == "embedded":
        assert found(node.data_dir / "log" / "evmail.directory", wrapped.values()) == {}, \
            "amy's wrapped key is still in the log"
    else:
        # The brokers compact when they will: the key record's latest
        # version is the tombstone, which their cleaner honours.
        latest = dict(kafka_records(node, "directory"))
        assert all(latest[t] is None for t in report["tombstones"]), report
    assert node.get_json(f"/admin/mail/{AMY}/usage") == {"messages": 0, "quota_used": 0}

    # Replay brings nothing of amy's back, and all of bob's.
    assert_ok(node.ctl("rebuild"))
    assert login_refused(node, AMY)
    assert inbox(node, AMY) == []
    text = read_all(node, BOB)
    for k in bobs:
        assert mk[k] in text, (k, text)
    assert_ok(node.ctl("view", "compact"))
    assert found_local(node, amy_only + [mk["amyjmap"]]) == {}


def test_erase_key_rotation(nodes, tmp_path):
    env = node_env()
    n = nodes("rot", env=env)
    n.start(wait="ready")
    carl = f"carl@{DOMAIN}"
    accounts(n, carl)
    plain, first, second = marker("plain"), marker("first"), marker("second")
    send(n, [carl], message(carl, f"plain {plain}", "before any key"))
    wait_until(lambda: len(inbox(n, carl)) == 1, 30, what="the plain delivery")
    # No master key: logged plain (the scan sees it) and no erasure.
    assert set(found(n.data_dir / "log", [plain])) == {plain}
    res = assert_fail(n.ctl("account", "erase", carl, "--yes"),
                      "crypto-shredding needs crypto.master_key_file; use account remove")
    assert_fail(n.ctl("account", "key", "rotate", carl), "crypto.master_key_file")
    assert n.get_json(f"/admin/accounts/{carl}")["content_key"] is None
    res = assert_ok(n.ctl("account", "show", carl))
    assert "content key:  none" in res.out, res.out
    n.stop()

    n.extra_env["EVMAIL_CRYPTO_MASTER_KEY_FILE"] = str(master_key(tmp_path))
    n.start(wait="ready")
    before = int(time.time() * 1000)
    res = assert_ok(n.ctl("account", "key", "rotate", carl))
    after = int(time.time() * 1000)
    assert "first content key" in res.out, res.out
    send(n, [carl], message(carl, f"first {first}", "under the first key"))
    first_kid = n.get_json(f"/admin/accounts/{carl}")["content_key"]
    res = assert_ok(n.ctl("account", "key", "rotate", carl))
    assert "new content key" in res.out, res.out
    second_kid = n.get_json(f"/admin/accounts/{carl}")["content_key"]
    assert first_kid and second_kid and first_kid != second_kid
    assert f"content key:  {second_kid}" in assert_ok(n.ctl("account", "show", carl)).out
    send(n, [carl], message(carl, f"second {second}", "under the second key"))
    wait_until(lambda: len(inbox(n, carl)) == 3, 30, what="the sealed deliveries")
    text = read_all(n, carl)
    assert plain in text and first in text and second in text, text
    assert found(n.data_dir / "log", [first, second]) == {}
    bodies = {x["blob_id"] for x in inbox(n, carl)}

    report = erase(n, carl)
    assert report["keys_destroyed"] == 2 and report["tombstones_written"] == 2, report
    assert sorted(report["kids"]) == sorted([first_kid, second_kid]), report
    wrapped = wrapped_keys(n, "embedded", report["kids"])
    # Sealed since its first key (the plain message before it is not).
    assert before <= report["sealed_since"] <= after, (before, report, after)
    assert login_refused(n, carl)
    assert inbox(n, carl) == []
    wait_until(lambda: all(collected(n, b) for b in bodies), 40,
               what="carl's bodies collected", diag=lambda: repr([blob(n, b) for b in bodies]))
    roll_directory(n, "r")
    compact_all(n)
    assert found_local(n, [first, second]) == {}
    assert found(n.data_dir / "log" / "evmail.directory", wrapped.values()) == {}
    assert_ok(n.ctl("rebuild"))
    assert inbox(n, carl) == []
