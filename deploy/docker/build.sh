#!/usr/bin/env bash
# build.sh - the build stage of deploy/docker/Dockerfile, runnable on a host.
# Configures, builds and installs evmaild and evmailctl from SRC into PREFIX
# (PREFIX/bin/evmaild, PREFIX/bin/evmailctl) and checks that the installed
# daemon starts far enough to print its configuration. CI runs it on the host
# where no Docker engine exists (tests/static/test_deploy_docker.py).
# Usage: deploy/docker/build.sh SRC PREFIX [BUILD_DIR]
#   BUILD_DIR  reuse this CMake build directory (default: SRC/build-docker)
#   EVMAIL_BUILD_TYPE  CMake build type (default: Release; an existing
#                      BUILD_DIR keeps the type it was configured with)
#   EVMAIL_JOBS        ninja -j (default: the number of CPUs)
set -euo pipefail

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
  echo "usage: $0 SRC PREFIX [BUILD_DIR]" >&2
  exit 2
fi
src=$(cd "$1" && pwd)
prefix=$2
build=${3:-$src/build-docker}
jobs=${EVMAIL_JOBS:-$(nproc)}

type=${EVMAIL_BUILD_TYPE:-}
if [ -z "$type" ] && [ -f "$build/CMakeCache.txt" ]; then
  type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt")
fi
type=${type:-Release}

cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="$type" >/dev/null
# Only the two programs the image ships: the tests are not part of it.
ninja -C "$build" -j "$jobs" evmaild evmailctl
cmake --install "$build" --prefix "$prefix" >/dev/null

# The installed programs run: no missing shared library, a valid default
# configuration.
"$prefix/bin/evmaild" --check-config >/dev/null
"$prefix/bin/evmailctl" --help >/dev/null
echo "build.sh: installed $prefix/bin/evmaild and $prefix/bin/evmailctl ($type)"
