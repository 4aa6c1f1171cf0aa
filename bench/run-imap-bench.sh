#!/bin/bash
# run-imap-bench.sh - IMAP: evmail against Dovecot, in one run.
#
#   bench/run-imap-bench.sh [--keep] [--no-dovecot-idle]
#
# Installs dovecot-imapd from Debian if missing (no system service is
# started or left running), builds evmaild, evmailctl and bench_imap, then:
#
#   1. starts evmaild (embedded log, fresh data dir in a temp dir) with IMAP
#      and SMTP on 127.0.0.1 free ports, creates USERS accounts, prefills
#      PREFILL messages of SIZE bytes per user over SMTP;
#   2. starts a private Dovecot (dovecot -c CONF, everything under the temp
#      dir: passwd-file with the same users and the same yescrypt password
#      hashes, maildir, ssl=no) and prefills the same messages (written into
#      each Maildir/new, then indexed by doveadm before the clock starts);
#   3. runs bench_imap load mode against each (SESSIONS sessions, DURATION s)
#      and prints ops/s and the ratio;
#   4. runs bench_imap idle mode (IDLE sessions: LOGIN, SELECT, IDLE) against
#      each and prints the server's memory per idle connection: evmail =
#      VmRSS of evmaild before and with the sessions; Dovecot = the sum of
#      VmRSS (and of Pss) over all processes under its master.
#
# Environment: SESSIONS (50), USERS (20), DURATION (30), WARMUP (3),
# PREFILL (50), SIZE (4096), BODY_FETCHES (3), ROUNDS (1: FETCH..EXPUNGE
# rounds per login; more amortises LOGIN), BENCH_ARGS (more bench_imap
# options for the load runs, e.g. -v), IDLE (5000; 0 = no idle phase),
# HOLD (10), PARALLEL (100, sessions being set up at once in idle mode),
# DOVECOT_IDLE (same as IDLE; 0 = skip Dovecot's idle measurement),
# BUILD_DIR (build), NO_BUILD=1 (use the binaries already in BUILD_DIR),
# BIG (5000: messages of the large mailbox "Big" of user1 whose SELECT and
# FETCH 1:* (FLAGS UID) are timed, bench/big_mailbox.py; 0 = skip),
# BIG_REPEAT (5, median reported), AUTH_CACHE=1 (both servers cache
# successful password checks: evmail auth.cache_ttl_s = 3600, Dovecot
# auth_cache_size = 10M, auth_cache_ttl = 1 hour; default 0: both off, as
# both ship),
# EVMAIL_SETTINGS ("EVMAIL_KEY=VALUE ...": more evmaild settings),
# IMAP_BENCH_TIMEOUT (whole run, default 1800 s), KEEP=1 (keep the temp
# dir). Everything started here is stopped on any exit (trap), by the pid
# this script got for it, and only that.
set -euo pipefail

BENCH_NAME=run-imap-bench
. "$(dirname "$0")/lib.sh"     # ROOT, SELF, log, die, ...

KEEP=${KEEP:-0}
while [ $# -gt 0 ]; do
	case "$1" in
	--keep) KEEP=1; shift ;;
	--no-dovecot-idle) DOVECOT_IDLE=0; shift ;;
	-h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
	*) echo "run-imap-bench.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
	esac
done
export KEEP
[ -n "${DOVECOT_IDLE:-}" ] && export DOVECOT_IDLE

bench_bound IMAP_BENCH 1800

BUILD_DIR=${BUILD_DIR:-build}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
SESSIONS=${SESSIONS:-50}
USERS=${USERS:-20}
DURATION=${DURATION:-30}
WARMUP=${WARMUP:-3}
PREFILL=${PREFILL:-50}
SIZE=${SIZE:-4096}
BODY_FETCHES=${BODY_FETCHES:-3}
ROUNDS=${ROUNDS:-1}
AUTH_CACHE=${AUTH_CACHE:-0}
IDLE=${IDLE:-5000}
HOLD=${HOLD:-10}
PARALLEL=${PARALLEL:-100}
DOVECOT_IDLE=${DOVECOT_IDLE:-$IDLE}
# connection limits of both servers: room for the larger of IDLE and SESSIONS
CONNS=$((IDLE > SESSIONS ? IDLE : SESSIONS))
[ "$CONNS" -ge 1000 ] || CONNS=1000
DOMAIN=bench.test
PASSWORD=bench-password-1

