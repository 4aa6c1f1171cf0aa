#!/bin/bash
# run-log-bench.sh - build bench_log, start a single-node Kafka broker on
# 127.0.0.1 (tests/kafka/broker.sh), run the log + projector benchmark
# against it and the embedded log, stop the broker.
#
#   bench/run-log-bench.sh [bench_log options...]     e.g. -n 100000
#
# Environment: BUILD_DIR (default build), KAFKA_PORT (default 19092),
# BENCH_TIMEOUT (whole run, seconds, default 1200). The broker is stopped
# on any exit (trap); the run is bounded by `timeout`.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
PORT=${KAFKA_PORT:-19092}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-1200}

cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja >&2
ninja -C "$BUILD_DIR" bench_log >&2

BROKER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/evmail-bench-broker.XXXXXX")
cleanup() {
	"$ROOT/tests/kafka/broker.sh" stop "$BROKER_DIR" || true
	rm -rf "$BROKER_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$ROOT/tests/kafka/broker.sh" start "$BROKER_DIR" "$PORT"

timeout --kill-after=10 "$BENCH_TIMEOUT" \
	"$BUILD_DIR/bench/bench_log" --brokers "127.0.0.1:$PORT" "$@"
