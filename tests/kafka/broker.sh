#!/bin/bash
# broker.sh - start/stop a single-node Apache Kafka broker (KRaft, combined
# broker+controller) for tests, on 127.0.0.1 only.
#
#   broker.sh start DIR PORT   format DIR, start the broker in the background
#                              (PLAINTEXT on PORT, CONTROLLER on PORT+1), wait
#                              until it accepts connections; pid in
#                              DIR/broker.pid, output in DIR/broker.log
#   broker.sh stop DIR         TERM the broker, KILL after 10 s, wait for it
#
# The jars come from tests/kafka/pom.xml (Maven Central), resolved into
# tests/kafka/target/lib on first use. Java 17 must be on PATH.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
LIB="$HERE/target/lib"
START_TIMEOUT=${BROKER_START_TIMEOUT:-60}

die() {
	echo "broker.sh: $*" >&2
	exit 1
}

# Resolves the broker jars with Maven unless they are already there.
resolve_jars() {
	if [ -f "$LIB/kafka_2.13-4.1.1.jar" ] && [ -f "$LIB/kafka-tools-4.1.1.jar" ]; then
		return 0
	fi
	echo "broker.sh: resolving Kafka jars with Maven into $LIB" >&2
	(cd "$HERE" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies -DoutputDirectory=target/lib) ||
		die "maven could not resolve the Kafka jars"
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Runs a Kafka JVM class with the quiet logging configuration.
kafka_java() {
	java -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
		-Dlog4j.configuration="file:$HERE/log4j.properties" \
		-Dlog4j2.configurationFile="$HERE/log4j2.properties" \
		-Dkafka.logs.dir="$DIR/logs" \
		-cp "$LIB/*" "$@"
}

# Prints the last lines of the broker log to stderr.
log_tail() {
	if [ -f "$DIR/broker.log" ]; then
		echo "---- last lines of $DIR/broker.log ----" >&2
		tail -n 40 "$DIR/broker.log" >&2
	fi
}

start() {
	[ "$PORT" -gt 0 ] && [ "$PORT" -lt 65535 ] 2>/dev/null || die "bad port: $PORT"
	CPORT=$((PORT + 1))
	command -v java >/dev/null || die "java not found"
	if [ -f "$DIR/broker.pid" ] && kill -0 "$(cat "$DIR/broker.pid")" 2>/dev/null; then
		die "a broker is already running from $DIR (pid $(cat "$DIR/broker.pid"))"
	fi
	port_open "$PORT" && die "port $PORT is already in use"
	port_open "$CPORT" && die "port $CPORT (controller) is already in use"
	resolve_jars
	mkdir -p "$DIR"
	DIR=$(cd "$DIR" && pwd)
	rm -rf "$DIR/data" "$DIR/logs"
	mkdir -p "$DIR/data" "$DIR/logs"
	cat > "$DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$DIR/data
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
log.segment.bytes=16777216
PROPS
	CLUSTER_ID=$(kafka_java kafka.tools.StorageTool random-uuid 2>>"$DIR/format.log") ||
		{ cat "$DIR/format.log" >&2; die "random-uuid failed"; }
	kafka_java kafka.tools.StorageTool format -t "$CLUSTER_ID" \
		-c "$DIR/server.properties" --standalone >>"$DIR/format.log" 2>&1 ||
		{ cat "$DIR/format.log" >&2; die "storage format failed"; }

	# setsid: the broker gets its own process group, so the caller's
	# terminal signals do not reach it and stop can find it by pid.
	setsid java -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
		-Dlog4j.configuration="file:$HERE/log4j.properties" \
		-Dlog4j2.configurationFile="$HERE/log4j2.properties" \
		-Dkafka.logs.dir="$DIR/logs" \
		-cp "$LIB/*" kafka.Kafka "$DIR/server.properties" \
		>"$DIR/broker.log" 2>&1 </dev/null &
	echo $! > "$DIR/broker.pid"
	PID=$!

	waited=0
	while :; do
		if ! kill -0 "$PID" 2>/dev/null; then
			log_tail
			die "broker exited during start-up"
		fi
		if port_open "$PORT" && grep -q "Kafka Server started" "$DIR/broker.log"; then
			break
		fi
		if [ "$waited" -ge $((START_TIMEOUT * 5)) ]; then
			log_tail
			kill -KILL "$PID" 2>/dev/null || true
			die "broker did not start within ${START_TIMEOUT}s"
		fi
		sleep 0.2
		waited=$((waited + 1))
	done
	echo "broker.sh: broker pid $PID listening on 127.0.0.1:$PORT (dir $DIR)" >&2
}

stop() {
	[ -f "$DIR/broker.pid" ] || die "no $DIR/broker.pid"
	PID=$(cat "$DIR/broker.pid")
	if kill -0 "$PID" 2>/dev/null; then
		kill -TERM "$PID" 2>/dev/null || true
		n=0
		while kill -0 "$PID" 2>/dev/null; do
			if [ "$n" -ge 100 ]; then
				echo "broker.sh: broker $PID ignored TERM for 10s, killing" >&2
				kill -KILL "$PID" 2>/dev/null || true
			fi
			if [ "$n" -ge 150 ]; then
				die "broker $PID does not die"
			fi
			sleep 0.1
			n=$((n + 1))
		done
	fi
	rm -f "$DIR/broker.pid"
	echo "broker.sh: broker $PID stopped" >&2
}

[ $# -ge 2 ] || die "usage: broker.sh start DIR PORT | broker.sh stop DIR"
CMD=$1
DIR=$2
case "$CMD" in
start)
	[ $# -eq 3 ] || die "usage: broker.sh start DIR PORT"
	PORT=$3
	start
	;;
stop)
	stop
	;;
*)
	die "unknown command: $CMD"
	;;
esac
