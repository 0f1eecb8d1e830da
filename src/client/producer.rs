//! The producer: sync, async, one-way, batch, to a queue, with a selector, orderly.

use super::config::ClientConfig;
use super::error::{Error, Result};
use super::message::Message;
use crate::protocol::body::MessageQueue;
use std::sync::Arc;
use std::time::Duration;

/// Broker-side outcome of a stored message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendStatus {
    /// Stored (and flushed/replicated as configured).
    Ok,
    /// Stored, but the synchronous flush timed out.
    FlushDiskTimeout,
    /// Stored, but the synchronous replication timed out.
    FlushSlaveTimeout,
    /// Stored, but no slave is available for synchronous replication.
    SlaveNotAvailable,
}

/// The result of a successful send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendResult {
    /// Status.
    pub status: SendStatus,
    /// The producer's unique id (UNIQ_KEY); comma-separated for a batch.
    pub msg_id: String,
    /// The broker's offset message id(s).
    pub offset_msg_id: String,
    /// The queue the message went to.
    pub queue: MessageQueue,
    /// Offset in that queue (of the first message for a batch).
    pub queue_offset: i64,
    /// Transaction id (transactional messages only).
    pub transaction_id: Option<String>,
}

/// Settings of a producer.
#[derive(Debug, Clone)]
pub struct ProducerOptions {
    /// Producer group.
    pub group: String,
    /// Client settings.
    pub config: ClientConfig,
    /// Timeout of one send (default 3 s).
    pub send_timeout: Duration,
    /// Extra attempts, on other brokers when there are any, after a failed send (default 2).
    pub retry_times: u32,
    /// Bodies larger than this are zlib-compressed (default 4096 bytes).
    pub compress_threshold: usize,
    /// zlib level (default 5).
    pub compress_level: u32,
    /// Largest body accepted (default 4 MiB).
    pub max_message_size: usize,
    /// Avoid brokers that were slow or failing for a while (default false, as Apache).
    pub latency_fault_tolerance: bool,
    /// Queues of a topic the broker creates on first send (default 4).
    pub default_topic_queue_nums: i32,
}

impl ProducerOptions {
    /// Defaults for `group` with the given name servers.
    pub fn new(group: &str, namesrv_addr: &str) -> Self {
        ProducerOptions {
            group: group.to_string(),
            config: ClientConfig::new(namesrv_addr),
            send_timeout: Duration::from_secs(3),
            retry_times: 2,
            compress_threshold: 4096,
            compress_level: 5,
            max_message_size: 4 * 1024 * 1024,
            latency_fault_tolerance: false,
            default_topic_queue_nums: 4,
        }
    }
}

/// A producer. Cheap to clone; all clones share one producer. Send + Sync.
#[derive(Clone)]
pub struct Producer {
    inner: Arc<Inner>,
}

struct Inner {
    _opts: ProducerOptions,
}

fn todo_err() -> Error {
    Error::state("not implemented yet")
}

impl Producer {
    /// A producer with `opts`; call [`Producer::start`] before sending.
    pub fn new(opts: ProducerOptions) -> Result<Producer> {
        Ok(Producer { inner: Arc::new(Inner { _opts: opts }) })
    }

    /// Connect to the name servers and start the background timers.
    pub fn start(&self) -> Result<()> {
        let _ = &self.inner;
        Err(todo_err())
    }

    /// Unregister and stop. Idempotent.
    pub fn shutdown(&self) {}

    /// Send and wait for the broker's answer.
    pub fn send(&self, _msg: &Message) -> Result<SendResult> {
        Err(todo_err())
    }

    /// Send without blocking; `cb` runs on a client-owned thread with the outcome.
    pub fn send_async(
        &self,
        _msg: Message,
        _cb: Box<dyn FnOnce(Result<SendResult>) + Send + 'static>,
    ) -> Result<()> {
        Err(todo_err())
    }

    /// Send without waiting for an answer.
    pub fn send_oneway(&self, _msg: &Message) -> Result<()> {
        Err(todo_err())
    }

    /// Send messages of one topic as one batch to one queue.
    pub fn send_batch(&self, _msgs: &[Message]) -> Result<SendResult> {
        Err(todo_err())
    }

    /// Send to the given queue (no retry on another queue).
    pub fn send_to_queue(&self, _msg: &Message, _mq: &MessageQueue) -> Result<SendResult> {
        Err(todo_err())
    }

    /// Send to the queue `selector` picks (index into the topic's writable queues).
    pub fn send_with_selector(
        &self,
        _msg: &Message,
        _selector: &mut dyn FnMut(&[MessageQueue], &Message) -> usize,
    ) -> Result<SendResult> {
        Err(todo_err())
    }

    /// Send to queue `hash(sharding_key) % queue count`, so one key's messages stay in order.
    pub fn send_orderly(&self, _msg: &Message, _sharding_key: &str) -> Result<SendResult> {
        Err(todo_err())
    }

    /// The writable queues of `topic`.
    pub fn fetch_publish_queues(&self, _topic: &str) -> Result<Vec<MessageQueue>> {
        Err(todo_err())
    }
}
