//! The push consumer: rebalanced pull loops feeding a listener pool.

use super::consumer::{ConsumeStatus, OrderlyStatus, PushConsumerOptions};
use super::error::{Error, Result};
use super::message::MessageExt;
use std::sync::Arc;

/// A concurrent listener: called on a consumer pool thread with up to `max_batch_size` messages.
pub type ConcurrentListener = Arc<dyn Fn(&[MessageExt]) -> ConsumeStatus + Send + Sync>;
/// An orderly listener: called with one queue's messages in order, one thread per queue at a time.
pub type OrderlyListener = Arc<dyn Fn(&[MessageExt]) -> OrderlyStatus + Send + Sync>;

/// A push consumer. Send + Sync.
pub struct PushConsumer {
    _opts: PushConsumerOptions,
}

fn todo_err() -> Error {
    Error::state("not implemented yet")
}

impl PushConsumer {
    /// A consumer with `opts`: subscribe, register a listener, then start.
    pub fn new(opts: PushConsumerOptions) -> Result<PushConsumer> {
        Ok(PushConsumer { _opts: opts })
    }

    /// Subscribe to `topic` with a tag expression (`"*"` or `"A || B"`); before start.
    pub fn subscribe(&self, _topic: &str, _expr: &str) -> Result<()> {
        Err(todo_err())
    }

    /// Register the concurrent listener; before start.
    pub fn register_concurrent(&self, _l: ConcurrentListener) -> Result<()> {
        Err(todo_err())
    }

    /// Register the orderly listener; before start.
    pub fn register_orderly(&self, _l: OrderlyListener) -> Result<()> {
        Err(todo_err())
    }

    /// Start consuming.
    pub fn start(&self) -> Result<()> {
        Err(todo_err())
    }

    /// Stop: waits for running listener calls, commits offsets, unregisters. Idempotent.
    pub fn shutdown(&self) {}
}