# ---------------------------------------------------------------- install
install_dovecot() {
	if [ -x /usr/sbin/dovecot ] && [ -x /usr/lib/dovecot/imap ]; then
		return 0
	fi
	[ "$(id -u)" = 0 ] || die "dovecot-imapd is not installed and we are not root"
	log "installing dovecot-imapd (no service started)"
	apt_install_no_service dovecot-imapd
	[ -x /usr/sbin/dovecot ] || die "dovecot installed but /usr/sbin/dovecot is missing"
}

install_dovecot
export PATH="$PATH:/usr/sbin:/usr/bin"
need_tools cmake ninja python3 perl

# ---------------------------------------------------------------- build
if [ "${NO_BUILD:-0}" != 1 ]; then
	log "building evmaild, evmailctl and bench_imap in $BUILD_DIR"
	cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja >/dev/null
	ninja -C "$BUILD_DIR" evmaild evmailctl bench_imap >&2
fi
EVMAILD="$BUILD_DIR/gateway/evmaild"
EVMAILCTL="$BUILD_DIR/admin/evmailctl"
BENCH="$BUILD_DIR/bench/bench_imap"

# Both servers and the client need a socket per idle session.
HARD=$(ulimit -Hn)
WANT=$((CONNS * 2 + 2000))
if [ "$HARD" != unlimited ] && [ "$HARD" -lt "$WANT" ]; then
	ulimit -Hn "$WANT" 2>/dev/null || WANT=$HARD
fi
ulimit -n "$WANT" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
log "ulimit -n $(ulimit -n)"

# ---------------------------------------------------------------- cleanup
bench_tmpdir imap
RESULTS="$TMP/results"
mkdir -p "$RESULTS"
DC_CONF=
BENCH_PID=

stop_bench() {
	[ -n "$BENCH_PID" ] || return 0
	kill -TERM "$BENCH_PID" 2>/dev/null || true
	wait "$BENCH_PID" 2>/dev/null || true
	BENCH_PID=
}

# dovecot's master was started by us with -F (foreground): its pid is ours.
# `doveadm stop` asks the same master; SIGTERM to the master stops all its
# children.

bench_traps stop_bench stop_evmaild stop_dovecot

# ---------------------------------------------------------------- helpers
HELPER="$TMP/helper.py"
cat > "$HELPER" <<'PY'
import socket, sys, time, smtplib, urllib.request, os

def wait_tcp(port, timeout):
    end = time.time() + float(timeout)
    while time.time() < end:
        try:
            c = socket.create_connection(("127.0.0.1", int(port)), 1); c.close(); return 0
        except OSError:
            time.sleep(0.2)
    return 1

def wait_http(hostport, path, timeout):
    end = time.time() + float(timeout)
    while time.time() < end:
        try:
            with urllib.request.urlopen("http://%s%s" % (hostport, path), timeout=2) as r:
                if r.status == 200: return 0
        except Exception:
            pass
        time.sleep(0.2)
    return 1

def message(user, i, size):
    head = ("From: Sender %d <sender%d@example.org>\r\nTo: <%s>\r\n"
            "Subject: prefill message %d for %s\r\nDate: Sun, 29 Nov 2026 10:%02d:00 +0000\r\n"
            "Message-ID: <prefill-%d-%s>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n\r\n") % (i, i, user, i, user, i % 60, i, user)
    body = []
    n = len(head)
    k = 0
    while n < size:
        line = ("line %d of message %d " % (k, i) + "x" * 60)[: max(0, min(70, size - n - 2))] + "\r\n"
        body.append(line); n += len(line); k += 1
    return (head + "".join(body)).encode()

