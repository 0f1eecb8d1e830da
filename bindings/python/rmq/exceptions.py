"""Exceptions raised by the binding: one class per family of rmq_status codes."""


class RmqError(Exception):
    """A failed librmq call. ``status`` is the rmq_status code, ``status_name`` its name in rmq.h
    and ``message`` librmq's error text."""

    def __init__(self, status, status_name, message):
        super().__init__("%s (%d): %s" % (status_name, status, message))
        self.status = status
        self.status_name = status_name
        self.message = message


class InvalidArgumentError(RmqError, ValueError):
    """Bad argument (NULL, invalid UTF-8, out of range), statuses 100-102, 104."""


class InvalidHandleError(RmqError):
    """The object was closed already (RMQ_STATUS_INVALID_HANDLE)."""


class NotFoundError(RmqError, KeyError):
    """An optional field is absent (RMQ_STATUS_NOT_FOUND)."""


class StateError(RmqError):
    """Wrong lifecycle state: not started, started twice, shut down (200-202)."""


class RmqTimeoutError(RmqError, TimeoutError):
    """The operation timed out (RMQ_STATUS_TIMEOUT)."""


class NetworkError(RmqError, ConnectionError):
    """Name server or broker unreachable (RMQ_STATUS_NETWORK)."""


class BrokerError(RmqError):
    """The broker refused the request (RMQ_STATUS_BROKER, RMQ_STATUS_NO_ROUTE,
    RMQ_STATUS_MESSAGE_TOO_LARGE)."""


class LibraryError(RmqError):
    """Local I/O, unknown client errors, or a bug in librmq (RMQ_STATUS_PANIC)."""


def class_for(status):
    """The exception class for a status code (the one table of the binding)."""
    if status in (100, 101, 102, 104):
        return InvalidArgumentError
    if status == 103:
        return InvalidHandleError
    if status == 105:
        return NotFoundError
    if 200 <= status < 300:
        return StateError
    if status == 300:
        return RmqTimeoutError
    if status == 301:
        return NetworkError
    if status in (302, 303, 304):
        return BrokerError
    return LibraryError
