#!/bin/bash
# run-jmap-bench.sh - JMAP: evmail against Cyrus IMAP's JMAP, in one run
# (issue #10 "Benchmark").
#
#   bench/run-jmap-bench.sh [--keep] [--no-cyrus]
#
# Installs Cyrus's httpd from Debian if missing (cyrus-caldav, which brings
# cyrus-common, and sasl2-bin; not cyrus-imapd, which conflicts with the
# dovecot-imapd the IMAP bench uses: the JMAP bench needs no imapd). No
# system service is started or left running. Then:
#
#   1. evmail: evmaild (embedded log, fresh data dir in a temp dir) with
#      HTTP and LMTP on 127.0.0.1 free ports, one account, MESSAGES messages
#      delivered to its INBOX over LMTP (FILL_PARALLEL connections, timed);
#      then the JMAP measurement (below); then evmaild is restarted on the
#      same data (a fresh heap) and IDLE EventSource streams are held open:
#      VmRSS of evmaild before and with them, divided by IDLE.
#   2. Cyrus: a private master (everything under the temp dir: imapd.conf
#      with httpmodules jmap, conversations, virtdomains off, a sasldb with
#      the user; cyrus.conf with http and lmtp on 127.0.0.1 free ports), the
#      first message over LMTP (creates the INBOX), the others written as
#      message files and indexed by reconstruct(8) (CYRUS_FILL=lmtp: all
#      over LMTP instead, like evmail; ~165/s here); the same measurement;
#      its EventSource is probed with CYRUS_IDLE streams (Debian's 3.6 is
#      built without wslay and answers 204 No Content: see README). Search:
#      search_engine xapian (headers indexed, one search tier t1 under the
#      temp dir); squatter(8), from the cyrus-imapd package (which is not
#      installed: it conflicts with dovecot-imapd; `apt-get download` and
#      dpkg-deb -x into the temp dir when /usr/lib/cyrus/bin/squatter is
#      missing), indexes the INBOX after the fill, timed, before any query.
#   3. One table with the ratios.
#
# The measurement (bench/jmap_bench_drive.py measure): one request of two
# calls, Email/query {inMailbox INBOX, sort receivedAt desc, limit 50} and
# Email/get of its #ids with the default (standard) properties: WARMUP
# untimed, SEQ one after the other on one keep-alive connection (latency
# p50/p90/p99), then CLIENTS processes with a keep-alive connection each for
# DURATION seconds (throughput, and the server's CPU per request).
#
# Then the same request with Email/query {"text": RARE} (one message holds
# it: "message <RARE>:" of its body) and {"text": "fox"} (every message),
# sorted receivedAt desc, limit 50: TEXT_SEQ sequential requests each, no
# concurrent phase (rows "text ..." of the table). Both servers answer
# from a complete index: evmail's first text query starts its indexer
# (gateway/fts) and the bench waits until /metrics says it has caught up
# (evmail_fts_accounts_pending 0, evmail_fts_documents_indexed_total >=
# MESSAGES; bench/jmap_bench_drive.py wait-index); Cyrus's squatter has
# finished before its first query. The time each took is in the table.
#
# Environment: MESSAGES (100000), SIZE (1500 bytes a message),
# FILL_PARALLEL (8), CYRUS_FILL (reconstruct | lmtp), SEQ (50), WARMUP (5),
# CLIENTS (4), DURATION (20), IDLE (5000; 0 = no idle phase), CYRUS_IDLE
# (100: Cyrus's httpd is one process per connection), HOLD (5 s), PARALLEL
# (100 streams being set up at once), BUILD_DIR (build), NO_BUILD=1 (use
# the binaries in BUILD_DIR), KEEP=1 (keep the temp dir), JMAP_BENCH_TIMEOUT
# (whole run, 3600 s). Everything started here is stopped on any exit
# (trap), by the pid this script got for it, and only that.
set -euo pipefail

BENCH_NAME=run-jmap-bench
. "$(dirname "$0")/lib.sh"     # ROOT, SELF, log, die, stop_pid, free_port ...

