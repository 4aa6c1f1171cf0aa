#!/bin/bash
# run-smtp-bench.sh - inbound SMTP: evmail against Postfix, in one run.
#
#   bench/run-smtp-bench.sh [-n N] [--kafka] [--keep]
#
# Installs Postfix from Debian if missing (no system service is started),
# builds evmaild + evmailctl, then for each target in turn starts it on
# 127.0.0.1 (free ports, everything under one temp dir), drives it with
# Postfix's smtp-source (20 sessions, 4 KB messages, N messages spread over
# 20 users of bench.test), stops it, and prints one table:
#
#   evmail-embedded  evmaild, embedded log; 250 = fsync'ed in the log and
#                    applied by the projector
#   postfix          a private Postfix instance (own config_directory and
#                    queue) delivering to maildirs with virtual(8); timed
#                    until 250 (queued) and until delivered to the maildirs
#   evmail-kafka     (KAFKA=1 or --kafka) evmaild on a single-node Kafka
#                    broker started here (tests/kafka/broker.sh), 4 partitions
#
# Environment: N (default 2000), KAFKA (0), BUILD_DIR (build), SESSIONS (20),
# USERS (20), SIZE (4096), WARMUP (20 untimed messages first; 0 = none),
# SMTP_SOURCE_EXTRA (more smtp-source options, e.g. "-d" to reuse one
# connection per session; default: one connection per message),
# EMBEDDED_PARTITIONS (log.partitions of the embedded run; default: evmail's
# default, 16), KAFKA_PARTITIONS (4), SMTP_BENCH_TIMEOUT (whole run, default
# 900 s), PHASE_TIMEOUT (one target, default 300 s), KEEP=1 (keep the temp
# dir). Everything started here is
# stopped on any exit (trap), and only that: processes are stopped by the
# pid this script got for them.
set -euo pipefail

BENCH_NAME=run-smtp-bench
. "$(dirname "$0")/lib.sh"     # ROOT, SELF, log, die, ...
DRIVE="$ROOT/bench/smtp_bench_drive.py"

N=${N:-2000}
KAFKA=${KAFKA:-0}
KEEP=${KEEP:-0}
while [ $# -gt 0 ]; do
	case "$1" in
	-n) N=$2; shift 2 ;;
	--kafka) KAFKA=1; shift ;;
	--keep) KEEP=1; shift ;;
	-h|--help) sed -n '2,29p' "$0"; exit 0 ;;
	*) echo "run-smtp-bench.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
	esac
done
export N KAFKA KEEP

bench_bound SMTP_BENCH 900

BUILD_DIR=${BUILD_DIR:-build}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
SESSIONS=${SESSIONS:-20}
USERS=${USERS:-20}
SIZE=${SIZE:-4096}
WARMUP=${WARMUP:-20}
PHASE_TIMEOUT=${PHASE_TIMEOUT:-300}
SMTP_SOURCE_EXTRA=${SMTP_SOURCE_EXTRA:-}
EMBEDDED_PARTITIONS=${EMBEDDED_PARTITIONS:-}
KAFKA_PARTITIONS=${KAFKA_PARTITIONS:-4}
DOMAIN=bench.test
PASSWORD=bench-password-1

install_postfix smtp-source
export PATH="$PATH:/usr/sbin"
need_tools cmake ninja python3

# ---------------------------------------------------------------- build
log "building evmaild and evmailctl in $BUILD_DIR"
cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja >/dev/null
ninja -C "$BUILD_DIR" evmaild evmailctl >&2
EVMAILD="$BUILD_DIR/gateway/evmaild"
EVMAILCTL="$BUILD_DIR/admin/evmailctl"

# ---------------------------------------------------------------- cleanup
bench_tmpdir smtp
RESULTS="$TMP/results.jsonl"

bench_traps stop_evmaild stop_postfix stop_broker

drive() { # NAME PORT (--mgmt HOST:PORT | --maildirs DIR --queue DIR)
	local name=$1 port=$2
	shift 2
	python3 "$DRIVE" run --name "$name" --port "$port" --n "$N" --out "$RESULTS" \
		--logdir "$TMP" --sessions "$SESSIONS" --users "$USERS" --size "$SIZE" \
		--domain "$DOMAIN" --warmup "$WARMUP" --extra "$SMTP_SOURCE_EXTRA" \
		--timeout "$PHASE_TIMEOUT" "$@"
}

