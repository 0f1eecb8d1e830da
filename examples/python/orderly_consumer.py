#!/usr/bin/env python3
"""Consume TOPIC orderly: each queue's messages arrive one at a time, in queue order.

    orderly_consumer.py NAMESRV TOPIC GROUP EXPECTED [TIMEOUT_SECONDS]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import push_consumer  # noqa: E402

if __name__ == "__main__":
    push_consumer.main(orderly=True)
