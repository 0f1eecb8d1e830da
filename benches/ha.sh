#!/usr/bin/env bash
# Replication cost (issue 11): producer msg/s and latency against a single master, an
# ASYNC_MASTER with one slave and a SYNC_MASTER with one slave, all on loopback, with rmq-bench
# (sync sends, 16 threads, 1 KiB bodies). During each replicated load the master's and the
# slave's commitLogMaxOffset are sampled (rmq-admin brokerStatus, one process after the other,
# so a sample includes the few ms between the two queries) every ~0.2 s, and so is the master's
# own view (haSlaves: its max minus the slave's acknowledged offset, at one instant): the lag in bytes
# is their difference; after the load, the time the slave takes to reach the master's end is
# printed as the drain time. The replicated modes then run again paced at $RATE msg/s (20000,
# the rate of issue 11's lag target), where the lag in ms is the master's view in bytes over the
# bytes per ms that load wrote. Then Apache's C++ client (PyPI rocketmq 0.4.4's librocketmq.so,
# benches/cpp_load.c) sends from 16 threads to the same brokers. Each line gives the master's
# and the slave's CPU (utime+stime from /proc) per message. Figures go to BENCHMARKS.md;
# nothing is asserted.
#
#   benches/ha.sh [SECONDS]      (default 8 s per mode, after a 1 s warm-up)
#   BROKER=/path/to/rmq-broker benches/ha.sh   (another build's broker, same load generators)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-8}
THREADS=${THREADS:-16}
cargo build --release --bins -p rmq -q
BIN=$PWD/target/release
BROKER=${BROKER:-$BIN/rmq-broker}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rmq-ha-bench.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
APY=$(bash tests/python/setup_venv.sh target/tmp/interop-venv | tail -1)
ALIB=$(dirname "$("$APY" -c 'import rocketmq, os; print(rocketmq.__file__)')")
ALIB=$(find "$ALIB" -name 'librocketmq.so*' | head -1)
gcc -O2 -pthread -Iinclude benches/cpp_load.c -o "$TMP/cpp_load" "$ALIB" -Wl,-rpath,"$(dirname "$ALIB")"

field() { # field FILE KEY: wait for the READY line of FILE, print its KEY= value
    for _ in $(seq 1 300); do
        if grep -q '^READY' "$1" 2>/dev/null; then
            grep '^READY' "$1" | tail -1 | tr ' ' '\n' | sed -n "s/^$2=//p" | sed 's/0\.0\.0\.0/127.0.0.1/'
            return 0
        fi
        sleep 0.1
    done
    echo "no READY in $1" >&2; return 1
}
master_lag() { # master_lag NS MASTER_ADDR: lag bytes of its first slave (haSlaves addr:acked:lag)
    "$BIN/rmq-admin" brokerStatus -n "$1" -b "$2" 2>/dev/null \
        | sed -n 's/.*haSlaves[^0-9]*\([0-9][0-9.:]*\).*/\1/p' | head -1 | awk -F: '{print $NF}'
}
max_offset() { # max_offset NS ADDR
    "$BIN/rmq-admin" brokerStatus -n "$1" -b "$2" 2>/dev/null \
        | sed -n 's/.*commitLogMaxOffset[^0-9]*\([0-9][0-9]*\).*/\1/p' | head -1
}

cpu_ticks() { # cpu_ticks PID: utime+stime in clock ticks (/proc/PID/stat fields 14, 15)
    sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}
TCK=$(getconf CLK_TCK)
RATE=${RATE:-20000}

# load MODE RATE DIR: one rmq-bench run (RATE empty: as fast as it goes; else paced to RATE
# msg/s), sampling the lag while it runs; prints msg/s, latency, the master's (and slave's) CPU
# per message and the lag.
load() {
    local mode=$1 rate=$2 D=$3 pace=() label=$1
    [ -n "$rate" ] && pace=(--rate "$rate") && label="$mode@$rate"
    local s0 m0 t0 m s l drain=- mmax
    s0=$(cpu_ticks "${SPID:-$MPID}")
    m0=$(max_offset "$NS" "$MA")
    "$BIN/rmq-bench" producer -n "$NS" --topic HaBench --threads "$THREADS" --seconds "$SECS" \
        --warmup 1 --broker-pid "$MPID" "${pace[@]}" --json --quiet >"$D/bench.json" 2>"$D/bench.log" &
    BENCHPID=$!
    : >"$D/lag"
    : >"$D/mlag"
    if [ -n "$SPID" ]; then
        while kill -0 "$BENCHPID" 2>/dev/null; do
            s=$(max_offset "$NS" "$SA"); m=$(max_offset "$NS" "$MA")
            [ -n "$m" ] && [ -n "$s" ] && echo $((m - s)) >>"$D/lag"
            # The master's own view at one instant: its max minus what the slave acknowledged.
            l=$(master_lag "$NS" "$MA")
            [ -n "$l" ] && echo "$l" >>"$D/mlag"
            sleep 0.1
        done
    fi
    wait "$BENCHPID" || echo "$label: rmq-bench exit $? ($(tail -3 "$D/bench.log" | tr '\n' ' '))"
    if [ -n "$SPID" ]; then
        t0=$(date +%s%N)
        m=$(max_offset "$NS" "$MA")
        for _ in $(seq 1 500); do
            s=$(max_offset "$NS" "$SA")
            [ "$s" = "$m" ] && break
        done
        drain=$(( ($(date +%s%N) - t0) / 1000000 ))
    fi
    mmax=$(max_offset "$NS" "$MA")
    python3 - "$label" "$D/bench.json" "$D/lag" "$drain" "$D/mlag" "$(( ${mmax:-0} - ${m0:-0} ))" \
        "$((SECS + 1))" "$(( $(cpu_ticks "${SPID:-$MPID}") - s0 ))" "$SPID" "$TCK" <<'PY'
import json, sys
mode, bench, lagf, drain, mlagf, grown, secs, sticks, spid, tck = sys.argv[1:11]
j = json.load(open(bench))
d, b = j["producer"], j.get("broker", {})
def pct(v, q):
    return v[min(len(v) - 1, int(q * len(v)))] if v else None
lags = sorted(int(x) for x in open(lagf).read().split())
mlags = sorted(int(x) for x in open(mlagf).read().split())
# Bytes per ms of the load: what the master's log grew by during this load over its seconds.
bpms = int(grown) / (int(secs) * 1000.0) or 1.0
sent = max(d.get("sent", 0) + d.get("failed", 0), 1)
cpu = "master CPU %.1f us/msg" % b.get("cpu_us_per_msg", 0)
if spid:
    cpu += ", slave %.1f us/msg" % (int(sticks) * 1e6 / int(tck) / sent)
def ms(v):
    return "%s B (%.2f ms)" % (v, (v or 0) / bpms)
lag = ("lag bytes p50 %s max %s over %d samples, drain %s ms; master's view p50 %s p90 %s p99 %s"
       % (pct(lags, 0.5), lags[-1], len(lags), drain,
          ms(pct(mlags, 0.5)), ms(pct(mlags, 0.9)), ms(pct(mlags, 0.99)))
       if lags else "no slave")
print("%-19s %8.0f msg/s  p50 %6.3f ms  p99 %6.3f ms  failed %s  %s  %s" % (
    mode, d.get("tps", 0), d.get("p50_ms", 0), d.get("p99_ms", 0), d.get("failed", 0), cpu, lag))
PY
}

