#!/usr/bin/env python3
"""Drives an Apache PyPI binding (``rocketmq`` 0.4.4 or ``rocketmq-python-cvs`` 2.1.0.3), loaded
unchanged from PYTHONPATH with rmq's librocketmq.so in place of its bundled one (issue 15), for
what tests/python/interop.py does not cover: the binding's own high-level API for batches,
async sends (both callbacks), push and pull; transactions through ctypes on the 2.x C API;
the log-path setters; destroyed handles. Message payloads, checks and the JSON-on-the-last-line
protocol are interop.py's (imported from the same directory).

  compat_binding.py batch   --namesrv NS --topic T --group G --count N
  compat_binding.py async   --namesrv NS --topic T --group G --count N
  compat_binding.py pushapi --namesrv NS --topic T --group G --count N [--timeout S]
  compat_binding.py pullapi --namesrv NS --topic T --group G --count N [--timeout S]
  compat_binding.py txn     --namesrv NS --topic T --group G --count N [--timeout S]
  compat_binding.py logpath --namesrv NS --topic T --group G --dir D
  compat_binding.py handles --namesrv NS --topic T --group G

Exit 0 when every check passed, 1 when one failed, 2 on usage/setup errors.
"""
import argparse
import ctypes
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop  # noqa: E402
from interop import Verifier, check_for, finish, key_for, log, make_body, tag_for  # noqa: E402

import rocketmq.client as rc  # noqa: E402
from rocketmq import ffi  # noqa: E402
from rocketmq.exceptions import NullPointerException, ProducerSendSyncFailed, ffi_check  # noqa: E402

dll = ffi.dll


def message(topic, i):
    body = make_body(i, 64)
    m = rc.Message(topic)
    m.set_keys(key_for(i))
    m.set_tags(tag_for(i))
    m.set_property("idx", str(i))
    m.set_property("check", check_for(body.encode()))
    m.set_body(body)
    return m


def producer(a):
    p = rc.Producer(a.group)
    p.set_namesrv_addr(a.namesrv)
    p.start()
    return p


def pull_all(a, v, group):
    """The binding's own PullConsumer.pull() iterator, every queue from offset 0, until the
    verifier saw everything or the deadline passed."""
    c = rc.PullConsumer(group)
    c.set_namesrv_addr(a.namesrv)
    c.start()
    deadline = time.time() + a.timeout
    rounds = 0
    while not v.all_seen.is_set() and time.time() < deadline:
        rounds += 1
        rc.PullConsumer.offset_table = {}  # class-level in the binding: start again at 0
        for msg in c.pull(a.topic):
            v.add(msg)
        if not v.all_seen.is_set():
            time.sleep(0.3)
    c.shutdown()
    return rounds


def cmd_batch(a):
    p = producer(a)
    res = {"cmd": "batch", "batches": 0, "msg_ids": 0}
    for start in range(0, a.count, 10):
        r = p.send_batch([message(a.topic, i) for i in range(start, min(start + 10, a.count))])
        if r.status != rc.SendStatus.OK:
            res["error"] = "batch status %s" % r.status
            finish(res, 1)
        res["batches"] += 1
        # Comma-separated ids, cut to MAX_MESSAGE_ID_LENGTH - 1 bytes (as Apache's strncpy).
        ids = r.msg_id.split(",")
        if len(r.msg_id) > 255 or not ids or len(ids[0]) != 32:
            res["error"] = "bad batch msgId %r" % r.msg_id
            finish(res, 1)
        res["msg_ids"] += len(ids)
    p.shutdown()
    v = Verifier(a.topic, 0, a.count)
    res["pull_rounds"] = pull_all(a, v, a.group + "_check")
    res.update(v.report())
    finish(res, 0 if res["missing"] == 0 and res["bad_count"] == 0 else 1)


