"""verify - the end of a chaos run, once the load has stopped and every
node and broker runs again:

- every node ready (/readyz) and every view with the same digest
  (/admin/digest), the outbound queue empty on every node;
- on EVERY node, for every account: no two messages share a UID in a
  mailbox (admin mail API), the admin API and IMAP list the same UIDs, and
  every acknowledged message is there exactly once by Message-ID in its
  mailbox (INBOX, Archive; or gone after an acknowledged UID EXPUNGE), with
  \\Flagged when a STORE of it was acknowledged; more copies only after an
  attempt with an unknown outcome or a late temporary failure (reported);
- every acknowledged submission reached the sink at least once.

check_* return a list of problems (strings); the test asserts it is empty
after printing the counts."""

import imaplib
import json
import re
import urllib.parse

from e2e_bridge import e2e

FETCH_ITEMS = "(UID FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"


def admin_uids(node, account):
    """{mailbox name: [uid, ...]} from the admin mail API."""
    q = urllib.parse.quote(account, safe="@")
    out = {}
    for box in node.get_json(f"/admin/mail/{q}/mailboxes"):
        msgs = node.get_json(f"/admin/mail/{q}/mailboxes/{box['id']}/messages")
        out[box["name"]] = [m["uid"] for m in msgs]
    return out


def imap_messages(node, account, password, mailboxes):
    """{mailbox: [(uid, message-id, flags)]} read over IMAP (EXAMINE, UID FETCH)."""
    conn = imaplib.IMAP4("127.0.0.1", node.imap_port, timeout=60)
    out = {}
    try:
        assert conn.login(account, password)[0] == "OK"
        for box in mailboxes:
            typ, _ = conn.select(box, readonly=True)
            assert typ == "OK", f"{node.name}: EXAMINE {box} of {account}: {typ}"
            typ, data = conn.uid("FETCH", "1:*", FETCH_ITEMS)
            assert typ == "OK", f"{node.name}: UID FETCH in {box} of {account}: {typ} {data!r}"
            out[box] = parse_fetch(data)
    finally:
        conn.shutdown()
    return out


def parse_fetch(data):
    """[(uid, message-id, flags)] of imaplib's FETCH data."""
    out = []
    for i, d in enumerate(data):
        if not isinstance(d, tuple):
            continue
        meta = d[0]
        if i + 1 < len(data) and isinstance(data[i + 1], bytes):
            meta += data[i + 1]
        uid = re.search(rb"\bUID (\d+)", meta)
        flags = re.search(rb"\bFLAGS \(([^)]*)\)", meta)
        mid = re.search(rb"(?im)^message-id:\s*(<[^>]*>)", d[1])
        out.append((int(uid.group(1)) if uid else None, mid.group(1).decode() if mid else None,
                    flags.group(1).decode().split() if flags else []))
    return out


def wait_converged(nodes, timeout=180):
    """Every node ready, the queue empty everywhere, and equal digests."""
    for n in nodes:
        n.wait_ready(timeout)
    state = {}

    def queue_empty():
        for n in nodes:
            res = e2e.assert_ok(n.ctl("queue", "list", "--json", timeout=60))
            items = json.loads(res.out)
            state["queue"] = (n.name, items[:5])
            if items:
                return False
        return True

    e2e.wait_until(queue_empty, timeout, interval=1.0, what="the outbound queue to drain on every node",
                   diag=lambda: f"last queue seen: {state.get('queue')!r}")

    def same_digest():
        ds = {n.name: n.get_json("/admin/digest")["digest"] for n in nodes}
        state["digests"] = ds
        return len(set(ds.values())) == 1

    e2e.wait_until(same_digest, timeout, interval=1.0, what="equal view digests on every node",
                   diag=lambda: f"digests: {state.get('digests')!r}")
    return state["digests"]


def check_node_mail(node, ledger, accounts, password, stats):
    """Problems with the mail of accounts on one node (see the module doc)."""
    problems = []
    mine = {}
    for m in ledger.msgs.values():
        if m.kind in ("smtp", "imap"):
            mine.setdefault(m.account, []).append(m)
    for acct in accounts:
        uids = admin_uids(node, acct)
        for box, lst in uids.items():
            if len(lst) != len(set(lst)):
                problems.append(f"{node.name}: {acct} {box}: UIDs shared by two messages: "
                                f"{sorted(u for u in set(lst) if lst.count(u) > 1)}")
        seen = imap_messages(node, acct, password, sorted(uids))
        found = {}
        for box, rows in seen.items():
            if sorted(r[0] for r in rows) != sorted(uids[box]):
                problems.append(f"{node.name}: {acct} {box}: IMAP lists UIDs {len(rows)} "
                                f"but the admin API {len(uids[box])}")
            for uid, mid, flags in rows:
                found.setdefault(mid, []).append((box, uid, flags))
        known = {m.msgid: m for m in mine.get(acct, [])}
        for mid in found:
            if mid not in known:
                problems.append(f"{node.name}: {acct}: unexpected message {mid} at {found[mid]}")
        for m in known.values():
            problems += check_msg(node, acct, m, found.get(m.msgid, []), stats)
    return problems


def check_msg(node, acct, m, copies, stats):
    """Problems of one message's copies [(mailbox, uid, flags)] on one node."""
    if not m.acked:
        if copies:
            stats["present though never acknowledged"] += 1
        return []
    places = {p for p in m.places if p}
    wrong = [c for c in copies if c[0] not in places]
    most = 1 + m.unknown + m.tempfail_late
    least = 0 if "" in m.places else 1
    if least:
        stats["expected"] += 1
        stats["found" if copies else "acknowledged missing"] += 1
    else:
        stats["expunged (absent)" if not copies else "expunge uncertain (present)"] += 1
    out = []
    if wrong:
        out.append(f"{node.name}: {acct}: {m.msgid} in the wrong mailbox {wrong} (expected {sorted(m.places)})")
    if not least <= len(copies) <= most:
        out.append(f"{node.name}: {acct}: acknowledged {m.msgid} found {len(copies)} times "
                   f"(expected {least}..{most}; unknown outcomes {m.unknown}, "
                   f"late temporary failures {m.tempfail_late}): {copies}")
    if len(m.places) > 1:
        stats["place uncertain (unknown outcome of MOVE/EXPUNGE)"] += 1
    if len(copies) > 1:
        stats["duplicates (unknown outcome)" if m.unknown else "duplicates (late 4xx/NO)"] += 1
    if m.flagged and any("\\Flagged" not in c[2] for c in copies):
        out.append(f"{node.name}: {acct}: {m.msgid} lost its acknowledged \\Flagged: {copies}")
    return out


def sink_message_ids(sink):
    """{Message-ID: count} of what the sink accepted."""
    out = {}
    for t in sink.messages:
        mid = re.search(rb"(?im)^message-id:\s*(<[^>]*>)", t.data)
        if mid:
            k = mid.group(1).decode()
            out[k] = out.get(k, 0) + 1
    return out


def check_sink(sink, ledger, stats):
    """Every acknowledged submission reached the sink at least once."""
    got = sink_message_ids(sink)
    problems = []
    for m in ledger.by_kind("submission"):
        n = got.get(m.msgid, 0)
        if m.acked:
            stats["submissions at the sink"] += 1 if n else 0
            if n == 0:
                problems.append(f"acknowledged submission {m.msgid} never reached the sink")
        if n > 1:
            stats["submissions delivered more than once"] += 1
    return problems
