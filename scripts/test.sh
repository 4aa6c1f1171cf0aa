#!/usr/bin/env bash
# Runs the whole evmail test suite on this machine: installs dependencies,
# builds (normal, ASan+UBSan, libFuzzer), starts a real Kafka broker (KRaft)
# on 127.0.0.1, runs the C unit tests (ctest), the fuzz targets for a short
# time, the end-to-end tests (pytest), stops the broker, runs the short chaos
# variant (tests/chaos, with a 3-broker cluster of its own), and prints a summary.
# Usage: scripts/test.sh            (everything)
#        SKIP_ASAN=1 SKIP_FUZZ=1 SKIP_CHAOS=1 scripts/test.sh   (quicker local run)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/build-test-results
rm -rf "$OUT"; mkdir -p "$OUT"

bash scripts/install-deps.sh || { echo "dependency installation failed"; exit 1; }

fail=0
step() { echo; echo "=== $* ==="; }

step "build (RelWithDebInfo)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null && ninja -C build || exit 1

if [ -z "${SKIP_ASAN:-}" ]; then
  step "build (ASan + UBSan)"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DEVMAIL_SANITIZE=ON >/dev/null && ninja -C build-asan || exit 1
fi
if [ -z "${SKIP_FUZZ:-}" ]; then
  step "build (libFuzzer targets, clang)"
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug -DEVMAIL_FUZZ=ON >/dev/null && ninja -C build-fuzz || exit 1
fi

step "start Kafka broker"
KAFKA_DIR=$(mktemp -d /tmp/evmail-kafka.XXXXXX)
KAFKA_PORT=${EVMAIL_TEST_KAFKA_PORT:-19092}
stop_broker() { bash tests/kafka/broker.sh stop "$KAFKA_DIR" >/dev/null 2>&1 || true; }
trap stop_broker EXIT
if bash tests/kafka/broker.sh start "$KAFKA_DIR" "$KAFKA_PORT"; then
  export EVMAIL_TEST_KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
else
  echo "the Kafka broker did not start"; exit 1
fi

step "unit tests (ctest)"
(cd build && ctest --output-on-failure --timeout 600 --output-junit "$OUT/ctest.xml") || fail=1

if [ -z "${SKIP_ASAN:-}" ]; then
  step "unit tests under ASan + UBSan (ctest)"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure --timeout 900 --output-junit "$OUT/ctest-asan.xml") || fail=1
fi
if [ -z "${SKIP_FUZZ:-}" ]; then
  # 10 s per target on the corpus in fuzz/corpus (about 5 minutes for 25
  # targets, less than the 20 s each of `ctest -L fuzz` on empty corpora);
  # the checkout's corpus is left as it is. Longer: scripts/fuzz.sh 600.
  step "fuzz targets (scripts/fuzz.sh ${FUZZ_SECONDS:-10})"
  FUZZ_NO_BUILD=1 FUZZ_NO_MERGE=1 FUZZ_BUILD_DIR=build-fuzz FUZZ_OUT="$OUT/fuzz" \
    bash scripts/fuzz.sh "${FUZZ_SECONDS:-10}" || fail=1
fi

step "end-to-end tests (pytest)"
EVMAIL_BUILD_DIR=$ROOT/build python3 -m pytest tests/static tests/e2e -v --junitxml="$OUT/pytest.xml" -p no:cacheprovider
rc=$?
if [ $rc -ne 0 ]; then fail=1; fi

if [ -z "${SKIP_CHAOS:-}" ]; then
  # Short variant (about 4 minutes): its own 3-broker KRaft cluster, node and
  # broker kills under load, a node joining, a rolling restart.
  # scripts/chaos.sh runs the full 5-minute variant.
  step "chaos tests, short variant (pytest tests/chaos)"
  stop_broker   # the single broker is not used any more: its memory and CPU go to the cluster
  EVMAIL_BUILD_DIR=$ROOT/build EVMAIL_REQUIRE_KAFKA=1 CHAOS_DURATION=75 CHAOS_KILL_MIN=8 CHAOS_KILL_MAX=15 \
    CHAOS_JOIN_DURATION=50 timeout --kill-after=30 900 \
    python3 -m pytest tests/chaos -v -s --junitxml="$OUT/pytest-chaos.xml" -p no:cacheprovider || fail=1
fi

step "summary"
python3 scripts/summarize.py "$OUT"/*.xml || fail=1
exit $fail
