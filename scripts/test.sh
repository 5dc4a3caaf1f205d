#!/usr/bin/env bash
# The whole test suite, as CI runs it (`.ci/run` calls this script).
#
#   scripts/test.sh
#
# It installs what the tests need (PostgreSQL and the mosquitto clients and broker from Debian
# if missing; boto3, the AWS CLI, pytest, paho-mqtt from PyPI into .venv), checks formatting and
# lints, starts a throwaway PostgreSQL cluster on loopback for the store conformance suite, runs
# the Rust tests, then the interop tests (boto3, AWS CLI, paho-mqtt, mosquitto_pub/_sub) against
# the real binary.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

step() { printf '\n==> %s\n' "$*"; }

step "Python tools for the interop tests"
if [[ ! -x .venv/bin/python ]]; then
    # Debian's python3 keeps venv in a package of its own.
    python3 -m venv .venv 2>/dev/null || {
        rm -rf .venv
        apt-get update -q && apt-get install -y -q python3-venv
        python3 -m venv .venv
    }
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/interop/requirements.txt

step "MQTT clients for the gateway interop tests (and the broker the benchmarks compare with)"
# Debian's mosquitto-clients (mosquitto_pub/mosquitto_sub) and mosquitto, each only if missing.
MQTT_PACKAGES=()
command -v mosquitto_pub >/dev/null 2>&1 && command -v mosquitto_sub >/dev/null 2>&1 ||
    MQTT_PACKAGES+=(mosquitto-clients)
command -v mosquitto >/dev/null 2>&1 || [[ -x /usr/sbin/mosquitto ]] || MQTT_PACKAGES+=(mosquitto)
if ((${#MQTT_PACKAGES[@]})); then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${MQTT_PACKAGES[@]}"
fi

step "rsyslog for the export (syslog destination) interop tests"
# Debian's rsyslog (+ GnuTLS driver), only if missing; the tests start their own on loopback.
command -v rsyslogd >/dev/null 2>&1 && [[ -e /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so ]] ||
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q rsyslog rsyslog-gnutls; }

step "Formatting and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "PostgreSQL for the store conformance suite"
PG_DIR=$(mktemp -d /tmp/fleetward-pg.XXXXXX)
cleanup() { scripts/pg-test-cluster.sh stop "$PG_DIR" || true; rm -rf "$PG_DIR"; }
trap cleanup EXIT
FLEETWARD_TEST_PG_URL=$(scripts/pg-test-cluster.sh start "$PG_DIR" | tail -n 1)
export FLEETWARD_TEST_PG_URL

step "Rust unit and integration tests"
cargo build --workspace --quiet
cargo test --workspace --quiet

step "Fuzz the parsers of outside input briefly (MQTT packets, Device Defender reports)"
# cargo-fuzz needs nightly compiler flags; RUSTC_BOOTSTRAP=1 lets the stable toolchain take them.
export FUZZ_TOOLS="$ROOT/target/tools" FUZZ_TOOLS_ROOT="$ROOT/target/tools"
FUZZ_TARGET_DIR="$ROOT/target/fuzz-mqtt" crates/mqtt/fuzz/run.sh 15
FUZZ_TARGET_DIR="$ROOT/target/fuzz-report" crates/device-report/fuzz/run.sh 15

step "Interop tests against the real binary (boto3, AWS CLI, paho-mqtt, mosquitto)"
export FLEETWARD_BIN="$ROOT/target/debug/fleetward"
export PATH="$ROOT/.venv/bin:$PATH"
.venv/bin/python -m pytest -q tests/interop
