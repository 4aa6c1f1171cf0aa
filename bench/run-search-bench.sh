#!/bin/bash
# run-search-bench.sh - UID SEARCH on text in a 5,000-message mailbox
# (issue 9 section 3): evmail before its text index exists (the first
# search of each query scans every message, as SEARCH did before the
# index) and once indexed, with Dovecot (no FTS plugin, maildir) beside.
#
#   bench/run-search-bench.sh [--no-dovecot]
#
# Environment: MESSAGES (5000), WAIT (20 s between the cold and the warm
# runs: the indexer works meanwhile), REPEAT (5, warm runs; the median is
# printed), BUILD_DIR (build), NO_BUILD=1, KEEP=1 (keep the temp dir).
# Everything started here is stopped on exit by the pid it got.
set -euo pipefail

BENCH_NAME=run-search-bench
. "$(dirname "$0")/lib.sh"     # ROOT, log, die, bench_tmpdir, stop_pid, free_port ...

DOVECOT=1
[ "${1:-}" = --no-dovecot ] && DOVECOT=0
[ -x /usr/sbin/dovecot ] || DOVECOT=0
export KEEP=${KEEP:-0}
bench_bound SEARCH_BENCH 1800
BUILD_DIR=${BUILD_DIR:-build}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
MESSAGES=${MESSAGES:-5000}
export WAIT=${WAIT:-20} REPEAT=${REPEAT:-5}
DOMAIN=bench.test
USER=user1@$DOMAIN
PASSWORD=bench-password-1
DRIVE="$ROOT/bench/search_bench_drive.py"
export PATH="$PATH:/usr/sbin:/usr/bin"

if [ "${NO_BUILD:-0}" != 1 ]; then
	cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja >/dev/null
	ninja -C "$BUILD_DIR" evmaild evmailctl >&2
fi
EVMAILD="$BUILD_DIR/gateway/evmaild"
EVMAILCTL="$BUILD_DIR/admin/evmailctl"

bench_tmpdir search
bench_traps stop_evmaild stop_dovecot
py() { python3 "$ROOT/bench/bench_common.py" "$@"; }

# ---------------------------------------------------------------- evmail
EVM_DIR="$TMP/evmail"
mkdir -p "$EVM_DIR"
MPORT=$(free_port)
IPORT=$(free_port)
SPORT=$(free_port)
EVM_ENV=(env -i PATH="$PATH" HOME="${HOME:-/root}" LC_ALL=C
	EVMAIL_NODE_ID=searchbench EVMAIL_NODE_DATA_DIR="$EVM_DIR/data"
	EVMAIL_NODE_USER= EVMAIL_NODE_ALLOW_ROOT=true
	EVMAIL_MGMT_LISTEN="127.0.0.1:$MPORT" EVMAIL_SMTP_LISTEN="127.0.0.1:$SPORT"
	EVMAIL_SMTP_HOSTNAME=evmail.bench.local EVMAIL_LMTP_LISTEN=
	EVMAIL_IMAP_LISTEN="127.0.0.1:$IPORT" EVMAIL_IMAPS_LISTEN= EVMAIL_POP3_LISTEN= EVMAIL_POP3S_LISTEN=
	EVMAIL_SUBMISSION_LISTEN= EVMAIL_SUBMISSIONS_LISTEN= EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH=1)
log "evmail: starting evmaild (mgmt $MPORT, imap $IPORT, smtp $SPORT)"
(cd "$EVM_DIR" && exec "${EVM_ENV[@]}" "$EVMAILD" >"$EVM_DIR/evmaild.log" 2>&1 </dev/null) &
EVM_PID=$!
py wait-http "127.0.0.1:$MPORT" /readyz --timeout 90 || { tail -n 30 "$EVM_DIR/evmaild.log" >&2; die "evmaild not ready"; }
"${EVM_ENV[@]}" "$EVMAILCTL" tenant create bench >/dev/null || die "tenant create failed"
"${EVM_ENV[@]}" "$EVMAILCTL" domain add "$DOMAIN" --tenant bench >/dev/null || die "domain add failed"
echo "$PASSWORD" | "${EVM_ENV[@]}" "$EVMAILCTL" account add "$USER" --password-stdin >/dev/null || die "account add failed"
py wait-smtp "$SPORT" --timeout 30 || die "no SMTP listener"
log "evmail: delivering $MESSAGES messages over SMTP"
python3 "$DRIVE" prefill-smtp "$SPORT" "$USER" "$MESSAGES" || die "prefill failed"
py wait-http "127.0.0.1:$MPORT" /readyz --timeout 60 || die "not ready after prefill"
python3 "$DRIVE" measure evmail "$IPORT" "$USER" "$PASSWORD" > "$TMP/evmail.json" || die "evmail: measure failed"

# ---------------------------------------------------------------- dovecot
if [ "$DOVECOT" = 1 ]; then
	dovecot_prepare
	dovecot_user "$USER" "$(yescrypt_hash "$PASSWORD")"
	dovecot_config run-search-bench.sh
	python3 "$DRIVE" prefill-maildir "$DC_DIR/mail" "$USER" "$MESSAGES" "$MUID" "$MGID" || die "dovecot: prefill failed"
	dovecot_start
	doveadm -c "$DC_CONF" mailbox status -u "$USER" messages INBOX >/dev/null || die "dovecot: doveadm failed"
	python3 "$DRIVE" measure dovecot "$DPORT" "$USER" "$PASSWORD" > "$TMP/dovecot.json" || die "dovecot: measure failed"
fi

# ---------------------------------------------------------------- table
python3 - "$TMP/evmail.json" "$TMP/dovecot.json" <<'PYT'
import json, os, sys
rows = {}
for path in sys.argv[1:]:
    if os.path.exists(path):
        for line in open(path):
            r = json.loads(line)
            rows.setdefault((r["key"], r["needle"]), {})[r["server"]] = r
print(f"UID SEARCH on {next(iter(next(iter(rows.values())).values()))['messages']} messages (ms)")
print(f"{'query':<28} {'hits':>5} {'evmail scan':>12} {'evmail index':>13} {'dovecot 1st':>12} {'dovecot':>8}")
for (k, n), by in rows.items():
    e, d = by.get("evmail", {}), by.get("dovecot", {})
    f = lambda r, x: f"{r[x]:.1f}" if x in r else "-"
    print(f"{k + ' ' + repr(n):<28} {e.get('hits', '-'):>5} {f(e, 'cold_ms'):>12} {f(e, 'warm_ms'):>13} "
          f"{f(d, 'cold_ms'):>12} {f(d, 'warm_ms'):>8}")
PYT
