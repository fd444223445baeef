#!/usr/bin/env bash
# End-to-end benchmark through pcscd + vpcd: tapfido beside a bare 90 00 responder on the
# same transport (the floor), in one run. Needs what scripts/test.sh needs (root starts
# pcscd when none runs). Arguments go to the benchmark:
#   scripts/bench-e2e.sh [--iterations N] [--warmup N] [--profile NAME]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked --release -p tapfido --bin tapfido
exec cargo run --locked --release -p tapfido-tests --bin bench_e2e -- "$@"
