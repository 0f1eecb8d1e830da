#!/usr/bin/env python3
"""Python producer throughput, one thread: our binding (``--client rmq``) or PyPI ``rocketmq``
(Apache's C++ client, ``--client apache``). Prints one JSON line. Run by python_producer.sh.

  python_producer.py --client rmq|apache --namesrv HOST:PORT --topic T [--count N] [--warmup W]
                     [--size BYTES] [--mode sync|oneway]
"""
import argparse
import json
import time


def make(client, topic, body):
    if client == "rmq":
        import rmq

        return rmq.Message(topic, body, tags="TagA", keys="bench")
    import rocketmq.client as rc

    m = rc.Message(topic)
    m.set_tags("TagA")
    m.set_keys("bench")
    m.set_body(body)
    return m


def producer(client, namesrv):
    if client == "rmq":
        import rmq

        p = rmq.Producer("PG_pybench_rmq", namesrv)
        p.start()
        return p, p.send, p.send_oneway, p.close
    import rocketmq.client as rc

    p = rc.Producer("PG_pybench_apache")
    p.set_namesrv_addr(namesrv)
    p.start()
    return p, p.send_sync, p.send_oneway, p.shutdown


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--client", choices=("rmq", "apache"), required=True)
    ap.add_argument("--namesrv", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--warmup", type=int, default=2000)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--mode", choices=("sync", "oneway"), default="sync")
    a = ap.parse_args()
    body = b"x" * a.size if a.client == "rmq" else "x" * a.size
    _, send, oneway, close = producer(a.client, a.namesrv)
    call = send if a.mode == "sync" else oneway
    for _ in range(a.warmup):
        call(make(a.client, a.topic, body))
    rts = []
    t0 = time.perf_counter()
    for _ in range(a.count):
        s = time.perf_counter()
        call(make(a.client, a.topic, body))  # a new message per send, as an application would
        rts.append(time.perf_counter() - s)
    secs = time.perf_counter() - t0
    close()
    rts.sort()
    ms = lambda q: round(rts[min(len(rts) - 1, int(q * len(rts)))] * 1000, 3)  # noqa: E731
    print(json.dumps({
        "client": a.client, "mode": a.mode, "size": a.size, "count": a.count, "seconds": round(secs, 3),
        "tps": round(a.count / secs), "avg_rt_ms": round(secs / a.count * 1000, 3), "p50_ms": ms(0.5),
        "p99_ms": ms(0.99), "max_ms": round(rts[-1] * 1000, 3),
    }), flush=True)
    if a.client == "apache":
        import os

        os._exit(0)  # rocketmq 0.4.4 shuts down again in __del__; leave without it


if __name__ == "__main__":
    main()
