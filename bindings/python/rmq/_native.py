"""ctypes declarations of librmq's C API (include/rmq.h), and nothing else.

Every symbol gets argtypes and restype; handles are c_void_p. tests/test_drift.py checks these
declarations, constants and struct layouts against include/rmq.h.
"""
import ctypes
import ctypes.util
import os
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_char,
    c_char_p,
    c_int32,
    c_int64,
    c_size_t,
    c_uint32,
    c_uint8,
    c_void_p,
)

# --- constants (rmq.h) ----------------------------------------------------------------------
RMQ_MAX_BODY_SIZE = 16 * 1024 * 1024
RMQ_MSG_ID_MAX = 128
RMQ_NAME_MAX = 256

STATUS = {
    "RMQ_STATUS_OK": 0,
    "RMQ_STATUS_NULL_POINTER": 100,
    "RMQ_STATUS_INVALID_UTF8": 101,
    "RMQ_STATUS_INVALID_ARGUMENT": 102,
    "RMQ_STATUS_INVALID_HANDLE": 103,
    "RMQ_STATUS_BUFFER_TOO_SMALL": 104,
    "RMQ_STATUS_NOT_FOUND": 105,
    "RMQ_STATUS_NOT_STARTED": 200,
    "RMQ_STATUS_ILLEGAL_STATE": 201,
    "RMQ_STATUS_SHUTDOWN": 202,
    "RMQ_STATUS_TIMEOUT": 300,
    "RMQ_STATUS_NETWORK": 301,
    "RMQ_STATUS_BROKER": 302,
    "RMQ_STATUS_NO_ROUTE": 303,
    "RMQ_STATUS_MESSAGE_TOO_LARGE": 304,
    "RMQ_STATUS_IO": 305,
    "RMQ_STATUS_CLIENT_ERROR": 399,
    "RMQ_STATUS_PANIC": 900,
}
globals().update(STATUS)

SEND_STATUS = {
    "RMQ_SEND_STATUS_OK": 0,
    "RMQ_SEND_STATUS_FLUSH_DISK_TIMEOUT": 1,
    "RMQ_SEND_STATUS_FLUSH_SLAVE_TIMEOUT": 2,
    "RMQ_SEND_STATUS_SLAVE_NOT_AVAILABLE": 3,
}
PULL_STATUS = {
    "RMQ_PULL_STATUS_FOUND": 0,
    "RMQ_PULL_STATUS_NO_NEW_MSG": 1,
    "RMQ_PULL_STATUS_NO_MATCHED_MSG": 2,
    "RMQ_PULL_STATUS_OFFSET_ILLEGAL": 3,
}
MESSAGE_MODEL = {"RMQ_MESSAGE_MODEL_CLUSTERING": 0, "RMQ_MESSAGE_MODEL_BROADCASTING": 1}
CONSUME_FROM = {
    "RMQ_CONSUME_FROM_LAST_OFFSET": 0,
    "RMQ_CONSUME_FROM_FIRST_OFFSET": 1,
    "RMQ_CONSUME_FROM_TIMESTAMP": 2,
}
CONSUME_RESULT = {"RMQ_CONSUME_RESULT_SUCCESS": 0, "RMQ_CONSUME_RESULT_LATER": 1}
LOCAL_TX_STATE = {
    "RMQ_LOCAL_TX_STATE_COMMIT": 0,
    "RMQ_LOCAL_TX_STATE_ROLLBACK": 1,
    "RMQ_LOCAL_TX_STATE_UNKNOWN": 2,
}
for _table in (SEND_STATUS, PULL_STATUS, MESSAGE_MODEL, CONSUME_FROM, CONSUME_RESULT, LOCAL_TX_STATE):
    globals().update(_table)

# --- structs --------------------------------------------------------------------------------


class MessageQueue(Structure):
    _fields_ = [
        ("topic", c_char * RMQ_NAME_MAX),
        ("broker_name", c_char * RMQ_NAME_MAX),
        ("queue_id", c_int32),
    ]