def prefill_smtp(port, users, domain, n, size):
    for u in range(1, int(users) + 1):
        addr = "user%d@%s" % (u, domain)
        s = smtplib.SMTP("127.0.0.1", int(port), timeout=60)
        for i in range(1, int(n) + 1):
            s.sendmail("sender%d@example.org" % i, [addr], message(addr, i, int(size)))
        s.quit()

def prefill_maildir(root, users, domain, n, size, uid, gid):
    host = "bench"
    for u in range(1, int(users) + 1):
        addr = "user%d@%s" % (u, domain)
        md = os.path.join(root, addr, "Maildir")
        for d in ("new", "cur", "tmp"):
            os.makedirs(os.path.join(md, d), exist_ok=True)
        for i in range(1, int(n) + 1):
            data = message(addr, i, int(size))
            name = "%d.M%dP%d.%s,S=%d" % (1700000000 + i, i, os.getpid(), host, len(data))
            tmp = os.path.join(md, "tmp", name)
            with open(tmp, "wb") as f: f.write(data)
            os.rename(tmp, os.path.join(md, "new", name))
        for dp, dn, fn in os.walk(os.path.join(root, addr)):
            for x in dn + fn: os.chown(os.path.join(dp, x), int(uid), int(gid))
        os.chown(os.path.join(root, addr), int(uid), int(gid))

def proc_mem(pids):
    rss = pss = 0
    n = 0
    for p in pids:
        try:
            with open("/proc/%s/status" % p) as f:
                for l in f:
                    if l.startswith("VmRSS:"): rss += int(l.split()[1])
            with open("/proc/%s/smaps_rollup" % p) as f:
                for l in f:
                    if l.startswith("Pss:"): pss += int(l.split()[1])
            n += 1
        except OSError:
            pass
    print(rss, pss, n)

def cpu(pids):
    # utime + stime of the live processes + cutime + cstime (reaped children), seconds
    t = 0
    hz = os.sysconf("SC_CLK_TCK")
    for p in pids:
        try:
            with open("/proc/%s/stat" % p) as f: st = f.read()
        except OSError:
            continue
        x = st[st.rindex(")") + 2:].split()
        t += sum(int(v) for v in x[11:15])
    print("%.2f" % (t / hz))

def tree(root):
    kids = {}
    for p in os.listdir("/proc"):
        if not p.isdigit(): continue
        try:
            with open("/proc/%s/stat" % p) as f: st = f.read()
        except OSError:
            continue
        ppid = st[st.rindex(")") + 2:].split()[1]
        kids.setdefault(ppid, []).append(p)
    out, todo = [], [str(root)]
    while todo:
        p = todo.pop(); out.append(p); todo.extend(kids.get(p, []))
    return out

cmd = sys.argv[1]
a = sys.argv[2:]
if cmd == "wait-tcp": sys.exit(wait_tcp(*a))
elif cmd == "wait-http": sys.exit(wait_http(*a))
elif cmd == "prefill-smtp": prefill_smtp(*a)
elif cmd == "prefill-maildir": prefill_maildir(*a)
elif cmd == "mem": proc_mem(a)
elif cmd == "mem-tree": proc_mem(tree(a[0]))
elif cmd == "cpu-tree": cpu(tree(a[0]))
else: sys.exit("unknown helper " + cmd)
PY
py() { python3 "$HELPER" "$@"; }


