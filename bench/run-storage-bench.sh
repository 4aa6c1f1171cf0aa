#!/bin/bash
# run-storage-bench.sh - disk before and after deletion: evmail against
# Dovecot, in one run (issue 13).
#
#   bench/run-storage-bench.sh [--keep] [--no-mdbox]
#
# Builds evmaild and evmailctl, starts evmaild (embedded log, fresh data
# dir, blob.gc_interval_s = 1, blob.gc_grace_s = 1, mail.tombstone_days =
# 0.0001, log.segment_bytes = 256 KiB) and a private Dovecot (maildir
# users, and with the same messages mdbox users mdb-userK), then:
#
#   1. delivers N messages of SIZE bytes over USERS users: to evmail over
#      SMTP (one connection per user); written into the Dovecot users'
#      Maildir/new (then indexed by doveadm); APPENDed over IMAP to the
#      mdbox users;
#   2. expunges all but one in KEEP_EVERY (90 %) on every server: UID STORE
#      +FLAGS.SILENT (\Deleted), EXPUNGE;
#   3. waits for evmail's body GC (evmail_blob_gc_blobs_deleted_total
#      reaches the number expunged) and takes a view checkpoint (flushes
#      the RocksDB memtable, drops the old WAL) and waits until the view's
#      size is stable (STABLE s: the compaction that follows); Dovecot mdbox: doveadm
#      purge (what frees its expunged mail);
#   4. if evmaild has log.embedded_compact_interval_s (compaction of the
#      embedded log): waits until the log's size is stable; else "n/a";
#   5. times UID FETCH BODY.PEEK[] of FETCHES random live messages (one
#      client) on each server;
#   6. evmailctl account remove of every user, GC and checkpoint again
#      (and log compaction); Dovecot: rm -r of the users' directories;
#
# and prints one table of per-node disk (allocated bytes, du) after each
# step with the ratios evmail / Dovecot.
#
# With LOGMODE=1 (the default) a second evmaild with blob.store = log
# (bodies read from the log through a cache of CACHE_SIZE bytes, issue 13
# item 5) gets the same messages and steps beside the first (blob.store =
# view); its rows are "evmail log-mode" (view, cache, log). Its FETCH is
# timed twice over the same FETCHES distinct messages: first after a
# restart with its cache removed (every read a miss: from the log), then
# again (every read a hit).
#
# Environment: N (10000), USERS (10), SIZE (4096), KEEP_EVERY (10),
# FETCHES (200), SEED (13), GC_TIMEOUT (600 s per GC wait), STABLE (6 s
# of no change in the log's size), MDBOX (1; 0 = maildir only), LOGMODE
# (1; 0 = no log-mode node), CACHE_SIZE (268435456: its blob.cache_size),
# EVMAIL_SETTINGS ("EVMAIL_KEY=VALUE ..."), BUILD_DIR (build), NO_BUILD=1,
# STORAGE_BENCH_TIMEOUT (whole run, 3600 s), KEEP=1 (keep the temp dir).
# Everything started here is stopped on any exit (trap), by its pid.
set -euo pipefail

BENCH_NAME=run-storage-bench
. "$(dirname "$0")/lib.sh"     # ROOT, SELF, log, die, bench_tmpdir, dovecot_* ...

KEEP=${KEEP:-0}
while [ $# -gt 0 ]; do
	case "$1" in
	--keep) KEEP=1; shift ;;
	--no-mdbox) MDBOX=0; shift ;;
	-h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
	*) echo "run-storage-bench.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
	esac
done
export KEEP
[ -n "${MDBOX:-}" ] && export MDBOX

bench_bound STORAGE_BENCH 3600

BUILD_DIR=${BUILD_DIR:-build}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
N=${N:-10000}
USERS=${USERS:-10}
SIZE=${SIZE:-4096}
KEEP_EVERY=${KEEP_EVERY:-10}
FETCHES=${FETCHES:-200}
SEED=${SEED:-13}
GC_TIMEOUT=${GC_TIMEOUT:-600}
STABLE=${STABLE:-6}
MDBOX=${MDBOX:-1}
LOGMODE=${LOGMODE:-1}
CACHE_SIZE=${CACHE_SIZE:-268435456}
DOMAIN=bench.test
PASSWORD=bench-password-1
DRIVE="$ROOT/bench/storage_bench_drive.py"
export PATH="$PATH:/usr/sbin:/usr/bin"
[ -x /usr/sbin/dovecot ] || die "dovecot is not installed (run-imap-bench.sh installs dovecot-imapd)"
need_tools cmake ninja python3 perl doveadm

