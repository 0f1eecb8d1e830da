#!/usr/bin/env bash
# The request-path benchmark (issue 12): one standalone broker, then in turn
#   - rmq-bench sync sends at 1, 16 and 64 threads;
#   - Apache's C++ client (PyPI rocketmq 0.4.4's librocketmq.so, driven by benches/cpp_load.c)
#     as producer at 1 and 16 threads, as pull consumer (batches of 32) and as push consumer.
# For each load it prints msg/s, latency percentiles, the broker's CPU per message (utime+stime
# from /proc/PID/stat over the load) and its RssAnon after it. Figures go to BENCHMARKS.md;
# nothing is asserted.
#
#   benches/request_path.sh [SECONDS]           (default 8 s per producer load)
#   BIN=/path/to/other/build benches/request_path.sh   (a broker built elsewhere, e.g. before)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-8}
cargo build --release --bins -p rmq -q
BIN=${BIN:-$PWD/target/release}
BENCH=$PWD/target/release/rmq-bench
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rmq-reqpath.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT

# Apache's client library and our driver against it.
APY=$(bash tests/python/setup_venv.sh target/tmp/interop-venv | tail -1)
ALIB=$(dirname "$("$APY" -c 'import rocketmq, os; print(rocketmq.__file__)')")
ALIB=$(find "$ALIB" -name 'librocketmq.so*' | head -1)
gcc -O2 -pthread -Iinclude benches/cpp_load.c -o "$TMP/cpp_load" "$ALIB" -Wl,-rpath,"$(dirname "$ALIB")"

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
"$BIN/rmq-namesrv" --listenPort=0 --bindAddress=127.0.0.1 --kvConfigPath="$TMP/kv.json" >"$TMP/ns.out" 2>"$TMP/ns.log" &
PIDS+=($!)
NS=$(ready "$TMP/ns.out")
"$BIN/rmq-broker" -n "$NS" --listenPort=0 --bindAddress=127.0.0.1 --brokerIP1=127.0.0.1 \
    --storePathRootDir="$TMP/store" --brokerName=broker-a >"$TMP/broker.out" 2>"$TMP/broker.log" &
BPID=$!
PIDS+=($BPID)
ready "$TMP/broker.out" >/dev/null
TICK=$(getconf CLK_TCK)

cpu() { awk -v t="$TICK" '{ printf "%.3f", ($14 + $15) / t }' "/proc/$BPID/stat"; }
rss_anon() { awk '/^RssAnon/ { printf "%.1f", $2 / 1024 }' "/proc/$BPID/status"; }
threads() { awk '/^Threads/ { print $2 }' "/proc/$BPID/status"; }

# line NAME JSON CPU0 CPU1 COUNT_KEY: one summary line
line() {
    python3 - "$@" <<'EOF'
import json, sys
name, raw, c0, c1, key, rss, thr = sys.argv[1:8]
d = json.loads(raw)
n = d.get(key, 0)
cpu = float(c1) - float(c0)
def f(k, scale=1.0):
    v = d.get(k)
    return "-" if v is None else f"{v * scale:.0f}"
p50 = d.get("p50_us", d.get("p50_ms", 0) * 1000 if "p50_ms" in d else None)
p99 = d.get("p99_us", d.get("p99_ms", 0) * 1000 if "p99_ms" in d else None)
p999 = d.get("p999_us", d.get("p999_ms", 0) * 1000 if "p999_ms" in d else None)
fmt = lambda v: "-" if v is None else f"{v:.0f}"
rate = d.get("msg_per_s", d.get("tps", 0))
per = cpu * 1e6 / n if n else 0
print(f"{name:<26} {rate:>9.0f} msg/s  p50 {fmt(p50):>6} µs  p99 {fmt(p99):>6} µs  "
      f"p99.9 {fmt(p999):>6} µs  broker {per:5.1f} µs CPU/msg  RssAnon {rss} MB  threads {thr}")
EOF
}

# bench NAME KEY CMD...: run a load that prints one JSON line, measure the broker around it;
# the JSON stays in LAST
LAST=
bench() {
    local name=$1 key=$2; shift 2
    local c0 c1
    c0=$(cpu)
    LAST=$("$@" | grep '^{' | tail -1)
    c1=$(cpu)
    line "$name" "$LAST" "$c0" "$c1" "$key" "$(rss_anon)" "$(threads)"
}
# rmq-bench's producer summary, flattened (its sent count includes the warm-up second, as the
# broker CPU measured around it does)
rust_load() {
    "$BENCH" producer "$@" --json --quiet | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["producer"]))'
}

echo "commit $(git rev-parse --short HEAD), broker $BIN/rmq-broker, $(nproc) cores, $(uname -sr), 1 KiB bodies, ${SECS}s per producer load"
echo "broker at start: RssAnon $(rss_anon) MB, $(threads) threads"
for t in 1 16 64; do
    bench "rmq-bench sync ${t}t" sent rust_load -n "$NS" --topic RustBench --threads "$t" \
        --seconds "$SECS" --warmup 1
done
bench "C++ producer 1t" sent "$TMP/cpp_load" produce "$NS" CppBench 1 "$SECS" 1024
bench "C++ producer 16t" sent "$TMP/cpp_load" produce "$NS" CppBench 16 "$SECS" 1024
# Readers of everything the C++ producers stored (a pull stops at the end of each queue).
bench "C++ pull (batch 32)" received "$TMP/cpp_load" pull "$NS" CppBench 100000000
TOTAL=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["received"])' "$LAST")
bench "C++ push" received "$TMP/cpp_load" push "$NS" CppBench "$TOTAL" 60
echo "broker at end: RssAnon $(rss_anon) MB, $(threads) threads"