KEEP=${KEEP:-0}
CYRUS=${CYRUS:-1}
while [ $# -gt 0 ]; do
	case "$1" in
	--keep) KEEP=1; shift ;;
	--no-cyrus) CYRUS=0; shift ;;
	-h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
	*) echo "run-jmap-bench.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
	esac
done
export KEEP CYRUS
bench_bound JMAP_BENCH 3600

BUILD_DIR=${BUILD_DIR:-build}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
MESSAGES=${MESSAGES:-100000}
RARE=${RARE:-$((MESSAGES * 7 / 9))}
TEXT_SEQ=${TEXT_SEQ:-10}
SIZE=${SIZE:-1500}
FILL_PARALLEL=${FILL_PARALLEL:-8}
CYRUS_FILL=${CYRUS_FILL:-reconstruct}
SEQ=${SEQ:-50}
WARMUP=${WARMUP:-5}
CLIENTS=${CLIENTS:-4}
DURATION=${DURATION:-20}
IDLE=${IDLE:-5000}
CYRUS_IDLE=${CYRUS_IDLE:-100}
HOLD=${HOLD:-5}
PARALLEL=${PARALLEL:-100}
PASSWORD=bench-password-1
EVM_USER=bench@bench.test
CY_USER=bench
CY_BIN=/usr/lib/cyrus/bin
DRIVE="$ROOT/bench/jmap_bench_drive.py"
export PATH="$PATH:/usr/sbin:/usr/bin"

# ---------------------------------------------------------------- install
if [ "$CYRUS" = 1 ] && { [ ! -x "$CY_BIN/httpd" ] || ! command -v saslpasswd2 >/dev/null; }; then
	[ "$(id -u)" = 0 ] || die "Cyrus (cyrus-caldav, sasl2-bin) is not installed and we are not root"
	log "installing cyrus-caldav (httpd, with cyrus-common) and sasl2-bin (no service started)"
	apt_install_no_service cyrus-caldav
	apt_install_no_service sasl2-bin
	[ -x "$CY_BIN/httpd" ] || die "cyrus-caldav installed but $CY_BIN/httpd is missing"
fi
need_tools cmake ninja python3

# ---------------------------------------------------------------- build
if [ "${NO_BUILD:-0}" != 1 ]; then
	log "building evmaild and evmailctl in $BUILD_DIR"
	cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja >/dev/null
	ninja -C "$BUILD_DIR" evmaild evmailctl >&2
fi
EVMAILD="$BUILD_DIR/gateway/evmaild"
EVMAILCTL="$BUILD_DIR/admin/evmailctl"
[ -x "$EVMAILD" ] && [ -x "$EVMAILCTL" ] || die "no evmaild/evmailctl in $BUILD_DIR"

# a socket per stream on both sides
WANT=$((IDLE * 2 + 2000))
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$WANT" ]; then
	ulimit -Hn "$WANT" 2>/dev/null || true
fi
ulimit -n "$WANT" 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# ---------------------------------------------------------------- cleanup
bench_tmpdir jmap
RESULTS="$TMP/results"
mkdir -p "$RESULTS"
CY_PID=
stop_cyrus() {
	[ -n "$CY_PID" ] || return 0
	stop_pid "$CY_PID" 200 "cyrus master (pid $CY_PID) ignored SIGTERM for 20 s: SIGKILL"
	CY_PID=
}
bench_traps stop_evmaild stop_cyrus
py() { python3 "$ROOT/bench/bench_common.py" "$@"; }
drive() { python3 "$DRIVE" "$@"; }
START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)

# result NAME TAG: the JSON after "TAG " in $RESULTS/NAME.out, into NAME.json
result() {
	sed -n "s/^$2 //p" "$RESULTS/$1.out" > "$RESULTS/$1.json"
	[ -s "$RESULTS/$1.json" ]
}

