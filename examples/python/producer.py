#!/usr/bin/env python3
"""Send COUNT messages with the rmq binding: sync (default), async or orderly.

    producer.py NAMESRV TOPIC COUNT [sync|async|orderly]

Same bodies and output as examples/c/producer.c.
"""
import sys
import threading

import rmq


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: producer.py NAMESRV TOPIC COUNT [sync|async|orderly]")
    namesrv, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    mode = sys.argv[4] if len(sys.argv) > 4 else "sync"
    done = threading.Semaphore(0)
    failures = []

    def on_sent(result, error):  # runs on a librmq thread
        if error is not None:
            failures.append(error)
        done.release()

    with rmq.Producer("PG_py_example", namesrv, send_timeout=5) as producer:
        for i in range(count):
            body = "order-%d:%d" % (i % 4, i // 4) if mode == "orderly" else "%s-%d" % (topic, i)
            msg = rmq.Message(topic, body, tags="TagA", keys="key-%d" % i, properties={"index": str(i)})
            if mode == "sync":
                producer.send(msg)
            elif mode == "async":
                producer.send_async(msg, on_sent)
            elif mode == "orderly":
                producer.send_orderly(msg, "order-%d" % (i % 4))
            else:
                sys.exit("unknown mode " + mode)
        if mode == "async":
            for _ in range(count):
                done.acquire()
    if failures:
        sys.exit("%d async sends failed: %s" % (len(failures), failures[0]))
    print("sent %d" % count)


if __name__ == "__main__":
    main()