if [ "${NO_BUILD:-0}" != 1 ]; then
	log "building evmaild and evmailctl in $BUILD_DIR"
	cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja >/dev/null
	ninja -C "$BUILD_DIR" evmaild evmailctl >&2
fi
EVMAILD="$BUILD_DIR/gateway/evmaild"
EVMAILCTL="$BUILD_DIR/admin/evmailctl"

bench_tmpdir storage
RESULTS="$TMP/results"
mkdir -p "$RESULTS"
EVL_PID=
EVL_GC_BASE=0
stop_evmaild_log() {
	[ -n "$EVL_PID" ] || return 0
	stop_pid "$EVL_PID" 200 "evmaild log-mode (pid $EVL_PID) ignored SIGTERM for 20 s: SIGKILL"
	EVL_PID=
}
bench_traps stop_evmaild stop_evmaild_log stop_dovecot
drive() { python3 "$DRIVE" "$@"; }

# ---------------------------------------------------------------- evmail
EVM_DIR="$TMP/evmail"
mkdir -p "$EVM_DIR"
MPORT=$(free_port)
IPORT=$(free_port)
SPORT=$(free_port)
MGMT="127.0.0.1:$MPORT"
EVM_ENV=(env -i PATH="$PATH" HOME="${HOME:-/root}" LC_ALL=C
	EVMAIL_NODE_ID=storagebench EVMAIL_NODE_DATA_DIR="$EVM_DIR/data"
	EVMAIL_NODE_USER= EVMAIL_NODE_ALLOW_ROOT=true
	EVMAIL_MGMT_LISTEN="$MGMT" EVMAIL_SMTP_LISTEN="127.0.0.1:$SPORT"
	EVMAIL_SMTP_HOSTNAME=evmail.bench.local EVMAIL_LMTP_LISTEN=
	EVMAIL_IMAP_LISTEN="127.0.0.1:$IPORT" EVMAIL_IMAPS_LISTEN= EVMAIL_POP3_LISTEN= EVMAIL_POP3S_LISTEN=
	EVMAIL_SUBMISSION_LISTEN= EVMAIL_SUBMISSIONS_LISTEN= EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH=1
	EVMAIL_BLOB_GC_INTERVAL_S=1 EVMAIL_BLOB_GC_GRACE_S=1 EVMAIL_MAIL_TOMBSTONE_DAYS=0.0001
	EVMAIL_LOG_SEGMENT_BYTES=262144)
# Compaction of the embedded log, when this evmaild has it: a pass every
# 2 s, tombstones dropped 1 s after they were written.
LOG_COMPACT=0
KEYS=$("${EVM_ENV[@]}" "$EVMAILD" --check-config 2>&1) || { echo "$KEYS" | tail -n 5 >&2; die "evmaild --check-config failed"; }
if grep -q '^log\.embedded_compact_interval_s =' <<< "$KEYS"; then
	LOG_COMPACT=1
	EVM_ENV+=(EVMAIL_LOG_EMBEDDED_COMPACT_INTERVAL_S=2 EVMAIL_LOG_EMBEDDED_TOMBSTONE_RETENTION_MS=1000)