def cmd_async(a):
    p = producer(a)
    lock = threading.Lock()
    done = threading.Event()
    got = {"ok": 0, "bad_result": 0, "exceptions": [], "ids": set()}

    def on_ok(r):
        with lock:
            if r.status == rc.SendStatus.OK and len(r.msg_id) == 32 and r.offset >= 0:
                got["ok"] += 1
                got["ids"].add(r.msg_id)
            else:
                got["bad_result"] += 1
            if got["ok"] + got["bad_result"] + len(got["exceptions"]) >= a.count + 1:
                done.set()

    def on_fail(e):
        with lock:
            got["exceptions"].append(str(e))
            if got["ok"] + got["bad_result"] + len(got["exceptions"]) >= a.count + 1:
                done.set()

    for i in range(a.count):
        p.send_async(message(a.topic, i), on_ok, on_fail)
    # One that fails on the producer's thread: an empty body is refused there, so the exception
    # callback runs with the reason in its CMQException.
    p.send_async(rc.Message(a.topic), on_ok, on_fail)
    done.wait(a.timeout)
    p.shutdown()
    with lock:
        res = {"cmd": "async", "ok": got["ok"], "bad_result": got["bad_result"],
               "distinct_ids": len(got["ids"]), "exceptions": got["exceptions"]}
    v = Verifier(a.topic, 0, a.count)
    pull_all(a, v, a.group + "_check")
    res.update(v.report())
    passed = (res["ok"] == a.count and res["distinct_ids"] == a.count and len(res["exceptions"]) == 1
              and "body" in res["exceptions"][0].lower() and res["missing"] == 0 and res["bad_count"] == 0)
    finish(res, 0 if passed else 1)


def cmd_pushapi(a):
    v = Verifier(a.topic, 0, a.count)
    threads = set()

    def callback(msg):
        threads.add(threading.current_thread().ident)
        v.add(msg)

    c = rc.PushConsumer(a.group)
    c.set_namesrv_addr(a.namesrv)
    c.set_thread_count(2)
    c.set_message_batch_max_size(4)
    c.set_instance_name("compat_pushapi")
    c.subscribe(a.topic, callback)
    c.start()
    v.all_seen.wait(a.timeout)
    c.shutdown()
    c.shutdown()  # twice: the wrappers' __del__ does it again too
    res = {"cmd": "pushapi", "callback_threads": len(threads),
           "main_thread_called": threading.main_thread().ident in threads}
    res.update(v.report())
    finish(res, 0 if res["missing"] == 0 and res["bad_count"] == 0 and not res["main_thread_called"] else 1)


def cmd_pullapi(a):
    v = Verifier(a.topic, 0, a.count)
    res = {"cmd": "pullapi", "rounds": pull_all(a, v, a.group)}
    res.update(v.report())
    finish(res, 0 if res["missing"] == 0 and res["bad_count"] == 0 else 1)


# ---------------------------------------------------------------- transactions (2.x C API)

CHECKER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
EXECUTOR = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
COMMIT, ROLLBACK, UNKNOWN = 0, 1, 2


