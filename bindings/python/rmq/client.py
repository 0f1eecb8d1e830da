"""The Pythonic layer over rmq._native: Message, Producer, PushConsumer, PullConsumer.

Lifetimes: producers and consumers are closed by close() or a ``with`` block, never by __del__.
Callbacks run on librmq's threads (ctypes takes the GIL for them); an exception raised in one is
logged and turned into a status (a failed consume: the messages come again later).
"""
import ctypes
import enum
import itertools
import logging
import threading
from collections import namedtuple
from ctypes import POINTER, byref, c_char_p, c_int64, c_size_t, c_uint8, c_void_p

from . import _native as N
from .exceptions import InvalidArgumentError, InvalidHandleError, RmqError, class_for

log = logging.getLogger("rmq")


class MessageModel(enum.IntEnum):
    CLUSTERING = N.RMQ_MESSAGE_MODEL_CLUSTERING
    BROADCASTING = N.RMQ_MESSAGE_MODEL_BROADCASTING


class ConsumeFrom(enum.IntEnum):
    LAST_OFFSET = N.RMQ_CONSUME_FROM_LAST_OFFSET
    FIRST_OFFSET = N.RMQ_CONSUME_FROM_FIRST_OFFSET
    TIMESTAMP = N.RMQ_CONSUME_FROM_TIMESTAMP


class ConsumeResult(enum.IntEnum):
    SUCCESS = N.RMQ_CONSUME_RESULT_SUCCESS
    LATER = N.RMQ_CONSUME_RESULT_LATER


class SendStatus(enum.IntEnum):
    OK = N.RMQ_SEND_STATUS_OK
    FLUSH_DISK_TIMEOUT = N.RMQ_SEND_STATUS_FLUSH_DISK_TIMEOUT
    FLUSH_SLAVE_TIMEOUT = N.RMQ_SEND_STATUS_FLUSH_SLAVE_TIMEOUT
    SLAVE_NOT_AVAILABLE = N.RMQ_SEND_STATUS_SLAVE_NOT_AVAILABLE


class LocalTxState(enum.IntEnum):
    COMMIT = N.RMQ_LOCAL_TX_STATE_COMMIT
    ROLLBACK = N.RMQ_LOCAL_TX_STATE_ROLLBACK
    UNKNOWN = N.RMQ_LOCAL_TX_STATE_UNKNOWN


class PullStatus(enum.IntEnum):
    FOUND = N.RMQ_PULL_STATUS_FOUND
    NO_NEW_MSG = N.RMQ_PULL_STATUS_NO_NEW_MSG
    NO_MATCHED_MSG = N.RMQ_PULL_STATUS_NO_MATCHED_MSG
    OFFSET_ILLEGAL = N.RMQ_PULL_STATUS_OFFSET_ILLEGAL


def library_version():
    """librmq's version string."""
    return N.rmq_version().decode()


def _last_error():
    size = 1024
    while True:
        buf = ctypes.create_string_buffer(size)
        n = c_size_t()
        N.rmq_last_error(buf, size, byref(n))
        if n.value < size:
            return buf.value.decode("utf-8", "replace")
        size = n.value + 1


def _error(status):
    name = (N.rmq_status_str(status) or b"RMQ_STATUS_UNKNOWN").decode()
    return class_for(status)(status, name, _last_error())


def _check(status):
    if status != N.RMQ_STATUS_OK:
        raise _error(status)


def _b(s, what):
    if s is None:
        return None
    if isinstance(s, bytes):
        return s
    if isinstance(s, str):
        return s.encode("utf-8")
    raise InvalidArgumentError(N.RMQ_STATUS_INVALID_ARGUMENT, "RMQ_STATUS_INVALID_ARGUMENT", "%s must be str, not %s" % (what, type(s).__name__))


