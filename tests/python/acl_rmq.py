#!/usr/bin/env python3
"""ACL driver for our Python binding (package ``rmq`` on librmq): credentials through
``set_session_credentials`` on a producer, a push consumer and a pull consumer.

  acl_rmq.py --namesrv N --topic T --ak AK --sk SK --bad-sk SK2 --count C

Produces C messages with the right secret, one with --bad-sk (must fail), push-consumes and
pull-consumes the C messages with the right secret. Stdout: one JSON object on the last line.
"""
import argparse
import json
import sys
import threading
import time

import rmq


def main():
    ap = argparse.ArgumentParser()
    for k in ("--namesrv", "--topic", "--ak", "--sk", "--bad-sk"):
        ap.add_argument(k, required=True)
    ap.add_argument("--count", type=int, default=5)
    a = ap.parse_args()
    res = {"sent": 0, "bad_error": None, "pushed": 0, "pulled": 0}
    # A producer and a pull consumer start when their `with` block opens: credentials first.
    p = rmq.Producer("PG_acl_rmq", a.namesrv, retry_times=0)
    p.set_session_credentials(a.ak, a.sk)
    with p:
        for i in range(a.count):
            p.send(rmq.Message(a.topic, b"acl-rmq-%d" % i))
            res["sent"] += 1
    p = rmq.Producer("PG_acl_rmq_bad", a.namesrv, retry_times=0, instance_name="bad")
    p.set_session_credentials(a.ak, a.bad_sk, "ALIYUN")
    with p:
        try:
            p.send(rmq.Message(a.topic, b"never"))
        except rmq.RmqError as e:  # noqa
            res["bad_error"] = str(e)
    got = set()
    lock = threading.Lock()

    def on_message(m):
        with lock:
            got.add(bytes(m.body))

    with rmq.PushConsumer("GID_acl_rmq", a.namesrv, consume_from=rmq.ConsumeFrom.FIRST_OFFSET) as c:
        c.set_session_credentials(a.ak, a.sk)
        c.subscribe(a.topic, "*")
        c.register(on_message)
        c.start()
        end = time.time() + 30
        while time.time() < end and len(got) < a.count:
            time.sleep(0.1)
    res["pushed"] = len(got)
    pulled = set()
    c = rmq.PullConsumer("GID_acl_rmq_pull", a.namesrv)
    c.set_session_credentials(a.ak, a.sk)
    with c:
        end = time.time() + 30
        queues = c.fetch_queues(a.topic)
        offsets = {q: 0 for q in queues}
        while time.time() < end and len(pulled) < a.count:
            for q in queues:
                r = c.pull(q, offsets[q], "*", 32, 0.5)
                for m in r.messages:
                    pulled.add(bytes(m.body))
                if r.status != rmq.PullStatus.NO_NEW_MSG:
                    offsets[q] = r.next_begin_offset
    res["pulled"] = len(pulled)
    sys.stdout.write(json.dumps(res, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
