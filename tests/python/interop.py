#!/usr/bin/env python3
"""Interop driver for rmq using Apache's C++ client as shipped in PyPI ``rocketmq`` 0.4.4.

Run with the python of the venv made by setup_venv.sh.  Stdout: ONE JSON object on
the last line.  Logs: stderr.  Exit codes: 0 checks passed, 1 a check failed,
2 usage/setup error.

  interop.py produce --namesrv HOST:PORT --topic T --group G --count N
                     [--start I] [--body-size B] [--timeout S] [--send-timeout-ms MS]
  interop.py push    --namesrv HOST:PORT --topic T --group G --expect-start I --expect-count N
                     [--timeout S] [--idle S] [--body-size B]
  interop.py pull    --namesrv HOST:PORT --topic T --group G --expect-start I --expect-count N
                     [--timeout S] [--body-size B]
  interop.py latency --namesrv HOST:PORT --topic T --group G --count N [--timeout S]

produce also takes --delay-level L (set_delay_time_level) and --order-keys K (send_orderly,
queue = (i % K) % queues).  push also takes --expression E (only matching tags are
expected; others count as "unwanted"), --orderly, --broadcast, --order-keys K (per-key
order check: key = i % K), --reconsume-later R (the callback returns RECONSUME_LATER; done
when one message was seen with reconsume_times R), --stop-after N (leave after N
messages), --until-tail K (done when the last K messages were seen), --slow-ms MS,
--ready-file F --ready-queues Q (touch F once warm-up messages, i.e. outside the expected
range, came from Q distinct queues), --hold-file F (before shutdown, wait until F exists).  latency sends one message at a time to a waiting push
consumer and reports produce-to-callback latency percentiles.

Message i (as produced): body = make_body(i, B) (ASCII, starts with "body-<i>-",
padded with a repeating pattern to B bytes), tags "Tag" + "ABC"[i % 3], keys
"key-<i>", user properties idx=<i> and check=<first 8 hex chars of sha1(body)>.
Consumers verify every field; the body check is length-independent unless
--body-size is given to the consumer as well.
"""
import argparse
import hashlib
import json
import os
import sys
import threading
import time

PATTERN = "abcdefghijklmnopqrstuvwxyz0123456789"
DEFAULT_BODY_SIZE = 100
MAX_BAD = 10
DETAIL_LIMIT = 1000


def log(*a):
    print("[interop]", *a, file=sys.stderr, flush=True)


def finish(result, code):
    """Print the JSON result as the last stdout line and leave without running the
    C++ destructors again (the 0.4.4 wrappers call Shutdown* a second time in __del__)."""
    result["exit"] = code
    sys.stderr.flush()
    sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
    sys.stdout.flush()
    os._exit(code)


