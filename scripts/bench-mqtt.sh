#!/usr/bin/env bash
# The device gateway's figures, measured beside mosquitto (Debian's package) with the same
# load generator (`fleetward-bench`, MQTT 3.1.1 over mutual TLS, full handshakes):
#
#   scripts/bench-mqtt.sh
#
# - connection rate: TLS + CONNECT/CONNACK per second, each connection closed after CONNACK;
# - QoS 0 and QoS 1 fan-in: 1,000 publishers, each on bench/<client id>, one subscriber on
#   bench/#, messages/s received by the subscriber (QoS 1: and PUBACKs/s to the publishers);
# - memory: RSS of the broker process holding 10,000 idle mTLS connections (keep-alive 600).
#
# Both brokers use Fleetward's server certificate and the same device certificates.
# Fleetward authorizes with an IoT policy (Connect client/bench-*, Publish
# topic/bench/${iot:ClientId}, Subscribe topicfilter/bench/*, Receive topic/bench/*);
# mosquitto with the equivalent ACL (`pattern write bench/%c`, `pattern read bench/#`;
# mosquitto has no per-client-id connect rule). Every figure is run RUNS times, alternating
# the brokers, and the median is printed. Generator and brokers share the machine's cores:
# the load average is printed before each measurement.
#
# Fan-in is measured twice: unthrottled (every publisher as fast as the broker takes it: how a
# broker behaves when offered more than it can deliver) and on a ladder of fixed offered rates
# (RATES messages/s per publisher), whose best delivered rate is the broker's sustained
# capacity.
#
# Settings (environment): RUNS (3), CLIENTS (1000), SECONDS_PER_RUN (20), WARMUP (5),
# RATES ("100 200 300 500"), LADDER_SECONDS (10), PAYLOAD (64), CONNECTORS (64),
# IDLE_CONNECTIONS (10000), BENCH_NICE (-10: brokers and generator alike, so other work on
# the machine disturbs them less), QUIET_WAIT (60: seconds to wait for an idle machine
# before each measurement), MAX_SERVER_RSS_MB (6144), BENCH_TARGET_DIR (target),
# FW_MQTT_PORT (28883), MOSQ_PORT (28884), API_PORT (27440), MOSQ_EXTRA_CONF (lines added
# to mosquitto.conf), PARTS ("connect qos0 qos0-ladder qos1 qos1-ladder idle": which figures
# to measure), BUILD (1; 0 measures the binaries already in BENCH_TARGET_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

RUNS=${RUNS:-3}
CLIENTS=${CLIENTS:-1000}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-20}
WARMUP=${WARMUP:-5}
RATES=${RATES:-100 200 300 500}
LADDER_SECONDS=${LADDER_SECONDS:-10}
PAYLOAD=${PAYLOAD:-64}
CONNECTORS=${CONNECTORS:-64}
IDLE_CONNECTIONS=${IDLE_CONNECTIONS:-10000}
NICE=${BENCH_NICE:--10}
QUIET_WAIT=${QUIET_WAIT:-60}
MAX_SERVER_RSS_MB=${MAX_SERVER_RSS_MB:-6144}
TARGET_DIR=${BENCH_TARGET_DIR:-$ROOT/target}
FW_MQTT_PORT=${FW_MQTT_PORT:-28883}
MOSQ_PORT=${MOSQ_PORT:-28884}
API_PORT=${API_PORT:-27440}
MOSQ_EXTRA_CONF=${MOSQ_EXTRA_CONF:-}
PARTS=" ${PARTS:-connect qos0 qos0-ladder qos1 qos1-ladder idle} "
part() { [[ $PARTS == *" $1 "* ]]; }

step() { printf '\n==> %s\n' "$*"; }
load() { printf '    (load average: %s)\n' "$(cut -d' ' -f1-3 /proc/loadavg)"; }

# 10,000 connections need 10,000 descriptors in the broker and in the generator.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if (($(ulimit -n) < IDLE_CONNECTIONS + 1000)); then
    echo "open-file limit $(ulimit -n) is too low for $IDLE_CONNECTIONS connections" >&2
    exit 1
