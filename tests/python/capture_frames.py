#!/usr/bin/env python3
"""Capture golden request frames from the PyPI ``rocketmq`` 0.4.4 client (librocketmq.so).

Usage: capture_frames.py OUTDIR [--timeout S] [--credentials AK SK CHANNEL]

With --credentials every client calls set_session_credentials(AK, SK, CHANNEL)
first, so the frames carry an ACL signature under that secret key (the golden
frames of tests/fixtures/acl).

Runs a tiny fake name server and a fake broker in this process (plain sockets,
127.0.0.1 ephemeral ports only) that speak just enough of the RocketMQ remoting
protocol for the real C++ Producer, PushConsumer and PullConsumer to go through
their normal request sequence.  The first frame of each request code seen is
written to ``OUTDIR/cpp_<code>_<NAME>.hex``.  When the same code shows up again in
a later phase with a different role (e.g. the consumer's HEART_BEAT), that first
frame is also written as ``OUTDIR/cpp_<code>_<NAME>.<phase>.hex``.

A JSON summary is printed on the last stdout line; logs go to stderr.
Exit codes: 0 ok, 1 some expected code was not captured, 2 usage/setup error.
"""
import datetime
import json
import os
import socket
import struct
import sys
import threading
import time
import zlib

CODE_NAMES = {
    10: "SEND_MESSAGE",
    11: "PULL_MESSAGE",
    12: "QUERY_MESSAGE",
    14: "QUERY_CONSUMER_OFFSET",
    15: "UPDATE_CONSUMER_OFFSET",
    29: "SEARCH_OFFSET_BY_TIMESTAMP",
    30: "GET_MAX_OFFSET",
    31: "GET_MIN_OFFSET",
    34: "HEART_BEAT",
    35: "UNREGISTER_CLIENT",
    36: "CONSUMER_SEND_MSG_BACK",
    38: "GET_CONSUMER_LIST_BY_GROUP",
    41: "LOCK_BATCH_MQ",
    42: "UNLOCK_BATCH_MQ",
    101: "GET_KV_CONFIG",
    105: "GET_ROUTEINFO_BY_TOPIC",
    310: "SEND_MESSAGE_V2",
    320: "SEND_BATCH_MESSAGE",
}

TOPIC = "CaptureTopic"
PRODUCER_GROUP = "CapturePG"
PUSH_GROUP = "CapturePushCG"
PULL_GROUP = "CapturePullCG"
MAGIC = 0xDAA320A7
T0 = time.time()


def log(*a):
    print("[capture]", *a, file=sys.stderr, flush=True)


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.phase = "init"
        self.first = {}        # code -> (phase, frame bytes)
        self.by_phase = {}     # (phase, code) -> frame bytes
        self.counts = {}       # code -> n
        self.events = []       # (t, phase, code, oneway)
        self.cond = threading.Condition(self.lock)

    def record(self, frame, header):
        code = header.get("code")
        with self.cond:
            self.counts[code] = self.counts.get(code, 0) + 1
            oneway = bool(header.get("flag", 0) & 2)
            self.events.append((round(time.time(), 3), self.phase, code, oneway))
            if code not in self.first:
                self.first[code] = (self.phase, frame)
            if (self.phase, code) not in self.by_phase:
                self.by_phase[(self.phase, code)] = frame
            # extra variant: the first pull that commits an offset (PullSysFlag bit 0)
            ext = header.get("extFields") or {}
            if code == 11 and int(ext.get("sysFlag", 0)) & 1 and ("commit", 11) not in self.by_phase:
                self.by_phase[("commit", 11)] = frame
            self.cond.notify_all()

    def wait_for(self, pred, timeout):
        deadline = time.time() + timeout
        with self.cond:
            while not pred():
                left = deadline - time.time()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 0.2))
            return True

    def seen_in_phase(self, code, phase=None):
        return (phase or self.phase, code) in self.by_phase


REC = Recorder()


def read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def read_frame(sock):
    raw_len = read_exact(sock, 4)
    (length,) = struct.unpack(">i", raw_len)
    rest = read_exact(sock, length)
    (hword,) = struct.unpack(">i", rest[:4])
    stype = (hword >> 24) & 0xFF
    hlen = hword & 0xFFFFFF
    header_bytes = rest[4:4 + hlen]
    body = rest[4 + hlen:]
    if stype != 0:
        raise ValueError("non-JSON header type %d" % stype)
    header = json.loads(header_bytes.decode("utf-8"))
    return raw_len + rest, header, body