def make_body(i, size):
    prefix = "body-%d-" % i
    if size <= len(prefix):
        return prefix
    n = size - len(prefix)
    pad = (PATTERN * (n // len(PATTERN) + 1))[:n]
    return prefix + pad


def tag_for(i):
    return "Tag" + "ABC"[i % 3]


def key_for(i):
    return "key-%d" % i


def check_for(body_bytes):
    return hashlib.sha1(body_bytes).hexdigest()[:8]


def _s(v):
    if v is None:
        return None
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return str(v)


class Verifier:
    """Collects consumed messages and checks them against the deterministic payloads."""

    def __init__(self, topic, start, count, body_size=None, want=None, order_keys=0):
        self.topic = topic
        self.start = start
        self.want = want or (lambda i: True)
        self.end = start + count
        self.wanted = set(i for i in range(start, start + count) if self.want(i))
        self.count = len(self.wanted)
        self.body_size = body_size
        self.order_keys = order_keys
        self.last_per_key = {}
        self.order_violations = []
        self.unwanted = 0
        self.reconsume = {}     # idx -> [reconsume_times in arrival order]
        self.delays_ms = []     # receive time - born timestamp, expected messages only
        self.warmup_queues = set()
        self.lock = threading.Lock()
        self.seen = {}          # idx -> times
        self.received = 0
        self.outside = 0
        self.bad = []
        self.bad_count = 0
        self.queues = {}
        self.reconsumed = 0
        self.all_seen = threading.Event()
        if count == 0:
            self.all_seen.set()

    def _problem(self, text):
        self.bad_count += 1
        if len(self.bad) < MAX_BAD:
            self.bad.append(text)

    def add(self, msg):
        """msg: rocketmq.client.RecvMessage. Never raises."""
        try:
            topic = _s(msg.topic)
            tags = _s(msg.tags)
            keys = _s(msg.keys)
            body = msg.body or b""
            idx_s = _s(msg.get_property("idx"))
            chk = _s(msg.get_property("check"))
            qid = msg.queue_id
            qoff = msg.queue_offset
            recon = msg.reconsume_times
            mid = _s(msg.id)
            born = msg.born_timestamp
            now_ms = int(time.time() * 1000)
        except Exception as e:  # noqa
            with self.lock:
                self.received += 1
                self._problem("cannot read message attributes: %r" % (e,))
            return
        where = "q%s@%s id=%s" % (qid, qoff, mid)
        with self.lock:
            self.received += 1
            self.queues[str(qid)] = self.queues.get(str(qid), 0) + 1
            if recon:
                self.reconsumed += 1
            try:
                idx = int(idx_s)
            except (TypeError, ValueError):
                self._problem("%s: missing/invalid idx property %r (body %r)" % (where, idx_s, body[:40]))
                return
            inside = idx in self.wanted
            if not inside and self.start <= idx < self.end:
                self.unwanted += 1
            problems = []
            if topic != self.topic:
                problems.append("topic %r" % topic)
            if tags != tag_for(idx):
                problems.append("tags %r != %r" % (tags, tag_for(idx)))
            if keys != key_for(idx):
                problems.append("keys %r != %r" % (keys, key_for(idx)))
            exp_len = self.body_size if self.body_size is not None else len(body)
            if body != make_body(idx, exp_len).encode():
                problems.append("body mismatch (len %d, starts %r)" % (len(body), body[:24]))
            if chk != check_for(body):
                problems.append("check %r != sha1(body)[:8] %r" % (chk, check_for(body)))
            if not inside:
                self.outside += 1
                self.warmup_queues.add(qid)
                if problems:
                    log("outside-range message idx=%d %s has problems: %s" % (idx, where, "; ".join(problems)))
                return
            if problems:
                self._problem("idx=%d %s: %s" % (idx, where, "; ".join(problems)))
            self.reconsume.setdefault(idx, []).append(recon)
            self.delays_ms.append(now_ms - born)
            if self.order_keys:
                key = idx % self.order_keys
                last = self.last_per_key.get(key)
                if last is not None and idx <= last and len(self.order_violations) < MAX_BAD:
                    self.order_violations.append("key %d: %d after %d" % (key, idx, last))
                self.last_per_key[key] = idx
            self.seen[idx] = self.seen.get(idx, 0) + 1
            if len(self.seen) == self.count:
                self.all_seen.set()

    def report(self):
        with self.lock:
            distinct = len(self.seen)
            dups = sum(n - 1 for n in self.seen.values())
            missing = sorted(i for i in self.wanted if i not in self.seen)
            return {
                "received": self.received,
                "distinct": distinct,
                "missing": len(missing),
                "missing_sample": missing[:20],
                "duplicates": dups,
                "outside": self.outside,
                "bad": list(self.bad),
                "bad_count": self.bad_count,
                "queues": dict(self.queues),
                "reconsumed": self.reconsumed,
                "unwanted": self.unwanted,
                # Per-message details only for small runs: the test harness reads stdout after
                # the process exits, so the last line must fit in the pipe buffer.
                "seen_idx": sorted(self.seen) if len(self.seen) <= DETAIL_LIMIT else None,
                "order_violations": list(self.order_violations),
                "reconsume_by_idx": {str(k): v for k, v in sorted(self.reconsume.items())}
                if len(self.reconsume) <= DETAIL_LIMIT else None,
                "min_delay_ms": min(self.delays_ms) if self.delays_ms else None,
                "max_delay_ms": max(self.delays_ms) if self.delays_ms else None,
            }


def import_client():
    try:
        import rocketmq.client as rc  # noqa
        return rc
    except Exception as e:  # noqa
        finish({"error": "cannot import rocketmq.client: %s" % e}, 2)


# ---------------------------------------------------------------- produce

def cmd_produce(a):
    rc = import_client()
    res = {"cmd": "produce", "sent": 0, "ok": 0, "failed": 0, "not_ok_status": 0, "errors": []}
    t0 = time.time()
    try:
        p = rc.Producer(a.group)
        p.set_namesrv_addr(a.namesrv)
        if a.send_timeout_ms:
            p.set_timeout(a.send_timeout_ms)
        p.start()
    except Exception as e:  # noqa
        res["error"] = "producer start failed: %s" % e
        finish(res, 2)
    offsets = {}
    deadline = t0 + a.timeout
    for i in range(a.start, a.start + a.count):
        if time.time() > deadline:
            res["failed"] += a.start + a.count - i
            res["errors"].append("overall timeout after %d messages" % (i - a.start))
            break
        body = make_body(i, a.body_size)
        m = rc.Message(a.topic)
        m.set_keys(key_for(i))
        m.set_tags(tag_for(i))
        m.set_property("idx", str(i))
        m.set_property("check", check_for(body.encode()))
        m.set_body(body)
        if a.delay_level:
            m.set_delay_time_level(a.delay_level)
        res["sent"] += 1
        try:
            if a.order_keys:
                r = p.send_orderly(m, i % a.order_keys)  # hashing selector: key % queues
            else:
                r = p.send_sync(m)
        except Exception as e:  # noqa
            res["failed"] += 1
            if len(res["errors"]) < MAX_BAD:
                res["errors"].append("idx=%d: %s" % (i, str(e).strip()[:300]))
            log("send %d failed: %s" % (i, e))
            continue
        if r.status == rc.SendStatus.OK:
            res["ok"] += 1
        else:
            res["not_ok_status"] += 1
            if len(res["errors"]) < MAX_BAD:
                res["errors"].append("idx=%d: status %s" % (i, r.status.name))
        # SendResult in 0.4.4 = (status, msg_id, offset): no queue id is exposed
        offsets[str(r.offset)] = offsets.get(str(r.offset), 0) + 1
        if i == a.start:
            res["first_msg_id"] = r.msg_id
    try:
        p.shutdown()
    except Exception as e:  # noqa
        log("producer shutdown error:", e)
    res["elapsed_s"] = round(time.time() - t0, 2)
    res["distinct_offsets"] = len(offsets)
    passed = res["failed"] == 0 and res["ok"] == a.count
    finish(res, 0 if passed else 1)


# ---------------------------------------------------------------- push

def want_for(expression):
    """Tag predicate for a subscription expression ("*" or "TagA || TagB")."""
    e = (expression or "*").strip()
    if e in ("", "*"):
        return None
    tags = set(t.strip() for t in e.split("||") if t.strip())
    return lambda i: tag_for(i) in tags


def cmd_push(a):
    rc = import_client()
    from rocketmq import ffi
    from rocketmq.exceptions import ffi_check
    v = Verifier(a.topic, a.expect_start, a.expect_count, a.body_size,
                 want=want_for(a.expression), order_keys=a.order_keys)
    res = {"cmd": "push"}
    t0 = time.time()
    ready_written = [False]

    def check_ready():
        if a.ready_file and not ready_written[0] and len(v.warmup_queues) >= a.ready_queues:
            with open(a.ready_file, "w") as f:
                f.write("ready\n")
            ready_written[0] = True

    def on_message(msg):
        # 0.4.4: returning normally == CONSUME_SUCCESS; raising would print a traceback and
        # (because the wrapper re-raises in `finally`) also end up as success, so never raise.
        try:
            v.add(msg)
            check_ready()
            if a.slow_ms:
                time.sleep(a.slow_ms / 1000.0)
        except Exception as e:  # noqa
            log("callback error:", e)

    def raw_callback(consumer, cmsg):
        # Our own ctypes callback, so the status is exact: rocketmq.client's wrapper turns an
        # exception into an undefined C return value (it re-raises in `finally`).
        on_message(rc.RecvMessage(cmsg))
        return 1 if a.reconsume_later is not None else 0

    try:
        model = rc.MessageModel.BROADCASTING if a.broadcast else rc.MessageModel.CLUSTERING
        c = rc.PushConsumer(a.group, orderly=a.orderly, message_model=model)
        c.set_namesrv_addr(a.namesrv)
        if a.threads:
            c.set_thread_count(a.threads)
        ffi_check(ffi.dll.Subscribe(c._handle, a.topic.encode(), a.expression.encode()))
        func = ffi.MSG_CALLBACK_FUNC(raw_callback)
        c._callback_refs.append(func)
        register = ffi.dll.RegisterMessageCallbackOrderly if a.orderly else ffi.dll.RegisterMessageCallback
        ffi_check(register(c._handle, func))
        c.start()
    except Exception as e:  # noqa
        res["error"] = "push consumer start failed: %s" % e
        finish(res, 2)
    log("push consumer started (group %s, topic %s)" % (a.group, a.topic))

    tail = sorted(v.wanted)[-a.until_tail:] if a.until_tail else []

    def done():
        with v.lock:
            if a.stop_after and v.received >= a.stop_after:
                return True
            if a.reconsume_later is not None:
                # The C API stops calling back for the rest of a pulled batch once one message
                # asks for a retry (CPushConsumer.cpp), so not every message reaches the
                # callback on every round: done once one of them reached R.
                return any(a.reconsume_later in r for r in v.reconsume.values())
            if tail:
                return all(i in v.seen for i in tail)
        return v.all_seen.is_set()

    deadline = t0 + a.timeout
    while not done() and time.time() < deadline:
        time.sleep(0.05)
    timed_out = not done()
    res["all_seen_after_s"] = None if timed_out else round(time.time() - t0, 2)
    if not timed_out and a.idle > 0 and not a.stop_after:
        time.sleep(a.idle)  # catch duplicates / late redeliveries
    if a.hold_file:
        # The C++ client commits offsets on shutdown with ONEWAY requests and closes its
        # connections right after, so those last commits can be lost; the caller creates
        # this file once the broker holds the offsets (from the client's periodic commit).
        hold_end = time.time() + 60
        while not os.path.exists(a.hold_file) and time.time() < hold_end:
            time.sleep(0.05)
        res["held_for_offsets"] = os.path.exists(a.hold_file)
    t_sd = time.time()
    try:
        c.shutdown()  # persists consumer offsets (UPDATE_CONSUMER_OFFSET) and unregisters
    except Exception as e:  # noqa
        log("push consumer shutdown error:", e)
    res["shutdown_s"] = round(time.time() - t_sd, 2)
    res.update(v.report())
    res["timed_out"] = timed_out
    res["elapsed_s"] = round(time.time() - t0, 2)
    if a.stop_after or a.until_tail or a.reconsume_later is not None:
        failed = timed_out or res["bad_count"] > 0
    else:
        failed = res["missing"] or res["bad_count"]
    finish(res, 1 if failed else 0)


# ---------------------------------------------------------------- latency

def cmd_latency(a):
    """Produce-to-callback latency of a consumer waiting on an empty queue (long polling)."""
    rc = import_client()
    got = {}
    cond = threading.Condition()

    def on_message(msg):
        now = time.time()
        try:
            idx = int(_s(msg.get_property("idx")))
        except (TypeError, ValueError):
            return
        with cond:
            got.setdefault(idx, now)
            cond.notify_all()

    res = {"cmd": "latency"}
    try:
        p = rc.Producer(a.group + "_P")
        p.set_namesrv_addr(a.namesrv)
        p.start()
        c = rc.PushConsumer(a.group)
        c.set_namesrv_addr(a.namesrv)
        c.subscribe(a.topic, on_message, "*")
        c.start()
    except Exception as e:  # noqa
        res["error"] = "start failed: %s" % e
        finish(res, 2)

    def send(i):
        m = rc.Message(a.topic)
        m.set_keys(key_for(i))
        m.set_tags(tag_for(i))
        m.set_property("idx", str(i))
        body = make_body(i, 64)
        m.set_property("check", check_for(body.encode()))
        m.set_body(body)
        t = time.time()
        p.send_sync(m)
        return t

    deadline = time.time() + a.timeout
    # Warm up until the consumer has its queues and answers (idx from 1e6 up).
    w = 1000000
    while time.time() < deadline:
        send(w)
        with cond:
            cond.wait_for(lambda: len(got) > 0, timeout=1.0)
            if got:
                break
        w += 1
    time.sleep(1.0)  # let the consumer drain the warm-up and park its pulls on empty queues
    lat = []
    for i in range(a.count):
        if time.time() > deadline:
            break
        time.sleep(0.05)
        t = send(i)
        with cond:
            cond.wait_for(lambda: i in got, timeout=max(0.0, deadline - time.time()))
            if i in got:
                lat.append((got[i] - t) * 1000.0)
    try:
        c.shutdown()
        p.shutdown()
    except Exception as e:  # noqa
        log("shutdown error:", e)
    lat.sort()

    def pct(q):
        return round(lat[min(len(lat) - 1, int(q * len(lat)))], 2) if lat else None

    res.update({"received": len(lat), "count": a.count, "p50_ms": pct(0.5), "p90_ms": pct(0.9),
                "p99_ms": pct(0.99), "max_ms": round(lat[-1], 2) if lat else None,
                "mean_ms": round(sum(lat) / len(lat), 2) if lat else None})
    finish(res, 0 if len(lat) == a.count else 1)


# ---------------------------------------------------------------- pull

def cmd_pull(a):
    rc = import_client()
    import ctypes
    from rocketmq import ffi
    dll = ffi.dll
    v = Verifier(a.topic, a.expect_start, a.expect_count, a.body_size)
    res = {"cmd": "pull", "pulls": 0, "statuses": {}}
    t0 = time.time()
    deadline = t0 + a.timeout
    try:
        c = rc.PullConsumer(a.group)
        c.set_namesrv_addr(a.namesrv)
        c.start()
    except Exception as e:  # noqa
        res["error"] = "pull consumer start failed: %s" % e
        finish(res, 2)

    # Same calls as rocketmq.client.PullConsumer.pull(), but bounded in time: the library's
    # iterator retries BROKER_TIMEOUT forever and keeps offsets in a class-level dict.
    mqs = None
    last_err = None
    while time.time() < deadline:
        arr = ctypes.POINTER(ffi._CMessageQueue)()
        n = ctypes.c_int()
        st = dll.FetchSubscriptionMessageQueues(c._handle, a.topic.encode(), ctypes.pointer(arr), ctypes.pointer(n))
        if st == 0 and n.value > 0:
            mqs = []
            for i in range(n.value):
                q = ffi._CMessageQueue()
                ctypes.memmove(ctypes.byref(q), ctypes.byref(arr[i]), ctypes.sizeof(q))
                mqs.append(q)
            dll.ReleaseSubscriptionMessageQueue(arr)
            break
        if st == 0:
            last_err = "FetchSubscriptionMessageQueues: no queues for topic %s (no route?)" % a.topic
        else:
            last_err = "FetchSubscriptionMessageQueues status %s: %s" % (int(st), _s(dll.GetLatestErrorMessage()))
        log(last_err)
        time.sleep(1.0)
    if not mqs:
        res["error"] = last_err or "no message queues"
        try:
            c.shutdown()
        except Exception:  # noqa
            pass
        res.update(v.report())
        finish(res, 1)
    res["message_queues"] = ["%s:%s:%d" % (_s(q.topic), _s(q.brokerName), q.queueId) for q in mqs]
    offsets = [0] * len(mqs)
    names = {0: "FOUND", 1: "NO_NEW_MSG", 2: "NO_MATCHED_MSG", 3: "OFFSET_ILLEGAL", 4: "BROKER_TIMEOUT"}
    rounds = 0
    while time.time() < deadline and not v.all_seen.is_set():
        rounds += 1
        for qi, q in enumerate(mqs):
            # drain this queue until NO_NEW_MSG (or no progress)
            while time.time() < deadline:
                r = dll.Pull(c._handle, ctypes.pointer(q), b"*", ctypes.c_longlong(offsets[qi]), a.max_num)
                res["pulls"] += 1
                name = names.get(r.pullStatus, str(r.pullStatus))
                res["statuses"][name] = res["statuses"].get(name, 0) + 1
                progressed = False
                if r.pullStatus == 0:
                    for k in range(int(r.size)):
                        v.add(rc.RecvMessage(r.msgFoundList[k]))
                if r.pullStatus != 4:
                    progressed = r.nextBeginOffset != offsets[qi]
                    if r.nextBeginOffset < offsets[qi] and r.pullStatus != 3:
                        log("queue %d: nextBeginOffset went back %d -> %d" % (q.queueId, offsets[qi], r.nextBeginOffset))
                    offsets[qi] = r.nextBeginOffset
                status = r.pullStatus
                dll.ReleasePullResult(r)
                if status == 4:
                    log("queue %d: BROKER_TIMEOUT/exception at offset %d: %s"
                        % (q.queueId, offsets[qi], _s(dll.GetLatestErrorMessage())))
                    time.sleep(0.5)
                    break
                if status == 1 or not progressed:
                    break
        if not v.all_seen.is_set():
            time.sleep(0.5)
    res["rounds"] = rounds
    res["offsets"] = {str(q.queueId): offsets[i] for i, q in enumerate(mqs)}
    try:
        c.shutdown()
    except Exception as e:  # noqa
        log("pull consumer shutdown error:", e)
    res.update(v.report())
    res["timed_out"] = not v.all_seen.is_set()
    res["elapsed_s"] = round(time.time() - t0, 2)
    finish(res, 1 if (res["missing"] or res["bad_count"]) else 0)


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        finish({"error": "usage: %s" % message}, 2)


def main():
    ap = Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd")

    def common(sp):
        sp.add_argument("--namesrv", required=True)
        sp.add_argument("--topic", required=True)
        sp.add_argument("--group", required=True)
        sp.add_argument("--timeout", type=float, default=120.0)

    p = sub.add_parser("produce")
    common(p)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--body-size", type=int, default=DEFAULT_BODY_SIZE)
    p.add_argument("--send-timeout-ms", type=int, default=0)
    p.add_argument("--delay-level", type=int, default=0)
    p.add_argument("--order-keys", type=int, default=0)

    p = sub.add_parser("latency")
    common(p)
    p.add_argument("--count", type=int, required=True)

    for name in ("push", "pull"):
        p = sub.add_parser(name)
        common(p)
        p.add_argument("--expect-start", type=int, required=True)
        p.add_argument("--expect-count", type=int, required=True)
        p.add_argument("--body-size", type=int, default=None,
                       help="also require this exact body length (default: any length)")
        if name == "push":
            p.add_argument("--idle", type=float, default=2.0)
            p.add_argument("--threads", type=int, default=0)
            p.add_argument("--expression", default="*")
            p.add_argument("--orderly", action="store_true")
            p.add_argument("--broadcast", action="store_true")
            p.add_argument("--order-keys", type=int, default=0)
            p.add_argument("--reconsume-later", type=int, default=None)
            p.add_argument("--stop-after", type=int, default=0)
            p.add_argument("--until-tail", type=int, default=0)
            p.add_argument("--slow-ms", type=int, default=0)
            p.add_argument("--ready-file", default=None)
            p.add_argument("--ready-queues", type=int, default=1)
            p.add_argument("--hold-file", default=None)
        else:
            p.add_argument("--max-num", type=int, default=32)

    a = ap.parse_args()
    if a.cmd is None:
        ap.print_usage(sys.stderr)
        finish({"error": "usage: missing subcommand (produce|push|pull|latency)"}, 2)
    if a.cmd == "produce" and (a.count < 0 or a.body_size < 1):
        finish({"error": "usage: --count must be >= 0 and --body-size >= 1"}, 2)
    if a.cmd in ("push", "pull") and a.expect_count < 0:
        finish({"error": "usage: --expect-count must be >= 0"}, 2)
    {"produce": cmd_produce, "push": cmd_push, "pull": cmd_pull, "latency": cmd_latency}[a.cmd](a)


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except BaseException as e:  # noqa
        import traceback
        traceback.print_exc()
        finish({"error": "internal error: %r" % (e,)}, 2)
