"""An SMTP 250 is a promise (ARCHITECTURE.md: a write is acknowledged only
after the log acknowledged it). kill -9 the node right after each 250 and
check after the restart that every acknowledged message is there, byte for
byte, exactly once (counted by Message-ID) -- on the embedded log, and on
a real Kafka with a second node B that must agree with A on UID, MODSEQ,
body bytes and the view digest."""

import os
import re
import time

import pytest

from conftest import (SmtpRaw, assert_ok, clean_env, evmailctl, mail_bodies, mail_directory,
                      mail_inbox, mail_raw, wait_until)

DOMAIN = "durable.example"


def new_message(i, size=0):
    mid = f"<dur.{i}.{os.urandom(6).hex()}@sender.example>"
    body = f"message {i}\r\n".encode() + os.urandom(48).hex().encode() + b"\r\n"
    if size:
        line = b"D" * 76 + b"\r\n"
        body += line * (size // len(line))
    return mid, (f"From: <s@sender.example>\r\nSubject: durable {i}\r\nMessage-ID: {mid}\r\n\r\n".encode()
                 + body)


def send_one(node, rcpts, data, wait_reply=True):
    """One transaction (pipelined). Returns the reply to the end of data,
    or, when wait_reply is False, the open connection (the data is sent,
    nothing read; the caller closes it)."""
    c = SmtpRaw(node.smtp_port, timeout=60)
    try:
        assert c.reply()[0] == 220, c.log()
        assert c.cmd("EHLO durable.example")[0] == 250, c.log()
        cmds = "MAIL FROM:<s@sender.example>\r\n" + "".join(f"RCPT TO:<{r}>\r\n" for r in rcpts) + "DATA\r\n"
        c.send(cmds)
        codes = [x[0] for x in c.replies(len(rcpts) + 2)]
        assert codes == [250] * (len(rcpts) + 1) + [354], c.log()
        c.send(data + b".\r\n")
        if not wait_reply:
            return c
        code, lines = c.reply()
        return code, lines
    finally:
        if wait_reply:
            c.close()


def by_message_id(node, addr, timeout=30.0):
    """{Message-ID: [(record, body as received)]} of addr's INBOX."""
    out = {}
    for m, raw in mail_bodies(node, addr, timeout=timeout):
        mm = re.search(rb"\r\nMessage-ID: (<[^>\r\n]*>)\r\n", raw)
        assert mm, raw[:500]
        body = raw[raw.index(b"\r\nFrom: <s@sender.example>") + 2:]
        out.setdefault(mm.group(1).decode(), []).append((m, body))
    return out


def check_acked(node, addr, acked, maybe=()):
    """Every acknowledged message exactly once and byte-identical; a
    message in flight at a kill (maybe) at most once and complete."""
    got = by_message_id(node, addr)
    twice = {k: len(v) for k, v in got.items() if len(v) > 1}
    assert not twice, f"{addr}: stored more than once: {twice}"
    missing = [mid for mid in acked if mid not in got]
    assert not missing, f"{addr}: {len(missing)} of {len(acked)} acknowledged messages lost: {missing}"
    for mid, data in acked.items():
        body = got[mid][0][1]
        assert body == data, f"{addr}: {mid} differs: stored {len(body)} bytes, sent {len(data)}"
    for mid, data in maybe:
        if mid in got:
            assert got[mid][0][1] == data, f"{addr}: the in-flight {mid} was stored damaged"
    unknown = set(got) - set(acked) - {mid for mid, _ in maybe}
    assert not unknown, f"{addr}: messages nobody sent: {unknown}"
    uids = [m["uid"] for v in got.values() for m, _ in v]
    assert len(set(uids)) == len(uids), uids
    return got


# --------------------------------------------------------------------------
# embedded log
# --------------------------------------------------------------------------

def test_kill9_after_each_250_embedded(nodes):
    node = nodes("dur", env={"EVMAIL_SMTP_HOSTNAME": "mx.durable.test"})
    node.start(wait="ready")
    bob, ann = mail_directory(node, "t1", DOMAIN, ["bob", "ann"])
    acked_bob, acked_ann, maybe = {}, {}, []
    rounds = 30
    t0 = time.monotonic()
    for i in range(rounds):
        # every 5th round: a 1.5 MB message (3 blob chunks) to two accounts
        mid, data = new_message(i, size=1_500_000 if i % 5 == 4 else 0)
        rcpts = [bob, ann] if i % 3 == 0 else [bob]
        code, lines = send_one(node, rcpts, data)
        assert code == 250, (lines, node.diag(20))
        node.kill9()
        acked_bob[mid] = data
        if ann in rcpts:
            acked_ann[mid] = data
        if i % 10 == 9:
            # and one not waited for: killed while in flight (large, so
            # the kill can land between its blob chunks)
            mid2, data2 = new_message(1000 + i, size=2_000_000)
            node.start(wait="ready")
            conn = send_one(node, [bob], data2, wait_reply=False)
            time.sleep((0.0, 0.03, 0.1)[i // 10])
            node.kill9()
            conn.close()
            maybe.append((mid2, data2))
        node.start(wait="ready")
    elapsed = time.monotonic() - t0
    got = check_acked(node, bob, acked_bob, maybe)
    check_acked(node, ann, acked_ann)
    acc = assert_ok(node.ctl("--json", "account", "show", bob)).json()
    assert acc["messages"] == len(got), acc
    # the view after a full replay of the log is the same
    digest = node.digest()
    before = {m["uid"]: (m["modseq"], m["blob_id"], m["size"]) for m in mail_inbox(node, bob)[1]}
    assert_ok(node.ctl("rebuild", timeout=120))
    node.wait_ready(60)
    assert node.digest() == digest, "rebuild after the kills changed the view"
    after = {m["uid"]: (m["modseq"], m["blob_id"], m["size"]) for m in mail_inbox(node, bob)[1]}
    assert after == before
    print(f"{rounds} kill -9 rounds in {elapsed:.1f}s; {len(got)} messages for bob")


# --------------------------------------------------------------------------
# real Kafka, two nodes
# --------------------------------------------------------------------------

@pytest.mark.kafka
def test_kill9_after_250_kafka_two_nodes(nodes, kafka_env):
    res = evmailctl(["topics", "create"], clean_env(**kafka_env), timeout=120)
    assert_ok(res)
    a = nodes("kafka-a", env={**kafka_env, "EVMAIL_SMTP_HOSTNAME": "mx-a.durable.test"})
    b = nodes("kafka-b", env={**kafka_env, "EVMAIL_SMTP_HOSTNAME": "mx-b.durable.test"})
    a.start(wait="ready", timeout=90)
    b.start(wait="ready", timeout=90)
    bob, ann = mail_directory(a, "t1", DOMAIN, ["bob", "ann"])
    wait_until(lambda: b.http("GET", f"/admin/accounts/{ann}").status == 200, 60,
               what="B to see the accounts", diag=b.diag)
    acked = {}
    rounds = 10
    for i in range(rounds):
        mid, data = new_message(i, size=1_200_000 if i % 2 else 0)
        code, lines = send_one(a, [bob, ann], data)
        assert code == 250, (lines, a.diag(20))
        a.kill9()
        acked[mid] = data
        a.start(wait="ready", timeout=90)
    # and a few more without kills, through B this time
    for i in range(rounds, rounds + 3):
        mid, data = new_message(i)
        code, lines = send_one(b, [bob], data)
        assert code == 250, (lines, b.diag(20))
        acked[mid] = data
        # read-your-writes on the node that said 250: record AND body at once
        box, msgs = mail_inbox(b, bob)
        r = b.http("GET", f"/admin/mail/{bob}/mailboxes/{box}/messages/{msgs[-1]['uid']}/raw")
        assert r.status == 200 and r.body.endswith(data), (
            f"right after 250 on B the newest message's body is not readable: {r!r}")
    acked_ann = {k: v for k, v in acked.items() if int(re.search(r"dur\.(\d+)\.", k).group(1)) < rounds}

    for addr, exp in ((bob, acked), (ann, acked_ann)):
        n = len(exp)
        for node in (a, b):
            wait_until(lambda node=node: len(mail_inbox(node, addr)[1]) >= n, 60,
                       what=f"{node.name} to have {n} messages for {addr}", diag=node.diag)
        got_a = check_acked(a, addr, exp)
        got_b = check_acked(b, addr, exp)
        for mid in exp:
            (ma, body_a), = got_a[mid]
            (mb, body_b), = got_b[mid]
            for k in ("uid", "modseq", "blob_id", "size", "email_id", "internal_date", "prefix", "flags"):
                assert ma[k] == mb[k], f"{addr} {mid}: {k} differs: A {ma[k]!r}, B {mb[k]!r}"
            assert body_a == body_b
        # the whole stored bytes, not only the part after the trace fields
        mid_a, _ = mail_inbox(a, addr)
        mid_b, _ = mail_inbox(b, addr)
        assert mid_a == mid_b, "INBOX ids differ between A and B"
        for m, _ in (v[0] for v in got_a.values()):
            assert mail_raw(a, addr, mid_a, m["uid"]) == mail_raw(b, addr, mid_b, m["uid"])

    def same_digest():
        return a.digest() == b.digest()
    wait_until(same_digest, 60, interval=0.5, what="A and B view digests to agree",
               diag=lambda: f"A {a.digest()} B {b.digest()}\n{a.status()}\n{b.status()}")
