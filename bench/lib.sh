# lib.sh - shell shared by run-send-bench.sh, run-smtp-bench.sh and
# run-imap-bench.sh. Sourced (not run) by the script, after it set
# BENCH_NAME (the prefix of log lines: run-send-bench, ...). Sets
#
#   ROOT        the repository root
#   SELF        the script's own path (bench_bound re-runs it)
#
# and defines:
#
#   log, die                      messages on stderr, "BENCH_NAME: ..."
#   bench_bound PREFIX DEFAULT    re-run the script under timeout(1), once
#   apt_install_no_service PKG    apt-get install, never starting a service
#   install_postfix TOOL          Postfix from Debian if postfix or TOOL is missing
#   need_tools TOOL...            die unless every TOOL is on PATH
#   bench_tmpdir KIND             TMP = a fresh evmail-KIND-bench.XXXXXX
#   gone PID TENTHS               wait up to TENTHS x 0.1 s for PID to exit
#   stop_pid PID TENTHS MESSAGE   SIGTERM, wait, SIGKILL (logs MESSAGE), reap
#   stop_evmaild, stop_postfix, stop_broker
#                                 stop what EVM_PID / PF_ETC+PF_MASTER /
#                                 BROKER_DIR name, if anything; idempotent
#   bench_traps STOP...           on any exit: the STOP functions, then rm -rf
#                                 TMP (KEEP=1 keeps it); INT -> 130, TERM -> 143
#   free_port [--pair]            a free 127.0.0.1 port (bench_common.py)
#   postfix_main_cf DIR           main.cf lines both Postfix instances share
#   postfix_master_cf             master.cf service lines both instances share
#   postfix_start_instance DIR    postfix -c DIR/etc start; PF_ETC, PF_MASTER
#   postfix_problems MAILLOG      the warnings of a Postfix maillog, counted
#
# Everything is stopped by the pid (or config dir) the script got for it,
# and only that.

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SELF="$ROOT/bench/$(basename "$0")"

log() { echo "$BENCH_NAME: $*" >&2; }
die() { log "$*"; exit 1; }

# bench_bound PREFIX DEFAULT: bound the whole run: re-run this script under
# timeout(1) (PREFIX_TIMEOUT seconds, default DEFAULT), which sends TERM to
# the whole process group (the EXIT trap of bench_traps then cleans up).
# PREFIX_BOUNDED=1 marks the bounded run.
bench_bound() {
	local tvar="${1}_TIMEOUT" bvar="${1}_BOUNDED"
	if [ -z "${!bvar:-}" ]; then
		export "$bvar=1"
		exec timeout --kill-after=30 "${!tvar:-$2}" bash "$SELF"
	fi
}

# ---------------------------------------------------------------- install
# apt_install_no_service PKG: no init system runs here, but make sure
# invoke-rc.d never starts the system instance of PKG: policy-rc.d exit
# 101 = "action forbidden" (only while installing, and only if there was
# none). apt-get update once if the first install fails.
apt_install_no_service() {
	local pkg=$1 added_policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		added_policy=1
	fi
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y "$pkg" >&2; then
		apt-get update >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y "$pkg" >&2 || {
			[ $added_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
			die "apt-get install $pkg failed"
		}
	fi
	if [ $added_policy = 1 ]; then
		rm -f /usr/sbin/policy-rc.d
	fi
}

# install_postfix TOOL: Postfix from Debian (no configuration, no service
# started) unless postfix and /usr/sbin/TOOL (smtp-sink, smtp-source) are
# there.
install_postfix() {
	local tool=$1
	if command -v postfix >/dev/null && [ -x "/usr/sbin/$tool" ]; then
		return 0
	fi
	[ "$(id -u)" = 0 ] || die "postfix is not installed and we are not root"
	log "installing postfix (no configuration, no service started)"
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	apt_install_no_service postfix
	command -v postfix >/dev/null && [ -x "/usr/sbin/$tool" ] || die "postfix installed but $tool is missing"
}

need_tools() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null || die "$tool not found (bash scripts/install-deps.sh)"
	done
}

# ---------------------------------------------------------------- cleanup
# bench_tmpdir KIND: TMP, mode 755 (Postfix's and Dovecot's unprivileged
# processes walk into it).
bench_tmpdir() {
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/evmail-$1-bench.XXXXXX")
	chmod 755 "$TMP"
}

