#!/usr/bin/env bash
# Long fuzzing run (issue 13), on demand: every property/fuzz target of tests/it/fuzz with many
# more inputs and a fresh seed, in release mode.
#
# Usage: tests/fuzz/run_long.sh [ITERS_PER_TARGET] [SEED]
#   ITERS_PER_TARGET  default 1000000 (100000 take about 20 s for all targets on two cores)
#   SEED              default: random; a failure names it, and the failing input is saved under
#                     target/tmp/fuzz-failures/ -- move it to tests/fixtures/fuzz/<target>-<what>.hex
#                     so `cargo test --test it fuzz::regressions` keeps it forever.
set -euo pipefail
cd "$(dirname "$0")/../.."
ITERS=${1:-1000000}
SEED=${2:-$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')}
echo "fuzz: RMQ_FUZZ_ITERS=$ITERS RMQ_FUZZ_SEED=$SEED"
RMQ_FUZZ_ITERS=$ITERS RMQ_FUZZ_SEED=$SEED \
    cargo test --release --test it -- fuzz:: --test-threads "${FUZZ_THREADS:-2}"
