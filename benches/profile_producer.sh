#!/bin/bash
# Runs rmq-bench producer against a fresh standalone broker and prints CPU time and context
# switches per message for both processes, read from /proc (no perf needed). Run from the
# repository root after `cargo build --release --bins`. Loopback only.
# usage: prof.sh THREADS
rm -rf /tmp/bench-store
RMQ_LOG=warn ${RMQ_TARGET:-target/release}/rmq-broker --standalone --namesrvListenPort=19876 --listenPort=20911 --bindAddress=127.0.0.1 --storePathRootDir=/tmp/bench-store > /tmp/bench-broker.out 2>/tmp/bench-broker.err &
BP=$!
sleep 1
snap() { # pid -> "utime stime vcs nvcs"
  local u=0 s=0 v=0 n=0
  for t in /proc/$1/task/*; do
    read -r -a st < $t/stat
    u=$((u+st[13])); s=$((s+st[14]))
    v=$((v+$(awk '/^voluntary_ctxt/{print $2}' $t/status))); n=$((n+$(awk '/^nonvoluntary_ctxt/{print $2}' $t/status)))
  done
  echo "$u $s $v $n"
}
${RMQ_TARGET:-target/release}/rmq-bench producer -n 127.0.0.1:19876 --threads $1 --size 1024 --seconds 10 --warmup 0 > /tmp/bench-out.txt &
BB=$!
sleep 0.5
A=($(snap $BP)); C=($(snap $BB))
sleep 8
B=($(snap $BP)); D=($(snap $BB))
wait $BB
cat /tmp/bench-out.txt | tail -1
TPS=$(grep -o 'Send TPS: [0-9]*' /tmp/bench-out.txt | awk '{print $3}')
N=$((TPS*8))
echo "broker: cpu_us/msg=$(( ( (B[0]-A[0]) + (B[1]-A[1]) ) * 10000 / N )) (user $(( (B[0]-A[0])*10000/N )) sys $(( (B[1]-A[1])*10000/N )))  vol_ctx/msg=$(echo "scale=2; (${B[2]}-${A[2]})/$N" | bc) invol_ctx/msg=$(echo "scale=2; (${B[3]}-${A[3]})/$N" | bc)"
echo "bench:  cpu_us/msg=$(( ( (D[0]-C[0]) + (D[1]-C[1]) ) * 10000 / N )) (user $(( (D[0]-C[0])*10000/N )) sys $(( (D[1]-C[1])*10000/N )))  vol_ctx/msg=$(echo "scale=2; (${D[2]}-${C[2]})/$N" | bc)"
kill $BP; wait $BP 2>/dev/null