# gone PID TENTHS: waits up to TENTHS x 0.1 s for PID to exit; 1 if it
# did not.
gone() {
	for _ in $(seq 1 "$2"); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	! kill -0 "$1" 2>/dev/null
}

# stop_pid PID TENTHS MESSAGE: SIGTERM to PID (a child of this shell), up
# to TENTHS x 0.1 s for it to exit, then SIGKILL (and MESSAGE in the log);
# reaps it.
stop_pid() {
	if kill -0 "$1" 2>/dev/null; then
		kill -TERM "$1" 2>/dev/null || true
		gone "$1" "$2" || { log "$3"; kill -KILL "$1" 2>/dev/null || true; }
	fi
	wait "$1" 2>/dev/null || true
}

EVM_PID=
PF_ETC=
PF_MASTER=
BROKER_DIR=

stop_evmaild() {
	[ -n "$EVM_PID" ] || return 0
	stop_pid "$EVM_PID" 200 "evmaild (pid $EVM_PID) ignored SIGTERM for 20 s: SIGKILL"
	EVM_PID=
}

stop_postfix() {
	[ -n "$PF_ETC" ] || return 0
	postfix -c "$PF_ETC" stop >/dev/null 2>&1 || true
	if [ -n "$PF_MASTER" ] && ! gone "$PF_MASTER" 100; then
		log "postfix master (pid $PF_MASTER) still running after stop: SIGKILL"
		kill -KILL "$PF_MASTER" 2>/dev/null || true
	fi
	PF_ETC=
	PF_MASTER=
}

stop_broker() {
	[ -n "$BROKER_DIR" ] || return 0
	"$ROOT/tests/kafka/broker.sh" stop "$BROKER_DIR" >&2 || true
	BROKER_DIR=
}

# bench_traps STOP...: the EXIT trap runs the STOP functions in order, then
# removes TMP (KEEP=1: keeps it and says where); INT exits 130, TERM (the
# timeout) 143, both through the EXIT trap.
bench_traps() {
	BENCH_STOPS=("$@")
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'log "timed out or terminated"; exit 143' TERM
}

bench_cleanup() {
	local rc=$? stop
	set +e
	trap - EXIT INT TERM
	for stop in "${BENCH_STOPS[@]}"; do
		"$stop"
	done
	if [ "$KEEP" = 1 ]; then
		log "kept $TMP"
	else
		rm -rf "$TMP"
	fi
	exit $rc
}

free_port() { python3 "$ROOT/bench/bench_common.py" free-port "$@"; }

# ---------------------------------------------------------------- postfix
# postfix_main_cf DIR: the main.cf lines of a private instance under DIR
# (queue DIR/queue, data DIR/data, maillog DIR/maillog) that both benches
# use; the script appends its own (relayhost, transports, maps). Relaxed
# for the load: no reverse lookups, no per-client limits, no inbound flow
# delay (smtpd does not slow down when qmgr lags).
postfix_main_cf() {
	local dir=$1
	cat <<EOF
# private instance for bench/$(basename "$SELF"); nothing outside $dir
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.bench.local
mydomain = bench.local
myorigin = \$myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
relay_domains =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
biff = no
smtputf8_enable = no
# relaxed for the load: no reverse lookups, no per-client limits, no
# inbound flow delay
smtpd_peername_lookup = no
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
in_flow_delay = 0s
default_process_limit = 200
maillog_file_prefixes = $dir
maillog_file = $dir/maillog
EOF
}

# postfix_master_cf: master.cf's services both instances use; the script
# adds its smtpd listeners and delivery agents (virtual, relay).
postfix_master_cf() {
	cat <<'EOF'
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
smtp      unix  -       -       n       -       -       smtp
EOF
}

# postfix_start_instance DIR: postfix check + start with DIR/etc, then up to
# 10 s for DIR/queue/pid/master.pid; sets PF_ETC (stop_postfix needs it)
# and PF_MASTER.
postfix_start_instance() {
	local dir=$1
	PF_ETC="$dir/etc"
	postfix -c "$PF_ETC" check >&2 || die "postfix check failed"
	postfix -c "$PF_ETC" start >&2 || die "postfix start failed"
	for _ in $(seq 1 100); do
		[ -s "$dir/queue/pid/master.pid" ] && break
		sleep 0.1
	done
	PF_MASTER=$(tr -d ' \n' < "$dir/queue/pid/master.pid" 2>/dev/null || true)
}

