#!/bin/bash
# run-send-bench.sh - outbound: evmail against Postfix, in one run.
#
#   bench/run-send-bench.sh [-n N] [--backlog B] [--dkim] [--keep]
#
# Installs Postfix from Debian if missing (no system service is started),
# builds evmaild + evmailctl, starts one smtp-sink (Postfix's, -c: it counts
# every message whose DATA ended) on 127.0.0.1 that both senders relay to,
# then, everything under one temp dir and on free ports:
#
#   evmail            one evmaild, embedded log, roles projector,gateway,
#                     delivery, submission on 127.0.0.1 (AUTH without TLS:
#                     submission.allow_plaintext_auth, for the bench only),
#                     delivery.relay = the sink (relay_tls none),
#                     concurrency_per_domain 20, DKIM off, no hourly limit
#   evmail-dkim       (DKIM=1 or --dkim) the same with dkim.sign = 1 and one
#                     RSA-2048 key of bench.test (evmailctl dkim create)
#   postfix           a private Postfix (postfix -c DIR: own config_directory
#                     and queue), relayhost = [127.0.0.1]:sink,
#                     default_destination_concurrency_limit 20, no local
#                     delivery, no TLS; mynetworks lets 127.0.0.1 relay
#
# The driver (send_bench_drive.py) opens SESSIONS SMTP connections, each
# EHLO + AUTH PLAIN once (evmail; no AUTH for Postfix), sends WARMUP untimed
# messages, then its share of N messages of SIZE bytes to userK@sink.test
# (one recipient each) over that connection. Timed from the first MAIL until
# every message had its 250 (accept) and until the sink counted N (end to
# end).
#
# Drain of a BACKLOG: evmail without the delivery role takes BACKLOG
# messages, is stopped and started again with the delivery role; clock from
# that exec until the sink counted BACKLOG (and the queue is empty,
# `evmailctl queue list --json` checked after). Postfix takes them on a
# second smtpd whose client restriction is HOLD (the hold queue); clock
# from `postsuper -H ALL; postqueue -f` until the sink counted BACKLOG.
#
# Environment: N (2000), BACKLOG (10000; 0 = no drain), SESSIONS (10),
# SIZE (4096), WARMUP (20), DKIM (0), BUILD_DIR (build), PHASE_TIMEOUT (one
# phase, 600 s), SEND_BENCH_TIMEOUT (whole run, 1200 s), KEEP=1 (keep the
# temp dir). Everything started here is stopped on any exit (trap), and only
# that: processes are stopped by the pid this script got for them.
set -euo pipefail

BENCH_NAME=run-send-bench
. "$(dirname "$0")/lib.sh"     # ROOT, SELF, log, die, ...
DRIVE="$ROOT/bench/send_bench_drive.py"

N=${N:-2000}
BACKLOG=${BACKLOG:-10000}
DKIM=${DKIM:-0}
KEEP=${KEEP:-0}
while [ $# -gt 0 ]; do
	case "$1" in
	-n) N=$2; shift 2 ;;
	--backlog) BACKLOG=$2; shift 2 ;;
	--dkim) DKIM=1; shift ;;
	--keep) KEEP=1; shift ;;
	-h|--help) sed -n '2,41p' "$0"; exit 0 ;;
	*) echo "run-send-bench.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
	esac
done
export N BACKLOG DKIM KEEP

bench_bound SEND_BENCH 1200

BUILD_DIR=${BUILD_DIR:-build}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
SESSIONS=${SESSIONS:-10}
SIZE=${SIZE:-4096}
WARMUP=${WARMUP:-20}
PHASE_TIMEOUT=${PHASE_TIMEOUT:-600}
DOMAIN=bench.test
SENDER=sender@$DOMAIN
PASSWORD=bench-password-1
CONCURRENCY=20

install_postfix smtp-sink
export PATH="$PATH:/usr/sbin"
need_tools cmake ninja python3
[ "$(id -u)" = 0 ] || die "run as root: the private Postfix instance needs it"

# ---------------------------------------------------------------- build
log "building evmaild and evmailctl in $BUILD_DIR"
[ -f "$BUILD_DIR/build.ninja" ] || cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja >/dev/null
ninja -C "$BUILD_DIR" -j2 evmaild evmailctl >&2
EVMAILD="$BUILD_DIR/gateway/evmaild"
EVMAILCTL="$BUILD_DIR/admin/evmailctl"

# ---------------------------------------------------------------- cleanup
bench_tmpdir send
RESULTS="$TMP/results.jsonl"
SINK_LOG="$TMP/sink.out"
SINK_PID=

