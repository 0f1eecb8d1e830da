#!/usr/bin/env python3
"""Consume TOPIC with a push consumer from the first offset until EXPECTED messages arrived.

    push_consumer.py NAMESRV TOPIC GROUP EXPECTED [TIMEOUT_SECONDS]

Prints "received <queue_id> <queue_offset> <body>" per message, then "total N".
"""
import sys
import threading

import rmq


def main(orderly=False):
    if len(sys.argv) < 5:
        sys.exit("usage: %s NAMESRV TOPIC GROUP EXPECTED [TIMEOUT_SECONDS]" % sys.argv[0])
    namesrv, topic, group, expected = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 60
    lock = threading.Lock()
    all_in = threading.Event()
    received = [0]

    def on_message(msg):  # runs on the consumer's threads
        with lock:
            print("received %d %d %s" % (msg.queue_id, msg.queue_offset, msg.body.decode()))
            received[0] += 1
            if received[0] >= expected:
                all_in.set()
        return rmq.ConsumeResult.SUCCESS

    consumer = rmq.PushConsumer(group, namesrv, consume_from=rmq.ConsumeFrom.FIRST_OFFSET)
    with consumer:  # close() (shutdown + free) on exit
        consumer.subscribe(topic, "*")
        consumer.register(on_message, orderly=orderly)
        consumer.start()
        all_in.wait(timeout)
    print("total %d" % received[0], flush=True)
    sys.exit(0 if received[0] >= expected else 1)


if __name__ == "__main__":
    main()
