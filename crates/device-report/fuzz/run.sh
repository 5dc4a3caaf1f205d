#!/usr/bin/env bash
# Fuzzes the report parser for N seconds (default 60): bash run.sh [SECONDS]
#
# cargo-fuzz needs nightly-only compiler flags; RUSTC_BOOTSTRAP=1 lets the project's
# stable toolchain accept them. cargo-fuzz is installed once under /work/targets/tools.
set -euo pipefail

seconds="${1:-60}"
here="$(cd "$(dirname "$0")" && pwd)"
tools="${FUZZ_TOOLS_ROOT:-/work/targets/tools}"
target_dir="${FUZZ_TARGET_DIR:-/work/targets/report-fuzz}"

if [ ! -x "$tools/bin/cargo-fuzz" ]; then
    cargo install cargo-fuzz --locked --root "$tools"
fi
export PATH="$tools/bin:$PATH"
export RUSTC_BOOTSTRAP=1

cd "$here"
mkdir -p corpus/parse_report
cp -n seeds/* corpus/parse_report/ 2>/dev/null || true
cargo fuzz run parse_report --target-dir "$target_dir" corpus/parse_report -- \
    -max_total_time="$seconds" -max_len=131073 -rss_limit_mb=2048