fi
read -r -a extra <<< "${EVMAIL_SETTINGS:-}"
[ ${#extra[@]} -gt 0 ] && EVM_ENV+=("${extra[@]}")
log "evmail: starting evmaild (mgmt $MPORT, imap $IPORT, smtp $SPORT; log compaction: $([ $LOG_COMPACT = 1 ] && echo yes || echo n/a))"
(cd "$EVM_DIR" && exec "${EVM_ENV[@]}" "$EVMAILD" >"$EVM_DIR/evmaild.log" 2>&1 </dev/null) &
EVM_PID=$!
drive wait-http "$MGMT" /readyz --timeout 90 || { tail -n 30 "$EVM_DIR/evmaild.log" >&2; die "evmail: evmaild not ready"; }
"${EVM_ENV[@]}" "$EVMAILCTL" tenant create bench >/dev/null || die "evmail: tenant create failed"
"${EVM_ENV[@]}" "$EVMAILCTL" domain add "$DOMAIN" --tenant bench >/dev/null || die "evmail: domain add failed"
for k in $(seq 1 "$USERS"); do
	echo "$PASSWORD" | "${EVM_ENV[@]}" "$EVMAILCTL" account add "user$k@$DOMAIN" --password-stdin >/dev/null ||
		die "evmail: account add user$k@$DOMAIN failed"
done
drive wait-smtp "$SPORT" --timeout 30 || die "evmail: no SMTP listener"

# ---------------------------------------------------------------- evmail, blob.store = log
EVL_DIR="$TMP/evmail-log"
if [ "$LOGMODE" = 1 ]; then
	mkdir -p "$EVL_DIR"
	LMPORT=$(free_port)
	LIPORT=$(free_port)
	LSPORT=$(free_port)
	LMGMT="127.0.0.1:$LMPORT"
	EVL_ENV=("${EVM_ENV[@]}" EVMAIL_NODE_ID=storagebench-log EVMAIL_NODE_DATA_DIR="$EVL_DIR/data"
		EVMAIL_MGMT_LISTEN="$LMGMT" EVMAIL_SMTP_LISTEN="127.0.0.1:$LSPORT"
		EVMAIL_IMAP_LISTEN="127.0.0.1:$LIPORT" EVMAIL_BLOB_STORE=log EVMAIL_BLOB_CACHE_SIZE="$CACHE_SIZE")
	start_evl() {
		(cd "$EVL_DIR" && exec "${EVL_ENV[@]}" "$EVMAILD" >>"$EVL_DIR/evmaild.log" 2>&1 </dev/null) &
		EVL_PID=$!
		drive wait-http "$LMGMT" /readyz --timeout 300 || { tail -n 30 "$EVL_DIR/evmaild.log" >&2; die "evmail log-mode: evmaild not ready"; }
	}
	log "evmail log-mode: starting evmaild (blob.store = log, cache $CACHE_SIZE B; mgmt $LMPORT, imap $LIPORT, smtp $LSPORT)"
	start_evl
	"${EVL_ENV[@]}" "$EVMAILCTL" tenant create bench >/dev/null || die "evmail log-mode: tenant create failed"
	"${EVL_ENV[@]}" "$EVMAILCTL" domain add "$DOMAIN" --tenant bench >/dev/null || die "evmail log-mode: domain add failed"
	for k in $(seq 1 "$USERS"); do
		echo "$PASSWORD" | "${EVL_ENV[@]}" "$EVMAILCTL" account add "user$k@$DOMAIN" --password-stdin >/dev/null ||
			die "evmail log-mode: account add user$k@$DOMAIN failed"
	done
	drive wait-smtp "$LSPORT" --timeout 30 || die "evmail log-mode: no SMTP listener"
fi

# ---------------------------------------------------------------- dovecot
dovecot_prepare
HASH=$(yescrypt_hash "$PASSWORD")
for k in $(seq 1 "$USERS"); do
	dovecot_user "user$k@$DOMAIN" "$HASH"
	if [ "$MDBOX" = 1 ]; then   # the home must exist: the mail owner cannot write in $DC_DIR/mail
		echo "mdb-user$k@$DOMAIN:{CRYPT}$HASH:$MUID:$MGID::$DC_DIR/mail/mdb-user$k@$DOMAIN::userdb_mail=mdbox:~/mdbox" >> "$DC_DIR/users"
		install -d -o "$MUID" -g "$MGID" "$DC_DIR/mail/mdb-user$k@$DOMAIN"
	fi
done
dovecot_config run-storage-bench.sh "mail_max_userip_connections = 100"
dovecot_start

# disk STEP: the sizes of every store after STEP -> $RESULTS/disk-STEP.json
disk() {
	{
		drive disk-evmail "$EVM_DIR/data" | sed 's/^/{"server": "evmail", "v": /; s/$/}/'
		[ "$LOGMODE" = 1 ] && drive disk-evmail "$EVL_DIR/data" | sed 's/^/{"server": "evmail-log", "v": /; s/$/}/'
		drive disk-dovecot "$DC_DIR/mail" "" | sed 's/^/{"server": "maildir", "v": /; s/$/}/'
		[ "$MDBOX" = 1 ] && drive disk-dovecot "$DC_DIR/mail" mdb- | sed 's/^/{"server": "mdbox", "v": /; s/$/}/'
		true
	} > "$RESULTS/disk-$1.json"
	log "disk after $1: $(tr '\n' ' ' < "$RESULTS/disk-$1.json" | cut -c1-400)"
}
ready() {
	drive wait-http "$MGMT" /readyz --timeout 300 || die "evmail: not ready (projector behind) after $1"
	[ "$LOGMODE" != 1 ] || drive wait-http "$LMGMT" /readyz --timeout 300 ||
		die "evmail log-mode: not ready (projector behind) after $1"
}

# checkpoints STEP: a view checkpoint (memtable flush) of each evmail node,
# then until each view's size is stable: the flush starts a compaction, and
# du during it counts its inputs and its outputs at once.
checkpoints() {
	drive checkpoint "$MGMT" "$TMP/checkpoint.bin" > "$RESULTS/ckpt-$1.txt" || die "evmail: checkpoint failed"
	rm -f "$TMP/checkpoint.bin"
	if [ "$LOGMODE" = 1 ]; then
		drive checkpoint "$LMGMT" "$TMP/checkpoint.bin" > "$RESULTS/ckpt-log-$1.txt" || die "evmail log-mode: checkpoint failed"
		rm -f "$TMP/checkpoint.bin"
	fi
	drive wait-stable "$EVM_DIR/data/view" "$STABLE" 300 > "$RESULTS/view-stable-$1.json"
	[ "$LOGMODE" != 1 ] || drive wait-stable "$EVL_DIR/data/view" "$STABLE" 300 > "$RESULTS/view-stable-log-$1.json"
}

# gc_wait TARGET STEP: evmail's body GC until TARGET bodies were deleted,
# then a view checkpoint (memtable flush); log compaction when there is one.
gc_wait() {
	log "evmail: waiting for body GC to delete $1 bodies in all (timeout $GC_TIMEOUT s)"
	drive wait-metric "$MGMT" evmail_blob_gc_blobs_deleted_total "$1" "$GC_TIMEOUT" > "$RESULTS/gc-$2.json"
	log "evmail: GC: $(cat "$RESULTS/gc-$2.json")"
	if [ "$LOGMODE" = 1 ]; then
		# its counters restart at 0 with the process (restarted for the FETCH misses)
		drive wait-metric "$LMGMT" evmail_blob_gc_blobs_deleted_total "$(($1 - EVL_GC_BASE))" "$GC_TIMEOUT" \
			> "$RESULTS/gc-log-$2.json"
		log "evmail log-mode: GC: $(cat "$RESULTS/gc-log-$2.json")"
	fi
	ready "GC ($2)"
	sleep 2       # the blob.gc events' tombstones, appended after the decisions
	ready "GC ($2)"
	checkpoints "$2"
}

# ---------------------------------------------------------------- 1. deliver
log "evmail: delivering $N messages of $SIZE B to $USERS users over SMTP"
t0=$(date +%s.%N)
drive deliver-smtp "$SPORT" "$DOMAIN" "$USERS" "$N" "$SIZE" || die "evmail: delivery failed"
ready delivery
echo "$(date +%s.%N) - $t0" | bc > "$RESULTS/deliver-evmail.s"
log "evmail: delivered in $(cat "$RESULTS/deliver-evmail.s") s"
if [ "$LOGMODE" = 1 ]; then
	log "evmail log-mode: delivering the same $N messages"
	t0=$(date +%s.%N)
	drive deliver-smtp "$LSPORT" "$DOMAIN" "$USERS" "$N" "$SIZE" || die "evmail log-mode: delivery failed"
	ready delivery
	echo "$(date +%s.%N) - $t0" | bc > "$RESULTS/deliver-evmail-log.s"
	log "evmail log-mode: delivered in $(cat "$RESULTS/deliver-evmail-log.s") s"
fi
log "dovecot: writing the same messages into the maildirs"
drive prefill-maildir "$DC_DIR/mail" "$DOMAIN" "$USERS" "$N" "$SIZE" "$MUID" "$MGID" || die "dovecot: maildir prefill failed"
for k in $(seq 1 "$USERS"); do   # index them, as a first login would
	doveadm -c "$DC_CONF" mailbox status -u "user$k@$DOMAIN" messages INBOX >/dev/null ||
		{ tail -n 20 "$DC_DIR/dovecot.log" >&2; die "dovecot: doveadm mailbox status user$k failed"; }
done
if [ "$MDBOX" = 1 ]; then
	log "dovecot: APPENDing the same messages to the mdbox users"
	drive append-imap "$DPORT" mdb- "$DOMAIN" "$USERS" "$N" "$SIZE" "$PASSWORD" || die "dovecot: mdbox APPEND failed"
fi
disk delivered
# the same after a view checkpoint (memtable flushed, WAL dropped): what
# the bodies cost each view, without the preallocated WAL
checkpoints delivered
disk delivered_ckpt

# ---------------------------------------------------------------- 2. expunge
log "expunging all but 1 in $KEEP_EVERY messages on every server"
drive expunge "$IPORT" "" "$DOMAIN" "$USERS" "$PASSWORD" "$KEEP_EVERY" "$RESULTS/live-evmail.json" \
	> "$RESULTS/expunge-evmail.json" || die "evmail: expunge failed"
if [ "$LOGMODE" = 1 ]; then
	drive expunge "$LIPORT" "" "$DOMAIN" "$USERS" "$PASSWORD" "$KEEP_EVERY" "$RESULTS/live-evmail-log.json" \
		> "$RESULTS/expunge-evmail-log.json" || die "evmail log-mode: expunge failed"
fi
drive expunge "$DPORT" "" "$DOMAIN" "$USERS" "$PASSWORD" "$KEEP_EVERY" "$RESULTS/live-maildir.json" \
	> "$RESULTS/expunge-maildir.json" || die "dovecot: maildir expunge failed"
if [ "$MDBOX" = 1 ]; then
	drive expunge "$DPORT" mdb- "$DOMAIN" "$USERS" "$PASSWORD" "$KEEP_EVERY" "$RESULTS/live-mdbox.json" \
		> "$RESULTS/expunge-mdbox.json" || die "dovecot: mdbox expunge failed"
fi
ready expunge
EXPUNGED=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["expunged"])' "$RESULTS/expunge-evmail.json")
log "expunged $EXPUNGED messages per server"
for f in "$RESULTS"/expunge-*.json; do
	# seconds, and EXPUNGEs answered [UNAVAILABLE] and sent again
	log "$(basename "$f" .json): $(cat "$f")"
done
disk expunged

# ---------------------------------------------------------------- 3. GC
gc_wait "$EXPUNGED" expunged
if [ "$MDBOX" = 1 ]; then
	for k in $(seq 1 "$USERS"); do
		doveadm -c "$DC_CONF" purge -u "mdb-user$k@$DOMAIN" || die "dovecot: doveadm purge failed"
	done
fi
disk gc

# ---------------------------------------------------------------- 4. log compaction
if [ "$LOG_COMPACT" = 1 ]; then
	log "evmail: waiting until the embedded log's size is stable for $STABLE s (compaction every 2 s)"
	drive wait-stable "$EVM_DIR/data/log" "$STABLE" 300 > "$RESULTS/compact-expunged.json"
	log "evmail: log: $(cat "$RESULTS/compact-expunged.json")"
	[ "$LOGMODE" != 1 ] || drive wait-stable "$EVL_DIR/data/log" "$STABLE" 300 > "$RESULTS/compact-log-expunged.json"
	disk compacted
fi

# ---------------------------------------------------------------- 5. FETCH
for s in evmail maildir mdbox; do
	[ "$s" = mdbox ] && [ "$MDBOX" != 1 ] && continue
	port=$DPORT prefix=
	[ "$s" = evmail ] && port=$IPORT
	[ "$s" = mdbox ] && prefix=mdb-
	drive fetch "$port" "$prefix" "$DOMAIN" "$PASSWORD" "$RESULTS/live-$s.json" "$FETCHES" "$SEED" \
		> "$RESULTS/fetch-$s.json" || die "$s: fetch failed"
	log "$s: FETCH: $(cat "$RESULTS/fetch-$s.json")"
done
if [ "$LOGMODE" = 1 ]; then
	# a miss each: restarted with the cache removed; then the same, each a hit
	log "evmail log-mode: restarting with its cache removed"
	EVL_GC_BASE=$(drive metric "$LMGMT" evmail_blob_gc_blobs_deleted_total)
	stop_evmaild_log
	rm -rf "$EVL_DIR/data/blobcache"
	start_evl
	for pass in miss hit; do
		drive fetch "$LIPORT" "" "$DOMAIN" "$PASSWORD" "$RESULTS/live-evmail-log.json" "$FETCHES" "$SEED" --distinct \
			> "$RESULTS/fetch-evmail-log-$pass.json" || die "evmail log-mode: fetch ($pass) failed"
		log "evmail log-mode: FETCH ($pass): $(cat "$RESULTS/fetch-evmail-log-$pass.json")"
	done
	drive blob-store-metrics "$LMGMT" > "$RESULTS/blobstore-log.json"
	log "evmail log-mode: blob store: $(cat "$RESULTS/blobstore-log.json")"
fi

# ---------------------------------------------------------------- 6. remove
log "evmail: evmailctl account remove of every user; dovecot: rm -r of their directories"
for k in $(seq 1 "$USERS"); do
	"${EVM_ENV[@]}" "$EVMAILCTL" account remove "user$k@$DOMAIN" >/dev/null || die "evmail: account remove user$k failed"
	[ "$LOGMODE" != 1 ] || "${EVL_ENV[@]}" "$EVMAILCTL" account remove "user$k@$DOMAIN" >/dev/null ||
		die "evmail log-mode: account remove user$k failed"
	rm -rf "$DC_DIR/mail/user$k@$DOMAIN" "$DC_DIR/mail/mdb-user$k@$DOMAIN"
done
ready "account remove"
gc_wait "$N" removed
if [ "$LOG_COMPACT" = 1 ]; then
	drive wait-stable "$EVM_DIR/data/log" "$STABLE" 300 > "$RESULTS/compact-removed.json"
	log "evmail: log: $(cat "$RESULTS/compact-removed.json")"
	[ "$LOGMODE" != 1 ] || drive wait-stable "$EVL_DIR/data/log" "$STABLE" 300 > "$RESULTS/compact-log-removed.json"
fi
disk removed

for d in "$EVM_DIR" "$EVL_DIR"; do
	if [ -f "$d/evmaild.log" ] && grep -qiE ' (error|crit|fatal):' "$d/evmaild.log"; then
		log "evmail: errors in $d/evmaild.log:"
		grep -iE ' (error|crit|fatal):' "$d/evmaild.log" | sed 's/^[^ ]* //' | sort | uniq -c | sort -rn | head -n 10 >&2
	fi
done
if grep -qiE '(error|fatal|panic):' "$DC_DIR/dovecot.log"; then
	log "dovecot: errors in its log:"
	grep -iE '(error|fatal|panic):' "$DC_DIR/dovecot.log" | cut -c1-200 | sort | uniq -c | sort -rn | head -n 10 >&2
fi

# ---------------------------------------------------------------- table
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
FS=$(df -T "$TMP" | awk 'NR == 2 { print $2 }')
export N USERS SIZE KEEP_EVERY FETCHES MDBOX LOG_COMPACT EXPUNGED CPU FS LOGMODE CACHE_SIZE
export HEAD_LINE="machine: nproc $(nproc), $CPU, Linux $(uname -r), $FS; Dovecot $(dovecot --version | cut -d' ' -f1); load average $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$ROOT/bench/storage_bench_drive.py" table "$RESULTS"
