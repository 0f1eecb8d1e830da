#!/usr/bin/env bash
# Python producer throughput, our binding (bindings/python over librmq) beside PyPI `rocketmq`
# 0.4.4 (Apache's C++ client), in the same run against the same rmq broker: 1 KiB bodies, one
# thread, sync then one-way sends. Figures go to BENCHMARKS.md; nothing is asserted.
#
#   benches/python_producer.sh [COUNT]      (default 20000 measured sends per client and mode)
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-20000}
cargo build --release --bins -p rmq -q
cargo build --release -p rmq-ffi -q
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rmq-pybench.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT

ready() { # ready FILE: wait for a READY line, print its listen= address
    for _ in $(seq 1 300); do
        if grep -q '^READY' "$1" 2>/dev/null; then
            grep '^READY' "$1" | tail -1 | tr ' ' '\n' | sed -n 's/^listen=//p' | sed 's/0\.0\.0\.0/127.0.0.1/'
            return 0
        fi
        sleep 0.1
    done
    echo "no READY in $1" >&2; return 1
}
target/release/rmq-namesrv --listenPort=0 --bindAddress=127.0.0.1 --kvConfigPath="$TMP/kv.json" >"$TMP/ns.out" 2>"$TMP/ns.log" &
PIDS+=($!)
NS=$(ready "$TMP/ns.out")
target/release/rmq-broker -n "$NS" --listenPort=0 --bindAddress=127.0.0.1 --brokerIP1=127.0.0.1 \
    --storePathRootDir="$TMP/store" --brokerName=broker-a >"$TMP/broker.out" 2>"$TMP/broker.log" &
PIDS+=($!)
ready "$TMP/broker.out" >/dev/null

# Apache's client in the interop venv; ours in a venv with bindings/python installed.
APY=$(bash tests/python/setup_venv.sh target/tmp/interop-venv | tail -1)
OVENV=target/tmp/pybench-venv
[ -x "$OVENV/bin/python" ] || python3 -m venv "$OVENV"
cp -r bindings/python "$TMP/pysrc"
"$OVENV/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$TMP/pysrc"
export RMQ_LIB=$PWD/target/release/librmq.so

echo "commit $(git rev-parse --short HEAD), $(nproc) cores, $(uname -sr), 1 KiB, 1 thread, $COUNT sends each"
for mode in sync oneway; do
    "$OVENV/bin/python" benches/python_producer.py --client rmq --namesrv "$NS" --topic PyBench --count "$COUNT" --mode "$mode"
    HOME=$TMP "$APY" benches/python_producer.py --client apache --namesrv "$NS" --topic PyBench --count "$COUNT" --mode "$mode"
done
