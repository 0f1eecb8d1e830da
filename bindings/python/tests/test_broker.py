"""Binding tests against a live name server and broker: RMQ_NAMESRV must name one (the Rust
harness, tests/it/ffi/python.rs, starts them on loopback and sets it; it fails if these skip)."""
import os
import threading
import time
import unittest

import rmq

NS = os.environ.get("RMQ_NAMESRV")


@unittest.skipUnless(NS, "set RMQ_NAMESRV to a running name server (tests/it/ffi/python.rs does)")
class BrokerTest(unittest.TestCase):
    def test_send_modes_and_pull_back(self):
        topic = "PyModes"
        with rmq.Producer("PG_py_modes", NS) as p:
            r = p.send(rmq.Message(topic, b"first", tags="TagA", keys=["a", "b"], properties={"n": "1"}))
            self.assertEqual(r.status, rmq.SendStatus.OK)
            queues = p.fetch_publish_queues(topic)
            self.assertGreaterEqual(len(queues), 2)
            seen = []
            r = p.send_with_selector(rmq.Message(topic, b"sel"), lambda qs, m: seen.append((len(qs), m.topic)) or len(qs) - 1)
            self.assertEqual(seen, [(len(queues), topic)])
            self.assertEqual(r.queue, queues[-1])
            r = p.send_to_queue(rmq.Message(topic, b"q0"), queues[0])
            self.assertEqual(r.queue, queues[0])
            # A selector that raises cancels its send, and the exception reaches the caller.
            with self.assertRaises(ZeroDivisionError):
                p.send_with_selector(rmq.Message(topic, b"boom"), lambda qs, m: 1 // 0)
            r = p.send_batch([rmq.Message(topic, b"b%d" % i, tags="TagB") for i in range(5)])
            self.assertEqual(r.status, rmq.SendStatus.OK)
            p.send_oneway(rmq.Message(topic, b"oneway"))
            keys = {p.send_orderly(rmq.Message(topic, b"o"), "order-7").queue for _ in range(5)}
            self.assertEqual(len(keys), 1)

            done = threading.Event()
            results = []

            def cb(result, error):
                results.append((result, error))
                done.set()
                raise RuntimeError("an exception in a send callback is logged, not fatal")

            p.send_async(rmq.Message(topic, b"async"), cb)
            self.assertTrue(done.wait(10))
            self.assertIsNone(results[0][1])
            self.assertEqual(results[0][0].status, rmq.SendStatus.OK)
            self.assertEqual(p.send(rmq.Message(topic, b"after")).status, rmq.SendStatus.OK)

        want = [b"first", b"sel", b"q0", b"oneway", b"async", b"after"] + [b"b%d" % i for i in range(5)]
        bodies = []
        with rmq.PullConsumer("CG_py_modes", NS) as c:
            queues = c.fetch_queues(topic)
            offsets = {q: 0 for q in queues}
            end = time.time() + 20
            # The broker indexes stored messages asynchronously: pull until everything showed up.
            while not all(b in bodies for b in want) and time.time() < end:
                for q in queues:
                    r = c.pull(q, offsets[q], "*", 32, 3.0)
                    bodies += [m.body for m in r.messages]
                    for m in r.messages:
                        if m.body == b"first":
                            self.assertEqual((m.tags, m.keys, m.property("n")), ("TagA", "a b", "1"))
                    if r.status == rmq.PullStatus.FOUND:
                        offsets[q] = r.next_begin_offset
            b_only = []
            for q in queues:
                r = c.pull(q, 0, "TagB", 32, 3.0)
                b_only += [m.body for m in r.messages]
        for b in want:
            self.assertIn(b, bodies)
        self.assertNotIn(b"boom", bodies, "a cancelled send must not be stored")
        self.assertEqual(sorted(b_only), [b"b%d" % i for i in range(5)])

    def test_listener_exception_means_redelivery_and_the_consumer_survives(self):
        topic = "PyRetry"
        with rmq.Producer("PG_py_retry", NS) as p:
            for i in range(3):
                p.send(rmq.Message(topic, b"m%d" % i))
        lock = threading.Lock()
        attempts = {}
        all_done = threading.Event()

        def listener(msg):
            with lock:
                n = attempts.get(msg.body, 0)
                attempts[msg.body] = n + 1
                if msg.body == b"m1" and n == 0:
                    raise ValueError("first delivery of m1 fails")
                if msg.body == b"m2" and n == 0:
                    return rmq.ConsumeResult.LATER
                if all(attempts.get(b"m%d" % i, 0) >= (2 if i else 1) for i in range(3)):
                    all_done.set()
            return None

        with rmq.PushConsumer("CG_py_retry", NS, consume_from=rmq.ConsumeFrom.FIRST_OFFSET) as c:
            c.subscribe(topic, "*")
            c.register(listener)
            c.start()
            self.assertTrue(all_done.wait(90), "redelivery did not happen: %r" % attempts)
        self.assertEqual(attempts[b"m0"], 1)
        self.assertGreaterEqual(attempts[b"m1"], 2)
        self.assertGreaterEqual(attempts[b"m2"], 2)


if __name__ == "__main__":
    unittest.main()