# ---------------------------------------------------------------- evmail
EVM_DIR="$TMP/evmail"
mkdir -p "$EVM_DIR"
MPORT=$(free_port)
HPORT=$(free_port)
LPORT=$(free_port)
EVM_ENV=(env -i PATH="$PATH" HOME="${HOME:-/root}" LC_ALL=C
	EVMAIL_NODE_ID=jmapbench EVMAIL_NODE_DATA_DIR="$EVM_DIR/data"
	EVMAIL_NODE_USER= EVMAIL_NODE_ALLOW_ROOT=true
	EVMAIL_MGMT_LISTEN="127.0.0.1:$MPORT" EVMAIL_HTTP_LISTEN="127.0.0.1:$HPORT"
	EVMAIL_LMTP_LISTEN="127.0.0.1:$LPORT" EVMAIL_SMTP_LISTEN= EVMAIL_IMAP_LISTEN=
	EVMAIL_IMAPS_LISTEN= EVMAIL_POP3_LISTEN= EVMAIL_POP3S_LISTEN=
	EVMAIL_SUBMISSION_LISTEN= EVMAIL_SUBMISSIONS_LISTEN= EVMAIL_SMTP_HOSTNAME=evmail.bench.local
	EVMAIL_AUTH_CACHE_TTL_S=3600
	EVMAIL_LIMITS_CONNECTIONS=$((IDLE + 1000)) EVMAIL_LIMITS_CONNECTIONS_PER_IP=$((IDLE + 1000)))
start_evmaild() {
	log "evmail: starting evmaild (mgmt $MPORT, http $HPORT, lmtp $LPORT), log $EVM_DIR/evmaild.log"
	(cd "$EVM_DIR" && exec "${EVM_ENV[@]}" "$EVMAILD" >>"$EVM_DIR/evmaild.log" 2>&1 </dev/null) &
	EVM_PID=$!
	py wait-http "127.0.0.1:$MPORT" /readyz --timeout 300 ||
		{ tail -n 30 "$EVM_DIR/evmaild.log" >&2; die "evmail: evmaild not ready"; }
}
# The text searches of one server (label, session URL, user, pid): a rare
# word (one message) and a common one (all), TEXT_SEQ requests each.
measure_text() {
	local lab=$1 url=$2 user=$3 pid=$4 kind word want
	for kind in rare common; do
		if [ "$kind" = rare ]; then word=$RARE want=1; else word=fox want=50; fi
		log "$lab: text query {\"text\": \"$word\"} ($TEXT_SEQ sequential)"
		drive measure "$lab-text-$kind" "$url" "$user" "$PASSWORD" --text "$word" --want "$want" \
			--seq "$TEXT_SEQ" --warmup 1 --clients 0 --pid "$pid" > "$RESULTS/$lab-text-$kind.out" || true
		result "$lab-text-$kind" MEASURE || log "$lab: text query $kind gave no result"
		log "$lab: $(cat "$RESULTS/$lab-text-$kind.json" 2>/dev/null)"
	done
}

start_evmaild
"${EVM_ENV[@]}" "$EVMAILCTL" tenant create bench >/dev/null || die "evmail: tenant create failed"
"${EVM_ENV[@]}" "$EVMAILCTL" domain add bench.test --tenant bench >/dev/null || die "evmail: domain add failed"
echo "$PASSWORD" | "${EVM_ENV[@]}" "$EVMAILCTL" account add "$EVM_USER" --password-stdin >/dev/null ||
	die "evmail: account add failed"
py wait-smtp "$LPORT" --timeout 30 || die "evmail: no LMTP listener"
log "evmail: delivering $MESSAGES messages over LMTP ($FILL_PARALLEL connections)"
drive fill 127.0.0.1 "$LPORT" "$EVM_USER" "$MESSAGES" --parallel "$FILL_PARALLEL" --size "$SIZE" \
	> "$RESULTS/evmail-fill.out" || die "evmail: fill failed: $(cat "$RESULTS/evmail-fill.out")"
