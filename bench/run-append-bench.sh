#!/bin/bash
# run-append-bench.sh - one IMAP client's APPEND rate: evmail against
# Dovecot, in one run (issue 9 section 3).
#
#   bench/run-append-bench.sh [--keep]
#
# One ordinary client, Python's imaplib (bench/append_bench_drive.py), logs
# in and appends COUNT messages of ~1.7 kB to its INBOX, one after the
# other, in two ways:
#   two   imaplib as it is: after the "+" continuation the literal and its
#         closing CRLF go out in two writes with Nagle on, so the CRLF waits
#         for the server's ACK of the literal (a server that delays that ACK
#         ~40 ms manages ~22 APPEND/s);
#   one   literal and CRLF in one write.
# against evmaild (embedded log, fresh data dir) and a private Dovecot
# (the same setup as run-imap-bench.sh: dovecot -F -c CONF under the temp
# dir, passwd-file with a yescrypt hash, maildir, ssl=no), and prints
# APPEND/s and the ratio evmail/Dovecot for each.
#
# Installs dovecot-imapd from Debian if missing (no service started).
# Environment: COUNT (300), ROUNDS (2: best of), BUILD_DIR (build),
# NO_BUILD=1, APPEND_BENCH_TIMEOUT (600 s), KEEP=1. Everything started here
# is stopped on any exit, by the pid this script got for it.
set -euo pipefail

BENCH_NAME=run-append-bench
. "$(dirname "$0")/lib.sh"

KEEP=${KEEP:-0}
while [ $# -gt 0 ]; do
	case "$1" in
	--keep) KEEP=1; shift ;;
	-h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
	*) echo "run-append-bench.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
	esac
done
export KEEP

bench_bound APPEND_BENCH 600

BUILD_DIR=${BUILD_DIR:-build}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
COUNT=${COUNT:-300}
ROUNDS=${ROUNDS:-2}
USER_ADDR=user1@bench.test
PASSWORD=bench-password-1
DRIVE="$ROOT/bench/append_bench_drive.py"

if ! [ -x /usr/sbin/dovecot ] || ! [ -x /usr/lib/dovecot/imap ]; then
	[ "$(id -u)" = 0 ] || die "dovecot-imapd is not installed and we are not root"
	log "installing dovecot-imapd (no service started)"
	apt_install_no_service dovecot-imapd
fi
export PATH="$PATH:/usr/sbin:/usr/bin"
need_tools cmake ninja python3 perl

if [ "${NO_BUILD:-0}" != 1 ]; then
	log "building evmaild and evmailctl in $BUILD_DIR"
	cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja >/dev/null
	ninja -C "$BUILD_DIR" evmaild evmailctl >&2
fi
EVMAILD="$BUILD_DIR/gateway/evmaild"
EVMAILCTL="$BUILD_DIR/admin/evmailctl"

bench_tmpdir append
RESULTS="$TMP/results"
mkdir -p "$RESULTS"
bench_traps stop_evmaild stop_dovecot


# ---------------------------------------------------------------- evmail
EVM_DIR="$TMP/evmail"
mkdir -p "$EVM_DIR"
MPORT=$(free_port)
IPORT=$(free_port)
EVM_ENV=(env -i PATH="$PATH" HOME="${HOME:-/root}" LC_ALL=C
	EVMAIL_NODE_ID=appendbench EVMAIL_NODE_DATA_DIR="$EVM_DIR/data"
	EVMAIL_NODE_USER= EVMAIL_NODE_ALLOW_ROOT=true
	EVMAIL_MGMT_LISTEN="127.0.0.1:$MPORT" EVMAIL_SMTP_LISTEN= EVMAIL_LMTP_LISTEN=
	EVMAIL_SMTP_HOSTNAME=evmail.bench.local
	EVMAIL_IMAP_LISTEN="127.0.0.1:$IPORT" EVMAIL_IMAPS_LISTEN= EVMAIL_POP3_LISTEN= EVMAIL_POP3S_LISTEN=
	EVMAIL_SUBMISSION_LISTEN= EVMAIL_SUBMISSIONS_LISTEN=
	EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH=1)
log "evmail: starting evmaild (mgmt $MPORT, imap $IPORT), log $EVM_DIR/evmaild.log"
(cd "$EVM_DIR" && exec "${EVM_ENV[@]}" "$EVMAILD" >"$EVM_DIR/evmaild.log" 2>&1 </dev/null) &
EVM_PID=$!
python3 "$ROOT/bench/bench_common.py" wait-http "127.0.0.1:$MPORT" /readyz --timeout 90 >/dev/null 2>&1 ||
	{ tail -n 30 "$EVM_DIR/evmaild.log" >&2; die "evmail: evmaild not ready"; }
"${EVM_ENV[@]}" "$EVMAILCTL" tenant create bench >/dev/null || die "evmail: tenant create failed"
"${EVM_ENV[@]}" "$EVMAILCTL" domain add bench.test --tenant bench >/dev/null || die "evmail: domain add failed"
echo "$PASSWORD" | "${EVM_ENV[@]}" "$EVMAILCTL" account add "$USER_ADDR" --password-stdin >/dev/null ||
	die "evmail: account add failed"
wait_tcp "$IPORT" 30 || die "evmail: no IMAP listener"

# ---------------------------------------------------------------- dovecot
dovecot_prepare
dovecot_user "$USER_ADDR" "$(yescrypt_hash "$PASSWORD")"
mkdir -p "$DC_DIR/mail/$USER_ADDR"
chown "$MUID:$MGID" "$DC_DIR/mail/$USER_ADDR"
dovecot_config run-append-bench.sh
dovecot_start

# ---------------------------------------------------------------- run
# drive LABEL PORT MODE: the best of ROUNDS runs -> $RESULTS/LABEL-MODE
drive() {
	local label=$1 port=$2 mode=$3 best=0 r out
	for r in $(seq 1 "$ROUNDS"); do
		out=$(python3 "$DRIVE" "$port" "$USER_ADDR" "$PASSWORD" "$COUNT" "$mode") ||
			die "$label: the $mode-write client failed"
		out=$(echo "$out" | sed -n 's/^RESULT //p' | python3 -c 'import json,sys; print(json.load(sys.stdin)["appends_per_s"])')
		log "$label, $mode write(s), round $r: $out APPEND/s"
		best=$(python3 -c "print(max($best, $out))")
	done
	echo "$best" > "$RESULTS/$label-$mode"
}
START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
for mode in two one; do
	drive evmail "$IPORT" "$mode"
	drive dovecot "$DPORT" "$mode"
done

python3 - "$RESULTS" <<PY
import os, sys
r = sys.argv[1]
v = lambda k: float(open(os.path.join(r, k)).read())
print("evmail vs Dovecot: one imaplib client appending to its INBOX, one run ($(date -u '+%Y-%m-%d %H:%M UTC'))")
print("  machine: nproc $(nproc), Linux $(uname -r), Dovecot $(dovecot --version 2>/dev/null | cut -d' ' -f1)")
print("  $COUNT APPENDs of ~1.7 kB per run, best of $ROUNDS; load average at start $START_LOAD, now $(cut -d' ' -f1-3 /proc/loadavg)")
print()
print("%-36s %10s %10s %8s" % ("client", "evmail/s", "dovecot/s", "ratio"))
for mode, what in (("two", "literal, then CRLF (imaplib as is)"), ("one", "literal + CRLF in one write")):
    e, d = v("evmail-" + mode), v("dovecot-" + mode)
    print("%-36s %10.1f %10.1f %8.2f" % (what, e, d, e / d if d else 0))
PY