stop_sink() {
	[ -n "$SINK_PID" ] || return 0
	kill -TERM "$SINK_PID" 2>/dev/null || true
	wait "$SINK_PID" 2>/dev/null || true
	SINK_PID=
}

bench_traps stop_evmaild stop_postfix stop_sink

sink_count() { python3 "$DRIVE" sink-count "$SINK_LOG"; }

# ---------------------------------------------------------------- the sink
SINK_PORT=$(free_port)
log "starting smtp-sink -c on 127.0.0.1:$SINK_PORT (counts in $SINK_LOG)"
/usr/sbin/smtp-sink -c -u postfix -h sink.bench.local "127.0.0.1:$SINK_PORT" 1024 >"$SINK_LOG" 2>"$TMP/sink.err" </dev/null &
SINK_PID=$!
python3 "$DRIVE" wait-smtp "$SINK_PORT" --timeout 30 || { cat "$TMP/sink.err" >&2; die "smtp-sink did not start"; }

# ---------------------------------------------------------------- evmail
# evm_start NAME DIR ROLES [ENV=VALUE...]: starts evmaild in the
# background (EVM_PID), ports in MPORT and SUBPORT (kept across restarts
# of the same DIR).
evm_start() {
	local name=$1 dir=$2 roles=$3
	shift 3
	EVM_ENV=(env -i PATH="$PATH" HOME="${HOME:-/root}" LC_ALL=C
		EVMAIL_NODE_ID="sendbench-$name" EVMAIL_NODE_DATA_DIR="$dir/data" EVMAIL_NODE_ROLES="$roles"
		EVMAIL_NODE_USER= EVMAIL_NODE_ALLOW_ROOT=true
		EVMAIL_MGMT_LISTEN="127.0.0.1:$MPORT" EVMAIL_SMTP_LISTEN="127.0.0.1:$SPORT"
		EVMAIL_SMTP_HOSTNAME=evmail.bench.local EVMAIL_LMTP_LISTEN=
		EVMAIL_SUBMISSION_LISTEN="127.0.0.1:$SUBPORT" EVMAIL_SUBMISSIONS_LISTEN=
		EVMAIL_SUBMISSION_ALLOW_PLAINTEXT_AUTH=1 EVMAIL_IMAP_LISTEN= EVMAIL_IMAPS_LISTEN= EVMAIL_POP3_LISTEN= EVMAIL_POP3S_LISTEN=
		EVMAIL_LIMITS_SUBMISSION_PER_HOUR=0
		EVMAIL_DELIVERY_RELAY="127.0.0.1:$SINK_PORT" EVMAIL_DELIVERY_RELAY_TLS=none
		EVMAIL_DELIVERY_CONCURRENCY_PER_DOMAIN=$CONCURRENCY EVMAIL_DELIVERY_HELO_NAME=evmail.bench.local
		EVMAIL_DKIM_SIGN=0 "$@")
	log "$name: starting evmaild, roles $roles (mgmt 127.0.0.1:$MPORT, submission 127.0.0.1:$SUBPORT), log $dir/evmaild.log"
	(cd "$dir" && exec "${EVM_ENV[@]}" "$EVMAILD" >>"$dir/evmaild.log" 2>&1 </dev/null) &
	EVM_PID=$!
}

evm_ready() { # NAME DIR
	python3 "$DRIVE" wait-http "127.0.0.1:$MPORT" /readyz --timeout 120 ||
		{ tail -n 30 "$2/evmaild.log" >&2; die "$1: evmaild not ready"; }
	python3 "$DRIVE" wait-smtp "$SUBPORT" --timeout 30 ||
		{ tail -n 30 "$2/evmaild.log" >&2; die "$1: no submission listener"; }
}

evm_setup() { # NAME
	"${EVM_ENV[@]}" "$EVMAILCTL" tenant create bench >/dev/null || die "$1: tenant create failed"
	"${EVM_ENV[@]}" "$EVMAILCTL" domain add "$DOMAIN" --tenant bench >/dev/null || die "$1: domain add failed"
	printf '%s\n' "$PASSWORD" | "${EVM_ENV[@]}" "$EVMAILCTL" account add "$SENDER" --password-stdin >/dev/null ||
		die "$1: account add $SENDER failed"
}

evm_queue_len() {
	"${EVM_ENV[@]}" "$EVMAILCTL" queue list --limit 0 --json |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}

