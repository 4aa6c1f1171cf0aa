#!/usr/bin/env bash
# fuzz.sh - runs every libFuzzer target (fuzz_*.c) for SECONDS each on its
# corpus in the repository (fuzz/corpus/<target>/), merges what it found
# back into a minimised corpus, and prints a table (target, runs, execs/s,
# corpus files and size, crashes). A crash, leak, timeout or out-of-memory
# fails the script; its reproducer is kept under $FUZZ_OUT/<target>/ and the
# command that replays it is printed.
#
# Usage: scripts/fuzz.sh SECONDS
#   FUZZ_BUILD_DIR   build directory (default build-fuzz; configured with
#                    clang -DEVMAIL_FUZZ=ON and built here unless FUZZ_NO_BUILD=1)
#   FUZZ_TARGETS     extended regex: only the targets it matches
#   FUZZ_OUT         reproducers and logs (default $FUZZ_BUILD_DIR/fuzz-out)
#   FUZZ_JOBS        ninja -j (default: ninja's)
#   FUZZ_NO_MERGE=1  leave fuzz/corpus as it is (CI on a read-only checkout)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SECONDS_PER_TARGET=${1:-}
if ! [[ "$SECONDS_PER_TARGET" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/fuzz.sh SECONDS   (seconds per fuzz target)" >&2
  exit 2
fi
BUILD=${FUZZ_BUILD_DIR:-build-fuzz}
OUT=${FUZZ_OUT:-$BUILD/fuzz-out}
CORPUS_MAX=$((1024 * 1024))   # bytes per target after the merge

mapfile -t TARGETS < <(find common ingest projector gateway admin -name 'fuzz_*.c' -printf '%f\n' 2>/dev/null |
                       sed 's/\.c$//' | sort | grep -E "${FUZZ_TARGETS:-.}")
if [ ${#TARGETS[@]} -eq 0 ]; then
  echo "fuzz.sh: no fuzz target matches '${FUZZ_TARGETS:-.}'" >&2
  exit 2
fi

if [ -z "${FUZZ_NO_BUILD:-}" ]; then
  echo "=== build ${#TARGETS[@]} fuzz targets (clang, $BUILD) ==="
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DEVMAIL_FUZZ=ON >/dev/null || exit 1
  ninja -C "$BUILD" ${FUZZ_JOBS:+-j "$FUZZ_JOBS"} "${TARGETS[@]}" || exit 1
fi
rm -rf "$OUT"
mkdir -p "$OUT"

# dir_bytes DIR: total size of the files in DIR.
dir_bytes() { find "$1" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }
# stat_of LOG NAME: the last "stat::NAME: value" libFuzzer printed.
stat_of() { sed -n "s/^stat::$2: *//p" "$1" | tail -1; }

failed=0
rows=()
start=$(date +%s)
for t in "${TARGETS[@]}"; do
  bin=$(find "$BUILD" -type f -name "$t" -perm -u+x | head -1)
  if [ -z "$bin" ]; then
    echo "fuzz.sh: $t was not built in $BUILD" >&2
    rows+=("$t|-|-|-|-|not built")
    failed=1
    continue
  fi
  corpus=$ROOT/fuzz/corpus/$t
  work=$OUT/$t
  mkdir -p "$corpus" "$work/new" "$work/merged"
  echo "=== $t: ${SECONDS_PER_TARGET}s on $(find "$corpus" -type f | wc -l) corpus files ==="
  # New inputs go to work/new (the first directory); the repository's
  # corpus is only read. Reproducers are written under work/.
  "$bin" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
    -artifact_prefix="$work/" "$work/new" "$corpus" >"$work/run.log" 2>&1
  rc=$?
  runs=$(stat_of "$work/run.log" number_of_executed_units)
  eps=$(stat_of "$work/run.log" average_exec_per_sec)
  mapfile -t crashes < <(find "$work" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
                                                         -o -name 'oom-*' \))
  result=ok
  if [ "$rc" -ne 0 ] || [ ${#crashes[@]} -gt 0 ]; then
    result="FAILED (exit $rc, ${#crashes[@]} reproducer(s))"
    failed=1
    echo "--- $t failed; the end of its output:"
    tail -40 "$work/run.log"
    for c in "${crashes[@]}"; do echo "reproduce: $bin $c"; done
  elif [ -z "${FUZZ_NO_MERGE:-}" ]; then
    # The minimised union of the old corpus and what this run found.
    if "$bin" -merge=1 -rss_limit_mb=2048 -timeout=20 "$work/merged" "$corpus" "$work/new" >"$work/merge.log" 2>&1; then
      bytes=$(dir_bytes "$work/merged")
      if [ "$bytes" -le "$CORPUS_MAX" ]; then
        find "$corpus" -type f -delete
        find "$work/merged" -type f -exec mv -t "$corpus" {} +
      else
        echo "--- $t: the merged corpus is $bytes bytes (over $CORPUS_MAX): kept the old one"
      fi
    else
      echo "--- $t: merge failed (see $work/merge.log); kept the old corpus"
    fi
  fi
  rows+=("$t|${runs:--}|${eps:--}|$(find "$corpus" -type f | wc -l)|$(( $(dir_bytes "$corpus") / 1024 )) KiB|$result")
done

echo
echo "=== fuzz.sh: ${SECONDS_PER_TARGET}s per target, $(( $(date +%s) - start ))s in all ==="
{
  echo "target|runs|execs/s|corpus files|corpus size|result"
  printf '%s\n' "${rows[@]}"
} | column -t -s '|'
if [ "$failed" -ne 0 ]; then
  echo "fuzz.sh: FAILED (reproducers under $OUT)"
  exit 1
fi
exit 0