# ---------------------------------------------------------------- evmail
# evmail_phase NAME [ENV=VALUE...]: a fresh data dir, the node, tenant,
# domain and USERS accounts, then the drive.
evmail_phase() {
	local name=$1
	shift
	local dir="$TMP/$name" mport sport rc=0
	mkdir -p "$dir"
	mport=$(free_port)
	sport=$(free_port)
	EVM_ENV=(env -i PATH="$PATH" HOME="${HOME:-/root}" LC_ALL=C
		EVMAIL_NODE_ID="smtpbench-$name" EVMAIL_NODE_DATA_DIR="$dir/data"
		EVMAIL_NODE_USER= EVMAIL_NODE_ALLOW_ROOT=true
		EVMAIL_MGMT_LISTEN="127.0.0.1:$mport" EVMAIL_SMTP_LISTEN="127.0.0.1:$sport"
		EVMAIL_SMTP_HOSTNAME=evmail.bench.local EVMAIL_LMTP_LISTEN=
		EVMAIL_IMAP_LISTEN= EVMAIL_IMAPS_LISTEN= EVMAIL_POP3_LISTEN= EVMAIL_POP3S_LISTEN= EVMAIL_SUBMISSION_LISTEN= EVMAIL_SUBMISSIONS_LISTEN= "$@")
	if [ -n "${KAFKA_BROKERS:-}" ]; then
		log "$name: creating topics"
		"${EVM_ENV[@]}" "$EVMAILCTL" topics create >&2 || die "$name: evmailctl topics create failed"
	fi
	log "$name: starting evmaild (mgmt 127.0.0.1:$mport, smtp 127.0.0.1:$sport), log $dir/evmaild.log"
	(cd "$dir" && exec "${EVM_ENV[@]}" "$EVMAILD" >"$dir/evmaild.log" 2>&1 </dev/null) &
	EVM_PID=$!
	python3 "$DRIVE" wait-http "127.0.0.1:$mport" /readyz --timeout 90 ||
		{ tail -n 30 "$dir/evmaild.log" >&2; die "$name: evmaild not ready"; }
	"${EVM_ENV[@]}" "$EVMAILCTL" tenant create bench >/dev/null || die "$name: tenant create failed"
	"${EVM_ENV[@]}" "$EVMAILCTL" domain add "$DOMAIN" --tenant bench >/dev/null || die "$name: domain add failed"
	for k in $(seq 1 "$USERS"); do
		echo "$PASSWORD" | "${EVM_ENV[@]}" "$EVMAILCTL" account add "user$k@$DOMAIN" --password-stdin >/dev/null ||
			die "$name: account add user$k@$DOMAIN failed"
	done
	python3 "$DRIVE" wait-http "127.0.0.1:$mport" /readyz --timeout 60 || die "$name: not ready after setup"
	python3 "$DRIVE" wait-smtp "$sport" --timeout 30 || die "$name: no SMTP listener"
	log "$name: driving $N messages"
	drive "$name" "$sport" --mgmt "127.0.0.1:$mport" || rc=1
	# the count once more, the way an operator reads it
	local sum=0 m
	for k in $(seq 1 "$USERS"); do
		m=$("${EVM_ENV[@]}" "$EVMAILCTL" account show "user$k@$DOMAIN" --json |
			python3 -c 'import json,sys; print(json.load(sys.stdin)["messages"])')
		sum=$((sum + m))
	done
	log "$name: evmailctl account show --json: $sum messages in $USERS accounts (N=$N + warm-up $WARMUP)"
	if grep -qiE ' (error|warn|warning|crit|fatal):' "$dir/evmaild.log"; then
		log "$name: warnings/errors in evmaild.log:"
		grep -iE ' (error|warn|warning|crit|fatal):' "$dir/evmaild.log" | sort | uniq -c | sort -rn | head -n 10 >&2
	fi
	stop_evmaild
	return $rc
}