def encode_response(opaque, code, ext=None, body=b"", remark=None):
    h = {"code": code, "flag": 1, "language": "JAVA", "opaque": opaque, "version": 409,
         "extFields": {k: str(v) for k, v in (ext or {}).items()}}
    if remark is not None:
        h["remark"] = remark
    hb = json.dumps(h, separators=(",", ":")).encode()
    return struct.pack(">ii", 4 + len(hb) + len(body), len(hb)) + hb + body


def encode_props(props):
    return "".join("%s\x01%s\x02" % (k, v) for k, v in props.items()).rstrip("\x02").encode()


def encode_stored_message(topic, queue_id, queue_offset, phys_offset, body, props, store_port):
    tb = topic.encode()
    pb = encode_props(props)
    total = 91 + len(body) + len(tb) + len(pb)
    now = int(time.time() * 1000)
    host = socket.inet_aton("127.0.0.1")
    rec = struct.pack(">iIiiiqqiq", total, MAGIC, zlib.crc32(body) & 0x7FFFFFFF, queue_id, 0,
                      queue_offset, phys_offset, 0, now)
    rec += host + struct.pack(">i", 40000) + struct.pack(">q", now) + host + struct.pack(">i", store_port)
    rec += struct.pack(">iqi", 0, 0, len(body)) + body
    rec += struct.pack(">b", len(tb)) + tb + struct.pack(">h", len(pb)) + pb
    assert len(rec) == total
    return rec


class FakeServer:
    """One listening socket; a thread per connection; handler(header, body) -> (code, ext, body) or None."""

    def __init__(self, name, handler):
        self.name = name
        self.handler = handler
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            c.settimeout(1.0)
            self.conns.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        wlock = threading.Lock()
        try:
            while not self.stop.is_set():
                try:
                    frame, header, body = read_frame(c)
                except socket.timeout:
                    continue
                if header.get("flag", 0) & 1:
                    continue  # a response to something we sent; ignore
                REC.record(frame, header)
                code = header.get("code")
                log("%s <- code %s opaque %s flag %s" % (self.name, code, header.get("opaque"), header.get("flag")))
                if header.get("flag", 0) & 2:
                    # one-way: never answer, but let the handler see it
                    try:
                        self.handler(header, body)
                    except Exception as e:  # noqa
                        log("handler error", e)
                    continue
                try:
                    res = self.handler(header, body)
                except Exception as e:  # noqa
                    log("handler error", e)
                    res = (1, {}, b"")
                if res is None:
                    continue
                delay = 0
                if len(res) == 4:
                    rcode, ext, rbody, delay = res
                else:
                    rcode, ext, rbody = res
                out = encode_response(header.get("opaque", 0), rcode, ext, rbody)
                if delay:
                    def later(out=out, delay=delay):
                        time.sleep(delay)
                        try:
                            with wlock:
                                c.sendall(out)
                        except OSError:
                            pass
                    threading.Thread(target=later, daemon=True).start()
                else:
                    with wlock:
                        c.sendall(out)
        except (EOFError, OSError, ValueError):
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    def close(self):
        self.stop.set()
        try:
            self.sock.close()
        except OSError:
            pass
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


