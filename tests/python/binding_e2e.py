#!/usr/bin/env python3
"""End-to-end driver for our Python binding (package ``rmq``, bindings/python), with the same
message format and checks as interop.py (Apache's client), so either side can produce and the
other consume. Stdout: ONE JSON object on the last line. Exit 0 when the checks pass.

  binding_e2e.py produce --namesrv N --topic T --group G --count C [--start S] [--mode sync|async]
  binding_e2e.py push    --namesrv N --topic T --group G --expect-start S --expect-count C [--timeout S]
  binding_e2e.py pull    --namesrv N --topic T --group G --expect-start S --expect-count C [--timeout S]
"""
import argparse
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop import DEFAULT_BODY_SIZE, Verifier, check_for, key_for, make_body, tag_for  # noqa: E402

import rmq  # noqa: E402


class _AsApache:
    """A ReceivedMessage seen through the attribute names Verifier reads (Apache's RecvMessage)."""

    def __init__(self, m):
        self.m = m
        self.topic, self.tags, self.keys, self.body = m.topic, m.tags, m.keys, m.body
        self.queue_id, self.queue_offset, self.reconsume_times, self.id = m.queue_id, m.queue_offset, m.reconsume_times, m.msg_id
        self.born_timestamp, self.store_timestamp = m.born_timestamp, m.store_timestamp

    def get_property(self, k):
        return self.m.property(k)


def finish(result, ok):
    result["exit"] = 0 if ok else 1
    sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
    sys.stdout.flush()
    sys.exit(result["exit"])


def message(topic, i, size):
    body = make_body(i, size).encode()
    return rmq.Message(topic, body, tags=tag_for(i), keys=key_for(i), properties={"idx": str(i), "check": check_for(body)})


def cmd_produce(a):
    ok = failed = 0
    t0 = time.time()
    with rmq.Producer(a.group, a.namesrv, send_timeout=10) as p:
        if a.mode == "sync":
            for i in range(a.start, a.start + a.count):
                r = p.send(message(a.topic, i, a.body_size))
                if r.status == rmq.SendStatus.OK:
                    ok += 1
                else:
                    failed += 1
        else:
            window = threading.BoundedSemaphore(2000)
            lock = threading.Lock()
            done = threading.Event()
            counts = {"ok": 0, "failed": 0}

            def on_sent(result, error):
                with lock:
                    counts["ok" if error is None else "failed"] += 1
                    if counts["ok"] + counts["failed"] == a.count:
                        done.set()
                window.release()

            for i in range(a.start, a.start + a.count):
                window.acquire()
                p.send_async(message(a.topic, i, a.body_size), on_sent)
            done.wait(300)
            ok, failed = counts["ok"], counts["failed"]
    secs = time.time() - t0
    finish({"ok": ok, "failed": failed, "seconds": round(secs, 3)}, ok == a.count)


def cmd_push(a):
    v = Verifier(a.topic, a.expect_start, a.expect_count)

    def on_message(m):
        v.add(_AsApache(m))

    with rmq.PushConsumer(a.group, a.namesrv, consume_from=rmq.ConsumeFrom.FIRST_OFFSET, thread_count=4, max_batch_size=16) as c:
        c.subscribe(a.topic, "*")
        c.register(on_message)
        c.start()
        v.all_seen.wait(a.timeout)
        time.sleep(1.0)  # let duplicates, if any, show up before judging
    r = v.report()
    finish(r, r["distinct"] == a.expect_count and r["bad_count"] == 0)


def cmd_pull(a):
    v = Verifier(a.topic, a.expect_start, a.expect_count)
    end = time.time() + a.timeout
    with rmq.PullConsumer(a.group, a.namesrv) as c:
        queues = c.fetch_queues(a.topic)
        offsets = {q: max(0, c.fetch_offset(q)) for q in queues}
        while not v.all_seen.is_set() and time.time() < end:
            for q in queues:
                r = c.pull(q, offsets[q], "*", 32, 0.5)
                for m in r.messages:
                    v.add(_AsApache(m))
                if r.status != rmq.PullStatus.NO_NEW_MSG:
                    offsets[q] = r.next_begin_offset
                    c.update_offset(q, r.next_begin_offset)
    r = v.report()
    finish(r, r["distinct"] == a.expect_count and r["bad_count"] == 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("produce", "push", "pull"):
        sp = sub.add_parser(name)
        sp.add_argument("--namesrv", required=True)
        sp.add_argument("--topic", required=True)
        sp.add_argument("--group", required=True)
        sp.add_argument("--timeout", type=float, default=120.0)
        if name == "produce":
            sp.add_argument("--count", type=int, required=True)
            sp.add_argument("--start", type=int, default=0)
            sp.add_argument("--body-size", type=int, default=DEFAULT_BODY_SIZE)
            sp.add_argument("--mode", choices=("sync", "async"), default="sync")
        else:
            sp.add_argument("--expect-start", type=int, required=True)
            sp.add_argument("--expect-count", type=int, required=True)
    a = ap.parse_args()
    {"produce": cmd_produce, "push": cmd_push, "pull": cmd_pull}[a.cmd](a)


if __name__ == "__main__":
    main()
