#!/usr/bin/env bash
# Sets up and runs a single evmail node with the embedded log, and a demo
# tenant, domain and account ready to log in. Ctrl-C stops the node; run it
# again and it picks up where it left off (the data lives in ./data).
# Run as root, it does what an installation does: the node binds its ports
# as root and then runs as the system user "evmail", made here if missing.
#   EVMAIL_MGMT_LISTEN=127.0.0.1:8080 (default) EVMAIL_NODE_DATA_DIR=./data
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build evmaild evmailctl

if [ "$(id -u)" = 0 ]; then
  getent passwd evmail >/dev/null ||
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin evmail
  export EVMAIL_NODE_USER=evmail
  # The user must reach the data dir; a checkout under a closed home is not.
  if [ -z "${EVMAIL_NODE_DATA_DIR:-}" ] && ! runuser -u evmail -- test -x "$PWD"; then
    export EVMAIL_NODE_DATA_DIR=/var/lib/evmail
    echo "run-demo: $PWD is closed to the evmail user; the data lives in $EVMAIL_NODE_DATA_DIR"
  fi
fi
export EVMAIL_NODE_DATA_DIR=${EVMAIL_NODE_DATA_DIR:-$PWD/data}
export EVMAIL_MGMT_LISTEN=${EVMAIL_MGMT_LISTEN:-127.0.0.1:8080}
export EVMAIL_SMTP_LISTEN=${EVMAIL_SMTP_LISTEN:-127.0.0.1:2525}
export EVMAIL_LMTP_LISTEN=${EVMAIL_LMTP_LISTEN:-127.0.0.1:2424}
export EVMAIL_IMAP_LISTEN=${EVMAIL_IMAP_LISTEN:-127.0.0.1:1143}
export EVMAIL_IMAPS_LISTEN=${EVMAIL_IMAPS_LISTEN:-127.0.0.1:1993}
export EVMAIL_POP3_LISTEN=${EVMAIL_POP3_LISTEN:-127.0.0.1:1110}
export EVMAIL_POP3S_LISTEN=${EVMAIL_POP3S_LISTEN:-127.0.0.1:1995}
export EVMAIL_SUBMISSION_LISTEN=${EVMAIL_SUBMISSION_LISTEN:-127.0.0.1:1587}
export EVMAIL_HTTP_LISTEN=${EVMAIL_HTTP_LISTEN:-127.0.0.1:8081}
export EVMAIL_HTTPS_LISTEN=${EVMAIL_HTTPS_LISTEN:-127.0.0.1:8443}
export EVMAIL_SUBMISSIONS_LISTEN=${EVMAIL_SUBMISSIONS_LISTEN:-127.0.0.1:1465}
# The demo sends: the delivery role runs beside the gateway.
export EVMAIL_NODE_ROLES=${EVMAIL_NODE_ROLES:-projector,gateway,delivery}
DEMO_PASSWORD=${EVMAIL_DEMO_PASSWORD:-demo-password}

# A self-signed certificate for STARTTLS, made once.
TLS_DIR=$EVMAIL_NODE_DATA_DIR/tls
if [ ! -f "$TLS_DIR/cert.pem" ]; then
  mkdir -p "$TLS_DIR"
  openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=demo.test" \
    -addext "subjectAltName=DNS:demo.test,DNS:localhost,IP:127.0.0.1" \
    -keyout "$TLS_DIR/key.pem" -out "$TLS_DIR/cert.pem" 2>/dev/null
  chmod 600 "$TLS_DIR/key.pem"
fi
export EVMAIL_TLS_CERT=${EVMAIL_TLS_CERT:-$TLS_DIR/cert.pem}
export EVMAIL_TLS_KEY=${EVMAIL_TLS_KEY:-$TLS_DIR/key.pem}

./build/gateway/evmaild &
NODE=$!
trap 'kill $NODE 2>/dev/null; wait $NODE 2>/dev/null' EXIT INT TERM

for _ in $(seq 1 100); do
  if curl -fs "http://$EVMAIL_MGMT_LISTEN/readyz" >/dev/null 2>&1; then break; fi
  kill -0 $NODE 2>/dev/null || { echo "evmaild exited; see the messages above"; exit 1; }
  sleep 0.2
done

ctl=./build/admin/evmailctl
# Idempotent: on a second run the demo entities already exist.
$ctl tenant show demo >/dev/null 2>&1 || $ctl tenant create demo
$ctl domain list --tenant demo | grep -q '^demo.test ' || $ctl domain add demo.test --tenant demo
$ctl account show demo@demo.test >/dev/null 2>&1 ||
  printf '%s\n' "$DEMO_PASSWORD" | $ctl account add demo@demo.test --name "Demo User" --quota 1G --password-stdin

cat <<MSG

evmail is running (embedded log, data in $EVMAIL_NODE_DATA_DIR).
  demo account:  demo@demo.test  password: $DEMO_PASSWORD
  SMTP (MX):     $EVMAIL_SMTP_LISTEN (STARTTLS, self-signed)   LMTP: $EVMAIL_LMTP_LISTEN
                 e.g. swaks --server $EVMAIL_SMTP_LISTEN --to demo@demo.test
  IMAP:          $EVMAIL_IMAP_LISTEN (STARTTLS)   IMAPS: $EVMAIL_IMAPS_LISTEN
                 e.g. curl -k --ssl-reqd imaps://$EVMAIL_IMAPS_LISTEN/INBOX -u demo@demo.test:$DEMO_PASSWORD
  POP3:          $EVMAIL_POP3_LISTEN (STLS)   POP3S: $EVMAIL_POP3S_LISTEN
  HTTP:          $EVMAIL_HTTP_LISTEN   HTTPS: $EVMAIL_HTTPS_LISTEN
                 e.g. curl http://$EVMAIL_HTTP_LISTEN/healthz
  JMAP:          session http://$EVMAIL_HTTP_LISTEN/.well-known/jmap (HTTP Basic)
                 e.g. curl -u demo@demo.test:$DEMO_PASSWORD http://$EVMAIL_HTTP_LISTEN/.well-known/jmap
  Submission:    $EVMAIL_SUBMISSION_LISTEN (STARTTLS + AUTH)   implicit TLS: $EVMAIL_SUBMISSIONS_LISTEN
                 e.g. swaks --server $EVMAIL_SUBMISSION_LISTEN --tls --auth-user demo@demo.test \\
                        --auth-password $DEMO_PASSWORD --from demo@demo.test --to demo@demo.test
  health:        curl http://$EVMAIL_MGMT_LISTEN/readyz
  metrics:       curl http://$EVMAIL_MGMT_LISTEN/metrics
  admin:         $ctl status | $ctl account list | $ctl view digest | $ctl queue list
Ctrl-C stops the node.
MSG
wait $NODE
