#!/bin/bash
# cluster.sh - a multi-node Apache Kafka cluster (KRaft, every node a
# combined broker+controller, a static quorum of all nodes) for the chaos
# tests, on 127.0.0.1 only. broker.sh stays the single-broker tool.
#
#   cluster.sh start DIR PORT...  one node per PORT (ids 1..N): PLAINTEXT on
#                                 PORT, CONTROLLER on PORT+1; formats every
#                                 node with one cluster id, starts them all
#                                 and waits until each says it started.
#                                 Replication factor N (at most 3), and
#                                 min.insync.replicas N-1 (at least 1).
#   cluster.sh kill DIR I         SIGKILL node I (kill -9) and wait for it
#   cluster.sh restart DIR I      start node I again on its existing data
#                                 (after kill), wait until it started
#   cluster.sh stop DIR           TERM every node, KILL after 10 s
#   cluster.sh bootstrap DIR      print host:port,host:port,...
#
# Node I lives in DIR/I (server.properties, data/, broker.pid, broker.log;
# the log of earlier runs of that node goes to broker.log.old). Each node
# is a JVM of -Xmx384m (CLUSTER_HEAP) in its own session. Java 17 is
# needed; the jars are resolved into tests/kafka/target/lib as broker.sh does.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
LIB="$HERE/target/lib"
START_TIMEOUT=${BROKER_START_TIMEOUT:-120}
HEAP=${CLUSTER_HEAP:-384m}

