#!/usr/bin/env bash
# librocketmq.so, rmq's (compat/) against Apache's as bundled in PyPI `rocketmq` 0.4.4: the same
# binding and the same program (benches/compat_python.py) in the same run against the same rmq
# broker; only the library in the package directory differs. Send msg/s at 1 and 16 threads,
# push-consume msg/s, process CPU per message and RSS. Figures go to BENCHMARKS.md; nothing is
# asserted.
#
#   benches/compat_python.sh [SECONDS] [CONSUME_COUNT]     (defaults 10 and 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-10}
COUNT=${2:-20000}
cargo build --release --bins -p rmq -q
cargo build --release -p rmq-compat -q
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rmq-compatbench.XXXXXX")
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

# The 0.4.4 binding from the interop venv; a copy of its package with our library in it.
PY=$(bash tests/python/setup_venv.sh target/tmp/interop-venv | tail -1)
PKG=$("$PY" -c "import importlib.util; print(importlib.util.find_spec('rocketmq').submodule_search_locations[0])")
mkdir -p "$TMP/ours/rocketmq"
cp "$PKG"/*.py "$TMP/ours/rocketmq/"
cp target/release/librocketmq.so "$TMP/ours/rocketmq/librocketmq.so"
mkdir -p "$TMP/home"   # Apache's library writes its logs under $HOME/logs

run() { # run LIB ARGS...: one process with Apache's (apache) or our (rmq) library
    local lib=$1; shift
    if [ "$lib" = rmq ]; then
        HOME=$TMP/home PYTHONPATH=$TMP/ours "$PY" benches/compat_python.py "$@" --namesrv "$NS"
    else
        HOME=$TMP/home "$PY" benches/compat_python.py "$@" --namesrv "$NS"
    fi
}

echo "commit $(git rev-parse --short HEAD), $(nproc) cores, $(uname -sr), 1 KiB bodies, ${SECONDS_PER_RUN} s per send run, $COUNT consumed"
run rmq send --topic CompatBench --threads 1 --seconds 2 >/dev/null   # create the topic, warm the broker
for threads in 1 16; do
    for lib in apache rmq; do
        run "$lib" send --topic CompatBench --threads "$threads" --seconds "$SECONDS_PER_RUN"
    done
done
run rmq fill --topic CompatConsume --count "$COUNT" >/dev/null
for lib in apache rmq; do
    run "$lib" consume --topic CompatConsume --group "CG_bench_$lib" --count "$COUNT"
done