# run_bench LABEL PORT MODE-ARGS... -> $RESULTS/LABEL.out (stdout), .err
run_load() {
	local label=$1 port=$2 pid=$3 c0 c1
	c0=$(py cpu-tree "$pid")
	log "$label: load: $SESSIONS sessions, $USERS users, ${WARMUP}+${DURATION} s, $ROUNDS round(s) per login"
	"$BENCH" --label "$label" --port "$port" --users "$USERS" --password "$PASSWORD" \
		--sessions "$SESSIONS" --duration "$DURATION" --warmup "$WARMUP" \
		--size "$SIZE" --body-fetches "$BODY_FETCHES" --rounds "$ROUNDS" ${BENCH_ARGS:-} \
		>"$RESULTS/$label.out" 2>"$RESULTS/$label.err" || true
	c1=$(py cpu-tree "$pid")
	echo "$c0 $c1" > "$RESULTS/$label.cpu"
	cat "$RESULTS/$label.err" >&2
	grep -q '^RESULT ' "$RESULTS/$label.out" || die "$label: bench_imap produced no result"
	log "$label: server CPU during the run: $(echo "$c1 - $c0" | bc) s"
}

# run_idle LABEL PORT MEMCMD... : MEMCMD prints "rss_kb pss_kb nprocs"
run_idle() {
	local label=$1 port=$2 k=$3
	shift 3
	local out="$RESULTS/$label.out" err="$RESULTS/$label.err"
	local before with after ready
	sleep 2
	before=$("$@")
	log "$label: idle: $k sessions (LOGIN, SELECT INBOX, IDLE), $PARALLEL at a time; before: $before (rss_kb pss_kb procs)"
	"$BENCH" --label "$label" --port "$port" --users "$USERS" --password "$PASSWORD" \
		--idle "$k" --parallel "$PARALLEL" --hold "$HOLD" --setup-timeout 600 \
		>"$out" 2>"$err" &
	BENCH_PID=$!
	while kill -0 "$BENCH_PID" 2>/dev/null && ! grep -q '^READY' "$out"; do
		sleep 0.5
	done
	ready=$(sed -n 's/^READY //p' "$out")
	sleep $((HOLD / 2))
	with=$("$@")
	wait "$BENCH_PID" || true
	BENCH_PID=
	cat "$err" >&2
	sleep 3
	after=$("$@")
	echo "$before" > "$RESULTS/$label.before"
	echo "$with" > "$RESULTS/$label.with"
	echo "$after" > "$RESULTS/$label.after"
	echo "${ready:-0}" > "$RESULTS/$label.ready"
	log "$label: with ${ready:-0} idle sessions: $with; after they logged out: $after (rss_kb pss_kb procs)"
}

# ---------------------------------------------------------------- evmail
EVM_DIR="$TMP/evmail"
mkdir -p "$EVM_DIR"
MPORT=$(free_port)
IPORT=$(free_port)
SPORT=$(free_port)
EVM_ENV=(env -i PATH="$PATH" HOME="${HOME:-/root}" LC_ALL=C
	EVMAIL_NODE_ID=imapbench EVMAIL_NODE_DATA_DIR="$EVM_DIR/data"
	EVMAIL_NODE_USER= EVMAIL_NODE_ALLOW_ROOT=true
	EVMAIL_MGMT_LISTEN="127.0.0.1:$MPORT" EVMAIL_SMTP_LISTEN="127.0.0.1:$SPORT"
	EVMAIL_SMTP_HOSTNAME=evmail.bench.local EVMAIL_LMTP_LISTEN=
	EVMAIL_IMAP_LISTEN="127.0.0.1:$IPORT" EVMAIL_IMAPS_LISTEN= EVMAIL_POP3_LISTEN= EVMAIL_POP3S_LISTEN= EVMAIL_SUBMISSION_LISTEN= EVMAIL_SUBMISSIONS_LISTEN=
	EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH=1
	EVMAIL_LIMITS_CONNECTIONS=$((CONNS + 1000))
	EVMAIL_LIMITS_CONNECTIONS_PER_IP=$((CONNS + 1000))
	EVMAIL_AUTH_CACHE_TTL_S=$([ "$AUTH_CACHE" = 1 ] && echo 3600 || echo 0))