class MessageQueue(namedtuple("MessageQueue", "topic broker_name queue_id")):
    """One queue of a topic."""

    def _c(self):
        q = N.MessageQueue()
        q.topic = _b(self.topic, "topic")
        q.broker_name = _b(self.broker_name, "broker_name")
        q.queue_id = self.queue_id
        return q

    @staticmethod
    def _from_c(q):
        return MessageQueue(q.topic.decode(), q.broker_name.decode(), q.queue_id)


SendResult = namedtuple("SendResult", "status msg_id offset_msg_id queue queue_offset")
SendResult.__doc__ = "Outcome of a send: SendStatus, ids, the MessageQueue and the queue offset."


# What a queue selector returns to cancel its send (SIZE_MAX).
_CANCEL = c_size_t(-1).value


def _send_result(r):
    return SendResult(SendStatus(r.status), r.msg_id.decode(), r.offset_msg_id.decode(), MessageQueue._from_c(r.queue), r.queue_offset)


class Message:
    """A message to send: topic, body (bytes or str), tags, keys (str or list), user properties,
    delay level. Plain Python data: it is copied into librmq at each send."""

    __slots__ = ("topic", "body", "tags", "keys", "properties", "delay_level")

    def __init__(self, topic, body=b"", tags=None, keys=None, properties=None, delay_level=0):
        self.topic = topic
        self.body = body
        self.tags = tags
        self.keys = keys
        self.properties = dict(properties or {})
        self.delay_level = delay_level

    def __repr__(self):
        return "Message(topic=%r, tags=%r, keys=%r, body=%d bytes)" % (self.topic, self.tags, self.keys, len(self.body))

    def _native(self):
        """A new native rmq_message; the caller destroys it."""
        h = c_void_p()
        _check(N.rmq_message_new(_b(self.topic, "topic"), byref(h)))
        try:
            body = self.body.encode("utf-8") if isinstance(self.body, str) else bytes(self.body)
            if body:
                _check(N.rmq_message_set_body(h, body, len(body)))
            if self.tags is not None:
                _check(N.rmq_message_set_tags(h, _b(self.tags, "tags")))
            if self.keys is not None:
                keys = self.keys if isinstance(self.keys, (str, bytes)) else " ".join(self.keys)
                _check(N.rmq_message_set_keys(h, _b(keys, "keys")))
            for k, v in self.properties.items():
                _check(N.rmq_message_put_property(h, _b(k, "property key"), _b(v, "property value")))
            if self.delay_level:
                _check(N.rmq_message_set_delay_level(h, self.delay_level))
        except BaseException:
            N.rmq_message_destroy(h)
            raise
        return h


def _ext_str(fn, h, optional=False):
    out = c_char_p()
    st = fn(h, byref(out))
    if st == N.RMQ_STATUS_NOT_FOUND and optional:
        return None
    _check(st)
    return out.value.decode("utf-8", "replace")


class ReceivedMessage:
    """A received message, copied out of librmq: topic, body (bytes), tags, keys, properties
    (dict, user and system), ids, queue position and timestamps."""

    __slots__ = (
        "topic", "body", "tags", "keys", "properties", "msg_id", "offset_msg_id", "broker_name",
        "born_host", "store_host", "queue_id", "queue_offset", "commit_log_offset",
        "reconsume_times", "born_timestamp", "store_timestamp", "delay_level",
    )

    @classmethod
    def _read(cls, h):
        m = cls.__new__(cls)
        m.topic = _ext_str(N.rmq_message_ext_get_topic, h)
        m.tags = _ext_str(N.rmq_message_ext_get_tags, h, True)
        m.keys = _ext_str(N.rmq_message_ext_get_keys, h, True)
        m.msg_id = _ext_str(N.rmq_message_ext_get_msg_id, h)
        m.offset_msg_id = _ext_str(N.rmq_message_ext_get_offset_msg_id, h)
        m.broker_name = _ext_str(N.rmq_message_ext_get_broker_name, h)
        m.born_host = _ext_str(N.rmq_message_ext_get_born_host, h)
        m.store_host = _ext_str(N.rmq_message_ext_get_store_host, h)
        data = POINTER(c_uint8)()
        n = c_size_t()
        _check(N.rmq_message_ext_get_body(h, byref(data), byref(n)))
        m.body = ctypes.string_at(data, n.value) if n.value else b""
        count = c_size_t()
        _check(N.rmq_message_ext_get_property_count(h, byref(count)))
        props = {}
        k, v = c_char_p(), c_char_p()
        for i in range(count.value):
            _check(N.rmq_message_ext_get_property_at(h, i, byref(k), byref(v)))
            props[k.value.decode("utf-8", "replace")] = v.value.decode("utf-8", "replace")
        m.properties = props
        info = N.MessageInfo()
        _check(N.rmq_message_ext_get_info(h, byref(info)))
        for f in ("queue_id", "queue_offset", "commit_log_offset", "reconsume_times", "born_timestamp", "store_timestamp", "delay_level"):
            setattr(m, f, getattr(info, f))
        return m

    def property(self, key, default=None):
        return self.properties.get(key, default)

    def __repr__(self):
        return "ReceivedMessage(topic=%r, queue_id=%d, queue_offset=%d, tags=%r, body=%d bytes)" % (
            self.topic, self.queue_id, self.queue_offset, self.tags, len(self.body))


