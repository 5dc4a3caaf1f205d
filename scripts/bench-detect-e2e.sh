#!/usr/bin/env bash
# Device Defender detect end to end: a fresh Fleetward (release build), devices reporting over
# MQTT/TLS through the gateway, alerts to an SNS http subscriber run by the generator.
#
#   scripts/bench-detect-e2e.sh
#
# Prints reports acknowledged per second, the publish-to-in-alarm latency, and Fleetward's
# CPU and RSS (see `fleetward-bench detect-e2e --help`). The server runs with
# --report-min-interval-secs 0 (TESTS ONLY): AWS accepts one report per thing per 5 minutes,
# so 20,000 reports/s would otherwise need 6,000,000 things.
#
# Settings (environment): THINGS (100000), RATE (20000), CONNECTIONS (200), RUN_SECONDS (30),
# WARMUP (10), VIOLATIONS_PER_S (20), BENCH_NICE (0), BENCH_TARGET_DIR (target),
# API_PORT (27450), MQTT_PORT (28893), BUILD (1; 0 uses the binaries already built).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

THINGS=${THINGS:-100000}
RATE=${RATE:-20000}
CONNECTIONS=${CONNECTIONS:-200}
SECONDS_RUN=${RUN_SECONDS:-30}
WARMUP=${WARMUP:-10}
VIOLATIONS_PER_S=${VIOLATIONS_PER_S:-20}
NICE=${BENCH_NICE:-0}
TARGET_DIR=${BENCH_TARGET_DIR:-$ROOT/target}
API_PORT=${API_PORT:-27450}
MQTT_PORT=${MQTT_PORT:-28893}

if [[ ${BUILD:-1} == 1 ]]; then
    cargo build --release --quiet -p fleetward -p fleetward-bench --target-dir "$TARGET_DIR"
fi
WORK=$(mktemp -d /tmp/fleetward-detect-e2e.XXXXXX)
FW_PID=""
cleanup() {
    if [[ -n $FW_PID ]] && kill -0 "$FW_PID" 2>/dev/null; then
        kill "$FW_PID" 2>/dev/null || true
        wait "$FW_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

wait_port() {
    for _ in $(seq 300); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on port $1" >&2
    return 1
}

nice -n "$NICE" "$TARGET_DIR/release/fleetward" serve --data-dir "$WORK/data" \
    --api-addr "127.0.0.1:$API_PORT" --mqtt-addr "127.0.0.1:$MQTT_PORT" \
    --report-min-interval-secs 0 >>"$WORK/fleetward.log" 2>&1 &
FW_PID=$!
wait_port "$API_PORT"
wait_port "$MQTT_PORT"
printf '(load average before the run: %s)\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
nice -n "$NICE" "$TARGET_DIR/release/fleetward-bench" detect-e2e \
    --endpoint "http://127.0.0.1:$API_PORT" --credentials "$WORK/data/credentials" \
    --data-dir "$WORK/data" --certs "$WORK/devices" --addr "127.0.0.1:$MQTT_PORT" \
    --server-pid "$FW_PID" --things "$THINGS" --rate "$RATE" --connections "$CONNECTIONS" \
    --seconds "$SECONDS_RUN" --warmup "$WARMUP" --violations-per-s "$VIOLATIONS_PER_S"
printf '(load average after the run: %s)\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
if grep -q "input queue is full" "$WORK/fleetward.log"; then
    echo "detect dropped inputs (queue full):"
    grep "input queue is full" "$WORK/fleetward.log" | tail -n 1
fi
