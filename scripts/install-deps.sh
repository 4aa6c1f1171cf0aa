#!/usr/bin/env bash
# Installs every build and test dependency of evmail on a fresh Debian 12
# machine (run as root, or with sudo available), and resolves the Apache
# Kafka broker jars used by the tests into tests/kafka/target/lib.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

packages=(
  build-essential cmake ninja-build pkg-config git
  librdkafka-dev librocksdb-dev libssl-dev libevent-dev libjansson-dev
  libcrypt-dev zlib1g-dev libutf8proc-dev
  libunbound-dev libcurl4-openssl-dev dns-root-data libidn2-dev libwslay-dev
  libspf2-dev libopendmarc-dev publicsuffix
  clang libclang-rt-14-dev
  kcat openssl curl procps swaks libnet-ssleay-perl libio-socket-ssl-perl isync fetchmail
  postfix nsd ldnsutils unbound-anchor python3-dkim python3-dnspython python3-authres
  openjdk-17-jre-headless maven
  python3 python3-pytest python3-yaml python3-websockets
  systemd
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  # Postfix is a test peer started by the harness with its own configuration
  # directory: keep the package from configuring a system mailer.
  echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
  echo "postfix postfix/mailname string localhost" | $SUDO debconf-set-selections
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The machine's python3 may be another interpreter than Debian's; make sure
# the one on PATH has pytest.
python3 -c 'import pytest' 2>/dev/null || python3 -m pip install -q pytest
python3 -c 'import yaml' 2>/dev/null || python3 -m pip install -q pyyaml
# dkimpy's arc_sign (tests/e2e/test_inbound_auth.py) needs authres.
python3 -c 'import authres' 2>/dev/null || python3 -m pip install -q authres
# dkimpy: the independent DKIM verifier of the sending tests.
python3 -c 'import dkim' 2>/dev/null || python3 -m pip install -q dkimpy
# PyNaCl: dkimpy's ed25519-sha256 (RFC 8463) verification.
python3 -c 'import nacl' 2>/dev/null || python3 -m pip install -q pynacl
python3 -c 'import dns.resolver' 2>/dev/null || python3 -m pip install -q dnspython
# websockets: an independent WebSocket client for the JMAP over WebSocket
# tests (tests/e2e/test_jmap_ws.py).
python3 -c 'import websockets' 2>/dev/null || python3 -m pip install -q websockets
# http_ece (with cryptography): an independent RFC 8291/8188 decrypter for
# the encrypted JMAP push tests (tests/e2e/test_jmap_pushsub.py).
python3 -c 'import http_ece' 2>/dev/null || python3 -m pip install -q http-ece==1.2.1
# jmapc: a published JMAP client library driving the server in
# tests/e2e/test_jmap_client.py (issue 10).
python3 -c 'import jmapc' 2>/dev/null || python3 -m pip install -q jmapc==0.4.0
# Validators of deploy/ (tests/static/test_deploy_*.py): JSON schemas
# (compose, Marathon, Strimzi) and kubernetes-validate, which carries the
# Kubernetes API schemas of each version.
python3 -c 'import jsonschema' 2>/dev/null || python3 -m pip install -q jsonschema
python3 -c 'import kubernetes_validate' 2>/dev/null || python3 -m pip install -q kubernetes-validate==1.37.0
# helm, for `helm lint` and `helm template` of deploy/helm/evmail, built
# from its Go module with the machine's Go (no prebuilt download).
HELM_VERSION=v3.22.1
if ! command -v helm >/dev/null 2>&1; then
  GO=$(command -v go || echo /usr/local/go/bin/go)
  echo "install-deps: building helm $HELM_VERSION with $($GO version)"
  GOBIN=/usr/local/bin GOFLAGS=-buildvcs=false "$GO" install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
fi

# Kafka broker jars (KRaft), from Maven Central into the usual Maven cache.
if [ ! -f tests/kafka/target/lib/.resolved ]; then
  (cd tests/kafka && mvn -q -B dependency:copy-dependencies -DoutputDirectory=target/lib)
  touch tests/kafka/target/lib/.resolved
fi
echo "install-deps: done"
