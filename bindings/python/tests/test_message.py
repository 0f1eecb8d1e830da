"""Binding tests that need no broker: exceptions carry status and text, messages round-trip
through librmq, closed handles and bad arguments raise."""
import ctypes
import unittest
from ctypes import POINTER, byref, c_char_p, c_size_t, c_uint8, c_void_p

import rmq
from rmq import _native as N
from rmq.client import _check


class MessageTest(unittest.TestCase):
    def test_native_message_round_trip(self):
        msg = rmq.Message("TopicA", "héllo\x00world".encode(), tags="TagA", keys=["k1", "k2"], properties={"color": "blue"}, delay_level=2)
        h = msg._native()
        try:
            out = c_char_p()
            _check(N.rmq_message_get_topic(h, byref(out)))
            self.assertEqual(out.value, b"TopicA")
            _check(N.rmq_message_get_keys(h, byref(out)))
            self.assertEqual(out.value, b"k1 k2")
            _check(N.rmq_message_get_property(h, b"color", byref(out)))
            self.assertEqual(out.value, b"blue")
            data, n = POINTER(c_uint8)(), c_size_t()
            _check(N.rmq_message_get_body(h, byref(data), byref(n)))
            self.assertEqual(ctypes.string_at(data, n.value), "héllo\x00world".encode())
            lvl = ctypes.c_int32()
            _check(N.rmq_message_get_delay_level(h, byref(lvl)))
            self.assertEqual(lvl.value, 2)
            with self.assertRaises(rmq.NotFoundError) as cm:
                _check(N.rmq_message_get_property(h, b"size", byref(out)))
            self.assertEqual(cm.exception.status, N.RMQ_STATUS_NOT_FOUND)
        finally:
            _check(N.rmq_message_destroy(h))
        with self.assertRaises(rmq.InvalidHandleError) as cm:
            _check(N.rmq_message_destroy(h))
        self.assertEqual(cm.exception.status_name, "RMQ_STATUS_INVALID_HANDLE")
        self.assertIn("not a live handle", cm.exception.message)

    def test_bad_arguments_raise_with_status_and_text(self):
        with self.assertRaises(rmq.InvalidArgumentError) as cm:
            rmq.Message("", b"x")._native()
        self.assertEqual(cm.exception.status, N.RMQ_STATUS_INVALID_ARGUMENT)
        self.assertIn("topic is empty", str(cm.exception))
        h = c_void_p()
        with self.assertRaises(rmq.InvalidArgumentError) as cm:
            _check(N.rmq_message_new(b"\xff\xfe", byref(h)))
        self.assertEqual(cm.exception.status, N.RMQ_STATUS_INVALID_UTF8)
        with self.assertRaises(rmq.InvalidArgumentError):
            _check(N.rmq_message_new(None, byref(h)))
        with self.assertRaises(rmq.InvalidArgumentError):
            rmq.Producer(None, "127.0.0.1:9")
        with self.assertRaises(rmq.InvalidArgumentError):
            rmq.PushConsumer("G", "127.0.0.1:9", thread_count=0)

    def test_lifecycle_errors(self):
        p = rmq.Producer("PG", "127.0.0.1:9")
        with self.assertRaises(rmq.StateError) as cm:
            p.send(rmq.Message("T", b"x"))
        self.assertEqual(cm.exception.status_name, "RMQ_STATUS_NOT_STARTED")
        p.close()
        p.close()  # idempotent
        with self.assertRaises(rmq.InvalidHandleError):
            p.send(rmq.Message("T", b"x"))
        c = rmq.PushConsumer("CG", "127.0.0.1:9")
        with self.assertRaises(rmq.StateError) as cm:
            c.start()
        self.assertIn("subscribe", cm.exception.message)
        c.close()

    def test_version(self):
        self.assertRegex(rmq.library_version(), r"^\d+\.\d+\.\d+")


if __name__ == "__main__":
    unittest.main()
