#!/usr/bin/env python3
"""Several-brokers driver for rmq with Apache's C++ client (PyPI ``rocketmq`` 0.4.4).

Run with the python of the venv made by setup_venv.sh.  Logs go to stderr.

  multi_broker.py produce --namesrv "A;B" --topic T --group G --count N [--interval-ms MS]
      Sends message i (body "multi-<i>", property idx=<i>) for i in 0..N, one at a time.
      Prints one stdout line per send, flushed at once:  "OK <i> <msg_id>"  or  "FAIL <i> <error>",
      then a JSON summary line.  Exit 0 when it ran to the end (failed sends are reported, not fatal).

  multi_broker.py consume --namesrv "A;B" --topic T --group G (--expect-file F | --stop-file F)
                          [--timeout S]
      Push consumer (clustering) started at once.  Consumes while waiting for F to appear; F
      holds the indices that must be consumed, one per line.  Ends when all of them were seen or
      at the timeout.  Prints a JSON summary: expected, seen_expected, missing (count), sample.
      Exit 0 when nothing expected is missing, 1 otherwise, 2 on setup errors.
      With --stop-file instead: print "GOT <idx>" per delivery (flushed), consume until F
      appears, then print a JSON summary with
      received (all deliveries) and times (deliveries per idx, as {"idx": n}); exit 0.
"""
import argparse
import json
import os
import sys
import threading
import time


def log(*a):
    print("[multi]", *a, file=sys.stderr, flush=True)


def finish(result, code):
    # Leave without the 0.4.4 wrappers' second Shutdown in __del__.
    result["exit"] = code
    sys.stderr.flush()
    sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
    sys.stdout.flush()
    os._exit(code)


def client():
    try:
        import rocketmq.client as rc  # noqa
        return rc
    except Exception as e:  # noqa
        finish({"error": "cannot import rocketmq.client: %s" % e}, 2)


def cmd_produce(a):
    rc = client()
    res = {"cmd": "produce", "ok": 0, "failed": 0}
    try:
        p = rc.Producer(a.group)
        p.set_namesrv_addr(a.namesrv)
        p.set_timeout(3000)
        p.start()
    except Exception as e:  # noqa
        finish({"error": "producer start failed: %s" % e}, 2)
    for i in range(a.count):
        m = rc.Message(a.topic)
        m.set_keys("k%d" % i)
        m.set_tags("multi")
        m.set_property("idx", str(i))
        m.set_body("multi-%d" % i)
        try:
            r = p.send_sync(m)
            if r.status == rc.SendStatus.OK:
                res["ok"] += 1
                line = "OK %d %s" % (i, r.msg_id)
            else:
                res["failed"] += 1
                line = "FAIL %d status %s" % (i, r.status.name)
        except Exception as e:  # noqa
            res["failed"] += 1
            line = "FAIL %d %s" % (i, str(e).strip().replace("\n", " ")[:200])
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        if a.interval_ms:
            time.sleep(a.interval_ms / 1000.0)
    try:
        p.shutdown()
    except Exception as e:  # noqa
        log("producer shutdown error:", e)
    finish(res, 0)


def cmd_consume(a):
    rc = client()
    lock = threading.Lock()
    seen = {}
    times = {}

    def on_message(msg):
        try:
            idx = int(msg.get_property("idx"))
            body = msg.body.decode() if isinstance(msg.body, bytes) else str(msg.body)
            with lock:
                seen[idx] = body
                times[idx] = times.get(idx, 0) + 1
                if a.stop_file:
                    sys.stdout.write("GOT %d\n" % idx)
                    sys.stdout.flush()
        except Exception as e:  # noqa
            log("callback error:", e)

    try:
        c = rc.PushConsumer(a.group)
        c.set_namesrv_addr(a.namesrv)
        c.subscribe(a.topic, on_message, "*")
        c.start()
    except Exception as e:  # noqa
        finish({"error": "push consumer start failed: %s" % e}, 2)
    deadline = time.time() + a.timeout
    if a.stop_file:
        while time.time() < deadline and not os.path.exists(a.stop_file):
            time.sleep(0.2)
        with lock:
            res = {"cmd": "consume", "received": sum(times.values()),
                   "times": {str(k): v for k, v in times.items()},
                   "stopped": os.path.exists(a.stop_file)}
        try:
            c.shutdown()
        except Exception as e:  # noqa
            log("consumer shutdown error:", e)
        finish(res, 0)
    expected = None
    while time.time() < deadline:
        if expected is None and os.path.exists(a.expect_file):
            with open(a.expect_file) as f:
                expected = [int(x) for x in f.read().split()]
            log("expecting %d messages" % len(expected))
        if expected is not None:
            with lock:
                missing = [i for i in expected if seen.get(i) != "multi-%d" % i]
            if not missing:
                break
        time.sleep(0.2)
    with lock:
        missing = [i for i in (expected or []) if seen.get(i) != "multi-%d" % i]
        res = {"cmd": "consume", "expected": len(expected or []), "seen": len(seen),
               "missing": len(missing), "sample": missing[:20], "got_expect_file": expected is not None}
    try:
        c.shutdown()
    except Exception as e:  # noqa
        log("consumer shutdown error:", e)
    finish(res, 0 if expected is not None and not missing else 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd")
    for name in ("produce", "consume"):
        p = sub.add_parser(name)
        p.add_argument("--namesrv", required=True)
        p.add_argument("--topic", required=True)
        p.add_argument("--group", required=True)
        if name == "produce":
            p.add_argument("--count", type=int, required=True)
            p.add_argument("--interval-ms", type=int, default=0)
        else:
            g = p.add_mutually_exclusive_group(required=True)
            g.add_argument("--expect-file")
            g.add_argument("--stop-file")
            p.add_argument("--timeout", type=float, default=120.0)
    a = ap.parse_args()
    if a.cmd == "produce":
        cmd_produce(a)
    elif a.cmd == "consume":
        cmd_consume(a)
    else:
        finish({"error": "usage: produce|consume"}, 2)


if __name__ == "__main__":
    main()