postfix_problems() { # MAILLOG
	if grep -qE '(warning|error|fatal|panic):' "$1"; then
		log "postfix: warnings in its maillog:"
		grep -E '(warning|error|fatal|panic):' "$1" | sed 's/^.*\]: //' | sort | uniq -c | sort -rn | head -n 10 >&2
	fi
}

# ---------------------------------------------------------------- dovecot
# A private Dovecot for the IMAP benches: everything under $TMP/dovecot, IMAP
# on 127.0.0.1:$DPORT, users in a passwd-file with {CRYPT} yescrypt hashes of
# the default cost ($y$j9T$, as evmailctl makes them), maildir, no TLS. No
# system service is started or left running: the master runs in the
# foreground under our pid (DC_PID) and stop_dovecot ends it.
DC_PID=
stop_dovecot() {
	[ -n "$DC_PID" ] || return 0
	stop_pid "$DC_PID" 300 "dovecot master (pid $DC_PID) still running after 30 s: SIGKILL"
	DC_PID=
}

# wait_tcp PORT SECONDS: 0 once 127.0.0.1:PORT accepts a connection.
wait_tcp() {
	python3 - "$1" "$2" <<'PY'
import socket, sys, time
end = time.time() + float(sys.argv[2])
while time.time() < end:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close(); sys.exit(0)
    except OSError:
        time.sleep(0.2)
sys.exit(1)
PY
}

# yescrypt_hash PASSWORD: a fresh salt, the default cost.
yescrypt_hash() {
	local salt hash
	salt=$(head -c 12 /dev/urandom | base64 | tr '+=/' '.A.' | head -c 16)
	hash=$(perl -e 'print crypt($ARGV[0], q($y$j9T$) . $ARGV[1])' "$1" "$salt")
	case "$hash" in '$y$'*) echo "$hash" ;; *) die "perl crypt() did not give a yescrypt hash: $hash" ;; esac
}

# dovecot_prepare: DC_DIR, DC_CONF, DPORT, MUID/MGID (the mail owner,
# nobody), an empty users file.
dovecot_prepare() {
	DC_DIR="$TMP/dovecot"
	DC_CONF="$DC_DIR/dovecot.conf"
	mkdir -p "$DC_DIR/run" "$DC_DIR/state" "$DC_DIR/mail"
	chmod 755 "$DC_DIR" "$DC_DIR/mail"
	DPORT=$(free_port)
	MUID=$(id -u nobody)
	MGID=$(id -g nobody)
	: > "$DC_DIR/users"
	chmod 644 "$DC_DIR/users"
}

# dovecot_user ADDRESS HASH: one passwd-file line, home in $DC_DIR/mail.
dovecot_user() {
	echo "$1:{CRYPT}$2:$MUID:$MGID::$DC_DIR/mail/$1::" >> "$DC_DIR/users"
}

# dovecot_config NAME [MORE [LOGIN_MORE]]: writes $DC_CONF; MORE is added
# at the top level (limits, caches, service blocks), LOGIN_MORE inside
# service imap-login.
dovecot_config() {
	cat > "$DC_CONF" <<CONF
# private instance for bench/$1; nothing outside $DC_DIR
base_dir = $DC_DIR/run
state_dir = $DC_DIR/state
instance_name = $1$$
log_path = $DC_DIR/dovecot.log
info_log_path = $DC_DIR/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
mail_location = maildir:~/Maildir
${2:-}
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
${3:-}
}
CONF
	chmod 644 "$DC_CONF"
}

# dovecot_start: checks the configuration, starts the master (DC_PID) and
# waits for its IMAP listener.
dovecot_start() {
	dovecot -c "$DC_CONF" -n >/dev/null || die "dovecot: configuration rejected (dovecot -c $DC_CONF -n)"
	log "dovecot: starting a private instance (dovecot -F -c $DC_CONF, imap 127.0.0.1:$DPORT)"
	dovecot -F -c "$DC_CONF" </dev/null >>"$DC_DIR/dovecot.stdout" 2>&1 &
	DC_PID=$!
	wait_tcp "$DPORT" 30 || { tail -n 20 "$DC_DIR/dovecot.log" >&2; die "dovecot: no IMAP listener"; }
}