def cmd_txn(a):
    dll.CreateTransactionProducer.argtypes = [ctypes.c_char_p, CHECKER, ctypes.c_void_p]
    dll.CreateTransactionProducer.restype = ctypes.c_void_p
    dll.SendMessageTransaction.argtypes = [ctypes.c_void_p, ctypes.c_void_p, EXECUTOR, ctypes.c_void_p,
                                           ctypes.POINTER(ffi._CSendResult)]
    dll.SendMessageTransaction.restype = ctypes.c_int
    dll.GetOriginMessageProperty.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    dll.GetOriginMessageProperty.restype = ctypes.c_char_p
    lock = threading.Lock()
    checks = {}
    executed = []

    def decide(kind, i):
        return {"commit": COMMIT, "rollback": ROLLBACK}.get(kind, UNKNOWN)

    def executor(producer, cmsg, data):
        idx = int(dll.GetOriginMessageProperty(cmsg, b"idx"))
        kind = dll.GetOriginMessageProperty(cmsg, b"kind").decode()
        with lock:
            executed.append(idx)
        return decide(kind, idx)

    def checker(producer, cmsg, data):
        m = rc.RecvMessage(cmsg)
        idx = int(m.get_property("idx"))
        kind = m.get_property("kind").decode()
        with lock:
            checks.setdefault(kind, set()).add(idx)
        # An unknown transaction resolves on check-back: even ones commit, odd ones roll back.
        return COMMIT if idx % 2 == 0 else ROLLBACK

    checker_cb, executor_cb = CHECKER(checker), EXECUTOR(executor)
    p = dll.CreateTransactionProducer(a.group.encode(), checker_cb, None)
    ffi_check(dll.SetProducerNameServerAddress(p, a.namesrv.encode()))
    ffi_check(dll.StartProducer(p))
    kinds = ["commit", "rollback", "unknown"]
    for i in range(a.count):
        m = message(a.topic, i)
        kind = kinds[i % 3]
        m.set_property("kind", kind)
        r = ffi._CSendResult()
        ffi_check(dll.SendMessageTransaction(p, m, executor_cb, None, ctypes.pointer(r)))
        if r.sendStatus != 0 or len(r.msgId) != 32:
            finish({"error": "half message %d: status %d id %r" % (i, r.sendStatus, r.msgId)}, 1)
    unknown = set(i for i in range(a.count) if kinds[i % 3] == "unknown")
    deadline = time.time() + a.timeout
    while time.time() < deadline:
        with lock:
            if checks.get("unknown", set()) >= unknown:
                break
        time.sleep(0.05)
    # What consumers see: the commits and the unknowns the check committed, nothing else.
    want = set(i for i in range(a.count) if kinds[i % 3] == "commit" or (kinds[i % 3] == "unknown" and i % 2 == 0))
    v = Verifier(a.topic, 0, a.count, want=lambda i: i in want)
    pull_all(a, v, a.group + "_check")
    time.sleep(1.0)  # a rolled-back or still-unknown message showing up late would be caught here
    rc.PullConsumer.offset_table = {}
    late = Verifier(a.topic, 0, a.count, want=lambda i: i in want)
    c = rc.PullConsumer(a.group + "_late")
    c.set_namesrv_addr(a.namesrv)
    c.start()
    for msg in c.pull(a.topic):
        late.add(msg)
    c.shutdown()
    ffi_check(dll.ShutdownProducer(p))
    ffi_check(dll.DestroyProducer(p))
    with lock:
        res = {"cmd": "txn", "executed": len(executed),
               "checked": {k: sorted(s) for k, s in checks.items()}}
    res.update(v.report())
    res["late_unwanted"] = late.report()["unwanted"]
    passed = (res["executed"] == a.count and set(res["checked"].get("unknown", [])) == unknown
              and not res["checked"].get("commit") and not res["checked"].get("rollback")
              and res["missing"] == 0 and res["unwanted"] == 0 and res["late_unwanted"] == 0
              and res["bad_count"] == 0)
    finish(res, 0 if passed else 1)


# ---------------------------------------------------------------- log path, handles