# ---------------------------------------------------------------- postfix
postfix_phase() {
	local dir="$TMP/postfix" port rc=0
	PF_DIR=$dir
	mkdir -p "$dir/etc" "$dir/queue" "$dir/data" "$dir/maildirs"
	chown postfix "$dir/data"
	chown nobody:nogroup "$dir/maildirs"
	port=$(free_port)
	{
		postfix_main_cf "$dir"
		cat <<EOF
relayhost =
virtual_mailbox_domains = $DOMAIN
virtual_mailbox_base = $dir/maildirs
virtual_mailbox_maps = texthash:$dir/etc/vmailbox
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(id -g nobody)
EOF
	} > "$dir/etc/main.cf"
	for k in $(seq 1 "$USERS"); do echo "user$k@$DOMAIN user$k/"; done > "$dir/etc/vmailbox"
	{
		echo "127.0.0.1:$port inet n - n - - smtpd"
		postfix_master_cf
		echo "virtual   unix  -       n       n       -       -       virtual"
	} > "$dir/etc/master.cf"
	log "postfix: starting a private instance (postfix -c $dir/etc, smtpd 127.0.0.1:$port)"
	postfix_start_instance "$dir"
	python3 "$DRIVE" wait-smtp "$port" --timeout 30 ||
		{ tail -n 20 "$dir/maillog" >&2; die "postfix: no SMTP listener"; }
	log "postfix: driving $N messages"
	drive postfix "$port" --maildirs "$dir/maildirs" --queue "$dir/queue" || rc=1
	postfix_problems "$dir/maillog"
	stop_postfix
	return $rc
}

# ---------------------------------------------------------------- run
STATUS=0
START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
log "N=$N sessions=$SESSIONS users=$USERS size=$SIZE warm-up=$WARMUP kafka=$KAFKA tmp=$TMP"

if [ -n "$EMBEDDED_PARTITIONS" ]; then
	evmail_phase evmail-embedded EVMAIL_LOG_PARTITIONS="$EMBEDDED_PARTITIONS" || STATUS=1
else
	evmail_phase evmail-embedded || STATUS=1
fi
EMB_PARTS=$(env -i PATH="$PATH" "$EVMAILD" --check-config 2>/dev/null | sed -n 's/^log\.partitions = //p' | head -n 1)
EMB_PARTS=${EMBEDDED_PARTITIONS:-$EMB_PARTS}
postfix_phase || STATUS=1

if [ "$KAFKA" = 1 ]; then
	KPORT=$(free_port --pair)
	BROKER_DIR="$TMP/broker"
	log "evmail-kafka: starting a Kafka broker on 127.0.0.1:$KPORT"
	"$ROOT/tests/kafka/broker.sh" start "$BROKER_DIR" "$KPORT" >&2 || die "Kafka broker did not start"
	KAFKA_BROKERS="127.0.0.1:$KPORT"
	evmail_phase evmail-kafka EVMAIL_LOG_BROKERS="$KAFKA_BROKERS" EVMAIL_LOG_PARTITIONS="$KAFKA_PARTITIONS" \
		EVMAIL_LOG_TOPIC_PREFIX="smtpbench$$." || STATUS=1
	KAFKA_BROKERS=
	stop_broker
fi

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
python3 "$DRIVE" table "$RESULTS" \
	--title "evmail vs Postfix: inbound SMTP, one run ($(date -u '+%Y-%m-%d %H:%M UTC'))" \
	--title "  machine: nproc $(nproc), $CPU, Linux $(uname -r), Postfix $(postconf -d -h mail_version 2>/dev/null), evmail $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')" \
	--title "  N = $N messages of $SIZE bytes (smtp-source -l), $SESSIONS sessions, $USERS recipients, $WARMUP untimed warm-up messages first${SMTP_SOURCE_EXTRA:+, smtp-source $SMTP_SOURCE_EXTRA}" \
	--title "  evmail: embedded log with log.partitions = $EMB_PARTS$([ "$KAFKA" = 1 ] && echo "; kafka: one local broker (KRaft), $KAFKA_PARTITIONS partitions, acks=all, the broker does not fsync (Kafka's default)")" \
	--title "  load average at start $START_LOAD, now $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared: other work skews every row)" ||
	STATUS=1
exit $STATUS