# Callbacks: one CFUNCTYPE object per kind for the whole process, never freed, so librmq can never
# call a freed thunk; `userdata` is a token that finds the Python callable.
_tokens = itertools.count(1)
_registry_lock = threading.Lock()
_pending_sends = {}
_listeners = {}


def _on_sent(status, result, userdata):
    with _registry_lock:
        cb = _pending_sends.pop(userdata, None)
    if cb is None:
        return
    try:
        if status == N.RMQ_STATUS_OK:
            cb(_send_result(result.contents), None)
        else:
            cb(None, _error(status))
    except Exception:
        log.exception("exception in send_async callback (ignored)")


def _on_messages(msgs, count, userdata):
    with _registry_lock:
        listener = _listeners.get(userdata)
    if listener is None:
        return N.RMQ_CONSUME_RESULT_LATER
    try:
        for i in range(count):
            r = listener(ReceivedMessage._read(msgs[i]))
            if r is False or r == ConsumeResult.LATER:
                return N.RMQ_CONSUME_RESULT_LATER
        return N.RMQ_CONSUME_RESULT_SUCCESS
    except Exception:
        log.exception("exception in message listener: the messages will be consumed again later")
        return N.RMQ_CONSUME_RESULT_LATER


_SEND_CB = N.SendCallback(_on_sent)
_MESSAGE_CB = N.MessageCallback(_on_messages)


