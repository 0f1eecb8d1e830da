"""rmq: Python binding (ctypes) of librmq, a RocketMQ 4.x client.

    from rmq import Producer, Message
    with Producer("PG", "127.0.0.1:9876") as p:
        r = p.send(Message("TopicTest", b"hello", tags="TagA"))
"""
from .client import (
    ConsumeFrom,
    ConsumeResult,
    LocalTxState,
    Message,
    MessageModel,
    MessageQueue,
    Producer,
    PullConsumer,
    PullResult,
    PullStatus,
    PushConsumer,
    ReceivedMessage,
    SendResult,
    SendStatus,
    TransactionProducer,
    library_version,
)
from .exceptions import (
    BrokerError,
    InvalidArgumentError,
    InvalidHandleError,
    LibraryError,
    NetworkError,
    NotFoundError,
    RmqError,
    RmqTimeoutError,
    StateError,
)

__all__ = [
    "BrokerError", "ConsumeFrom", "ConsumeResult", "InvalidArgumentError", "InvalidHandleError",
    "LibraryError", "LocalTxState", "Message", "MessageModel", "MessageQueue", "NetworkError", "NotFoundError",
    "Producer", "PullConsumer", "PullResult", "PullStatus", "PushConsumer", "ReceivedMessage",
    "RmqError", "RmqTimeoutError", "SendResult", "SendStatus", "StateError", "TransactionProducer", "library_version",
]