# EVMAIL_SETTINGS: more evmaild settings, "KEY=VALUE ..." (e.g.
# EVMAIL_PROJECTOR_VIEW_WRITE_BUFFER_MB=8), for A/B runs of one setting.
read -r -a extra <<< "${EVMAIL_SETTINGS:-}"
[ ${#extra[@]} -gt 0 ] && EVM_ENV+=("${extra[@]}")
log "evmail: starting evmaild (mgmt $MPORT, imap $IPORT, smtp $SPORT), log $EVM_DIR/evmaild.log"
(cd "$EVM_DIR" && exec "${EVM_ENV[@]}" "$EVMAILD" >"$EVM_DIR/evmaild.log" 2>&1 </dev/null) &
EVM_PID=$!
py wait-http "127.0.0.1:$MPORT" /readyz 90 || { tail -n 30 "$EVM_DIR/evmaild.log" >&2; die "evmail: evmaild not ready"; }
"${EVM_ENV[@]}" "$EVMAILCTL" tenant create bench >/dev/null || die "evmail: tenant create failed"
"${EVM_ENV[@]}" "$EVMAILCTL" domain add "$DOMAIN" --tenant bench >/dev/null || die "evmail: domain add failed"
for k in $(seq 1 "$USERS"); do
	echo "$PASSWORD" | "${EVM_ENV[@]}" "$EVMAILCTL" account add "user$k@$DOMAIN" --password-stdin >/dev/null ||
		die "evmail: account add user$k@$DOMAIN failed"
done
py wait-tcp "$SPORT" 30 || die "evmail: no SMTP listener"
py wait-tcp "$IPORT" 30 || die "evmail: no IMAP listener"
log "evmail: prefilling $PREFILL messages x $USERS users over SMTP"
t0=$(date +%s.%N)
py prefill-smtp "$SPORT" "$USERS" "$DOMAIN" "$PREFILL" "$SIZE" || die "evmail: prefill failed"
py wait-http "127.0.0.1:$MPORT" /readyz 60 || die "evmail: not ready after prefill"
log "evmail: prefill took $(echo "$(date +%s.%N) - $t0" | bc 2>/dev/null || echo '?') s"

# ---------------------------------------------------------------- dovecot
dovecot_prepare
HASH=$(yescrypt_hash "$PASSWORD")     # one hash for every user, as evmail's accounts share one password
for k in $(seq 1 "$USERS"); do
	dovecot_user "user$k@$DOMAIN" "$HASH"
done
DC_MORE="mail_max_userip_connections = $((CONNS + 1000))
default_process_limit = $((CONNS + 1000))
default_client_limit = $((CONNS * 2 + 1000))
default_vsz_limit = 1G
service imap {
  process_limit = $((CONNS + 1000))
}
service anvil {
  client_limit = $((CONNS * 3 + 1000))
}
service auth {
  client_limit = $((CONNS * 3 + 1000))
}"
[ "$AUTH_CACHE" = 1 ] && DC_MORE="auth_cache_size = 10M
auth_cache_ttl = 1 hour
$DC_MORE"
DC_LOGIN_MORE="  # \"high-performance\" login processes: each serves many connections
  service_count = 0
  process_min_avail = $(nproc)
  process_limit = 64
  client_limit = $((CONNS * 2 + 1000))"
dovecot_config run-imap-bench.sh "$DC_MORE" "$DC_LOGIN_MORE"
log "dovecot: prefilling the same messages into maildirs"
py prefill-maildir "$DC_DIR/mail" "$USERS" "$DOMAIN" "$PREFILL" "$SIZE" "$MUID" "$MGID" || die "dovecot: prefill failed"
dovecot_start
for k in $(seq 1 "$USERS"); do   # index the maildirs before the clock starts
	doveadm -c "$DC_CONF" mailbox status -u "user$k@$DOMAIN" messages INBOX >/dev/null ||
		{ tail -n 20 "$DC_DIR/dovecot.log" >&2; die "dovecot: doveadm mailbox status user$k failed"; }
done

# ---------------------------------------------------------------- run
START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
run_load evmail "$IPORT" "$EVM_PID"
run_load dovecot "$DPORT" "$DC_PID"
if [ "${BIG:-5000}" -gt 0 ]; then
	for pair in "evmail $IPORT" "dovecot $DPORT"; do
		set -- $pair
		log "$1: large mailbox: filling Big of user1 with ${BIG:-5000} messages"
		python3 "$ROOT/bench/big_mailbox.py" fill 127.0.0.1 "$2" "user1@$DOMAIN" "$PASSWORD" Big \
			"${BIG:-5000}" 2048 || die "$1: filling the large mailbox failed"
		python3 "$ROOT/bench/big_mailbox.py" time 127.0.0.1 "$2" "user1@$DOMAIN" "$PASSWORD" Big \
			"${BIG_REPEAT:-5}" "$1" > "$RESULTS/big-$1.out" || die "$1: timing the large mailbox failed"
	done
fi
if [ "$IDLE" -gt 0 ]; then
	run_idle evmail-idle "$IPORT" "$IDLE" py mem "$EVM_PID"
fi
if [ "$IDLE" -gt 0 ] && [ "$DOVECOT_IDLE" -gt 0 ]; then
	run_idle dovecot-idle "$DPORT" "$DOVECOT_IDLE" py mem-tree "$DC_PID"
fi

if grep -qiE ' (error|warn|warning|crit|fatal):' "$EVM_DIR/evmaild.log"; then
	log "evmail: warnings/errors in evmaild.log:"
	grep -iE ' (error|warn|warning|crit|fatal):' "$EVM_DIR/evmaild.log" | sed 's/^[^ ]* //' | sort | uniq -c | sort -rn | head -n 10 >&2
fi
if grep -qiE '(error|fatal|panic|warning):' "$DC_DIR/dovecot.log"; then
	log "dovecot: warnings/errors in its log:"
	grep -iE '(error|fatal|panic|warning):' "$DC_DIR/dovecot.log" | sed -e 's/^[A-Za-z]* [0-9]* [0-9:]* //' \
		-e 's/^[a-z-]*([^)]*)<[^>]*><[^>]*>: //' | cut -c1-160 | sort | uniq -c | sort -rn | head -n 10 >&2
fi

# ---------------------------------------------------------------- table
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
python3 - "$RESULTS" <<PY
import json, os, sys
r = sys.argv[1]
def res(label):
    for l in open(os.path.join(r, label + ".out")):
        if l.startswith("RESULT "): return json.loads(l[7:])
def rd(label, ext):
    p = os.path.join(r, label + "." + ext)
    return open(p).read().split() if os.path.exists(p) else None
print("evmail vs Dovecot: IMAP, one run ($(date -u '+%Y-%m-%d %H:%M UTC'))")
print("  machine: nproc $(nproc), $CPU, Linux $(uname -r), Dovecot $(dovecot --version 2>/dev/null | cut -d' ' -f1)")
print("  load: $SESSIONS sessions over $USERS users, $WARMUP s warm-up + $DURATION s; loop = LOGIN, SELECT INBOX, [FETCH 1:* (UID FLAGS),")
print("        UID FETCH $BODY_FETCHES x BODY.PEEK[], STORE +FLAGS (\\\\Seen), APPEND $SIZE B, UID STORE +FLAGS.SILENT (\\\\Deleted), EXPUNGE] x $ROUNDS, LOGOUT;")
print("        $PREFILL messages of $SIZE B per INBOX at start; passwords: yescrypt \$y\$j9T\$ in both")
print("  password caches: %s" % ("on (evmail auth.cache_ttl_s = 3600; Dovecot auth_cache_size = 10M, auth_cache_ttl = 1 hour)" if "$AUTH_CACHE" == "1" else "off (both servers' defaults)"))
print("  load average at start $START_LOAD, now $(cut -d' ' -f1-3 /proc/loadavg) (shared machine: other work skews every row)")
print()
print("%-8s %10s %9s %8s %7s %8s %8s %8s %8s %10s" % ("server", "commands", "ops/s", "loops/s", "errors", "p50 ms", "p90 ms", "p99 ms", "max ms", "CPU ms/op"))
rows = {}
for lab in ("evmail", "dovecot"):
    x = res(lab); rows[lab] = x
    c = rd(lab, "cpu")
    # server CPU over warm-up + run (+ shutdown of the sessions) per measured command: an upper bound
    cms = (float(c[1]) - float(c[0])) * 1000.0 / x["commands"] if c and x["commands"] else 0
    print("%-8s %10d %9.1f %8.2f %7d %8.2f %8.2f %8.2f %8.1f %10.2f" % (lab, x["commands"], x["ops_per_s"], x["loops_per_s"], x["errors"], x["p50_ms"], x["p90_ms"], x["p99_ms"], x["max_ms"], cms))
if rows["dovecot"]["ops_per_s"] > 0:
    print("ratio evmail/dovecot ops/s: %.2f" % (rows["evmail"]["ops_per_s"] / rows["dovecot"]["ops_per_s"]))
if rows["evmail"]["ops_per_s"] > 0:
    print("ratio dovecot/evmail ops/s: %.2f" % (rows["dovecot"]["ops_per_s"] / rows["evmail"]["ops_per_s"]))
print()
print("per command p50 / p99 ms (evmail | dovecot):")
for k in rows["evmail"]["per_command"]:
    e = rows["evmail"]["per_command"][k]; d = rows["dovecot"]["per_command"][k]
    if e["n"] == 0 and d["n"] == 0: continue
    print("  %-15s %8.2f / %8.2f  (n %6d, NO %d)  | %8.2f / %8.2f  (n %6d, NO %d)" % (k, e["p50_ms"], e["p99_ms"], e["n"], e["no"] + e["bad"], d["p50_ms"], d["p99_ms"], d["n"], d["no"] + d["bad"]))
print()
big = {}
for lab in ("evmail", "dovecot"):
    p = os.path.join(r, "big-" + lab + ".out")
    if os.path.exists(p):
        for l in open(p):
            if l.startswith("BIG "): big[lab] = json.loads(l[4:])
if len(big) == 2:
    e, d = big["evmail"], big["dovecot"]
    print("large mailbox (%d messages, median of %d; ratio = dovecot time / evmail time, > 1: evmail faster):" % (e["messages"], e["repeat"]))
    for k, name in (("select", "SELECT"), ("fetch", "FETCH 1:* (FLAGS UID)")):
        print("  %-22s evmail %8.2f ms (best %7.2f) | dovecot %8.2f ms (best %7.2f) | ratio %.2f"
              % (name, e[k + "_ms"], e[k + "_best_ms"], d[k + "_ms"], d[k + "_best_ms"], d[k + "_ms"] / e[k + "_ms"] if e[k + "_ms"] else 0))
    print()
for lab, name, how in (("evmail-idle", "evmail", "VmRSS of evmaild"), ("dovecot-idle", "dovecot", "sum over master + children")):
    b, w, n, a = rd(lab, "before"), rd(lab, "with"), rd(lab, "ready"), rd(lab, "after")
    if not b or not w: continue
    ready = int(n[0]) if n else 0
    x = res(lab)
    drss = int(w[0]) - int(b[0]); dpss = int(w[1]) - int(b[1])
    per = (lambda v: v / ready if ready else 0)
    print("%s idle: %d of %d sessions idling (set up in %.1f s); %s: RSS %d -> %d kB (+%d kB, %.1f kB per idle connection); PSS %d -> %d kB (%.1f kB per connection); %s -> %s processes"
          % (name, ready, x.get("idle_requested", 0), x.get("setup_s", -1), how, int(b[0]), int(w[0]), drss, per(drss), int(b[1]), int(w[1]), per(dpss), b[2], w[2]))
    if a:
        print("    3 s after they logged out: RSS %d kB, PSS %d kB, %s processes" % (int(a[0]), int(a[1]), a[2]))
PY