result evmail-fill FILL || die "evmail: no fill result"
py wait-http "127.0.0.1:$MPORT" /readyz --timeout 120 || die "evmail: not ready after the fill"
log "evmail: fill: $(cat "$RESULTS/evmail-fill.json")"
log "evmail: measuring ($WARMUP warm-up, $SEQ sequential, $CLIENTS clients x $DURATION s)"
drive measure evmail "http://127.0.0.1:$HPORT/.well-known/jmap" "$EVM_USER" "$PASSWORD" \
	--expect "$MESSAGES" --seq "$SEQ" --warmup "$WARMUP" --clients "$CLIENTS" \
	--duration "$DURATION" --pid "$EVM_PID" > "$RESULTS/evmail.out" || true
result evmail MEASURE || die "evmail: measure failed"
log "evmail: $(cat "$RESULTS/evmail.json")"
log "evmail: first text query (starts the indexer), waiting for the text index to catch up"
drive wait-index "http://127.0.0.1:$HPORT/.well-known/jmap" "$EVM_USER" "$PASSWORD" "127.0.0.1:$MPORT" \
	--docs "$MESSAGES" --timeout 1800 > "$RESULTS/evmail-index.out" ||
	die "evmail: the text index did not catch up: $(cat "$RESULTS/evmail-index.out")"
result evmail-index INDEX || die "evmail: no index result"
log "evmail: index: $(cat "$RESULTS/evmail-index.json")"
measure_text evmail "http://127.0.0.1:$HPORT/.well-known/jmap" "$EVM_USER" "$EVM_PID"
if [ "$IDLE" -gt 0 ]; then
	log "evmail: restarting evmaild (a fresh heap) for $IDLE idle EventSource streams"
	stop_evmaild
	start_evmaild
	drive idle evmail "http://127.0.0.1:$HPORT/.well-known/jmap" "$EVM_USER" "$PASSWORD" "$IDLE" \
		--pid "$EVM_PID" --hold "$HOLD" --parallel "$PARALLEL" > "$RESULTS/evmail-idle.out" || true
	result evmail-idle IDLE || die "evmail: idle phase failed"
	log "evmail: $(cat "$RESULTS/evmail-idle.json")"
fi
if grep -qE ' (error|warn|warning|crit|fatal):' "$EVM_DIR/evmaild.log"; then
	log "evmail: warnings/errors in evmaild.log:"
	grep -E ' (error|warn|warning|crit|fatal):' "$EVM_DIR/evmaild.log" | cut -d' ' -f2- | sort | uniq -c | sort -rn | head -n 10 >&2
fi
stop_evmaild

# ---------------------------------------------------------------- cyrus
if [ "$CYRUS" = 1 ]; then
	CY_DIR="$TMP/cyrus"
	CONF="$CY_DIR/imapd.conf"
	mkdir -p "$CY_DIR/conf" "$CY_DIR/spool" "$CY_DIR/search" "$CY_DIR/run/proc" "$CY_DIR/run/lock"
	SQUATTER=$CY_BIN/squatter
	if [ ! -x "$SQUATTER" ]; then
		# squatter is in cyrus-imapd, which conflicts with dovecot-imapd:
		# unpacked here, not installed (it needs only cyrus-common's libraries)
		log "cyrus: fetching squatter (apt-get download cyrus-imapd, unpacked in $CY_DIR/pkg)"
		mkdir -p "$CY_DIR/pkg"
		(cd "$CY_DIR/pkg" && apt-get download -q cyrus-imapd >/dev/null 2>&1) ||
			die "cyrus: apt-get download cyrus-imapd failed"
		dpkg-deb -x "$CY_DIR"/pkg/cyrus-imapd_*.deb "$CY_DIR/pkg/root" || die "cyrus: cannot unpack cyrus-imapd"
		SQUATTER="$CY_DIR/pkg/root$CY_BIN/squatter"
		[ -x "$SQUATTER" ] || die "cyrus: no squatter in the cyrus-imapd package"
	fi
	CHPORT=$(free_port)
	CLPORT=$(free_port)
	cat > "$CONF" <<EOF