evm_problems() { # NAME DIR
	if grep -qiE ' (error|warn|warning|crit|fatal):' "$2/evmaild.log"; then
		log "$1: warnings/errors in evmaild.log:"
		grep -iE ' (error|warn|warning|crit|fatal):' "$2/evmaild.log" | sed -E 's/^[^ ]+ //' |
			sort | uniq -c | sort -rn | head -n 10 >&2
	fi
}

evm_fail() { # NAME DIR: what a failed phase leaves for the report
	log "$1: evmaild.log tail:"
	tail -n 40 "$2/evmaild.log" >&2
	log "$1: evmailctl queue list (first lines):"
	"${EVM_ENV[@]}" "$EVMAILCTL" queue list 2>&1 | head -n 12 >&2 || true
}

drive() { # NAME PORT [driver options...]
	local name=$1 port=$2
	shift 2
	python3 "$DRIVE" run --name "$name" --port "$port" --out "$RESULTS" --sink-log "$SINK_LOG" \
		--sessions "$SESSIONS" --size "$SIZE" --from "$SENDER" --warmup "$WARMUP" \
		--timeout "$PHASE_TIMEOUT" "$@"
}

# evmail_phase NAME [ENV=VALUE...]: throughput, a fresh data dir.
evmail_phase() {
	local name=$1
	shift
	local dir="$TMP/$name" rc=0
	mkdir -p "$dir"
	MPORT=$(free_port); SPORT=$(free_port); SUBPORT=$(free_port)
	evm_start "$name" "$dir" projector,gateway,delivery "$@"
	evm_ready "$name" "$dir"
	evm_setup "$name"
	if [ "$name" = evmail-dkim ]; then
		"${EVM_ENV[@]}" "$EVMAILCTL" dkim create "$DOMAIN" --algorithm rsa2048 --selector bench >/dev/null ||
			die "$name: dkim create failed"
	fi
	python3 "$DRIVE" wait-http "127.0.0.1:$MPORT" /readyz --timeout 60 || die "$name: not ready after setup"
	log "$name: driving $N messages ($SESSIONS sessions, $SIZE bytes, $WARMUP warm-up first)"
	drive "$name" "$SUBPORT" --n "$N" --auth "$SENDER:$PASSWORD" --mgmt "127.0.0.1:$MPORT" || { rc=1; evm_fail "$name" "$dir"; }
	log "$name: evmailctl queue list --json: $(evm_queue_len) items left"
	evm_problems "$name" "$dir"
	stop_evmaild
	return $rc
}

# evmail_drain: BACKLOG messages into a node without the delivery role,
# stop it, start it with the delivery role, time the drain.
evmail_drain() {
	local name=evmail-drain dir="$TMP/evmail-drain" rc=0 base t0 left
	mkdir -p "$dir"
	MPORT=$(free_port); SPORT=$(free_port); SUBPORT=$(free_port)
	evm_start evmail-backlog "$dir" projector,gateway
	evm_ready evmail-backlog "$dir"
	evm_setup evmail-backlog
	python3 "$DRIVE" wait-http "127.0.0.1:$MPORT" /readyz --timeout 60 || die "evmail-backlog: not ready after setup"
	log "evmail-backlog: submitting $BACKLOG messages (no delivery role)"
	drive evmail-backlog "$SUBPORT" --n "$BACKLOG" --auth "$SENDER:$PASSWORD" --mgmt "127.0.0.1:$MPORT" --submit-only ||
		{ evm_fail evmail-backlog "$dir"; return 1; }
	left=$(evm_queue_len)
	log "evmail-backlog: evmailctl queue list --json: $left items; the sink counted $(sink_count)"
	[ "$left" -ge "$BACKLOG" ] || log "evmail-backlog: WARNING: only $left of $BACKLOG in the queue"
	stop_evmaild
	echo "---- restart with the delivery role ----" >>"$dir/evmaild.log"
	base=$(sink_count)
	t0=$(date +%s.%N)
	evm_start "$name" "$dir" projector,gateway,delivery
	python3 "$DRIVE" drain --name "$name" --n "$BACKLOG" --out "$RESULTS" --sink-log "$SINK_LOG" \
		--baseline "$base" --t0 "$t0" --timeout "$PHASE_TIMEOUT" --mgmt "127.0.0.1:$MPORT" ||
		{ rc=1; evm_fail "$name" "$dir"; }
	left=$(evm_queue_len)
	log "$name: evmailctl queue list --json: $left items left"
	[ "$left" = 0 ] || rc=1
	evm_problems "$name" "$dir"
	stop_evmaild
	return $rc
}

