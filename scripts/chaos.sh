#!/usr/bin/env bash
# chaos.sh - the full chaos run of tests/chaos: a 3-broker KRaft cluster
# (replication factor 3, min.insync.replicas 2) and evmaild nodes under mixed
# load for 5 minutes, a node or a broker killed with SIGKILL every 10 to 20
# seconds and restarted; then a fourth node joining and a rolling restart
# of every node under 3 minutes of load. Prints the counts (acknowledged,
# found, kills, reconnects, duplicates after unknown outcomes) and exits
# non-zero if any check failed. scripts/test.sh runs the short variant.
#
# Usage: scripts/chaos.sh [pytest arguments, e.g. -k kill]
#   CHAOS_DURATION=300 CHAOS_KILL_MIN=10 CHAOS_KILL_MAX=20 CHAOS_JOIN_DURATION=180
#   CHAOS_SEED=N       repeat the random choices of an earlier run (printed)
#   EVMAIL_BUILD_DIR   a build with gateway/evmaild and admin/evmailctl
#                      (default: build/, built here with ninja -j2 if needed)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

export CHAOS_DURATION=${CHAOS_DURATION:-300}
export CHAOS_KILL_MIN=${CHAOS_KILL_MIN:-10}
export CHAOS_KILL_MAX=${CHAOS_KILL_MAX:-20}
export CHAOS_JOIN_DURATION=${CHAOS_JOIN_DURATION:-180}
export EVMAIL_REQUIRE_KAFKA=1

if [ -z "${EVMAIL_BUILD_DIR:-}" ]; then
	export EVMAIL_BUILD_DIR=$ROOT/build
	cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
		ninja -C build -j2 gateway/evmaild admin/evmailctl || exit 1
fi

# Bounded: the load, the kills, start-up, the drain and the checks.
limit=$(python3 -c "import os; print(int(float(os.environ['CHAOS_DURATION']) + float(os.environ['CHAOS_JOIN_DURATION']) + 900))")
exec timeout --kill-after=30 "$limit" python3 -m pytest tests/chaos -v -s -p no:cacheprovider "$@"
