//! The RocketMQ client: producer, push consumer and pull consumer on std threads (issue 5).
//!
//! Built from Apache's client behaviour (DefaultMQProducerImpl, DefaultMQPushConsumerImpl,
//! RebalanceImpl, MQClientInstance), so it works against rmq-broker and Apache 4.x/5.x brokers.
//! Every call blocks with an explicit timeout; callbacks run on threads the client owns.

// Skeleton: helpers used by the implementation that follows.
#![allow(dead_code)]

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

pub use crate::protocol::body::MessageQueue;
pub use config::ClientConfig;
pub use consumer::{
    AllocateAveragely, AllocateStrategy, ConsumeFrom, ConsumeStatus, MessageModel, OrderlyStatus,
    PushConsumerOptions,
};
pub use error::{Error, ErrorKind, Result};
pub use message::{Message, MessageExt};
pub use producer::{Producer, ProducerOptions, SendResult, SendStatus};
pub use pull::{PullConsumer, PullConsumerOptions, PullResult, PullStatus};
pub use push::{ConcurrentListener, OrderlyListener, PushConsumer};
