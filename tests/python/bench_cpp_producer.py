#!/usr/bin/env python3
"""Producer throughput of Apache's C++ client (PyPI ``rocketmq`` 0.4.4, librocketmq.so via ctypes),
the counterpart of examples/bench_producer.rs for BENCHMARKS.md.

  bench_cpp_producer.py --namesrv HOST:PORT [--topic BenchClient] [--threads 1] [--size 1024]
                        [--seconds 10] [--warmup 2]

Each thread calls send_sync in a loop (ctypes releases the GIL during the call). Prints one line:
  cpp-client threads=T size=S msgs=N seconds=X tps=Y avg_rt_ms=A p50_ms=.. p99_ms=.. failures=F
"""
import argparse
import os
import sys
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--namesrv", required=True)
    ap.add_argument("--topic", default="BenchClient")
    ap.add_argument("--group", default="PG_bench_cpp")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=2)
    a = ap.parse_args()
    import rocketmq.client as rc

    p = rc.Producer(a.group)
    p.set_namesrv_addr(a.namesrv)
    p.start()
    body = "x" * a.size
    lock = threading.Lock()
    lat = []
    counts = {"ok": 0, "fail": 0}
    t_start = time.time()
    measure_from = t_start + a.warmup
    end = measure_from + a.seconds

    def worker():
        my_lat = []
        ok = fail = 0
        while True:
            t0 = time.time()
            if t0 >= end:
                break
            m = rc.Message(a.topic)
            m.set_body(body)
            try:
                r = p.send_sync(m)
                good = r.status == rc.SendStatus.OK
            except Exception:  # noqa
                good = False
            t1 = time.time()
            if t0 >= measure_from:
                my_lat.append(t1 - t0)
                if good:
                    ok += 1
                else:
                    fail += 1
        with lock:
            lat.extend(my_lat)
            counts["ok"] += ok
            counts["fail"] += fail

    ts = [threading.Thread(target=worker) for _ in range(a.threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    lat.sort()

    def pct(q):
        return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else 0.0

    avg = (sum(lat) / len(lat) * 1000) if lat else 0.0
    print("cpp-client threads=%d size=%d msgs=%d seconds=%.1f tps=%.0f avg_rt_ms=%.3f p50_ms=%.3f "
          "p99_ms=%.3f failures=%d" % (a.threads, a.size, counts["ok"], a.seconds, counts["ok"] / a.seconds,
                                      avg, pct(0.5), pct(0.99), counts["fail"]), flush=True)
    sys.stdout.flush()
    # The 0.4.4 wrapper's __del__ shuts down a second time; leave without it.
    os._exit(0)


if __name__ == "__main__":
    main()
