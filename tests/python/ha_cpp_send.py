#!/usr/bin/env python3
"""Apache's C++ client (PyPI ``rocketmq`` 0.4.4) sending from several threads until killed, for
tests/it/ha.rs: the master it sends to is killed mid-stream.

  ha_cpp_send.py --namesrv HOST:PORT --topic T --prefix P [--threads 8] [--seconds 30]

Prints ``STARTED`` once the producer runs, then one line per SEND_OK, as soon as it is answered:
  OK <msg_id> <queue offset> <body>
(0.4.4's SendResult has no queue id). Bodies are ASCII without spaces: P-<thread>-<i>-zzz...
"""
import argparse
import sys
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--namesrv", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--group", default="PG_ha_cpp")
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=30)
    a = ap.parse_args()
    import rocketmq.client as rc

    p = rc.Producer(a.group)
    p.set_namesrv_addr(a.namesrv)
    p.set_timeout(2000)
    p.start()
    out = threading.Lock()
    with out:
        sys.stdout.write("STARTED\n")
        sys.stdout.flush()
    end = time.time() + a.seconds

    def worker(t):
        i = 0
        while time.time() < end:
            body = "%s-%d-%07d-%s" % (a.prefix, t, i, "z" * ((i * 7) % 200))
            i += 1
            m = rc.Message(a.topic)
            m.set_body(body)
            try:
                r = p.send_sync(m)
            except Exception:  # noqa  (the master is gone: keep trying until killed)
                time.sleep(0.05)
                continue
            if r.status == rc.SendStatus.OK:
                with out:
                    sys.stdout.write("OK %s %d %s\n" % (r.msg_id, r.offset, body))
                    sys.stdout.flush()

    ts = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(a.threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


if __name__ == "__main__":
    main()