class _Handle:
    """A native handle with close() and context-manager support."""

    _destroy = None

    def __init__(self):
        self._h = c_void_p()

    def _handle(self):
        if not self._h:
            raise InvalidHandleError(N.RMQ_STATUS_INVALID_HANDLE, "RMQ_STATUS_INVALID_HANDLE", "%s is closed" % type(self).__name__)
        return self._h

    def close(self):
        """Shut down (if running) and free the native object. Idempotent."""
        if self._h:
            h, self._h = self._h, c_void_p()
            _check(type(self)._destroy(h))

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class Producer(_Handle):
    """A producer. Use ``with Producer(group, namesrv) as p:`` or call start() and close().
    ``send_timeout`` is in seconds."""

    _destroy = staticmethod(N.rmq_producer_destroy)

    def __init__(self, group, namesrv, instance_name=None, send_timeout=None, retry_times=None, compress_threshold=None, max_message_size=None):
        super().__init__()
        _check(N.rmq_producer_new(_b(group, "group"), _b(namesrv, "namesrv"), byref(self._h)))
        try:
            if instance_name is not None:
                _check(N.rmq_producer_set_instance_name(self._h, _b(instance_name, "instance_name")))
            if send_timeout is not None:
                _check(N.rmq_producer_set_send_timeout_ms(self._h, int(send_timeout * 1000)))
            if retry_times is not None:
                _check(N.rmq_producer_set_retry_times(self._h, retry_times))
            if compress_threshold is not None:
                _check(N.rmq_producer_set_compress_threshold(self._h, compress_threshold))
            if max_message_size is not None:
                _check(N.rmq_producer_set_max_message_size(self._h, max_message_size))
        except BaseException:
            self.close()
            raise
        self._started = False

    def set_session_credentials(self, access_key, secret_key, channel=None):
        """Sign every request with ACL credentials (an account of the broker's plain_acl.yml;
        channel: the OnsChannel field Apache's C++ client sends, default none). Before start."""
        ch = None if channel is None else _b(channel, "channel")
        _check(N.rmq_producer_set_session_credentials(self._handle(), _b(access_key, "access_key"), _b(secret_key, "secret_key"), ch))

    def start(self):
        if not self._started:
            _check(N.rmq_producer_start(self._handle()))
            self._started = True

    def shutdown(self):
        _check(N.rmq_producer_shutdown(self._handle()))

    def _send(self, msg, call):
        m = msg._native()
        try:
            return call(m)
        finally:
            N.rmq_message_destroy(m)

    def send(self, msg):
        """Send and wait; returns a SendResult."""
        h = self._handle()
        r = N.SendResult()
        self._send(msg, lambda m: _check(N.rmq_producer_send(h, m, byref(r))))
        return _send_result(r)

    def send_async(self, msg, callback):
        """Send without waiting; ``callback(result, error)`` runs once on a librmq thread, with a
        SendResult or an RmqError."""
        h = self._handle()
        token = next(_tokens)
        with _registry_lock:
            _pending_sends[token] = callback
        try:
            self._send(msg, lambda m: _check(N.rmq_producer_send_async(h, m, _SEND_CB, token)))
        except BaseException:
            with _registry_lock:
                _pending_sends.pop(token, None)
            raise

    def send_oneway(self, msg):
        h = self._handle()
        self._send(msg, lambda m: _check(N.rmq_producer_send_oneway(h, m)))

    def send_batch(self, msgs):
        """Send messages of one topic as one batch; returns one SendResult."""
        h = self._handle()
        natives = []
        try:
            for msg in msgs:
                natives.append(msg._native())
            arr = (c_void_p * len(natives))(*natives)
            r = N.SendResult()
            _check(N.rmq_producer_send_batch(h, arr, len(natives), byref(r)))
            return _send_result(r)
        finally:
            for m in natives:
                N.rmq_message_destroy(m)

    def send_to_queue(self, msg, queue):
        h = self._handle()
        r = N.SendResult()
        q = MessageQueue(*queue)._c()
        self._send(msg, lambda m: _check(N.rmq_producer_send_to_queue(h, m, byref(q), byref(r))))
        return _send_result(r)

    def send_with_selector(self, msg, selector):
        """Send to the queue ``selector(queues, msg) -> index`` picks (runs on this thread).

        An exception the selector raises cancels the send (nothing is sent) and is raised here.
        """
        h = self._handle()
        r = N.SendResult()
        failure = []

        def pick(queues, count, _msg, _userdata):
            try:
                return int(selector([MessageQueue._from_c(queues[i]) for i in range(count)], msg)) % max(count, 1)
            except Exception as e:  # cannot propagate through C: remember it and cancel the send
                failure.append(e)
                return _CANCEL

        cb = N.QueueSelector(pick)  # referenced until the call returns
        try:
            self._send(msg, lambda m: _check(N.rmq_producer_send_with_selector(h, m, cb, None, byref(r))))
        except RmqError as e:
            if failure:
                raise failure[0] from e
            raise
        return _send_result(r)

    def send_orderly(self, msg, sharding_key):
        """Send to the queue of ``sharding_key`` (same key, same queue, in order)."""
        h = self._handle()
        r = N.SendResult()
        key = _b(sharding_key, "sharding_key")
        self._send(msg, lambda m: _check(N.rmq_producer_send_orderly(h, m, key, byref(r))))
        return _send_result(r)

    def fetch_publish_queues(self, topic):
        h = self._handle()
        return _queues(lambda arr, cap, n: N.rmq_producer_fetch_publish_queues(h, _b(topic, "topic"), arr, cap, n))