fi

WORK=$(mktemp -d /tmp/fleetward-bench-mqtt.XXXXXX)
FW_PID=""
MOSQ_PID=""
GEN_PID=""
stop_pid() {
    local pid=$1
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
}
cleanup() {
    stop_pid "$GEN_PID"
    stop_pid "$MOSQ_PID"
    stop_pid "$FW_PID"
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


# CPU busy fraction of the whole machine over one second, in percent.
busy() {
    local a b
    read -ra a < <(head -n 1 /proc/stat)
    sleep 1
    read -ra b < <(head -n 1 /proc/stat)
    local total=0 idle=$((b[4] + b[5] - a[4] - a[5])) i
    for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
    echo $((total > 0 ? 100 * (total - idle) / total : 0))
}
# Waits (at most QUIET_WAIT s) for other work on the machine to calm down, then says how
# busy it was: measurements share the cores with whatever else runs.
quiet() {
    local waited=0 b
    b=$(busy)
    while ((b > 25 && waited < QUIET_WAIT)); do
        sleep 4
        waited=$((waited + 5))
        b=$(busy)
    done
    printf '    (machine %s%% busy before the run; load average %s)\n' "$b" \
        "$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "$b" >>"$WORK/busy"
}

if [[ ${BUILD:-1} == 1 ]]; then
    step "Build (release)"
    cargo build --release --quiet -p fleetward -p fleetward-bench --target-dir "$TARGET_DIR"
fi
FLEETWARD="$TARGET_DIR/release/fleetward"
BENCH="$TARGET_DIR/release/fleetward-bench"
RUN=(nice -n "$NICE")

step "mosquitto"
if ! command -v mosquitto >/dev/null; then
    apt-get update -q && apt-get install -y -q mosquitto mosquitto-clients
fi
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
MOSQ_VERSION=$("$MOSQUITTO" -h 2>&1 | head -n 1 || true)
echo "$MOSQ_VERSION"

DATA="$WORK/data"
DEVICES="$WORK/devices"
start_fleetward() {
    "${RUN[@]}" "$FLEETWARD" serve --data-dir "$DATA" --api-addr "127.0.0.1:$API_PORT" \
        --mqtt-addr "127.0.0.1:$FW_MQTT_PORT" --metrics-period-secs 300 \
        >>"$WORK/fleetward.log" 2>&1 &
    FW_PID=$!
    wait_port "$API_PORT"
    wait_port "$FW_MQTT_PORT"
}
start_mosquitto() {
    "${RUN[@]}" "$MOSQUITTO" -c "$WORK/mosquitto.conf" 2>>"$WORK/mosquitto.log" &
    MOSQ_PID=$!
    wait_port "$MOSQ_PORT"
}

step "Fleetward (fresh data dir $DATA) and $CLIENTS devices through the iot API"
start_fleetward
"$BENCH" mqtt-setup --endpoint "http://127.0.0.1:$API_PORT" --credentials "$DATA/credentials" \
    --devices "$CLIENTS" --out "$DEVICES" --data-dir "$DATA"

printf '%s\n' \
    "# Each client publishes only to bench/<its client id>; everyone may read bench/#." \
    "pattern write bench/%c" \
    "pattern read bench/#" >"$WORK/mosquitto.acl"
# Defaults otherwise (max_inflight_messages 20, max_queued_messages 1000, Nagle on).
printf '%s\n' \
    "per_listener_settings false" \
    "listener $MOSQ_PORT 127.0.0.1" \
    "cafile $DEVICES/ca-bundle.pem" \
    "certfile $DATA/server.pem" \
    "keyfile $DATA/server.key" \
    "require_certificate true" \
    "use_identity_as_username true" \
    "allow_anonymous false" \
    "acl_file $WORK/mosquitto.acl" \
    "persistence false" \
    "user root" \
    "log_dest stderr" \
    "log_type error" \
    "$MOSQ_EXTRA_CONF" >"$WORK/mosquitto.conf"
start_mosquitto

pid_of() { if [[ $1 == mosquitto ]]; then echo "$MOSQ_PID"; else echo "$FW_PID"; fi; }
port_of() { if [[ $1 == mosquitto ]]; then echo "$MOSQ_PORT"; else echo "$FW_MQTT_PORT"; fi; }
broker_args() {
    echo --addr "127.0.0.1:$(port_of "$1")" --certs "$DEVICES" --ca "$DEVICES/root-ca.pem" \
        --server-pid "$(pid_of "$1")"
}

# result BROKER FIGURE VALUE: one measurement, kept for the medians.
result() { echo "${3:-0}" >>"$WORK/result-$1-$2"; }
field() { sed -n "s/^RESULT .* $1=\([0-9.]*\).*/\1/p" "$2"; }
median() {
    [[ -s $1 ]] || { echo "-"; return; }
    sort -g "$1" | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'
}
# Lets a broker finish what the last run left (queued messages) before the next run.
settle() { sleep 3; }

part connect && step "Connection rate ($CONNECTORS connectors, ${SECONDS_PER_RUN}s, $RUNS runs each)"
part connect && for run in $(seq "$RUNS"); do
    for broker in mosquitto fleetward; do
        printf -- '-- %s, run %s\n' "$broker" "$run"
        quiet
        # shellcheck disable=SC2046
        "${RUN[@]}" "$BENCH" mqtt-connect-rate $(broker_args "$broker") \
            --concurrency "$CONNECTORS" --seconds "$SECONDS_PER_RUN" | tee "$WORK/out"
        result "$broker" connect "$(field connections_per_s "$WORK/out")"
        result "$broker" connect-cpu "$(field server_cpu "$WORK/out")"
        settle
    done
done

# fanin FIGURE BROKER QOS SECONDS [RATE]
fanin() {
    local figure=$1 broker=$2 qos=$3 seconds=$4 rate=${5:-}
    local throttle=()
    [[ -n $rate ]] && throttle=(--rate-per-client "$rate")
    printf -- '-- %s, QoS %s, %s\n' "$broker" "$qos" "${rate:-unthrottled}${rate:+ msg/s per publisher}"
    quiet
    # shellcheck disable=SC2046
    "${RUN[@]}" "$BENCH" mqtt-fanin $(broker_args "$broker") --clients "$CLIENTS" --qos "$qos" \
        --seconds "$seconds" --warmup "$WARMUP" --payload "$PAYLOAD" "${throttle[@]}" \
        --max-server-rss-mb "$MAX_SERVER_RSS_MB" | tee "$WORK/out"
    result "$broker" "$figure" "$(field received_per_s "$WORK/out")"
    result "$broker" "$figure-acked" "$(field acked_per_s "$WORK/out")"
    result "$broker" "$figure-cpu" "$(field server_cpu "$WORK/out")"
    result "$broker" "$figure-rss" "$(field server_rss_mb "$WORK/out")"
    settle
}

for qos in 0 1; do
    part "qos$qos" || continue
    step "QoS $qos fan-in, unthrottled ($CLIENTS publishers -> 1 subscriber, ${SECONDS_PER_RUN}s, $RUNS runs each)"
    for run in $(seq "$RUNS"); do
        for broker in mosquitto fleetward; do
            fanin "qos$qos" "$broker" "$qos" "$SECONDS_PER_RUN"
        done
    done
done
for qos in 0 1; do
    part "qos$qos-ladder" || continue
    step "QoS $qos fan-in, offered $RATES msg/s per publisher (${LADDER_SECONDS}s, $RUNS runs each)"
    for run in $(seq "$RUNS"); do
        for rate in $RATES; do
            for broker in mosquitto fleetward; do
                fanin "qos$qos-r$rate" "$broker" "$qos" "$LADDER_SECONDS" "$rate"
            done
        done
    done
done

# Memory last, on freshly started brokers: what earlier runs left in the heap is not
# part of this figure.
part idle && step "$IDLE_CONNECTIONS idle connections (keep-alive 600 s), $RUNS runs each"
part idle && for run in $(seq "$RUNS"); do
    for broker in mosquitto fleetward; do
        if [[ $broker == fleetward ]]; then
            stop_pid "$FW_PID"
            start_fleetward
        else
            stop_pid "$MOSQ_PID"
            start_mosquitto
        fi
        pid=$(pid_of "$broker")
        sleep 2
        before=$("$BENCH" rss --pid "$pid" | sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p')
        printf -- '-- %s, run %s: RSS before %s MB\n' "$broker" "$run" "$((before / 1024))"
        quiet
        "${RUN[@]}" "$BENCH" mqtt-idle --addr "127.0.0.1:$(port_of "$broker")" \
            --certs "$DEVICES" --ca "$DEVICES/root-ca.pem" \
            --connections "$IDLE_CONNECTIONS" --keep-alive 600 --hold-seconds 600 \
            >"$WORK/idle.out" 2>&1 &
        GEN_PID=$!
        until grep -q '^READY' "$WORK/idle.out"; do
            if ! kill -0 "$GEN_PID" 2>/dev/null; then
                cat "$WORK/idle.out"
                echo "mqtt-idle ended before all connections were open" >&2
                exit 1
            fi
            sleep 1
        done
        grep '^READY' "$WORK/idle.out"
        # Let the broker finish its connection bookkeeping (events, datapoints).
        sleep 10
        "$BENCH" rss --pid "$pid" | tee "$WORK/rss"
        rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "$WORK/rss")
        result "$broker" idle "$((rss / 1024))"
        result "$broker" idle-before "$((before / 1024))"
        stop_pid "$GEN_PID"
        GEN_PID=""
        settle
    done
done

step "Results: median of $RUNS runs ($CLIENTS publishers, $PAYLOAD B payloads, MQTT 3.1.1, TLS 1.3)"
row() {
    local label=$1 figure=$2 m f
    m=$(median "$WORK/result-mosquitto-$figure")
    f=$(median "$WORK/result-fleetward-$figure")
    printf '%-60s %12s %12s %8s\n' "$label" "$m" "$f" \
        "$(awk -v m="$m" -v f="$f" 'BEGIN { if (m + 0 > 0 && f != "-") printf "%.2fx", f / m; else print "-" }')"
}
# The best delivered rate of each run's ladder: the broker's sustained capacity.
capacity() {
    local qos=$1 broker run rate best v
    for broker in mosquitto fleetward; do
        for run in $(seq "$RUNS"); do
            best=0
            for rate in $RATES; do
                v=$(sed -n "${run}p" "$WORK/result-$broker-qos$qos-r$rate")
                best=$(awk -v a="$best" -v b="${v:-0}" 'BEGIN { print (b + 0 > a + 0) ? b : a }')
            done
            echo "$best" >>"$WORK/result-$broker-qos$qos-best"
        done
    done
}
part qos0-ladder && capacity 0
part qos1-ladder && capacity 1
printf '%-60s %12s %12s %8s\n' "figure" "mosquitto" "Fleetward" "F / m"
row "connections/s ($CONNECTORS connectors; full handshake each)" connect
row "  broker CPU during it (cores)" connect-cpu
for qos in 0 1; do
    row "QoS $qos fan-in, best sustained msg/s delivered (ladder)" "qos$qos-best"
    for rate in $RATES; do
        row "  offered $((rate * CLIENTS)) msg/s: msg/s delivered" "qos$qos-r$rate"
    done
    row "QoS $qos unthrottled: msg/s delivered to the subscriber" "qos$qos"
    if [[ $qos == 1 ]]; then
        row "QoS 1 unthrottled: PUBACKs/s to the publishers" qos1-acked
    fi
    row "  broker CPU (cores)" "qos$qos-cpu"
    row "  broker RSS at the end (MB)" "qos$qos-rss"
done
row "RSS before the idle connections (MB)" idle-before
row "RSS with $IDLE_CONNECTIONS idle mTLS connections (MB)" idle
echo
echo "$(nproc) cores shared by the generator and the broker; $MOSQ_VERSION (defaults but for"
echo "the listener, TLS and ACL). Machine busy before runs (median %): $(median "$WORK/busy")."