# ---------------------------------------------------------------- postfix
postfix_start() {
	local dir="$TMP/postfix"
	mkdir -p "$dir/etc" "$dir/queue" "$dir/data"
	chown postfix "$dir/data"
	PF_QUEUE="$dir/queue"
	PF_LOG="$dir/maillog"
	PF_PORT=$(free_port)
	PF_HOLD_PORT=$(free_port)
	{
		postfix_main_cf "$dir"
		cat <<EOF
# no local delivery: everything goes to the relay host (the sink)
local_transport = error:no local delivery in this bench
relayhost = [127.0.0.1]:$SINK_PORT
default_destination_concurrency_limit = $CONCURRENCY
smtp_destination_concurrency_limit = $CONCURRENCY
smtp_tls_security_level = none
smtp_sasl_auth_enable = no
smtp_helo_name = postfix.bench.local
EOF
	} > "$dir/etc/main.cf"
	{
		cat <<EOF
127.0.0.1:$PF_PORT inet n - n - - smtpd
127.0.0.1:$PF_HOLD_PORT inet n - n - - smtpd -o smtpd_client_restrictions=check_client_access,static:HOLD
EOF
		postfix_master_cf
		echo "relay     unix  -       -       n       -       -       smtp"
	} > "$dir/etc/master.cf"
	log "postfix: starting a private instance (postfix -c $dir/etc, smtpd 127.0.0.1:$PF_PORT, hold smtpd 127.0.0.1:$PF_HOLD_PORT)"
	postfix_start_instance "$dir"
	python3 "$DRIVE" wait-smtp "$PF_PORT" --timeout 30 ||
		{ tail -n 20 "$PF_LOG" >&2; die "postfix: no SMTP listener"; }
}

postfix_phases() {
	local rc=0 base t0
	postfix_start
	log "postfix: driving $N messages ($SESSIONS sessions, $SIZE bytes, $WARMUP warm-up first)"
	drive postfix "$PF_PORT" --n "$N" --queue "$PF_QUEUE" || { rc=1; tail -n 20 "$PF_LOG" >&2; }
	if [ "$BACKLOG" -gt 0 ]; then
		log "postfix-backlog: submitting $BACKLOG messages into the hold queue"
		if drive postfix-backlog "$PF_HOLD_PORT" --n "$BACKLOG" --queue "$PF_QUEUE" --submit-only --hold; then
			base=$(sink_count)
			t0=$(date +%s.%N)
			postsuper -c "$PF_ETC" -H ALL 2>>"$TMP/postsuper.err" || log "postsuper -H ALL failed"
			postqueue -c "$PF_ETC" -f || log "postqueue -f failed"
			python3 "$DRIVE" drain --name postfix-drain --n "$BACKLOG" --out "$RESULTS" --sink-log "$SINK_LOG" \
				--baseline "$base" --t0 "$t0" --timeout "$PHASE_TIMEOUT" --queue "$PF_QUEUE" ||
				{ rc=1; tail -n 20 "$PF_LOG" >&2; }
		else
			rc=1
			tail -n 20 "$PF_LOG" >&2
		fi
	fi
	postfix_problems "$PF_LOG"
	stop_postfix
	return $rc
}

# ---------------------------------------------------------------- run
STATUS=0
START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
log "N=$N backlog=$BACKLOG sessions=$SESSIONS size=$SIZE warm-up=$WARMUP dkim=$DKIM tmp=$TMP load $START_LOAD"

evmail_phase evmail || STATUS=1
[ "$DKIM" = 1 ] && { evmail_phase evmail-dkim EVMAIL_DKIM_SIGN=1 || STATUS=1; }
[ "$BACKLOG" -gt 0 ] && { evmail_drain || STATUS=1; }
postfix_phases || STATUS=1

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
python3 "$DRIVE" table "$RESULTS" \
	--title "evmail vs Postfix: outbound, submission -> queue -> smtp-sink, one run ($(date -u '+%Y-%m-%d %H:%M UTC'))" \
	--title "  machine: nproc $(nproc), $CPU, Linux $(uname -r), Postfix $(postconf -d -h mail_version 2>/dev/null), evmail $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- . ':!bench' 2>/dev/null || echo ' + uncommitted changes')" \
	--title "  N = $N messages of $SIZE bytes, $SESSIONS sessions (one connection each, AUTH PLAIN once for evmail), one recipient each, $WARMUP untimed warm-up; backlog $BACKLOG" \
	--title "  both relay to one smtp-sink on 127.0.0.1, $CONCURRENCY connections at most (evmail delivery.concurrency_per_domain, Postfix default_destination_concurrency_limit)" \
	--title "  load average at start $START_LOAD, now $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared: other work skews every row)" ||
	STATUS=1
exit $STATUS