# private instance for bench/run-jmap-bench.sh; nothing outside $CY_DIR
configdirectory: $CY_DIR/conf
partition-default: $CY_DIR/spool
defaultpartition: default
servername: cyrus.bench.local
admins: cyrus
virtdomains: off
unixhierarchysep: yes
altnamespace: yes
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $CY_DIR/sasldb2
sasl_mech_list: PLAIN
httpmodules: jmap
httpallowcompress: no
conversations: yes
conversations_db: twoskip
jmap_pushpoll: 10s
autocreate_post: yes
autocreate_quota: 0
idlesocket: $CY_DIR/run/idle
notifysocket: $CY_DIR/run/notify
lmtpsocket: $CY_DIR/run/lmtp
mboxname_lockpath: $CY_DIR/run/lock
proc_path: $CY_DIR/run/proc
search_engine: xapian
search_index_headers: yes
defaultsearchtier: t1
t1searchpartition-default: $CY_DIR/search
search_batchsize: 8192
EOF
	# the services read /etc/imapd.conf unless they get -C too
	cat > "$CY_DIR/cyrus.conf" <<EOF
START {
  recover cmd="ctl_cyrusdb -C $CONF -r"
}
SERVICES {
  http cmd="httpd -C $CONF" listen="127.0.0.1:$CHPORT" prefork=0
  lmtp cmd="lmtpd -C $CONF -a" listen="127.0.0.1:$CLPORT" prefork=0
}
EVENTS {
}
DAEMON {
}
EOF
	echo "$PASSWORD" | saslpasswd2 -f "$CY_DIR/sasldb2" -c -p -u cyrus.bench.local "$CY_USER" ||
		die "cyrus: saslpasswd2 failed"
	chown -R cyrus:mail "$CY_DIR"
	log "cyrus: starting a private master (http $CHPORT, lmtp $CLPORT, config $CONF)"
	"$CY_BIN/master" -C "$CONF" -M "$CY_DIR/cyrus.conf" -p "$CY_DIR/run/master.pid" \
		</dev/null >>"$CY_DIR/master.out" 2>&1 &
	CY_PID=$!
	py wait-smtp "$CLPORT" --timeout 60 || { cat "$CY_DIR/master.out" >&2; die "cyrus: no LMTP listener"; }
	log "cyrus: filling $MESSAGES messages ($CYRUS_FILL)"
	t0=$(date +%s.%N)
	if [ "$CYRUS_FILL" = lmtp ]; then
		drive fill 127.0.0.1 "$CLPORT" "$CY_USER" "$MESSAGES" --parallel "$FILL_PARALLEL" --size "$SIZE" \
			> "$RESULTS/cyrus-fill.out" || die "cyrus: fill failed: $(cat "$RESULTS/cyrus-fill.out")"
	else
		# message 0 over LMTP creates the INBOX (autocreate_post), the rest
		# are written into its directory and indexed by reconstruct
		drive fill 127.0.0.1 "$CLPORT" "$CY_USER" 1 --parallel 1 --size "$SIZE" \
			> "$RESULTS/cyrus-fill.out" || die "cyrus: first delivery failed: $(cat "$RESULTS/cyrus-fill.out")"
		BOX=$(runuser -u cyrus -- "$CY_BIN/mbpath" -C "$CONF" "user/$CY_USER") || die "cyrus: mbpath failed"
		drive spool "$BOX" "$CY_USER" "$MESSAGES" --size "$SIZE" >&2 || die "cyrus: writing the spool failed"
		chown -R cyrus:mail "$BOX"
		runuser -u cyrus -- "$CY_BIN/reconstruct" -C "$CONF" "user/$CY_USER" > "$CY_DIR/reconstruct.out" ||
			{ tail -n 5 "$CY_DIR/reconstruct.out" >&2; die "cyrus: reconstruct failed"; }
		python3 -c 'import json, sys; n, s = int(sys.argv[1]), float(sys.argv[2]); print("FILL " + json.dumps({"messages": n, "seconds": round(s, 2), "per_s": round(n / s, 1), "how": "1 over LMTP, the rest as files + reconstruct"}))' \
			"$MESSAGES" "$(echo "$(date +%s.%N) - $t0" | bc)" > "$RESULTS/cyrus-fill.out"
	fi
	result cyrus-fill FILL || die "cyrus: no fill result"
	log "cyrus: fill: $(cat "$RESULTS/cyrus-fill.json")"
	log "cyrus: squatter: indexing the INBOX (Xapian), before any query"
	t0=$(date +%s.%N)
	# -i: without it, 3.6's squatter restarts the mailbox from UID 1 after
	# every batch of search_batchsize messages and never ends
	runuser -u cyrus -- "$SQUATTER" -C "$CONF" -v -i "user/$CY_USER" > "$CY_DIR/squatter.out" 2>&1 ||
		{ tail -n 5 "$CY_DIR/squatter.out" >&2; die "cyrus: squatter failed"; }
	python3 -c 'import json, sys; print("INDEX " + json.dumps({"seconds": round(float(sys.argv[1]), 1), "how": "squatter -v -i, Xapian"}))' \
		"$(echo "$(date +%s.%N) - $t0" | bc)" > "$RESULTS/cyrus-index.out"
	result cyrus-index INDEX || die "cyrus: no index result"
	log "cyrus: index: $(cat "$RESULTS/cyrus-index.json") ($(grep -c . "$CY_DIR/squatter.out") lines of squatter -v)"
	log "cyrus: measuring ($WARMUP warm-up, $SEQ sequential, $CLIENTS clients x $DURATION s)"
	drive measure cyrus "http://127.0.0.1:$CHPORT/.well-known/jmap" "$CY_USER" "$PASSWORD" \
		--expect "$MESSAGES" --seq "$SEQ" --warmup "$WARMUP" --clients "$CLIENTS" \
		--duration "$DURATION" --pid "$CY_PID" > "$RESULTS/cyrus.out" || true
	result cyrus MEASURE || die "cyrus: measure failed"
	log "cyrus: $(cat "$RESULTS/cyrus.json")"
	measure_text cyrus "http://127.0.0.1:$CHPORT/.well-known/jmap" "$CY_USER" "$CY_PID"
	if [ "$CYRUS_IDLE" -gt 0 ]; then
		drive idle cyrus "http://127.0.0.1:$CHPORT/.well-known/jmap" "$CY_USER" "$PASSWORD" "$CYRUS_IDLE" \
			--pid "$CY_PID" --hold "$HOLD" --parallel "$PARALLEL" > "$RESULTS/cyrus-idle.out" || true
		result cyrus-idle IDLE || log "cyrus: idle phase gave no result"
		log "cyrus: $(cat "$RESULTS/cyrus-idle.json" 2>/dev/null)"
	fi
	stop_cyrus
