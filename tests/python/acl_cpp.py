#!/usr/bin/env python3
"""ACL driver for rmq with Apache's C++ client (PyPI ``rocketmq`` 0.4.4).

  acl_cpp.py produce --namesrv HOST:PORT --topic T --group G --count N [--ak AK --sk SK]
  acl_cpp.py push    --namesrv HOST:PORT --topic T --group G --count N [--ak AK --sk SK]
                     [--timeout S]

Credentials go through set_session_credentials(ak, sk, "ALIYUN").  Stdout: one JSON object
on the last line: produce {"ok", "failed", "errors"}, push {"received"}.  Exit 0 unless setup
failed (2).
"""
import argparse
import json
import os
import sys
import threading
import time


def finish(result, code=0):
    sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
    sys.stdout.flush()
    os._exit(code)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["produce", "push"])
    ap.add_argument("--namesrv", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--ak")
    ap.add_argument("--sk")
    ap.add_argument("--timeout", type=float, default=30)
    a = ap.parse_args()
    try:
        import rocketmq.client as rc
    except Exception as e:  # noqa
        finish({"error": "cannot import rocketmq.client: %s" % e}, 2)
    if a.cmd == "produce":
        p = rc.Producer(a.group)
        p.set_namesrv_addr(a.namesrv)
        if a.ak:
            p.set_session_credentials(a.ak, a.sk, "ALIYUN")
        p.set_timeout(3000)
        p.start()
        res = {"ok": 0, "failed": 0, "errors": []}
        for i in range(a.count):
            m = rc.Message(a.topic)
            m.set_keys("key-%d" % i)
            m.set_body("acl-cpp-%d" % i)
            try:
                r = p.send_sync(m)
                if int(r.status) == 0:
                    res["ok"] += 1
                else:
                    res["failed"] += 1
                    res["errors"].append("status %s" % r.status)
            except Exception as e:  # noqa
                res["failed"] += 1
                if len(res["errors"]) < 3:
                    res["errors"].append(str(e))
        finish(res)
    c = rc.PushConsumer(a.group)
    c.set_namesrv_addr(a.namesrv)
    if a.ak:
        c.set_session_credentials(a.ak, a.sk, "ALIYUN")
    got = set()
    lock = threading.Lock()

    def on_message(msg):
        with lock:
            got.add(msg.body.decode("utf-8", "replace"))

    c.subscribe(a.topic, on_message)
    c.start()
    end = time.time() + a.timeout
    while time.time() < end:
        with lock:
            if len(got) >= a.count:
                break
        time.sleep(0.1)
    with lock:
        finish({"received": len(got)})


if __name__ == "__main__":
    main()
