#!/usr/bin/env bash
# Runs every cargo-fuzz target of fleetward-mqtt for N seconds each (default 20).
#
#   crates/mqtt/fuzz/run.sh [SECONDS] [TARGET...]
#
# cargo-fuzz needs nightly-only rustc flags (-Zsanitizer=address); RUSTC_BOOTSTRAP=1 lets
# the stable toolchain accept them. cargo-fuzz is installed from crates.io on first use
# into $FUZZ_TOOLS (default /work/targets/tools), and builds go to $FUZZ_TARGET_DIR.
# A crash leaves its input in crates/mqtt/fuzz/artifacts/<target>/ and fails the script.
set -euo pipefail

seconds="${1:-20}"
shift || true
here="$(cd "$(dirname "$0")" && pwd)"
tools="${FUZZ_TOOLS:-/work/targets/tools}"
target_dir="${FUZZ_TARGET_DIR:-/work/targets/mqtt-fuzz}"
export PATH="$tools/bin:$PATH"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz into $tools" >&2
    cargo install --locked cargo-fuzz --root "$tools"
fi

cd "$here/.."
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi

for target in "${targets[@]}"; do
    echo "== $target: ${seconds}s" >&2
    RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" --target-dir "$target_dir" -- \
        -max_total_time="$seconds" -print_final_stats=1
done