fi

# ---------------------------------------------------------------- table
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
CY_VERSION=$(dpkg-query -W -f '${Version}' cyrus-common 2>/dev/null || echo '?')
python3 - "$RESULTS" <<PY
import json, os, sys
r = sys.argv[1]
def rd(name):
    p = os.path.join(r, name + ".json")
    return json.loads(open(p).read()) if os.path.exists(p) and os.path.getsize(p) else None
e, c = rd("evmail"), rd("cyrus")
ef, cf = rd("evmail-fill"), rd("cyrus-fill")
print("evmail vs Cyrus IMAP: JMAP Email/query + Email/get, one run ($(date -u '+%Y-%m-%d %H:%M UTC'))")
print("  machine: nproc $(nproc), $CPU, Linux $(uname -r); Cyrus $CY_VERSION (Debian); evmail $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')")
print("  mailbox: $MESSAGES messages of ~$SIZE bytes in INBOX; request: Email/query {inMailbox, sort receivedAt desc, limit 50}")
print("           + Email/get {#ids, default properties} in one POST; keep-alive, Basic auth (evmail auth.cache_ttl_s 3600)")
print("  load average at start $START_LOAD, now $(cut -d' ' -f1-3 /proc/loadavg) (shared machine: other work skews every row)")
print()
rows = [("sequential p50 ms", "seq_p50_ms", "lat"), ("sequential p90 ms", "seq_p90_ms", "lat"),
        ("sequential p99 ms", "seq_p99_ms", "lat"),
        ("$CLIENTS clients: requests/s", "conc_per_s", "thr"), ("$CLIENTS clients: p50 ms", "conc_p50_ms", "lat"),
        ("$CLIENTS clients: p90 ms", "conc_p90_ms", "lat"),
        ("server CPU ms per request", "server_cpu_ms_per_req", "lat"),
        ("answer bytes", "answer_bytes", "size")]