class SendResult(Structure):
    _fields_ = [
        ("status", c_uint32),
        ("msg_id", c_char * RMQ_MSG_ID_MAX),
        ("offset_msg_id", c_char * RMQ_MSG_ID_MAX),
        ("queue", MessageQueue),
        ("queue_offset", c_int64),
    ]


class PullInfo(Structure):
    _fields_ = [
        ("status", c_uint32),
        ("next_begin_offset", c_int64),
        ("min_offset", c_int64),
        ("max_offset", c_int64),
        ("count", c_size_t),
    ]


class MessageInfo(Structure):
    _fields_ = [
        ("queue_id", c_int32),
        ("queue_offset", c_int64),
        ("commit_log_offset", c_int64),
        ("reconsume_times", c_int32),
        ("born_timestamp", c_int64),
        ("store_timestamp", c_int64),
        ("delay_level", c_int32),
        ("flag", c_int32),
        ("sys_flag", c_int32),
        ("store_size", c_int32),
        ("body_len", c_size_t),
    ]


STRUCTS = {
    "rmq_message_queue": MessageQueue,
    "rmq_send_result": SendResult,
    "rmq_pull_info": PullInfo,
    "rmq_message_info": MessageInfo,
}

# --- callback types -------------------------------------------------------------------------
LogCallback = CFUNCTYPE(None, c_uint32, c_char_p, c_char_p, c_void_p)
SendCallback = CFUNCTYPE(None, c_uint32, POINTER(SendResult), c_void_p)
QueueSelector = CFUNCTYPE(c_size_t, POINTER(MessageQueue), c_size_t, c_void_p, c_void_p)
MessageCallback = CFUNCTYPE(c_uint32, POINTER(c_void_p), c_size_t, c_void_p)
TransactionExecuteCallback = CFUNCTYPE(c_uint32, c_void_p, c_char_p, c_void_p)
TransactionCheckCallback = CFUNCTYPE(c_uint32, c_void_p, c_void_p)

CALLBACKS = {
    "rmq_log_callback": LogCallback,
    "rmq_send_callback": SendCallback,
    "rmq_queue_selector": QueueSelector,
    "rmq_message_callback": MessageCallback,
    "rmq_transaction_execute_callback": TransactionExecuteCallback,
    "rmq_transaction_check_callback": TransactionCheckCallback,
}

# --- functions ------------------------------------------------------------------------------
_st = c_uint32
_h = c_void_p
_out_h = POINTER(c_void_p)
_out_s = POINTER(c_char_p)
_MQ = POINTER(MessageQueue)

