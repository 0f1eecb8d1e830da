#!/usr/bin/env python3
"""Pull every queue of TOPIC from the group's committed offset until EXPECTED messages arrived.

    pull_consumer.py NAMESRV TOPIC GROUP EXPECTED [TIMEOUT_SECONDS]

Prints "received <queue_id> <queue_offset> <body>" per message, then "total N".
"""
import sys
import time

import rmq


def main():
    if len(sys.argv) < 5:
        sys.exit("usage: pull_consumer.py NAMESRV TOPIC GROUP EXPECTED [TIMEOUT_SECONDS]")
    namesrv, topic, group, expected = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    end = time.time() + (float(sys.argv[5]) if len(sys.argv) > 5 else 60)
    received = 0
    with rmq.PullConsumer(group, namesrv) as consumer:
        queues = consumer.fetch_queues(topic)
        offsets = {q: max(0, consumer.fetch_offset(q)) for q in queues}
        while received < expected and time.time() < end:
            for q in queues:
                r = consumer.pull(q, offsets[q], "*", max_nums=32, timeout=1.0)
                for m in r.messages:
                    print("received %d %d %s" % (m.queue_id, m.queue_offset, m.body.decode()))
                    received += 1
                if r.status != rmq.PullStatus.NO_NEW_MSG:
                    offsets[q] = r.next_begin_offset
                    consumer.update_offset(q, r.next_begin_offset)
    print("total %d" % received)
    sys.exit(0 if received >= expected else 1)


if __name__ == "__main__":
    main()