print("%-30s %12s %12s %14s" % ("", "evmail", "cyrus", "evmail/cyrus"))
for name, k, kind in rows:
    ev = e.get(k) if e else None
    cv = c.get(k) if c else None
    ratio = "%.2f" % (ev / cv) if ev and cv else "-"
    print("%-30s %12s %12s %14s" % (name, ev if ev is not None else "-", cv if cv is not None else "-", ratio))
for kind in ("rare", "common"):
    et, ct = rd("evmail-text-" + kind), rd("cyrus-text-" + kind)
    for name, k in (("p50 ms", "seq_p50_ms"), ("p90 ms", "seq_p90_ms")):
        ev, cv = et and et.get(k), ct and ct.get(k)
        print("%-30s %12s %12s %14s" % ("text %s: sequential %s" % (kind, name), ev if ev is not None else "-",
              cv if cv is not None else "-", "%.2f" % (ev / cv) if ev and cv else "-"))
ei, ci = rd("evmail-index"), rd("cyrus-index")
print("%-30s %12s %12s %14s" % ("text index built, s", ei["seconds"] if ei else "-", ci["seconds"] if ci else "-",
      "%.2f" % (ei["seconds"] / ci["seconds"]) if ei and ci and ci["seconds"] else "-"))
print("  (text rare: {text: $RARE}, one message; text common: {text: fox}, every message; '-': no answer)")
print("  (text rows timed once the index was complete: evmail from its first text query until /metrics showed")
print("   evmail_fts_accounts_pending 0 with every message indexed; Cyrus: squatter's run, before any query)")
print("  (times and CPU: a ratio < 1 means evmail is faster; requests/s: > 1 means evmail is faster)")
print("  requests: %s sequential + %s concurrent (evmail), %s + %s (cyrus); errors: %s / %s" % (
    e and e["seq_n"], e and e["conc_n"], c and c["seq_n"], c and c["conc_n"],
    e and len(e["errors"]), c and len(c["errors"])))
print()
for lab, f in (("evmail", ef), ("cyrus", cf)):
    if f:
        print("fill %-7s %7d messages in %8.1f s (%7.1f/s) %s" % (lab, f["messages"], f["seconds"], f["per_s"],
              f.get("how", "over LMTP, %d connections" % f.get("parallel", 0))))
print()
for lab, how in (("evmail", "VmRSS of evmaild"), ("cyrus", "sum over the master and its children")):
    x = rd(lab + "-idle")
    if not x:
        continue
    if x.get("error"):
        print("%s idle EventSource: %s" % (lab, x["error"]))
        continue
    if x["ready"] == 0:
        first = (x["first_failures"] or ["?"])[0].split("\r\n")[0]
        print("%s idle EventSource: none of %d streams opened: the server answered %r" % (lab, x["requested"], first))
        continue
    b, w, a = x["before"], x["with"], x["after"]
    print("%s idle EventSource: %d of %d streams open (set up in %.1f s, %d still open after the hold);" % (
        lab, x["ready"], x["requested"], x["setup_s"], x["alive_at_end"]))
    print("    %s: RSS %d -> %d kB (%.1f kB per stream), PSS %d -> %d kB (%.1f kB per stream), %d -> %d processes;"
          % (how, b[0], w[0], x["rss_kb_per_conn"], b[1], w[1], x["pss_kb_per_conn"], b[2], w[2]))
    print("    3 s after they closed: RSS %d kB, PSS %d kB" % (a[0], a[1]))
PY