class Broker:
    def __init__(self):
        self.client_ids = set()
        self.messages = {}  # (topic, qid) -> list of stored records
        self.phys = 0
        self.server = FakeServer("broker", self.handle)
        self.port = self.server.port
        self.lock = threading.Lock()

    def handle(self, h, body):
        code = h["code"]
        ext = h.get("extFields") or {}
        if code == 34:
            try:
                hb = json.loads(body.decode("utf-8"))
                for cd in hb.get("consumerDataSet") or []:
                    self.client_ids.add((cd.get("groupName"), hb.get("clientID")))
            except Exception as e:  # noqa
                log("bad heartbeat body", e)
            return 0, {}, b""
        if code == 35:
            self.client_ids.discard((ext.get("consumerGroup"), ext.get("clientID")))
            return 0, {}, b""
        if code in (10, 310):
            topic = ext.get("topic") or ext.get("b")
            qid = int(ext.get("queueId", ext.get("e", 0)))
            with self.lock:
                lst = self.messages.setdefault((topic, qid), [])
                off = len(lst)
                props = {}
                raw = ext.get("properties") or ext.get("i") or ""
                for kv in raw.split("\x02"):
                    if "\x01" in kv:
                        k, v = kv.split("\x01", 1)
                        props[k] = v
                rec = encode_stored_message(topic, qid, off, self.phys, body, props, self.port)
                self.phys += len(rec)
                lst.append(rec)
            msgid = "7F000001%08X%016X" % (self.port, self.phys)
            return 0, {"msgId": msgid, "queueId": qid, "queueOffset": off}, b""
        if code == 38:
            ids = sorted(c for g, c in self.client_ids if c and g == ext.get("consumerGroup"))
            return 0, {}, json.dumps({"consumerIdList": ids}).encode()
        if code == 14:
            # Queues that hold messages answer SUCCESS offset 0 (what a Java broker does for a new group whose
            # queue still starts at 0), so the push consumer really consumes and later commits offset > 0.
            # Empty queues answer QUERY_NOT_FOUND (22) so the client also shows its GET_MAX_OFFSET fallback.
            if self.messages.get((ext.get("topic"), int(ext.get("queueId", 0)))):
                return 0, {"offset": 0}, b""
            return 22, {}, b""
        if code in (30, 31, 29, 32):
            topic = ext.get("topic")
            qid = int(ext.get("queueId", 0))
            n = len(self.messages.get((topic, qid), [])) if code == 30 else 0
            return 0, {"offset": n, "timestamp": 0}, b""
        if code == 11:
            topic = ext.get("topic")
            qid = int(ext.get("queueId", 0))
            off = int(ext.get("queueOffset", 0))
            maxn = int(ext.get("maxMsgNums", 32))
            with self.lock:
                lst = list(self.messages.get((topic, qid), []))
            hdr = {"suggestWhichBrokerId": 0, "minOffset": 0, "maxOffset": len(lst)}
            if off < len(lst):
                recs = lst[off:off + maxn]
                hdr["nextBeginOffset"] = off + len(recs)
                return 0, hdr, b"".join(recs)
            hdr["nextBeginOffset"] = off
            # crude long poll: hold suspended pulls a little so the client does not spin
            delay = 1.0 if int(ext.get("sysFlag", 0)) & 2 else 0
            return 19, hdr, b"", delay
        if code == 15:
            return 0, {}, b""
        if code in (41, 42):
            return 0, {}, body or b"{}"
        return 3, {}, b""  # REQUEST_CODE_NOT_SUPPORTED


class NameServer:
    def __init__(self, broker_port):
        self.broker_port = broker_port
        self.server = FakeServer("namesrv", self.handle)
        self.port = self.server.port

    def handle(self, h, body):
        code = h["code"]
        if code == 105:
            route = ('{"brokerDatas":[{"brokerAddrs":{0:"127.0.0.1:%d"},"brokerName":"broker-a",'
                     '"cluster":"DefaultCluster"}],"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a",'
                     '"perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}' % self.broker_port)
            return 0, {}, route.encode()
        return 3, {}, b""


def wrap_hex(b, width=64):
    hx = b.hex()
    return "\n".join(hx[i:i + width] for i in range(0, len(hx), width))


def decode_for_summary(frame):
    (hword,) = struct.unpack(">i", frame[4:8])
    hlen = hword & 0xFFFFFF
    header = json.loads(frame[8:8 + hlen].decode())
    body = frame[8 + hlen:]
    return header, body


