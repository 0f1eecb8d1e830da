//! The pull consumer: explicit pulls by queue and offset, and a poll-style convenience API.

use super::config::ClientConfig;
use super::consumer::MessageModel;
use super::error::{Error, Result};
use super::message::MessageExt;
use crate::protocol::body::MessageQueue;
use std::time::Duration;

/// Outcome of one pull.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullStatus {
    /// Messages found.
    Found,
    /// Nothing new at this offset.
    NoNewMsg,
    /// Messages exist, but none match the expression.
    NoMatchedMsg,
    /// The offset is out of range; start again from `next_begin_offset`.
    OffsetIllegal,
}

/// Result of one pull.
#[derive(Debug, Clone)]
pub struct PullResult {
    /// Status.
    pub status: PullStatus,
    /// The offset to pull next.
    pub next_begin_offset: i64,
    /// Smallest offset of the queue.
    pub min_offset: i64,
    /// Offset after the last message of the queue.
    pub max_offset: i64,
    /// Messages (tags filtered on the client too).
    pub messages: Vec<MessageExt>,
}

/// Settings of a pull consumer.
#[derive(Debug, Clone)]
pub struct PullConsumerOptions {
    /// Consumer group.
    pub group: String,
    /// Client settings.
    pub config: ClientConfig,
    /// Clustering (default) or broadcasting.
    pub model: MessageModel,
}

impl PullConsumerOptions {
    /// Defaults for `group` with the given name servers.
    pub fn new(group: &str, namesrv_addr: &str) -> Self {
        PullConsumerOptions {
            group: group.to_string(),
            config: ClientConfig::new(namesrv_addr),
            model: MessageModel::Clustering,
        }
    }
}

/// A pull consumer. Send + Sync.
pub struct PullConsumer {
    _opts: PullConsumerOptions,
}

fn todo_err() -> Error {
    Error::state("not implemented yet")
}

impl PullConsumer {
    /// A pull consumer with `opts`.
    pub fn new(opts: PullConsumerOptions) -> Result<PullConsumer> {
        Ok(PullConsumer { _opts: opts })
    }

    /// Start.
    pub fn start(&self) -> Result<()> {
        Err(todo_err())
    }

    /// Stop. Idempotent.
    pub fn shutdown(&self) {}

    /// The readable queues of `topic`.
    pub fn fetch_queues(&self, _topic: &str) -> Result<Vec<MessageQueue>> {
        Err(todo_err())
    }

    /// Pull up to `max_nums` messages matching `expr` from `mq` at `offset`; the broker may hold
    /// the request up to `timeout` when there is nothing new.
    pub fn pull(
        &self,
        _mq: &MessageQueue,
        _expr: &str,
        _offset: i64,
        _max_nums: u32,
        _timeout: Duration,
    ) -> Result<PullResult> {
        Err(todo_err())
    }

    /// The group's committed offset of `mq` on the broker (-1 when none).
    pub fn fetch_offset(&self, _mq: &MessageQueue) -> Result<i64> {
        Err(todo_err())
    }

    /// Commit `offset` for `mq` to the broker.
    pub fn update_offset(&self, _mq: &MessageQueue, _offset: i64) -> Result<()> {
        Err(todo_err())
    }

    /// Smallest offset of `mq`.
    pub fn min_offset(&self, _mq: &MessageQueue) -> Result<i64> {
        Err(todo_err())
    }

    /// Offset after the last message of `mq`.
    pub fn max_offset(&self, _mq: &MessageQueue) -> Result<i64> {
        Err(todo_err())
    }

    /// The first offset of `mq` stored at or after `timestamp_ms`.
    pub fn search_offset(&self, _mq: &MessageQueue, _timestamp_ms: i64) -> Result<i64> {
        Err(todo_err())
    }

    /// Poll style: subscribe to `topic` with `expr`.
    pub fn subscribe(&self, _topic: &str, _expr: &str) -> Result<()> {
        Err(todo_err())
    }

    /// Poll style: messages from the subscribed topics, waiting up to `timeout` for some.
    pub fn poll(&self, _timeout: Duration) -> Result<Vec<MessageExt>> {
        Err(todo_err())
    }

    /// Poll style: commit the offsets of what `poll` returned.
    pub fn commit(&self) -> Result<()> {
        Err(todo_err())
    }
}
