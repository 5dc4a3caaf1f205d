#!/usr/bin/env bash
# Notification-topic figures: Publish to a topic with one http subscriber on loopback (the
# subscriber runs inside `fleetward-bench sns`), for each delivery mode:
#
#   scripts/bench-sns.sh
#
# - throughput: MESSAGES messages from CLIENTS concurrent publishers as fast as they go;
#   delivered messages/s (first publish to last delivery);
# - latency: the same at RATE messages/s, paced; p50/p90/p99 publish-to-delivery.
# Modes: the SNS JSON document signed with SignatureVersion 1 (SHA1withRSA, SNS's default) and
# 2 (SHA256withRSA), and RawMessageDelivery (the message alone, unsigned). Each measurement
# gets a fresh server and data dir, so no backlog of an earlier run competes with it. The load
# average is printed before each one (the generator shares the machine's cores).
#
# Settings (environment): MESSAGES (50000), LATENCY_MESSAGES (20000), CLIENTS (32),
# RATE (1000), MODES ("raw v2 v1"), BENCH_TARGET_DIR (target), API_PORT (27460).
set -euo pipefail
cd "$(dirname "$0")/.."

MESSAGES=${MESSAGES:-50000}
LATENCY_MESSAGES=${LATENCY_MESSAGES:-20000}
CLIENTS=${CLIENTS:-32}
RATE=${RATE:-1000}
MODES=${MODES:-"raw v2 v1"}
TARGET=${BENCH_TARGET_DIR:-target}
API_PORT=${API_PORT:-27460}

CARGO_TARGET_DIR=$TARGET cargo build --release -q -p fleetward -p fleetward-bench
FW=$TARGET/release/fleetward
BENCH=$TARGET/release/fleetward-bench
WORK=$(mktemp -d /tmp/fleetward-sns-bench.XXXXXX)
SERVER=
cleanup() {
    if [[ -n $SERVER ]]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

measure() { # MODE-FLAGS LABEL EXTRA...
    local flags=$1 label=$2
    shift 2
    rm -rf "$WORK/data"
    "$FW" serve --data-dir "$WORK/data" --api-addr "127.0.0.1:$API_PORT" \
        --mqtt-addr "127.0.0.1:$((API_PORT + 1))" >"$WORK/server.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 100); do
        curl -fs "http://127.0.0.1:$API_PORT/health" >/dev/null 2>&1 && break
        sleep 0.1
    done
    echo "== $label ($flags) | load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    # shellcheck disable=SC2086
    "$BENCH" sns --endpoint "http://127.0.0.1:$API_PORT" --credentials "$WORK/data/credentials" \
        --clients "$CLIENTS" $flags "$@" | grep -v '^topic '
    kill "$SERVER"
    wait "$SERVER" || true
    SERVER=
}

for mode in $MODES; do
    case $mode in
        raw) flags="--raw" ;;
        v1) flags="--signature-version 1" ;;
        v2) flags="--signature-version 2" ;;
        *) echo "unknown mode $mode" >&2; exit 2 ;;
    esac
    measure "$flags" "throughput" --messages "$MESSAGES"
    measure "$flags" "latency at $RATE/s" --messages "$LATENCY_MESSAGES" --rate "$RATE"
done