def _tx_state(value):
    """A listener's answer as a uint32 state; anything unexpected is UNKNOWN."""
    if value is True:
        return N.RMQ_LOCAL_TX_STATE_COMMIT
    if value is False:
        return N.RMQ_LOCAL_TX_STATE_ROLLBACK
    try:
        return int(LocalTxState(value))
    except (ValueError, TypeError):
        return N.RMQ_LOCAL_TX_STATE_UNKNOWN


_checkers = {}


def _on_check(msg, userdata):
    with _registry_lock:
        checker = _checkers.get(userdata)
    if checker is None:
        return N.RMQ_LOCAL_TX_STATE_UNKNOWN
    try:
        return _tx_state(checker(ReceivedMessage._read(msg)))
    except Exception:
        log.exception("exception in transaction check: the broker will ask again")
        return N.RMQ_LOCAL_TX_STATE_UNKNOWN


_CHECK_CB = N.TransactionCheckCallback(_on_check)


class TransactionProducer(_Handle):
    """A transactional producer. ``check(received_message) -> LocalTxState`` answers the broker's
    checks of undecided transactions; it runs on librmq's checker thread. send_in_transaction()
    stores a half message, runs ``execute(msg, transaction_id) -> LocalTxState`` on the calling
    thread, and commits, rolls back or leaves it to the check (UNKNOWN). True/False also mean
    COMMIT/ROLLBACK; an exception means UNKNOWN."""

    _destroy = staticmethod(N.rmq_transaction_producer_destroy)

    def __init__(self, group, namesrv, check, instance_name=None, send_timeout=None, heartbeat_interval=None):
        super().__init__()
        self._token = next(_tokens)
        with _registry_lock:
            _checkers[self._token] = check
        try:
            _check(N.rmq_transaction_producer_new(_b(group, "group"), _b(namesrv, "namesrv"), _CHECK_CB, self._token, byref(self._h)))
            if instance_name is not None:
                _check(N.rmq_transaction_producer_set_instance_name(self._h, _b(instance_name, "instance_name")))
            if send_timeout is not None:
                _check(N.rmq_transaction_producer_set_send_timeout_ms(self._h, int(send_timeout * 1000)))
            if heartbeat_interval is not None:
                _check(N.rmq_transaction_producer_set_heartbeat_interval_ms(self._h, int(heartbeat_interval * 1000)))
        except BaseException:
            self.close()
            raise
        self._started = False

    def set_session_credentials(self, access_key, secret_key, channel=None):
        """Sign every request with ACL credentials (an account of the broker's plain_acl.yml;
        channel: the OnsChannel field Apache's C++ client sends, default none). Before start."""
        ch = None if channel is None else _b(channel, "channel")
        _check(N.rmq_transaction_producer_set_session_credentials(self._handle(), _b(access_key, "access_key"), _b(secret_key, "secret_key"), ch))

    def start(self):
        if not self._started:
            _check(N.rmq_transaction_producer_start(self._handle()))
            self._started = True

    def shutdown(self):
        _check(N.rmq_transaction_producer_shutdown(self._handle()))

    def close(self):
        super().close()
        with _registry_lock:
            _checkers.pop(self._token, None)

    def send_in_transaction(self, msg, execute):
        """Send ``msg`` in a transaction; returns (SendResult, LocalTxState sent)."""
        h = self._handle()
        r = N.SendResult()
        state = ctypes.c_uint32()
        failure = []

        def run(_msg, transaction_id, _arg):
            try:
                return _tx_state(execute(msg, transaction_id.decode() if transaction_id else ""))
            except Exception as e:  # cannot propagate through C: UNKNOWN, the check decides
                failure.append(e)
                return N.RMQ_LOCAL_TX_STATE_UNKNOWN

        cb = N.TransactionExecuteCallback(run)  # referenced until the call returns
        m = msg._native()
        try:
            _check(N.rmq_transaction_producer_send(h, m, cb, None, byref(r), byref(state)))
        finally:
            N.rmq_message_destroy(m)
        if failure:
            log.warning("local transaction raised %r; left to the broker's check", failure[0])
        return _send_result(r), LocalTxState(state.value)