def main():
    args = sys.argv[1:]
    timeout = 20.0
    if "--timeout" in args:
        i = args.index("--timeout")
        try:
            timeout = float(args[i + 1])
        except (IndexError, ValueError):
            print(json.dumps({"error": "bad --timeout"}))
            return 2
        del args[i:i + 2]
    creds = None
    if "--credentials" in args:
        i = args.index("--credentials")
        creds = args[i + 1:i + 4]
        if len(creds) != 3:
            print(json.dumps({"error": "--credentials needs AK SK CHANNEL"}))
            return 2
        del args[i:i + 4]

    def login(client):
        if creds:
            client.set_session_credentials(*creds)

    if len(args) != 1 or args[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        print(json.dumps({"error": "usage: capture_frames.py OUTDIR [--timeout S]"}))
        return 2
    outdir = args[0]
    global T0
    T0 = time.time()
    os.makedirs(outdir, exist_ok=True)
    try:
        from rocketmq.client import Producer, Message, PushConsumer, PullConsumer
    except Exception as e:  # noqa
        print(json.dumps({"error": "cannot import rocketmq.client: %s" % e}))
        return 2

    broker = Broker()
    ns = NameServer(broker.port)
    namesrv = "127.0.0.1:%d" % ns.port
    log("namesrv %s broker 127.0.0.1:%d" % (namesrv, broker.port))
    notes = []

    # --- producer: one sync send, one batch send, then shutdown -------------
    REC.phase = "producer"
    p = Producer(PRODUCER_GROUP)
    login(p)
    p.set_namesrv_addr(namesrv)
    p.start()
    m = Message(TOPIC)
    m.set_keys("key-0")
    m.set_tags("TagA")
    m.set_property("idx", "0")
    m.set_body("body-0-hello")
    r = p.send_sync(m)
    log("send_sync ->", r)
    if not REC.wait_for(lambda: (("producer", 34) in REC.by_phase), 3.0):
        notes.append("producer sent no HEART_BEAT within 3 s of the first send")
    REC.phase = "batch"
    try:
        b1, b2 = Message(TOPIC), Message(TOPIC)
        for i, bm in enumerate((b1, b2), start=1):
            bm.set_keys("key-%d" % i)
            bm.set_tags("TagB")
            bm.set_body("body-%d-batch" % i)
        r = p.send_batch([b1, b2])
        log("send_batch ->", r)
    except Exception as e:  # noqa
        notes.append("send_batch failed: %s" % e)
    REC.phase = "producer_shutdown"
    p.shutdown()

    # --- push consumer -------------------------------------------------------
    REC.phase = "push"
    got = []
    pc = PushConsumer(PUSH_GROUP)
    login(pc)
    pc.set_namesrv_addr(namesrv)
    pc.set_thread_count(1)

    def cb(msg):
        # 0.4.4 ignores the return value: returning normally = CONSUME_SUCCESS
        got.append((msg.topic, msg.tags, msg.keys, msg.body, msg.get_property("idx")))

    pc.subscribe(TOPIC, cb)
    # a second subscription with a tag expression, so the heartbeat shows tagsSet/codeSet
    pc.subscribe(TOPIC + "Tags", cb, "TagA || TagB")
    pc.start()
    ok = REC.wait_for(lambda: REC.seen_in_phase(11, "push") and REC.seen_in_phase(15, "push")
                      and ("commit", 11) in REC.by_phase, timeout)
    if not ok:
        notes.append("push consumer: PULL_MESSAGE/UPDATE_CONSUMER_OFFSET not both seen within %.0f s" % timeout)
    log("push consumer got", got)
    REC.phase = "push_shutdown"
    pc.shutdown()

    # --- pull consumer -------------------------------------------------------
    REC.phase = "pull"
    pl = PullConsumer(PULL_GROUP)
    login(pl)
    pl.set_namesrv_addr(namesrv)
    pl.start()
    pulled = []
    t0 = time.time()
    for msg in pl.pull(TOPIC):
        pulled.append((msg.queue_id, msg.body))
        if time.time() - t0 > timeout:
            break
    log("pull consumer got", pulled)
    REC.phase = "pull_shutdown"
    pl.shutdown()
    time.sleep(0.3)

    # --- write files ---------------------------------------------------------
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    written = []

    def write(code, frame, suffix=""):
        name = CODE_NAMES.get(code, "CODE%d" % code)
        fn = os.path.join(outdir, "cpp_%d_%s%s.hex" % (code, name, suffix))
        with open(fn, "w") as f:
            f.write("# captured from PyPI rocketmq 0.4.4 (librocketmq.so), request code %d, %s\n" % (code, date))
            f.write(wrap_hex(frame) + "\n")
        written.append(os.path.basename(fn))

    for code, (phase, frame) in sorted(REC.first.items()):
        write(code, frame)
    # role variants: the same code first seen in a later phase
    variants = [("batch", 10), ("commit", 11), ("pull", 11), ("push", 34), ("pull", 34),
                ("push_shutdown", 15), ("push_shutdown", 35), ("pull_shutdown", 35)]
    for phase, code in variants:
        frame = REC.by_phase.get((phase, code))
        if frame is not None and REC.first[code][1] is not frame:
            write(code, frame, "." + phase)

    summary = {
        "namesrv": namesrv,
        "broker_port": broker.port,
        "counts": {str(k): v for k, v in sorted(REC.counts.items())},
        "elapsed_s": round(time.time() - T0, 1),
        "sequence": [("%s:%s%s" % (ph, c, "(oneway)" if ow else "")) for _, ph, c, ow in REC.events],
        "push_received": len(got),
        "pull_received": len(pulled),
        "written": written,
        "notes": notes,
    }
    for code in (10, 34, 11):
        if code in REC.first:
            h, body = decode_for_summary(REC.first[code][1])
            log("decoded %d header: %s" % (code, json.dumps(h)))
            if code == 34:
                log("decoded 34 body: %s" % body.decode(errors="replace"))
    missing = [c for c in (105, 34, 10, 35, 38, 11) if c not in REC.first]
    summary["missing"] = missing
    broker.server.close()
    ns.server.close()
    print(json.dumps(summary), flush=True)
    # avoid C++ static destructors / Python __del__ double-shutdown at interpreter exit
    os._exit(1 if missing else 0)


if __name__ == "__main__":
    sys.exit(main())