def cmd_logpath(a):
    p = rc.Producer(a.group)
    p.set_namesrv_addr(a.namesrv)
    if hasattr(p, "set_log_root_path"):  # rocketmq-python-cvs
        p.set_log_root_path(a.dir)
    else:
        ffi_check(dll.SetProducerLogPath(p._handle, a.dir.encode()))
    ffi_check(dll.SetProducerLogLevel(p._handle, 5))  # E_LOG_LEVEL_DEBUG
    ffi_check(dll.SetProducerLogFileNumAndSize(p._handle, 2, 10))
    p.start()
    for i in range(5):
        p.send_sync(message(a.topic, i))
    p.shutdown()
    v = Verifier(a.topic, 0, 5)
    c = rc.PushConsumer(a.group + "_c")
    c.set_namesrv_addr(a.namesrv)
    ffi_check(dll.SetPushConsumerLogPath(c._handle, a.dir.encode()))
    c.subscribe(a.topic, v.add)
    c.start()
    v.all_seen.wait(a.timeout)
    c.shutdown()
    files = sorted(os.listdir(a.dir))
    res = {"cmd": "logpath", "files": files,
           "bytes": sum(os.path.getsize(os.path.join(a.dir, f)) for f in files)}
    res.update(v.report())
    finish(res, 0 if files and res["bytes"] > 0 and res["missing"] == 0 else 1)


def expect_raise(exc, fn, *args):
    try:
        fn(*args)
    except exc:
        return True
    except Exception as e:  # noqa
        log("unexpected exception %r" % (e,))
        return False
    return False


def cmd_handles(a):
    checks = {}
    p = producer(a)
    checks["send_ok"] = p.send_sync(message(a.topic, 0)).status == rc.SendStatus.OK
    p.shutdown()
    p.shutdown()
    checks["send_after_shutdown_fails"] = expect_raise(ProducerSendSyncFailed, p.send_sync, message(a.topic, 1))
    p.start()  # a shut-down producer starts again
    checks["send_after_restart"] = p.send_sync(message(a.topic, 2)).status == rc.SendStatus.OK
    checks["destroy_running"] = dll.DestroyProducer(p._handle) == 0
    checks["destroyed_is_null_pointer"] = expect_raise(NullPointerException, p.shutdown)
    checks["destroy_twice"] = dll.DestroyProducer(p._handle) == 1
    p._handle = None  # the wrapper's __del__ would shut it down again
    m = rc.Message(a.topic)
    checks["destroy_message"] = dll.DestroyMessage(m._handle) == 0
    checks["destroyed_message_setter"] = expect_raise(NullPointerException, m.set_body, "x")
    checks["destroyed_message_getter_is_none"] = dll.GetMessageTopic(m._handle) is None
    m._handle = None
    c = rc.PushConsumer(a.group + "_h")
    checks["consumer_shutdown_before_start"] = dll.ShutdownPushConsumer(c._handle) == 0
    checks["start_without_subscription_fails"] = dll.StartPushConsumer(c._handle) == 20
    checks["error_text"] = b"subscri" in (dll.GetLatestErrorMessage() or b"") or b"callback" in (dll.GetLatestErrorMessage() or b"")
    checks["destroy_consumer"] = dll.DestroyPushConsumer(c._handle) == 0
    checks["group_of_destroyed_is_none"] = dll.GetPushConsumerGroupID(c._handle) is None
    c._handle = None
    failed = sorted(k for k, ok in checks.items() if not ok)
    finish({"cmd": "handles", "checks": len(checks), "failed": failed}, 0 if not failed else 1)


def main():
    ap = interop.Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd")
    cmds = {"batch": cmd_batch, "async": cmd_async, "pushapi": cmd_pushapi, "pullapi": cmd_pullapi,
            "txn": cmd_txn, "logpath": cmd_logpath, "handles": cmd_handles}
    for name in cmds:
        p = sub.add_parser(name)
        p.add_argument("--namesrv", required=True)
        p.add_argument("--topic", required=True)
        p.add_argument("--group", required=True)
        p.add_argument("--count", type=int, default=0)
        p.add_argument("--timeout", type=float, default=60.0)
        p.add_argument("--dir", default=None)
    a = ap.parse_args()
    if a.cmd is None or (a.cmd == "logpath" and not a.dir):
        finish({"error": "usage: see compat_binding.py --help"}, 2)
    cmds[a.cmd](a)


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except BaseException as e:  # noqa
        import traceback
        traceback.print_exc()
        finish({"error": "uncaught: %r" % (e,)}, 1)