FUNCTIONS = {
    "rmq_last_error": (_st, [c_void_p, c_size_t, POINTER(c_size_t)]),
    "rmq_version": (c_char_p, []),
    "rmq_status_str": (c_char_p, [c_uint32]),
    "rmq_set_log_callback": (_st, [LogCallback, c_uint32, c_void_p]),
    # messages
    "rmq_message_new": (_st, [c_char_p, _out_h]),
    "rmq_message_destroy": (_st, [_h]),
    "rmq_message_set_topic": (_st, [_h, c_char_p]),
    "rmq_message_get_topic": (_st, [_h, _out_s]),
    "rmq_message_set_tags": (_st, [_h, c_char_p]),
    "rmq_message_get_tags": (_st, [_h, _out_s]),
    "rmq_message_set_keys": (_st, [_h, c_char_p]),
    "rmq_message_get_keys": (_st, [_h, _out_s]),
    "rmq_message_set_body": (_st, [_h, c_char_p, c_size_t]),
    "rmq_message_get_body": (_st, [_h, POINTER(POINTER(c_uint8)), POINTER(c_size_t)]),
    "rmq_message_put_property": (_st, [_h, c_char_p, c_char_p]),
    "rmq_message_get_property": (_st, [_h, c_char_p, _out_s]),
    "rmq_message_set_delay_level": (_st, [_h, c_int32]),
    "rmq_message_get_delay_level": (_st, [_h, POINTER(c_int32)]),
    # received messages
    "rmq_message_ext_get_topic": (_st, [_h, _out_s]),
    "rmq_message_ext_get_tags": (_st, [_h, _out_s]),
    "rmq_message_ext_get_keys": (_st, [_h, _out_s]),
    "rmq_message_ext_get_msg_id": (_st, [_h, _out_s]),
    "rmq_message_ext_get_offset_msg_id": (_st, [_h, _out_s]),
    "rmq_message_ext_get_broker_name": (_st, [_h, _out_s]),
    "rmq_message_ext_get_born_host": (_st, [_h, _out_s]),
    "rmq_message_ext_get_store_host": (_st, [_h, _out_s]),
    "rmq_message_ext_get_body": (_st, [_h, POINTER(POINTER(c_uint8)), POINTER(c_size_t)]),
    "rmq_message_ext_get_property": (_st, [_h, c_char_p, _out_s]),
    "rmq_message_ext_get_property_count": (_st, [_h, POINTER(c_size_t)]),
    "rmq_message_ext_get_property_at": (_st, [_h, c_size_t, _out_s, _out_s]),
    "rmq_message_ext_get_info": (_st, [_h, POINTER(MessageInfo)]),
    # producer
    "rmq_producer_new": (_st, [c_char_p, c_char_p, _out_h]),
    "rmq_producer_set_instance_name": (_st, [_h, c_char_p]),
    "rmq_producer_set_session_credentials": (_st, [_h, c_char_p, c_char_p, c_char_p]),
    "rmq_producer_set_send_timeout_ms": (_st, [_h, c_uint32]),
    "rmq_producer_set_retry_times": (_st, [_h, c_uint32]),
    "rmq_producer_set_compress_threshold": (_st, [_h, c_uint32]),
    "rmq_producer_set_max_message_size": (_st, [_h, c_uint32]),
    "rmq_producer_start": (_st, [_h]),
    "rmq_producer_shutdown": (_st, [_h]),
    "rmq_producer_destroy": (_st, [_h]),
    "rmq_producer_send": (_st, [_h, _h, POINTER(SendResult)]),
    "rmq_producer_send_async": (_st, [_h, _h, SendCallback, c_void_p]),
    "rmq_producer_send_oneway": (_st, [_h, _h]),
    "rmq_producer_send_batch": (_st, [_h, POINTER(c_void_p), c_size_t, POINTER(SendResult)]),
    "rmq_producer_send_to_queue": (_st, [_h, _h, _MQ, POINTER(SendResult)]),
    "rmq_producer_send_with_selector": (_st, [_h, _h, QueueSelector, c_void_p, POINTER(SendResult)]),
    "rmq_producer_send_orderly": (_st, [_h, _h, c_char_p, POINTER(SendResult)]),
    "rmq_producer_fetch_publish_queues": (_st, [_h, c_char_p, _MQ, c_size_t, POINTER(c_size_t)]),
    # transaction producer
    "rmq_transaction_producer_new": (_st, [c_char_p, c_char_p, TransactionCheckCallback, c_void_p, _out_h]),
    "rmq_transaction_producer_set_instance_name": (_st, [_h, c_char_p]),
    "rmq_transaction_producer_set_session_credentials": (_st, [_h, c_char_p, c_char_p, c_char_p]),
    "rmq_transaction_producer_set_send_timeout_ms": (_st, [_h, c_uint32]),
    "rmq_transaction_producer_set_heartbeat_interval_ms": (_st, [_h, c_uint32]),
    "rmq_transaction_producer_start": (_st, [_h]),
    "rmq_transaction_producer_shutdown": (_st, [_h]),
    "rmq_transaction_producer_destroy": (_st, [_h]),
    "rmq_transaction_producer_send": (_st, [_h, _h, TransactionExecuteCallback, c_void_p, POINTER(SendResult), POINTER(c_uint32)]),
    # push consumer
    "rmq_push_consumer_new": (_st, [c_char_p, c_char_p, _out_h]),
    "rmq_push_consumer_set_instance_name": (_st, [_h, c_char_p]),
    "rmq_push_consumer_set_session_credentials": (_st, [_h, c_char_p, c_char_p, c_char_p]),
    "rmq_push_consumer_set_message_model": (_st, [_h, c_uint32]),
    "rmq_push_consumer_set_consume_from": (_st, [_h, c_uint32, c_int64]),
    "rmq_push_consumer_set_thread_count": (_st, [_h, c_uint32]),
    "rmq_push_consumer_set_max_batch_size": (_st, [_h, c_uint32]),
    "rmq_push_consumer_set_max_reconsume_times": (_st, [_h, c_int32]),
    "rmq_push_consumer_subscribe": (_st, [_h, c_char_p, c_char_p]),
    "rmq_push_consumer_set_message_callback": (_st, [_h, MessageCallback, c_void_p]),
    "rmq_push_consumer_set_orderly_callback": (_st, [_h, MessageCallback, c_void_p]),
    "rmq_push_consumer_start": (_st, [_h]),
    "rmq_push_consumer_shutdown": (_st, [_h]),
    "rmq_push_consumer_destroy": (_st, [_h]),
    # pull consumer
    "rmq_pull_consumer_new": (_st, [c_char_p, c_char_p, _out_h]),
    "rmq_pull_consumer_set_instance_name": (_st, [_h, c_char_p]),
    "rmq_pull_consumer_set_session_credentials": (_st, [_h, c_char_p, c_char_p, c_char_p]),
    "rmq_pull_consumer_set_message_model": (_st, [_h, c_uint32]),
    "rmq_pull_consumer_start": (_st, [_h]),
    "rmq_pull_consumer_shutdown": (_st, [_h]),
    "rmq_pull_consumer_destroy": (_st, [_h]),
    "rmq_pull_consumer_fetch_queues": (_st, [_h, c_char_p, _MQ, c_size_t, POINTER(c_size_t)]),
    "rmq_pull_consumer_pull": (_st, [_h, _MQ, c_char_p, c_int64, c_uint32, c_uint32, _out_h]),
    "rmq_pull_result_get_info": (_st, [_h, POINTER(PullInfo)]),
    "rmq_pull_result_get_message": (_st, [_h, c_size_t, _out_h]),
    "rmq_pull_result_destroy": (_st, [_h]),
    "rmq_pull_consumer_fetch_offset": (_st, [_h, _MQ, POINTER(c_int64)]),
    "rmq_pull_consumer_update_offset": (_st, [_h, _MQ, c_int64]),
    "rmq_pull_consumer_min_offset": (_st, [_h, _MQ, POINTER(c_int64)]),
    "rmq_pull_consumer_max_offset": (_st, [_h, _MQ, POINTER(c_int64)]),
    "rmq_pull_consumer_search_offset": (_st, [_h, _MQ, c_int64, POINTER(c_int64)]),
}


def _candidates():
    here = os.path.dirname(os.path.abspath(__file__))
    env = os.environ.get("RMQ_LIB")
    if env:
        yield "RMQ_LIB=" + env, env
    for name in ("librmq.so", "librmq.dylib", "rmq.dll"):
        yield "package directory", os.path.join(here, name)
    found = ctypes.util.find_library("rmq")
    yield "find_library('rmq')", found


def _load():
    tried = []
    for where, path in _candidates():
        if not path:
            tried.append("%s: not found" % where)
            continue
        if where == "package directory" and not os.path.exists(path):
            tried.append("%s: no %s" % (where, path))
            continue
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            tried.append("%s: %s" % (where, e))
    raise ImportError("cannot load librmq; tried: " + "; ".join(tried))


lib = _load()
for _name, (_res, _args) in FUNCTIONS.items():
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args
    globals()[_name] = _f
