#!/usr/bin/env python3
"""Producer and push-consumer options of the Python binding, checked by what is delivered:
compress_threshold (a compressible body over it goes out compressed; the Rust test checks the
stored record and reads it back), max_message_size (BrokerError with status 304, nothing sent),
broadcasting (two consumers of one group each get everything), consume from a timestamp (the
broker runs with accessMessageInMemoryMaxRatio=0, so a new group's start is the client's
choice), max_reconsume_times=0 (a failed message goes straight to the DLQ, never redelivered).

    options_e2e.py NAMESRV TOPIC      (env RMQ_LIB: librmq.so)

Last stdout line: JSON with the checks; exit 0 when all passed.
"""
import json
import sys
import threading
import time

import rmq

ns, topic = sys.argv[1], sys.argv[2]
big_topic, dlq_topic = topic + "_big", topic + "_dlq"
EARLY, LATE = 20, 10
checks = {}


def big_body():
    return bytes(ord("a") + (i * 7 + i // 100) % 26 for i in range(20000))


with rmq.Producer("PG_py_options", ns, compress_threshold=100, max_message_size=64 * 1024) as p:
    p.start()
    for i in range(EARLY):
        p.send(rmq.Message(topic, b"early-%d" % i))
    time.sleep(0.1)
    ts = int(time.time() * 1000)
    time.sleep(0.1)
    for i in range(LATE):
        p.send(rmq.Message(topic, b"late-%d" % i))
    p.send(rmq.Message(big_topic, big_body()))
    try:
        p.send(rmq.Message(big_topic, bytes(70000)))
        checks["too_large"] = "sent"
    except rmq.RmqError as e:
        checks["too_large"] = e.status_name if e.status == 304 else "status %d" % e.status
    p.send(rmq.Message(dlq_topic, b"early-0"))


class Seen:
    def __init__(self, result=rmq.ConsumeResult.SUCCESS):
        self.lock = threading.Lock()
        self.bodies = []
        self.result = result

    def __call__(self, m):
        with self.lock:
            self.bodies.append(m.body.decode())
        return self.result

    def distinct(self):
        with self.lock:
            return set(self.bodies)


early = {"early-%d" % i for i in range(EARLY)}
late = {"late-%d" % i for i in range(LATE)}
seen = {k: Seen() for k in ("bc1", "bc2", "ts")}
seen["dlq"] = Seen(rmq.ConsumeResult.LATER)
B, C = rmq.MessageModel.BROADCASTING, rmq.MessageModel.CLUSTERING
specs = [
    ("bc1", "PYG_bc", B, rmq.ConsumeFrom.FIRST_OFFSET, topic, {}),
    ("bc2", "PYG_bc", B, rmq.ConsumeFrom.FIRST_OFFSET, topic, {}),
    ("ts", "PYG_ts", C, rmq.ConsumeFrom.TIMESTAMP, topic, {}),
    ("dlq", "PYG_dlq", C, rmq.ConsumeFrom.FIRST_OFFSET, dlq_topic, {"max_reconsume_times": 0}),
]
consumers = []
for name, group, model, frm, t, extra in specs:
    c = rmq.PushConsumer(group, ns, model=model, consume_from=frm, consume_timestamp_ms=ts,
                         instance_name="py-" + name, **extra)
    c.subscribe(t)
    c.register(seen[name])
    c.start()
    consumers.append(c)

want = {"bc1": early | late, "bc2": early | late, "ts": late}
end = time.time() + 60
while time.time() < end and not all(want[k] <= seen[k].distinct() for k in want):
    time.sleep(0.05)
while time.time() < end and not seen["dlq"].bodies:
    time.sleep(0.05)
time.sleep(1.0)  # late duplicates or redeliveries would show now
for c in consumers:
    c.shutdown()
    c.close()
for k in want:
    checks[k] = sorted(seen[k].distinct() ^ want[k])  # differences: [] when exact
checks["dlq_calls"] = len(seen["dlq"].bodies)
ok = (checks["too_large"] == "RMQ_STATUS_MESSAGE_TOO_LARGE" and checks["dlq_calls"] == 1
      and all(checks[k] == [] for k in want))
checks["ok"] = ok
print(json.dumps(checks))
sys.exit(0 if ok else 1)