def _queues(call):
    cap = 64
    while True:
        arr = (N.MessageQueue * cap)()
        n = c_size_t()
        st = call(arr, cap, byref(n))
        if st == N.RMQ_STATUS_BUFFER_TOO_SMALL:
            cap = n.value
            continue
        _check(st)
        return [MessageQueue._from_c(arr[i]) for i in range(n.value)]


class PushConsumer(_Handle):
    """A push consumer: subscribe(), register a listener, start(), then close() (or use a ``with``
    block, which closes but does not start).

    The listener gets one ReceivedMessage at a time on a librmq thread and returns None/True/
    ConsumeResult.SUCCESS when done, or False/ConsumeResult.LATER (or raises) to have it
    redelivered later. With ``orderly=True`` each queue's messages arrive one at a time, in order.
    """

    _destroy = staticmethod(N.rmq_push_consumer_destroy)

    def __init__(self, group, namesrv, model=MessageModel.CLUSTERING, consume_from=ConsumeFrom.LAST_OFFSET, consume_timestamp_ms=0,
                 thread_count=None, max_batch_size=None, max_reconsume_times=None, instance_name=None):
        super().__init__()
        _check(N.rmq_push_consumer_new(_b(group, "group"), _b(namesrv, "namesrv"), byref(self._h)))
        self._token = next(_tokens)
        try:
            _check(N.rmq_push_consumer_set_message_model(self._h, int(model)))
            _check(N.rmq_push_consumer_set_consume_from(self._h, int(consume_from), consume_timestamp_ms))
            if thread_count is not None:
                _check(N.rmq_push_consumer_set_thread_count(self._h, thread_count))
            if max_batch_size is not None:
                _check(N.rmq_push_consumer_set_max_batch_size(self._h, max_batch_size))
            if max_reconsume_times is not None:
                _check(N.rmq_push_consumer_set_max_reconsume_times(self._h, max_reconsume_times))
            if instance_name is not None:
                _check(N.rmq_push_consumer_set_instance_name(self._h, _b(instance_name, "instance_name")))
        except BaseException:
            self.close()
            raise
        self._started = False

    def __enter__(self):
        # Not started here: subscribe() and register() must come first, then start().
        return self

    def subscribe(self, topic, expression="*"):
        _check(N.rmq_push_consumer_subscribe(self._handle(), _b(topic, "topic"), _b(expression, "expression")))

    def register(self, listener, orderly=False):
        h = self._handle()
        with _registry_lock:
            _listeners[self._token] = listener
        setter = N.rmq_push_consumer_set_orderly_callback if orderly else N.rmq_push_consumer_set_message_callback
        _check(setter(h, _MESSAGE_CB, self._token))

    def set_session_credentials(self, access_key, secret_key, channel=None):
        """Sign every request with ACL credentials (an account of the broker's plain_acl.yml;
        channel: the OnsChannel field Apache's C++ client sends, default none). Before start."""
        ch = None if channel is None else _b(channel, "channel")
        _check(N.rmq_push_consumer_set_session_credentials(self._handle(), _b(access_key, "access_key"), _b(secret_key, "secret_key"), ch))

    def start(self):
        if not self._started:
            _check(N.rmq_push_consumer_start(self._handle()))
            self._started = True

    def shutdown(self):
        """Stop: waits for running listener calls, commits offsets."""
        _check(N.rmq_push_consumer_shutdown(self._handle()))

    def close(self):
        super().close()
        with _registry_lock:
            _listeners.pop(self._token, None)


PullResult = namedtuple("PullResult", "status next_begin_offset min_offset max_offset messages")
PullResult.__doc__ = "Outcome of a pull: PullStatus, offsets and a list of ReceivedMessage."


