#!/usr/bin/env python3
"""Transactional messages through our Python binding (rmq.TransactionProducer over librmq's
rmq_transaction_producer_*): commit, rollback and check-back against a live broker; a
rmq.PullConsumer then must see exactly the committed messages.

  txn_binding.py NAMESRV TOPIC

Stdout: ONE JSON object on the last line. Exit 0 when the checks pass, 1 otherwise.
"""
import json
import sys
import threading
import time

import rmq
from rmq import LocalTxState


def main():
    ns, topic = sys.argv[1], sys.argv[2]
    checks = []
    lock = threading.Lock()
    check_threads = set()

    def check(msg):
        body = msg.body.decode()
        with lock:
            checks.append(body)
            check_threads.add(threading.current_thread().ident)
        if body.startswith("unknown-c"):
            return LocalTxState.COMMIT
        if body.startswith("unknown-r"):
            return LocalTxState.ROLLBACK
        return LocalTxState.UNKNOWN

    executed = {}

    def execute(msg, transaction_id):
        body = msg.body.decode() if isinstance(msg.body, bytes) else msg.body
        executed[body] = transaction_id
        if body.startswith("commit"):
            return LocalTxState.COMMIT
        if body.startswith("rollback"):
            return False  # False means ROLLBACK
        if body.startswith("raise"):
            raise RuntimeError("local transaction failed")
        return LocalTxState.UNKNOWN

    failures = []
    states = {}
    with rmq.TransactionProducer("PG_pytx", ns, check, instance_name="pytx", heartbeat_interval=0.3) as p:
        for body in ["commit-0", "rollback-0", "unknown-c-0", "unknown-r-0", "raise-0"]:
            r, state = p.send_in_transaction(rmq.Message(topic, body.encode(), tags="TX"), execute)
            states[body] = state.name
            if r.status != rmq.SendStatus.OK or len(r.msg_id) != 32:
                failures.append("bad send result for %s: %r" % (body, r))
            if executed.get(body) != r.msg_id:
                failures.append("execute got transaction id %r, send result says %r" % (executed.get(body), r.msg_id))
        want_states = {"commit-0": "COMMIT", "rollback-0": "ROLLBACK", "unknown-c-0": "UNKNOWN",
                       "unknown-r-0": "UNKNOWN", "raise-0": "UNKNOWN"}
        if states != want_states:
            failures.append("states %r" % states)
        end = time.time() + 30
        while time.time() < end:
            with lock:
                seen = set(checks)
            if {"unknown-c-0", "unknown-r-0", "raise-0"} <= seen:
                break
            time.sleep(0.1)
        else:
            failures.append("not every undecided transaction was checked: %r" % checks)
        if threading.main_thread().ident in check_threads:
            failures.append("check ran on the main thread")

    want = {"commit-0", "unknown-c-0"}
    got = []
    with rmq.PullConsumer("CG_pytx", ns, instance_name="pytx-pull") as c:
        queues = c.fetch_queues(topic)

        def pull_all():
            out = []
            for q in queues:
                off = 0
                while True:
                    r = c.pull(q, off, "*", 32, 2.0)
                    if not r.messages:
                        break
                    out.extend(m.body.decode() for m in r.messages)
                    off = r.next_begin_offset
            return out

        end = time.time() + 20
        while time.time() < end and not want <= set(got):
            got = pull_all()
            time.sleep(0.1)
        time.sleep(1.0)
        got = pull_all()
    if sorted(got) != sorted(want):
        failures.append("consumed %r, want exactly %r" % (sorted(got), sorted(want)))
    if any(not b.startswith(("unknown", "raise")) for b in checks):
        failures.append("decided transactions were checked: %r" % checks)
    print(json.dumps({"ok": not failures, "failures": failures, "consumed": sorted(got), "checks": sorted(set(checks)), "states": states}))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