die() {
	echo "cluster.sh: $*" >&2
	exit 1
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Resolves the broker jars with Maven unless they are already there (as broker.sh).
resolve_jars() {
	if [ -f "$LIB/kafka_2.13-4.1.1.jar" ] && [ -f "$LIB/kafka-tools-4.1.1.jar" ]; then
		return 0
	fi
	echo "cluster.sh: resolving Kafka jars with Maven into $LIB" >&2
	(cd "$HERE" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies -DoutputDirectory=target/lib) ||
		die "maven could not resolve the Kafka jars"
}

# The JVM options of every Kafka process here (small heap, few GC threads).
jvm_opts() {
	echo "-Xmx$HEAP -Xms64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true" \
		"-Dlog4j.configuration=file:$HERE/log4j.properties" \
		"-Dlog4j2.configurationFile=$HERE/log4j2.properties"
}

# Runs a Kafka tool class (for formatting), output to stdout.
kafka_tool() {
	# shellcheck disable=SC2046
	java $(jvm_opts) -Dkafka.logs.dir="$DIR/tool-logs" -cp "$LIB/*" "$@"
}

# Prints the last lines of node $1's log to stderr.
log_tail() {
	if [ -f "$DIR/$1/broker.log" ]; then
		echo "---- last lines of $DIR/$1/broker.log ----" >&2
		tail -n 40 "$DIR/$1/broker.log" >&2
	fi
}

# Writes DIR/I/server.properties for node I of the ports in PORTS.
write_props() {
	local i=$1 n=${#PORTS[@]} port=${PORTS[$(($1 - 1))]} voters="" boot="" j rf isr
	for j in $(seq 1 "$n"); do
		voters="$voters${voters:+,}$j@127.0.0.1:$((PORTS[j - 1] + 1))"
		boot="$boot${boot:+,}127.0.0.1:${PORTS[j - 1]}"
	done
	rf=$((n < 3 ? n : 3))
	isr=$((rf > 1 ? rf - 1 : 1))
	mkdir -p "$DIR/$i/data" "$DIR/$i/logs"
	cat > "$DIR/$i/server.properties" <<PROPS
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$((port + 1))
advertised.listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$((port + 1))
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$DIR/$i/data
num.partitions=1
default.replication.factor=$rf
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
min.insync.replicas=$isr
unclean.leader.election.enable=false
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
log.segment.bytes=16777216
num.network.threads=2
num.io.threads=2
num.replica.fetchers=1
background.threads=2
log.cleaner.threads=1
num.recovery.threads.per.data.dir=1
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=4000
replica.lag.time.max.ms=8000
controller.quorum.election.timeout.ms=1000
controller.quorum.fetch.timeout.ms=2000
PROPS
	echo "$boot" > "$DIR/bootstrap"
}

# Starts node I in the background on its data (own session, pid file).
launch() {
	local i=$1 port
	port=$(sed -n 's/^listeners=PLAINTEXT:\/\/127.0.0.1:\([0-9]*\),.*/\1/p' "$DIR/$i/server.properties")
	[ -n "$port" ] || die "node $i: no port in $DIR/$i/server.properties"
	if [ -f "$DIR/$i/broker.pid" ] && kill -0 "$(cat "$DIR/$i/broker.pid")" 2>/dev/null; then
		die "node $i is already running (pid $(cat "$DIR/$i/broker.pid"))"
	fi
	port_open "$port" && die "node $i: port $port is already in use"
	if [ -f "$DIR/$i/broker.log" ]; then
		cat "$DIR/$i/broker.log" >> "$DIR/$i/broker.log.old"
	fi
	# shellcheck disable=SC2046
	setsid java $(jvm_opts) -Dkafka.logs.dir="$DIR/$i/logs" -cp "$LIB/*" \
		kafka.Kafka "$DIR/$i/server.properties" >"$DIR/$i/broker.log" 2>&1 </dev/null &
	echo $! > "$DIR/$i/broker.pid"
	echo "$port" > "$DIR/$i/port"
}

# Waits until node I accepts connections and its log says it started.
wait_started() {
	local i=$1 pid port waited=0
	pid=$(cat "$DIR/$i/broker.pid")
	port=$(cat "$DIR/$i/port")
	while :; do
		if ! kill -0 "$pid" 2>/dev/null; then
			log_tail "$i"
			die "node $i exited during start-up"
		fi
		if port_open "$port" && grep -q "Kafka Server started" "$DIR/$i/broker.log"; then
			return 0
		fi
		if [ "$waited" -ge $((START_TIMEOUT * 5)) ]; then
			log_tail "$i"
			die "node $i did not start within ${START_TIMEOUT}s"
		fi
		sleep 0.2
		waited=$((waited + 1))
	done
}

# The node numbers under DIR, in order.
node_ids() {
	local d
	for d in "$DIR"/*/server.properties; do
		[ -f "$d" ] && basename "$(dirname "$d")"
	done | sort -n
}

start() {
	local n=${#PORTS[@]} i p id
	[ "$n" -ge 1 ] && [ "$n" -le 9 ] || die "between 1 and 9 ports, got $n"
	for p in "${PORTS[@]}"; do
		[ "$p" -gt 0 ] && [ "$p" -lt 65535 ] 2>/dev/null || die "bad port: $p"
		port_open "$p" && die "port $p is already in use"
		port_open "$((p + 1))" && die "port $((p + 1)) (controller) is already in use"
	done
	command -v java >/dev/null || die "java not found"
	resolve_jars
	mkdir -p "$DIR"
	DIR=$(cd "$DIR" && pwd)
	id=$(kafka_tool kafka.tools.StorageTool random-uuid 2>>"$DIR/format.log") ||
		{ cat "$DIR/format.log" >&2; die "random-uuid failed"; }
	for i in $(seq 1 "$n"); do
		rm -rf "${DIR:?}/$i"
		write_props "$i"
	done
	# One JVM per format; in parallel, they are independent.
	for i in $(seq 1 "$n"); do
		kafka_tool kafka.tools.StorageTool format -t "$id" -c "$DIR/$i/server.properties" \
			>>"$DIR/$i/format.log" 2>&1 &
	done
	for i in $(seq 1 "$n"); do
		wait -n || { cat "$DIR"/*/format.log >&2; die "storage format failed"; }
	done
	for i in $(seq 1 "$n"); do
		launch "$i"
	done
	for i in $(seq 1 "$n"); do
		wait_started "$i" || { stop_all; exit 1; }
	done
	echo "cluster.sh: $n nodes started, bootstrap $(cat "$DIR/bootstrap") (dir $DIR)" >&2
}

# Waits up to $2 tenths of a second for pid $1 to end.
wait_gone() {
	local n=0
	while kill -0 "$1" 2>/dev/null; do
		[ "$n" -ge "$2" ] && return 1
		sleep 0.1
		n=$((n + 1))
	done
	return 0
}

kill_node() {
	local i=$1 pid
	[ -f "$DIR/$i/broker.pid" ] || die "no node $i in $DIR"
	pid=$(cat "$DIR/$i/broker.pid")
	kill -KILL "$pid" 2>/dev/null || true
	wait_gone "$pid" 100 || die "node $i ($pid) does not die"
	echo "cluster.sh: node $i (pid $pid) killed" >&2
}

restart_node() {
	local i=$1
	[ -f "$DIR/$i/server.properties" ] || die "no node $i in $DIR"
	launch "$i"
	wait_started "$i"
	echo "cluster.sh: node $i restarted (pid $(cat "$DIR/$i/broker.pid"))" >&2
}

stop_all() {
	local i pid pids=()
	for i in $(node_ids); do
		[ -f "$DIR/$i/broker.pid" ] || continue
		pid=$(cat "$DIR/$i/broker.pid")
		kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
	done
	for pid in "${pids[@]}"; do
		if ! wait_gone "$pid" 100; then
			echo "cluster.sh: node $pid ignored TERM for 10s, killing" >&2
			kill -KILL "$pid" 2>/dev/null || true
			wait_gone "$pid" 50 || echo "cluster.sh: node $pid does not die" >&2
		fi
	done
	for i in $(node_ids); do
		rm -f "$DIR/$i/broker.pid"
	done
	echo "cluster.sh: cluster in $DIR stopped" >&2
}

usage="usage: cluster.sh start DIR PORT... | kill DIR I | restart DIR I | stop DIR | bootstrap DIR"
[ $# -ge 2 ] || die "$usage"
CMD=$1
DIR=$2
shift 2
case "$CMD" in
start)
	[ $# -ge 1 ] || die "$usage"
	PORTS=("$@")
	start
	;;
kill)
	[ $# -eq 1 ] || die "$usage"
	kill_node "$1"
	;;
restart)
	[ $# -eq 1 ] || die "$usage"
	restart_node "$1"
	;;
stop)
	stop_all
	;;
bootstrap)
	cat "$DIR/bootstrap"
	;;
*)
	die "unknown command: $CMD"
	;;
esac