class PullConsumer(_Handle):
    """A pull consumer: fetch_queues(), pull() at offsets you choose, update_offset() to commit."""

    _destroy = staticmethod(N.rmq_pull_consumer_destroy)

    def __init__(self, group, namesrv, model=MessageModel.CLUSTERING, instance_name=None):
        super().__init__()
        _check(N.rmq_pull_consumer_new(_b(group, "group"), _b(namesrv, "namesrv"), byref(self._h)))
        try:
            _check(N.rmq_pull_consumer_set_message_model(self._h, int(model)))
            if instance_name is not None:
                _check(N.rmq_pull_consumer_set_instance_name(self._h, _b(instance_name, "instance_name")))
        except BaseException:
            self.close()
            raise
        self._started = False

    def set_session_credentials(self, access_key, secret_key, channel=None):
        """Sign every request with ACL credentials (an account of the broker's plain_acl.yml;
        channel: the OnsChannel field Apache's C++ client sends, default none). Before start."""
        ch = None if channel is None else _b(channel, "channel")
        _check(N.rmq_pull_consumer_set_session_credentials(self._handle(), _b(access_key, "access_key"), _b(secret_key, "secret_key"), ch))

    def start(self):
        if not self._started:
            _check(N.rmq_pull_consumer_start(self._handle()))
            self._started = True

    def shutdown(self):
        _check(N.rmq_pull_consumer_shutdown(self._handle()))

    def fetch_queues(self, topic):
        h = self._handle()
        return _queues(lambda arr, cap, n: N.rmq_pull_consumer_fetch_queues(h, _b(topic, "topic"), arr, cap, n))

    def pull(self, queue, offset, expression="*", max_nums=32, timeout=1.0):
        """Pull up to ``max_nums`` messages from ``queue`` at ``offset``; the broker may wait up to
        ``timeout`` seconds for new ones. Returns a PullResult."""
        h = self._handle()
        q = MessageQueue(*queue)._c()
        r = c_void_p()
        _check(N.rmq_pull_consumer_pull(h, byref(q), _b(expression, "expression"), offset, max_nums, int(timeout * 1000), byref(r)))
        try:
            info = N.PullInfo()
            _check(N.rmq_pull_result_get_info(r, byref(info)))
            msgs = []
            m = c_void_p()
            for i in range(info.count):
                _check(N.rmq_pull_result_get_message(r, i, byref(m)))
                msgs.append(ReceivedMessage._read(m))
            return PullResult(PullStatus(info.status), info.next_begin_offset, info.min_offset, info.max_offset, msgs)
        finally:
            N.rmq_pull_result_destroy(r)

    def _offset(self, fn, queue, *args):
        q = MessageQueue(*queue)._c()
        out = c_int64()
        _check(fn(self._handle(), byref(q), *args, byref(out)))
        return out.value

    def fetch_offset(self, queue):
        """The group's committed offset of ``queue`` (-1 if none)."""
        return self._offset(N.rmq_pull_consumer_fetch_offset, queue)

    def update_offset(self, queue, offset):
        """Commit ``offset`` (the next to consume) for ``queue``."""
        q = MessageQueue(*queue)._c()
        _check(N.rmq_pull_consumer_update_offset(self._handle(), byref(q), offset))

    def min_offset(self, queue):
        return self._offset(N.rmq_pull_consumer_min_offset, queue)

    def max_offset(self, queue):
        return self._offset(N.rmq_pull_consumer_max_offset, queue)

    def search_offset(self, queue, timestamp_ms):
        return self._offset(N.rmq_pull_consumer_search_offset, queue, c_int64(timestamp_ms))


__all__ = [
    "ConsumeFrom", "ConsumeResult", "Message", "MessageModel", "MessageQueue", "Producer", "PullConsumer",
    "PullResult", "PullStatus", "PushConsumer", "ReceivedMessage", "SendResult", "SendStatus", "library_version",
]
