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
DC_PID=
stop_dovecot() {
	[ -n "$DC_PID" ] || return 0
	stop_pid "$DC_PID" 300 "dovecot master (pid $DC_PID) still running after 30 s: SIGKILL"
	DC_PID=
}
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
	DC_DIR="$TMP/dovecot"
	mkdir -p "$DC_DIR/run" "$DC_DIR/state" "$DC_DIR/mail"
	chmod 755 "$DC_DIR" "$DC_DIR/mail"
	DPORT=$(free_port)
	MUID=$(id -u nobody)
	MGID=$(id -g nobody)
	HASH=$(perl -e 'print crypt($ARGV[0], q($y$j9T$) . $ARGV[1])' "$PASSWORD" "$(head -c 12 /dev/urandom | base64 | tr '+=/' '.A.' | head -c 16)")
	echo "$USER:{CRYPT}$HASH:$MUID:$MGID::$DC_DIR/mail/$USER::" > "$DC_DIR/users"
	chmod 644 "$DC_DIR/users"
	cat > "$DC_DIR/dovecot.conf" <<EOC
base_dir = $DC_DIR/run
state_dir = $DC_DIR/state
instance_name = searchbench$$
log_path = $DC_DIR/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=CRYPT username_format=%u $DC_DIR/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $DC_DIR/users
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $DPORT
  }
  inet_listener imaps {
    port = 0
  }
}
EOC
	chmod 644 "$DC_DIR/dovecot.conf"
	python3 "$DRIVE" prefill-maildir "$DC_DIR/mail" "$USER" "$MESSAGES" "$MUID" "$MGID" || die "dovecot: prefill failed"
	dovecot -F -c "$DC_DIR/dovecot.conf" </dev/null >>"$DC_DIR/dovecot.stdout" 2>&1 &
	DC_PID=$!
	python3 - "$DPORT" <<'PYW' || die "dovecot: no IMAP listener"
import socket, sys, time
end = time.time() + 30
while time.time() < end:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close(); sys.exit(0)
    except OSError:
        time.sleep(0.2)
sys.exit(1)
PYW
	doveadm -c "$DC_DIR/dovecot.conf" mailbox status -u "$USER" messages INBOX >/dev/null || die "dovecot: doveadm failed"
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
