#!/usr/bin/env python3
"""One program, two libraries: the PyPI ``rocketmq`` 0.4.4 binding, unchanged, on whichever
librocketmq.so sits in its package directory (Apache's bundled one, or rmq's put there by
compat_python.sh). Prints one JSON line per run. Nothing is asserted.

  compat_python.py send    --namesrv NS --topic T [--threads 1] [--seconds 10] [--size 1024]
  compat_python.py consume --namesrv NS --topic T --group G --count N
  compat_python.py fill    --namesrv NS --topic T --count N [--size 1024]

send: each thread calls send_sync in a loop (ctypes releases the GIL during the call), a new
message per send with a tag and a key; 1 s warm-up, then the measured window. consume: a
clustering push consumer of a new group reads N messages already stored (from offset 0); the
window runs from the first callback to the Nth. cpu_us_per_msg is the process's user + system
CPU time over the window divided by the messages in it; rss_mib is VmRSS at the end.
"""
import argparse
import json
import os
import threading
import time

import rocketmq.client as rc
from rocketmq import ffi


def cpu():
    t = os.times()
    return t.user + t.system


def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024.0, 1)
    return None


def library():
    return "rmq" if b"rmq-compat" in version() else "apache"


def version():
    import ctypes

    try:
        f = ffi.dll.ShowPushConsumerVersion
    except AttributeError:  # Apache's 1.x library has no version function
        return b""
    f.restype = ctypes.c_char_p
    f.argtypes = [ctypes.c_void_p]
    c = ffi.dll.CreatePushConsumer(b"CG_version_probe")
    return f(c) or b""


def cmd_send(a):
    p = rc.Producer("PG_compat_bench")
    p.set_namesrv_addr(a.namesrv)
    p.start()
    body = "x" * a.size
    lock = threading.Lock()
    counts = {"ok": 0, "fail": 0}
    warm_end = time.time() + 1.0
    end = warm_end + a.seconds
    start_gate = threading.Barrier(a.threads + 1)

    def worker():
        ok = fail = 0
        start_gate.wait()
        while True:
            t0 = time.time()
            if t0 >= end:
                break
            m = rc.Message(a.topic)
            m.set_tags("TagA")
            m.set_keys("bench")
            m.set_body(body)
            try:
                good = p.send_sync(m).status == rc.SendStatus.OK
            except Exception:  # noqa
                good = False
            if t0 >= warm_end:
                ok += good
                fail += not good
        with lock:
            counts["ok"] += ok
            counts["fail"] += fail

    ts = [threading.Thread(target=worker) for _ in range(a.threads)]
    for t in ts:
        t.start()
    start_gate.wait()
    time.sleep(max(0.0, warm_end - time.time()))
    c0 = cpu()
    for t in ts:
        t.join()
    c1 = cpu()
    rss = rss_mib()
    p.shutdown()
    n = counts["ok"]
    print(json.dumps({"lib": library(), "scenario": "send", "threads": a.threads, "size": a.size,
                      "msgs": n, "failures": counts["fail"], "msg_per_s": round(n / a.seconds),
                      "cpu_us_per_msg": round((c1 - c0) * 1e6 / n, 1) if n else None, "rss_mib": rss}),
          flush=True)


def cmd_fill(a):
    p = rc.Producer("PG_compat_fill")
    p.set_namesrv_addr(a.namesrv)
    p.start()
    body = "y" * a.size
    for _ in range(a.count):
        m = rc.Message(a.topic)
        m.set_tags("TagA")
        m.set_body(body)
        p.send_sync(m)
    p.shutdown()
    print(json.dumps({"scenario": "fill", "msgs": a.count}), flush=True)


def cmd_consume(a):
    lock = threading.Lock()
    state = {"n": 0, "first": None, "cpu0": None, "last": None, "cpu1": None}
    done = threading.Event()

    def on_message(msg):
        _ = msg.body
        with lock:
            state["n"] += 1
            if state["n"] == 1:
                state["first"], state["cpu0"] = time.time(), cpu()
            if state["n"] == a.count:
                state["last"], state["cpu1"] = time.time(), cpu()
                done.set()

    c = rc.PushConsumer(a.group)
    c.set_namesrv_addr(a.namesrv)
    c.set_thread_count(4)
    c.subscribe(a.topic, on_message)
    c.start()
    done.wait(300)
    rss = rss_mib()
    res = {"lib": library(), "scenario": "consume", "msgs": state["n"], "rss_mib": rss}
    if done.is_set():
        secs = state["last"] - state["first"]
        res["msg_per_s"] = round((a.count - 1) / secs) if secs > 0 else None
        res["cpu_us_per_msg"] = round((state["cpu1"] - state["cpu0"]) * 1e6 / (a.count - 1), 1)
    print(json.dumps(res), flush=True)
    os._exit(0)  # skip the 0.4.4 wrappers' second shutdown in __del__


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["send", "consume", "fill"])
    ap.add_argument("--namesrv", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--group", default="CG_compat_bench")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--count", type=int, default=20000)
    a = ap.parse_args()
    {"send": cmd_send, "consume": cmd_consume, "fill": cmd_fill}[a.cmd](a)
    os._exit(0)


if __name__ == "__main__":
    main()