echo "commit $(git rev-parse --short HEAD), broker $BROKER, $(nproc) cores, $(uname -sr), rmq-bench sync ${THREADS} threads, 1 KiB bodies, ${SECS}s per mode"
for mode in single ASYNC_MASTER SYNC_MASTER; do
    D=$TMP/$mode
    mkdir -p "$D"
    "$BIN/rmq-namesrv" --listenPort=0 --bindAddress=127.0.0.1 --kvConfigPath="$D/kv.json" >"$D/ns.out" 2>"$D/ns.log" &
    NSPID=$!
    PIDS+=($NSPID)
    NS=$(field "$D/ns.out" listen)
    role=ASYNC_MASTER
    [ "$mode" = single ] || role=$mode
    "$BROKER" -n "$NS" --listenPort=0 --bindAddress=127.0.0.1 --brokerIP1=127.0.0.1 \
        --storePathRootDir="$D/master" --brokerName=broker-a --brokerRole="$role" >"$D/m.out" 2>"$D/m.log" &
    MPID=$!
    PIDS+=($MPID)
    MA=$(field "$D/m.out" listen)
    HA=$(field "$D/m.out" ha)
    SPID=
    if [ "$mode" != single ]; then
        "$BROKER" -n "$NS" --listenPort=0 --bindAddress=127.0.0.1 --brokerIP1=127.0.0.1 \
            --storePathRootDir="$D/slave" --brokerName=broker-a --brokerRole=SLAVE --brokerId=1 \
            --haMasterAddress="$HA" >"$D/s.out" 2>"$D/s.log" &
        SPID=$!
        PIDS+=($SPID)
        SA=$(field "$D/s.out" listen)
        # Load starts once the master streams to the slave (else SYNC_MASTER answers
        # SLAVE_NOT_AVAILABLE).
        for _ in $(seq 1 100); do grep -q "HA transfer starts" "$D/m.log" && break; sleep 0.1; done
    fi
    load "$mode" "" "$D"
    if [ -n "$SPID" ]; then load "$mode" "$RATE" "$D"; fi
    c0=$(cpu_ticks "$MPID"); s0=$(cpu_ticks "${SPID:-$MPID}")
    # Run to a file first: the CPU deltas must be taken after the load, not as the pipe starts.
    "$TMP/cpp_load" produce "$NS" HaBenchCpp "$THREADS" "$SECS" 1024 >"$D/cpp.out" 2>"$D/cpp.err" \
        || echo "$mode: C++ client exit $?"
    grep '^{' "$D/cpp.out" | python3 -c '
import json, sys
d = json.loads(sys.stdin.read()); m, mt, st, spid, tck = sys.argv[1:6]
def cpu(n):
    n = max(int(n), 1)
    out = "  master CPU %.1f us/msg" % (int(mt) * 1e6 / int(tck) / n)
    return out + (", slave %.1f us/msg" % (int(st) * 1e6 / int(tck) / n) if spid else "")
print("%-19s %8.0f msg/s  p50 %6.3f ms  p99 %6.3f ms  failed %s  (C++ client)%s" % (
    m, d["msg_per_s"], d["p50_us"] / 1000, d["p99_us"] / 1000, d["errors"], cpu(d["sent"])))' \
        "$mode" "$(( $(cpu_ticks "$MPID") - c0 ))" "$(( $(cpu_ticks "${SPID:-$MPID}") - s0 ))" "$SPID" "$TCK" \
        || echo "$mode: C++ client failed"
    for p in $SPID $MPID $NSPID; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
done
