//! The RocketMQ client: producer, push consumer and pull consumer on std threads (issue 5).
//!
//! Built from Apache's client behaviour (DefaultMQProducerImpl, DefaultMQPushConsumerImpl,
//! RebalanceImpl, MQClientInstance), so it works against rmq-broker and Apache 4.x/5.x brokers.
//! Every call blocks with an explicit timeout; callbacks run on threads the client owns.
//!
//! ```no_run
//! use rmq::client::*;
//! use std::sync::Arc;
//!
//! # fn main() -> Result<()> {
//! let producer = Producer::new(ProducerOptions::new("my_producer_group", "127.0.0.1:9876"))?;
//! producer.start()?;
//! let mut msg = Message::new("TopicTest", "hello");
//! msg.set_tags("TagA");
//! let r = producer.send(&msg)?;
//! println!("sent {} to queue {} at offset {}", r.msg_id, r.queue.queue_id, r.queue_offset);
//! producer.shutdown();
//!
//! let consumer = PushConsumer::new(PushConsumerOptions::new("my_group", "127.0.0.1:9876"))?;
//! consumer.subscribe("TopicTest", "TagA || TagB")?;
//! consumer.register_concurrent(Arc::new(|msgs: &[MessageExt]| {
//!     for m in msgs {
//!         println!("{} {:?}", m.msg_id, String::from_utf8_lossy(m.body()));
//!     }
//!     ConsumeStatus::Success
//! }))?;
//! consumer.start()?;
//! std::thread::sleep(std::time::Duration::from_secs(5));
//! consumer.shutdown(); // commits offsets
//! # Ok(())
//! # }
//! ```

mod api;
pub mod config;
pub mod consumer;
pub mod error;
mod fault;
mod instance;
pub mod message;
mod offset_store;
mod process_queue;
pub mod producer;
pub mod pull;
pub mod push;
mod route;
pub mod rpc;
pub mod transaction;

pub use crate::protocol::body::MessageQueue;
pub use config::{ClientConfig, Credentials};
pub use consumer::{
    AllocateAveragely, AllocateStrategy, ConsumeFrom, ConsumeStatus, MessageModel, OrderlyStatus,
    PushConsumerOptions,
};
pub use error::{Error, ErrorKind, Result};
pub use message::{Message, MessageExt};
pub use producer::{Producer, ProducerOptions, SendResult, SendStatus};
pub use pull::{PullConsumer, PullConsumerOptions, PullResult, PullStatus};
pub use push::{ConcurrentListener, OrderlyListener, PushConsumer};
pub use transaction::{LocalTxState, TransactionListener, TransactionProducer};
